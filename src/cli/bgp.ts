/**
 * `dsrlb run --bgp …`: the director's BIRD (io/bird.ts), driven by the announce/withdraw policy
 * (bgp/policy.ts) over the packet path's snapshots. Health checks, weights, reloads and ipvsadm
 * edits all show in the snapshot, so one poll loop covers them. stop() withdraws the VIPs, waits a
 * short drain (packets the router already sent here are still forwarded), then stops BIRD.
 */
import { readFileSync } from 'node:fs';
import { allVips, parseBgpFile, parseBgpOption, planAnnouncements, planIsEmpty, renderDirectorBird, servableVips, type BgpOptions, type ServiceView } from '../bgp/index.ts';
import type { Director } from '../engine/index.ts';
import { DsrlbError } from '../errors/index.ts';
import { BirdSpeaker, birdFiles, hostNetControl } from '../io/index.ts';
import { ipToString } from '../model/index.ts';
import type { Logger } from '../ports/index.ts';

export interface BgpHandle {
  announced(): string[];
  speaker: BirdSpeaker;
  stop(why: string): Promise<void>;
}

export function bgpOptionsFrom(values: { bgp?: string; 'bgp-config'?: string }): BgpOptions | null {
  if (values.bgp !== undefined && values['bgp-config'] !== undefined) throw new DsrlbError('E_USAGE', '--bgp and --bgp-config: give one');
  if (values.bgp !== undefined) return parseBgpOption(values.bgp);
  if (values['bgp-config'] !== undefined) {
    let text: string;
    try {
      text = readFileSync(values['bgp-config'], 'utf8');
    } catch (e) {
      throw new DsrlbError('E_BGP_OPTION', `--bgp-config ${values['bgp-config']}: ${(e as Error).message}`);
    }
    return parseBgpFile(text);
  }
  return null;
}

export interface StartBgpOptions {
  bgp: BgpOptions;
  iface: string;
  director: Director;
  log: Logger;
  /** Policy evaluation period (default 200 ms). */
  pollMs?: number;
  /** Time between the withdraw and the end of stop() (default 500 ms). */
  drainMs?: number;
}

function views(snap: { services: Array<{ spec: { proto: string; vip: number }; reals: Array<{ weight: number; mac?: string | null }> }> }): ServiceView[] {
  return snap.services.map((s) => ({
    vip: s.spec.proto === 'fwm' ? null : ipToString(s.spec.vip),
    reals: s.reals.map((r) => ({ weight: r.weight, resolved: r.mac !== null })),
  }));
}

export async function startBgp(o: StartBgpOptions): Promise<BgpHandle> {
  const localNum = hostNetControl.addressOn(o.iface);
  const local = o.bgp.local ?? (localNum === null ? null : ipToString(localNum));
  if (local === null) throw new DsrlbError('E_BGP_OPTION', `${o.iface} has no IPv4 address for the BGP sessions: give local=`);
  const render = (announced: readonly string[]) => renderDirectorBird({ routerId: local, local, bgp: o.bgp, announced, log: files.log });
  const files = birdFiles(o.iface);
  const speaker = new BirdSpeaker(files);
  await speaker.start(render([]));
  o.log.info({ bird: speaker.birdPid(), socket: files.socket, peers: o.bgp.peers, localAs: o.bgp.localAs, bfd: o.bgp.bfd !== null, holdTime: o.bgp.holdTime }, 'BGP speaker (BIRD) started');

  let announced: string[] = [];
  let stopping = false;
  let busy: Promise<void> = Promise.resolve();
  const apply = async (desired: string[], why: string): Promise<void> => {
    const plan = planAnnouncements(announced, desired);
    if (planIsEmpty(plan)) return;
    await speaker.configure(render(desired));
    announced = desired;
    o.log.info({ announce: plan.announce, withdraw: plan.withdraw, why }, `BGP: ${plan.announce.length ? `announce ${plan.announce.join(' ')}` : ''}${plan.announce.length && plan.withdraw.length ? '; ' : ''}${plan.withdraw.length ? `withdraw ${plan.withdraw.join(' ')}` : ''}`);
  };
  const evaluate = async (): Promise<void> => {
    if (stopping) return;
    let services: ServiceView[] = [];
    const up = o.director.exitReason === null;
    if (up) {
      try {
        const s = await o.director.request({ op: 'snapshot' });
        if (s) services = views(s);
      } catch {
        return; // busy or going away: the next tick decides
      }
    }
    if (stopping) return;
    const desired = servableVips({ packetPathUp: up, stopping, services });
    const all = allVips(services);
    const held = all.filter((v) => !desired.includes(v));
    await apply(desired, up ? (held.length ? `no usable real for ${held.join(' ')}` : 'servable') : 'packet path down');
  };
  const tick = () => {
    busy = busy.then(evaluate).catch((e) => o.log.error({ err: (e as Error).message }, 'BGP: announcement change failed'));
  };
  tick();
  await busy;
  const timer = setInterval(tick, o.pollMs ?? 200);

  return {
    announced: () => [...announced],
    speaker,
    async stop(why: string) {
      if (stopping) return;
      stopping = true;
      clearInterval(timer);
      await busy;
      try {
        await apply([], `stopping: ${why}`);
        if (o.drainMs !== 0) await new Promise((r) => setTimeout(r, o.drainMs ?? 500));
      } catch (e) {
        o.log.error({ err: (e as Error).message }, 'BGP: withdraw failed; stopping BIRD closes the sessions anyway');
      }
      await speaker.stop();
      o.log.info({}, 'BGP speaker stopped');
    },
  };
}
