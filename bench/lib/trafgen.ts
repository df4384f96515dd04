/**
 * The UDP flood at the generator's own pace: netsniff-ng's trafgen, from the client namespace.
 *
 * trafgen is the fastest bounded sender on this 2-core machine: about 285-355k frames/s of 60 bytes
 * into the testbed's bridge from one process (its qdisc path ~195k/s, Node dgram ~65k/s, Node +
 * libpcap send ~150-200k/s). It is NOT used for paced probes: its `--rate Npps` sends each second's
 * quota at full speed and then sleeps (20,000 frames "at 40,000 pps" left in 74 ms), and `--gap`
 * adds a nanosleep per frame (~50 µs of timer slack). Paced probes use udp-sender.ts.
 */
import { runInNs } from './exec.ts';

/** trafgen's packet configuration: one `{ … }` block per frame (sent round robin). */
export function trafgenConfig(frames: readonly Uint8Array[]): string {
  return frames.map((f) => `{ ${Array.from(f, (x) => `0x${x.toString(16).padStart(2, '0')}`).join(', ')} }`).join('\n') + '\n';
}

export interface TrafgenReport {
  sent: number;
  /** Time of the sending loop as trafgen reports it, seconds. */
  seconds: number;
}

/** Reads "N packets outgoing" and "S sec, U usec on CPUk" from trafgen's output (summed over CPUs; time = the longest). */
export function parseTrafgen(text: string): TrafgenReport | null {
  const sent = /(\d+)\s+packets outgoing/.exec(text);
  let seconds = 0;
  for (const m of text.matchAll(/(\d+)\s+sec,\s+(\d+)\s+usec on CPU\d+/g)) seconds = Math.max(seconds, Number(m[1]) + Number(m[2]) / 1e6);
  if (!sent || seconds <= 0) return null;
  return { sent: Number(sent[1]), seconds };
}

export interface TrafgenRun extends TrafgenReport {
  offeredPps: number;
}

/**
 * Sends `count` frames of `config` from `ns` on eth0 (one process, one CPU) as fast as it can;
 * bounded by the count and by a timeout derived from it.
 */
export async function runTrafgen(ns: string, config: string, o: { count: number; iface?: string }): Promise<TrafgenRun> {
  const argv = ['trafgen', '--dev', o.iface ?? 'eth0', '--in', '-', '--num', String(o.count), '--cpus', '1', '--no-sock-mem', '--notouch-irq'];
  const expectS = o.count / 50_000;
  const r = await runInNs(ns, argv, { timeoutMs: Math.ceil(expectS * 3000) + 10_000, input: config });
  const rep = parseTrafgen(`${r.stdout}\n${r.stderr}`);
  if (r.code !== 0 || rep === null) {
    throw new Error(`trafgen failed (${r.timedOut ? 'timed out' : `exit ${r.code}`}): ${(r.stderr || r.stdout).trim().slice(-400)}`);
  }
  return { ...rep, offeredPps: rep.sent / rep.seconds };
}
