/**
 * Recorded teaching runs on the namespace testbed: build it, optionally break it the way a
 * scenario says, start a dsrlb director on www1, record pcaps at every host while the client sends
 * a few requests to the VIP, then tear everything down. The pcaps feed `dsrlb explain`, the docs'
 * diagrams and the committed test fixtures (test/fixtures/captures/).
 *
 * Scenarios:
 *   healthy      the reference setup: ARP for the VIP suppressed on every real, offloads as the
 *                testbed sets them.
 *   arp-problem  www3's arptables rules are flushed, so its kernel answers ARP for the VIP too
 *                (the ARP problem: two MACs for one address).
 *   offload      the client's tx checksum offload is turned back on, so its frames cross the veth
 *                with unfinished TCP checksums, which the director forwards as they are.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DsrlbError } from '../errors/index.ts';
import {
  VIP, hostNamespace, nsExec, startLabDirector, testbedDown, testbedUp, type HostName, type LabDirector,
} from '../testbed/index.ts';
import { startTestbedCapture, type TestbedCapture } from './capture.ts';

export const SCENARIOS = ['healthy', 'arp-problem', 'offload'] as const;
export type Scenario = (typeof SCENARIOS)[number];

/** The configuration the recordings use: the reference HTTP service, no health-check traffic. */
export const RECORD_CONFIG = `# dsrlb teaching recordings: the reference HTTP service, always-up reals
virtual=${VIP}:80
\treal=192.168.0.7:80 gate
\treal=192.168.0.8:80 gate
\treal=192.168.0.9:80 gate
\tscheduler=rr
\tprotocol=tcp
\tchecktype=on
`;

export interface RecordOptions {
  prefix: string;
  dir: string;
  scenario: Scenario;
  /** HTTP requests from the client (default 3: one per real with rr). */
  requests?: number;
  /** Forget the client's neighbour entries before each request, so each one starts with ARP (default: only before the first). */
  arpEachRequest?: boolean;
  /** Keep the testbed up afterwards (default false: it is torn down). */
  keep?: boolean;
  onProgress?: (line: string) => void;
}

export interface RecordResult {
  files: Map<HostName, string>;
  config: string;
  /** curl's answer per request ('' when it failed). */
  answers: string[];
}

async function inNs(prefix: string, host: HostName, argv: string[]): Promise<void> {
  await nsExec(hostNamespace(prefix, host), argv, { check: true, timeoutMs: 10_000 });
}

/** Breaks the testbed as the scenario says (after up, before the director starts). */
async function applyScenario(prefix: string, s: Scenario): Promise<void> {
  if (s === 'arp-problem') {
    // The testbed's default style is arptables; arp_ignore/arp_announce are 0 in every host.
    await inNs(prefix, 'www3', ['arptables', '-F']);
    await inNs(prefix, 'www3', ['sysctl', '-q', '-w', 'net.ipv4.conf.all.arp_ignore=0', 'net.ipv4.conf.eth0.arp_ignore=0']);
  } else if (s === 'offload') {
    await inNs(prefix, 'client', ['ethtool', '-K', 'eth0', 'tx', 'on']);
  }
}

export async function recordScenario(o: RecordOptions): Promise<RecordResult> {
  const say = o.onProgress ?? (() => {});
  const n = o.requests ?? 3;
  if (!Number.isInteger(n) || n < 1 || n > 50) throw new DsrlbError('E_USAGE', 'requests must be an integer from 1 to 50');
  const config = join(o.dir, 'ldirectord.cf');
  let director: LabDirector | null = null;
  let cap: TestbedCapture | null = null;
  const answers: string[] = [];
  try {
    say(`testbed up (prefix ${o.prefix})`);
    await testbedUp({ prefix: o.prefix, arpStyle: 'arptables' });
    say(`scenario ${o.scenario}`);
    await applyScenario(o.prefix, o.scenario);
    const client = hostNamespace(o.prefix, 'client');
    await nsExec(client, ['ip', 'neigh', 'flush', 'all'], { timeoutMs: 5000 });
    say(`recording at client, www1, www2, www3 into ${o.dir}`);
    cap = await startTestbedCapture({ prefix: o.prefix, dir: o.dir });
    writeFileSync(config, RECORD_CONFIG);
    say('dsrlb run on www1 (one gratuitous ARP pair at start)');
    director = await startLabDirector({ prefix: o.prefix, config, args: ['--garp', '1,100'] });
    await new Promise((r) => setTimeout(r, 300));
    for (let i = 0; i < n; i++) {
      if (i > 0 && o.arpEachRequest) await nsExec(client, ['ip', 'neigh', 'flush', 'all'], { timeoutMs: 5000 });
      const timeout = o.scenario === 'offload' ? '2' : '4';
      const r = await nsExec(client, ['curl', '-s', '-m', timeout, `http://${VIP}/`], { timeoutMs: 8000 });
      answers.push(r.code === 0 ? r.stdout.trim() : '');
      say(`request ${i + 1}: ${r.code === 0 ? r.stdout.trim() : `failed (curl exit ${r.code})`}`);
    }
    await cap.stop();
    return { files: new Map(cap.files), config, answers };
  } finally {
    await cap?.stop();
    await director?.stop();
    if (!o.keep) await testbedDown({ prefix: o.prefix });
  }
}
