/**
 * dsrlb ipvsadm's argument handling against Debian's real ipvsadm 1.31, recorded by
 * fixtures/usage/record.sh: for every line of cases.txt the same exit code, the same stdout and
 * stderr, and the same change sent to the director as ipvsadm sent to the kernel (the "@ADD …"
 * lines decoded from its setsockopt calls).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import type { Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serveControl } from '../../src/io/index.ts';
import { ipToString } from '../../src/model/index.ts';
import { HERE, ipvsadm, readJson } from './harness.ts';

interface Recorded {
  ipvsadm: string;
  cases: Array<{ args: string[]; code: number; stdout: string; stderr: string; calls: string[] }>;
}
const recorded = readJson<Recorded>(join(HERE, 'fixtures/usage/recorded.json'));

/**
 * Two recordings say nothing about ipvsadm itself, the recording host having no IPVS: `-lnc` could
 * not open /proc/net/ip_vs_conn, and the shim does not emulate the sync-daemon query (ipvsadm
 * crashed). For them, what ipvsadm prints with a kernel and an empty table.
 */
const WITH_A_KERNEL = new Map<string, { code: number; stdout: string; stderr: string }>([
  ['-lnc', { code: 0, stdout: 'IPVS connection entries\npro expire state       source             virtual            destination\n', stderr: '' }],
  ['-L --daemon', { code: 0, stdout: '', stderr: '' }],
]);

type Req = Record<string, any>;

const hex = (n: number) => (n === 0 ? '0' : `0x${n.toString(16)}`);
const proto = (p: string) => (p === 'tcp' ? 6 : 17);

function svcText(svc: Req, spec?: Req): string {
  const persistent = spec?.persistent ?? 0;
  const f = spec?.schedFlags ?? {};
  const flags = (persistent > 0 ? 1 : 0) | (f.shFallback || f.mhFallback ? 0x8 : 0) | (f.shPort || f.mhPort ? 0x10 : 0);
  const mask = spec?.netmask ?? 0xffffffff;
  return `proto=${proto(svc.proto)} addr=${ipToString(svc.vip)} port=${svc.port} fwmark=0 sched=${spec?.scheduler ?? ''} ` +
    `flags=${hex(flags)} timeout=${persistent} netmask=${ipToString(mask >>> 0)}`;
}

function destText(addr: number, port: number, weight = 1, u = 0, l = 0): string {
  return `addr=${ipToString(addr)} port=${port} conn_flags=0x3 weight=${weight} u_threshold=${u} l_threshold=${l}`;
}

/** A request to the director, written as the shim writes the kernel call it stands for. */
function asKernelCall(r: Req): string | null {
  switch (r.op) {
    case 'addService': return `ADD ${svcText(r.spec, r.spec)}`;
    case 'editService': return `EDIT ${svcText(r.svc, r.changes)}`;
    case 'deleteService': return `DEL ${svcText(r.svc)}`;
    case 'addReal': return `ADDDEST ${svcText(r.svc)} | ${destText(r.real.addr, r.real.port, r.real.weight, r.real.uThreshold, r.real.lThreshold)}`;
    case 'editReal': return `EDITDEST ${svcText(r.svc)} | ${destText(r.addr, r.port, r.changes.weight, r.changes.uThreshold, r.changes.lThreshold)}`;
    case 'deleteReal': return `DELDEST ${svcText(r.svc)} | ${destText(r.addr, r.port)}`;
    case 'flush': return 'FLUSH';
    case 'zero': return r.svc ? `ZERO ${svcText(r.svc)}` : 'ZERO proto=0 addr=0.0.0.0 port=0 fwmark=0 sched= flags=0 timeout=0 netmask=255.255.255.255';
    default: return null; // reads (snapshot, rate) make no kernel change
  }
}

let dir: string;
let control: string;
let server: Server;
let requests: Req[] = [];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'dsrlb-usage-'));
  control = join(dir, 'c.sock');
  // An empty director that accepts every change, as the recording shim's kernel did.
  server = await serveControl(control, async (req) => {
    requests.push(req);
    if (req.op === 'snapshot') return { at: 0, services: [], conns: [], timeouts: { tcp: 900, tcpfin: 120, udp: 300 } };
    if (req.op === 'rate') return { at: 0, services: [] };
    return null;
  });
});

afterAll(async () => {
  await new Promise<void>((r) => server.close(() => r()));
  rmSync(dir, { recursive: true, force: true });
});

describe(`dsrlb ipvsadm parses arguments as ipvsadm ${recorded.ipvsadm} does`, () => {
  for (const c of recorded.cases) {
    const name = c.args.join(' ');
    it(`ipvsadm ${name || '(no arguments)'}`, async () => {
      requests = [];
      const r = await ipvsadm(control, c.args);
      expect({ code: r.code, stdout: r.out, stderr: r.err }).toEqual(WITH_A_KERNEL.get(name) ?? {
        code: c.code,
        stdout: c.stdout,
        stderr: c.stderr.replaceAll('/usr/sbin/ipvsadm', 'ipvsadm'),
      });
      expect(requests.map(asKernelCall).filter((x) => x !== null)).toEqual(c.calls);
    });
  }
});
