/**
 * A director without a network: the real packet path (engine DirectorPacketPath) in this process,
 * with a fake interface and a hand-driven clock, behind a real control socket. `dsrlb ipvsadm`
 * talks to it exactly as to `dsrlb run`; tests feed it the oracle's pcaps and compare what ipvsadm
 * prints with what the kernel's ipvsadm printed for the same traffic.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import type { Server } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { run as ipvsadmRun } from '../../src/cli/commands/ipvsadm.ts';
import { DirectorPacketPath, type FromPacket, type PacketSnapshot, type ToPacket } from '../../src/engine/index.ts';
import { DsrlbError } from '../../src/errors/index.ts';
import { readPcapFile, serveControl } from '../../src/io/index.ts';
import { parseIPv4, parseMac } from '../../src/model/index.ts';
import { RateEstimator } from '../../src/obs/index.ts';
import type { FrameIO } from '../../src/ports/index.ts';

export const HERE = dirname(fileURLToPath(import.meta.url));
export const REPO = join(HERE, '../..');

export interface OracleSpec {
  vip: string;
  port: number;
  protocol: 'tcp' | 'udp';
  director_mac: string;
  director_ip?: string;
  clients?: number;
  scheduler: string;
  sched_flags?: string[];
  persistence?: number;
  persistent_netmask?: string;
  sysctls?: Record<string, number>;
  reals: Array<{ ip: string; mac: string; weight: number; port?: number; u_threshold?: number; l_threshold?: number }>;
}

/** The ipvsadm commands the oracle ran for a SPEC (tools/ipvs-oracle/oracle.py guestcfg). */
export function oracleCommands(spec: OracleSpec): string[][] {
  const p = spec.protocol === 'tcp' ? '-t' : '-u';
  const svc = `${spec.vip}:${spec.port}`;
  const add = ['-A', p, svc, '-s', spec.scheduler];
  if (spec.sched_flags?.length) add.push('-b', spec.sched_flags.join(','));
  if (spec.persistence) add.push('-p', String(spec.persistence));
  if (spec.persistent_netmask) add.push('-M', spec.persistent_netmask);
  const out = [add];
  for (const r of spec.reals) {
    const c = ['-a', p, svc, '-r', `${r.ip}:${r.port ?? spec.port}`, '-g', '-w', String(r.weight)];
    if (r.u_threshold !== undefined) c.push('-x', String(r.u_threshold));
    if (r.l_threshold !== undefined) c.push('-y', String(r.l_threshold));
    out.push(c);
  }
  return out;
}

const SYSCTL_KEYS: Record<string, string> = {
  sloppy_tcp: 'sloppyTcp',
  expire_nodest_conn: 'expireNodestConn',
  expire_quiescent_template: 'expireQuiescentTemplate',
};

export interface FakeDirector {
  readonly control: string;
  readonly pp: DirectorPacketPath;
  /** The packet path's clock (ms). */
  now: number;
  /** Runs frames through the packet path at their capture times. */
  feed(frames: Array<{ timeMs: number; data: Uint8Array }>): void;
  /** Moves the clock and expires connections as the director's housekeeping would. */
  advance(toMs: number): void;
  /** The director's 2 s rate sampling, driven by hand: feeds the estimator a snapshot now. */
  sampleRates(): void;
  snapshot(conns?: boolean): PacketSnapshot;
  close(): Promise<void>;
}

export async function startFakeDirector(o: { mac: string; localAddrs?: string[]; sysctls?: Record<string, number>; neighbours?: Record<string, string> }): Promise<FakeDirector> {
  const dir = mkdtempSync(join(tmpdir(), 'dsrlb-ipvsadm-'));
  const control = join(dir, 'control.sock');
  const mac = parseMac(o.mac)!;
  const io: FrameIO = {
    iface: 'eth0', mac, closed: false,
    onFrame() {}, send: () => true, close() {},
    stats: () => ({ received: 0, sent: 0, sendErrors: 0, truncated: 0, unhandled: 0 }),
  };
  let reply: FromPacket | null = null;
  const sysctls: Record<string, boolean> = {};
  for (const [k, v] of Object.entries(o.sysctls ?? {})) sysctls[SYSCTL_KEYS[k.replace(/^net\.ipv4\.vs\./, '')]!] = v !== 0;
  const fd = {
    now: 0,
  } as FakeDirector;
  const pp = new DirectorPacketPath(
    { services: [], localAddrs: (o.localAddrs ?? []).map((a) => parseIPv4(a)!), arpSenderIp: 0, garp: false, active: true, sysctls },
    io, null, (m) => { if (m.ev === 'reply') reply = m; },
    { now: () => fd.now, every: () => () => {} },
  );
  for (const [ip, m] of Object.entries(o.neighbours ?? {})) pp.dp.services.setNeighbour(parseIPv4(ip)!, parseMac(m)!);
  const est = new RateEstimator();
  let n = 0;
  const server: Server = await serveControl(control, async (req) => {
    if (req.op === 'rate') return est.report();
    reply = null;
    pp.onMessage({ ...req, id: ++n } as ToPacket);
    const r = reply as FromPacket | null;
    if (!r || r.ev !== 'reply') throw new DsrlbError('E_INTERNAL', 'no reply');
    if (!r.ok) throw new DsrlbError(r.code, r.message);
    return r.snapshot ?? null;
  });
  Object.assign(fd, {
    control, pp,
    feed(frames: Array<{ timeMs: number; data: Uint8Array }>) {
      for (const f of frames) {
        fd.now = f.timeMs;
        const buf = Buffer.from(f.data);
        pp.onFrame(buf, buf.length);
      }
    },
    advance(t: number) {
      fd.now = t;
      pp.dp.tick(t);
    },
    sampleRates() {
      est.update(pp.snapshot(false), fd.now);
    },
    snapshot: (conns = false) => pp.snapshot(conns),
    async close() {
      pp.close();
      await new Promise<void>((r) => server.close(() => r()));
      rmSync(dir, { recursive: true, force: true });
    },
  });
  return fd;
}

export interface CliResult {
  code: number;
  out: string;
  err: string;
}

/** `dsrlb ipvsadm --control PATH ARGS…`, in this process. */
export async function ipvsadm(control: string | null, args: string[], stdin?: string): Promise<CliResult> {
  let out = '';
  let err = '';
  const io = { out: (s: string) => void (out += s.endsWith('\n') ? s : `${s}\n`), err: (s: string) => void (err += s.endsWith('\n') ? s : `${s}\n`) };
  const argv = control === null ? args : ['--control', control, ...args];
  const code = await ipvsadmRun(argv, io, { stdin: async () => stdin ?? '' });
  return { code, out, err };
}

export function readJson<T>(path: string): T {
  return JSON.parse(readFileSync(path, 'utf8')) as T;
}

export function pcapFrames(path: string): Array<{ timeMs: number; data: Uint8Array }> {
  return readPcapFile(path).records.map((r) => ({ timeMs: r.timeMs, data: r.data }));
}

/** A director set up by `dsrlb ipvsadm` with the oracle's own commands, its reals' MACs known. */
export async function directorFor(spec: OracleSpec): Promise<FakeDirector> {
  const neighbours = Object.fromEntries(spec.reals.map((r) => [r.ip, r.mac]));
  const fd = await startFakeDirector({ mac: spec.director_mac, sysctls: spec.sysctls, neighbours, localAddrs: spec.director_ip ? [spec.director_ip] : [] });
  for (const c of oracleCommands(spec)) {
    const r = await ipvsadm(fd.control, c);
    if (r.code !== 0) throw new Error(`ipvsadm ${c.join(' ')}: ${r.err}`);
  }
  return fd;
}
