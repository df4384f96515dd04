/**
 * Re-records the teaching captures in test/fixtures/captures/ from the namespace testbed (root):
 *
 *   npx tsx test/teach/record-fixtures.ts [healthy|arp-problem|offload ...]
 *
 * Each scenario builds a testbed under its own prefix, breaks it as src/doctor/record.ts says,
 * runs a dsrlb director on www1, records client.pcap, www1.pcap, www2.pcap and www3.pcap while the
 * client sends a few requests to the VIP, and tears the testbed down. Not a test: the committed
 * pcaps are what the tests read, so they do not change from run to run.
 */
import { rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { recordScenario, SCENARIOS, type Scenario } from '../../src/doctor/index.ts';

const ROOT = fileURLToPath(new URL('../fixtures/captures/', import.meta.url));
const wanted = (process.argv.slice(2).length ? process.argv.slice(2) : [...SCENARIOS]) as Scenario[];
for (const scenario of wanted) {
  if (!SCENARIOS.includes(scenario)) throw new Error(`unknown scenario ${scenario}`);
  const dir = `${ROOT}${scenario}`;
  rmSync(dir, { recursive: true, force: true });
  const r = await recordScenario({
    prefix: `dsrx${process.pid % 1000}`,
    dir,
    scenario,
    requests: scenario === 'offload' ? 1 : 3,
    arpEachRequest: scenario === 'arp-problem',
    onProgress: (l) => console.log(`[${scenario}] ${l}`),
  });
  console.log(`[${scenario}] answers: ${r.answers.map((a) => a || 'failed').join(', ')}`);
}
