/**
 * IPv6 services from an ldirectord.cf, end to end through the commands a user runs:
 * `dsrlb replay --config X.cf` on the kernel's IPv6 oracle captures (test/fixtures/ipvs-oracle/ipv6/)
 * with a `virtual6=`/`real6=` file written as an ldirectord user would, `dsrlb config check` on it,
 * and the split of both families for the live director.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.ts';
import { parseLdirectordConfig } from '../../src/config/index.ts';
import { dataplaneFromConfig, services6FromConfig, servicesFromConfig } from '../../src/engine/index.ts';
import { readPcapFile } from '../../src/io/index.ts';
import { ipv6ToString, parseIPv6, parseMac } from '../../src/model/index.ts';
import { ipvsadmRows, ORACLE_DIR, type OracleResult } from './oracle.ts';
import type { Spec6 } from './oracle.ts';

const DIR = join(ORACLE_DIR, 'ipv6');
const tmp = mkdtempSync(join(tmpdir(), 'dsrlb-cfg6-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

interface Out6 {
  connections: { client: string; real: string; order: number }[];
  frames: { in: number; forwarded: number };
  forwarded: { out_frame: number; in_frame: number | null }[];
  ipvsadm_L_n: string;
  ipvsadm_L_n_stats: string;
}

const load = <T>(p: string): T => JSON.parse(readFileSync(p, 'utf8')) as T;
const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

/** The ldirectord.cf a user of Debian's ldirectord would write for the run (reals in the order added). */
function ldirectord6For(spec: Spec6): string {
  const lines = [`virtual6=[${spec.vip}]:${spec.port}`];
  for (const r of spec.reals) lines.push(`\treal6=[${r.ip}]:${r.port ?? spec.port} gate ${r.weight}`);
  lines.push(`\tscheduler=${spec.scheduler}`, `\tprotocol=${spec.protocol}`, '\tchecktype=off');
  if (spec.sched_flags?.length) lines.push(`\tschedflags=${spec.sched_flags.join(',')}`);
  for (const r of spec.reals) if (r.u_threshold !== undefined) lines.push(`\trealthresholds=[${r.ip}] ${r.u_threshold}`);
  return `${lines.join('\n')}\n`;
}

function cli(argv: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  return main(argv, { out: (s) => out.push(s), err: (s) => err.push(s) }).then((code) => ({ code, out: out.join('\n'), err: err.join('\n') }));
}

describe.each(['rr3', 'wrr123', 'sh3-port', 'udp-mh3-port', 'mh3b'])('dsrlb replay --config with virtual6= (IPv6 oracle run %s)', (name) => {
  const spec = load<Spec6>(join(DIR, 'specs', `${name}.json`));
  const k = load<Out6>(join(DIR, 'out', `${name}.json`));
  const cf = join(tmp, `${name}.cf`);
  writeFileSync(cf, ldirectord6For(spec));
  const neigh = spec.reals.flatMap((r) => ['--neigh', `[${r.ip}]=${r.mac}`]);
  const outPcap = join(tmp, `${name}.out.pcap`);
  const run = cli(['replay', '--config', cf, '--in', join(DIR, 'pcap', `${name}.pcap`), '--out', outPcap, '--self-mac', spec.director_mac, ...neigh, '--json']);

  it('schedules every connection to the real the kernel chose, in the kernel\'s order', async () => {
    const r = await run;
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    const s = JSON.parse(r.out);
    const want = [...k.connections].sort((a, b) => a.order - b.order).map((c) => `${c.client}>${c.real}`);
    expect(want.length).toBeGreaterThan(0);
    expect(s.choices.map((c: { client: string; real: string }) => `${c.client}>${c.real}`)).toEqual(want);
    expect(s.forwarded).toBe(k.frames.forwarded);
  });

  it('counts flows, packets and bytes per real as ipvsadm --stats showed them', async () => {
    const s = JSON.parse((await run).out);
    const rows = ipvsadmRows(k as unknown as OracleResult);
    expect(Object.keys(s.reals).sort()).toEqual([...rows.keys()].sort());
    for (const [real, row] of rows) {
      expect({ real, ...s.reals[real] }).toEqual({ real, flows: row.conns, packets: row.inPkts, bytes: row.inBytes });
    }
  });

  it('writes as many frames as the kernel forwarded', async () => {
    await run;
    // Besides the forwards, dsrlb writes its own answers to the run's NS and echo request (from the
    // VIP6; the oracle's kernel answered neither, test/replay/oracle-replay6.test.ts says why).
    const recs = readPcapFile(outPcap).records;
    expect(recs.filter((x) => !fromVip6(x.data, spec.vip))).toHaveLength(k.frames.forwarded);
    expect(recs.filter((x) => fromVip6(x.data, spec.vip))).toHaveLength(2);
  });
});

describe('rr3 through the config: the frames are the kernel\'s own, byte for byte', () => {
  it('equals the kernel\'s output capture, frame for frame', async () => {
    const spec = load<Spec6>(join(DIR, 'specs', 'rr3.json'));
    const k = load<Out6>(join(DIR, 'out', 'rr3.json'));
    const cf = join(tmp, 'rr3-bytes.cf');
    writeFileSync(cf, ldirectord6For(spec));
    const outPcap = join(tmp, 'rr3-bytes.pcap');
    const r = await cli(['replay', '--config', cf, '--in', join(DIR, 'pcap', 'rr3.pcap'), '--out', outPcap,
      '--self-mac', spec.director_mac, ...spec.reals.flatMap((x) => ['--neigh', `${x.ip}=${x.mac}`])]);
    expect(r.code).toBe(0);
    const kernel = readPcapFile(join(DIR, 'out', 'rr3.director-out.pcap')).records.map((x) => x.data);
    const want = [...k.forwarded].sort((a, b) => a.out_frame - b.out_frame).map((f) => hex(kernel[f.out_frame]!));
    expect(readPcapFile(outPcap).records.filter((x) => !fromVip6(x.data, spec.vip)).map((x) => hex(x.data))).toEqual(want);
    // The text summary names the IPv6 reals as ipvsadm does.
    expect(r.out).toMatch(/\[2001:db8::21\]:80\s+34\s+100\s+6610/);
  });
});

/** An IPv6 frame whose source is `vip`: one the director wrote itself (an NA, an echo reply). */
function fromVip6(f: Uint8Array, vip: string): boolean {
  const v = parseIPv6(vip)!;
  return f[12] === 0x86 && f[13] === 0xdd && v.every((b, i) => f[22 + i] === b);
}

describe('IPv4 and IPv6 services from one file', () => {
  const text = [
    'virtual=10.0.0.1:80', '\treal=10.0.0.2:80 gate', '\tchecktype=off',
    'virtual6=[2001:db8::10]:80', '\treal6=[2001:db8::21]:80 gate', '\treal6=[2001:db8::22]:80 gate 2', '\tscheduler=wrr', '\tchecktype=off',
  ].join('\n');

  it('dataplaneFromConfig builds both, the IPv6 one with its reals in file order (the kernel lists them newest first)', () => {
    const dp = dataplaneFromConfig(parseLdirectordConfig(text, 'both.cf'), { selfMac: parseMac('02:00:00:00:00:01')! });
    expect(dp.services.services.map((s) => s.name)).toEqual(['TCP 10.0.0.1:80']);
    expect(dp.services.services6.map((s) => s.name)).toEqual(['TCP [2001:db8::10]:80']);
    expect(dp.services.services6[0]!.dests.map((d) => d.weight)).toEqual([2, 1]);
  });

  it('servicesFromConfig and services6FromConfig split the families for the live director, in file order', () => {
    const cfg = parseLdirectordConfig(text, 'both.cf');
    expect(servicesFromConfig(cfg).map((s) => s.spec.vip)).toEqual([0x0a000001]);
    const v6 = services6FromConfig(cfg);
    expect(v6.map((s) => ipv6ToString(s.spec.vip6))).toEqual(['2001:db8::10']);
    expect(v6[0]!.reals.map((r) => [ipv6ToString(r.addr6), r.weight])).toEqual([['2001:db8::21', 1], ['2001:db8::22', 2]]);
  });

  it('dsrlb config check accepts it and lists both, without a warning', async () => {
    const cf = join(tmp, 'both-check.cf');
    writeFileSync(cf, text);
    const r = await cli(['config', 'check', cf]);
    expect(r.code).toBe(0);
    expect(r.out).toContain('TCP  10.0.0.1:80 wrr\n  -> 10.0.0.2:80                  Route   1      0          0         \n' +
      'TCP  [2001:db8::10]:80 wrr\n  -> [2001:db8::21]:80            Route   1      0          0         \n' +
      '  -> [2001:db8::22]:80            Route   2      0          0         \n');
    expect(r.err).not.toMatch(/W_CONFIG_UNSUPPORTED/);
  });

  it('replay names the IPv6 reals that have no --neigh', async () => {
    const cf = join(tmp, 'both-neigh.cf');
    writeFileSync(cf, text);
    const r = await cli(['replay', '--config', cf, '--in', join(DIR, 'pcap', 'rr3.pcap'), '--out', join(tmp, 'n.pcap'),
      '--self-mac', '02:00:00:00:00:01', '--neigh', '10.0.0.2=02:00:00:00:00:02', '--neigh', '[2001:db8::21]=02:00:00:00:00:21']);
    expect(r.code).not.toBe(0);
    expect(r.err).toMatch(/no MAC for real server\(s\) 2001:db8::22: give --neigh/);
  });
});
