/**
 * Re-records the IPv6 teaching captures in test/fixtures/captures/ipv6-* (root):
 *
 *   npx tsx test/teach/record-fixtures6.ts [healthy6|ndp-problem6 ...]
 *
 * See test/teach/record6.ts for the LAN, the nft director and what each scenario breaks. Not a
 * test: the committed pcaps are what the tests read, so they do not change from run to run.
 */
import { rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { record6, SCENARIOS6, type Scenario6 } from './record6.ts';

const ROOT = fileURLToPath(new URL('../fixtures/captures/', import.meta.url));
const wanted = (process.argv.slice(2).length ? process.argv.slice(2) : [...SCENARIOS6]) as Scenario6[];
for (const scenario of wanted) {
  if (!SCENARIOS6.includes(scenario)) throw new Error(`unknown scenario ${scenario}`);
  const dir = `${ROOT}${scenario}`;
  rmSync(dir, { recursive: true, force: true });
  const r = await record6({ scenario, dir, onProgress: (l) => console.log(`[${scenario}] ${l}`) });
  console.log(`[${scenario}] answers: ${r.answers.map((a) => a || 'failed').join(', ')}`);
}
