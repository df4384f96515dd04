/** Loading the recorded teaching captures (test/fixtures/captures/<scenario>/*.pcap). */
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseLdirectordConfig } from '../../src/config/index.ts';
import { readPcapFile } from '../../src/io/index.ts';
import { explainCaptures, type CaptureInput, type Explanation, type ExplainOptions } from '../../src/teach/index.ts';

export const CAPTURES = fileURLToPath(new URL('../fixtures/captures/', import.meta.url));

/** The testbed's fixed MACs. */
export const MAC = {
  client: '02:d5:00:00:00:64',
  www1: '02:d5:00:00:00:07',
  www2: '02:d5:00:00:00:08',
  www3: '02:d5:00:00:00:09',
} as const;
export const VIP = '192.168.0.10';
export const NAMES: Record<string, string> = Object.fromEntries(Object.entries(MAC).map(([k, v]) => [v, k]));

export function loadScenario(scenario: string): CaptureInput[] {
  const dir = `${CAPTURES}${scenario}`;
  return readdirSync(dir).filter((n) => n.endsWith('.pcap')).sort().map((n) => {
    const p = readPcapFile(`${dir}/${n}`);
    return { name: n.replace(/\.pcap$/, ''), linkType: p.linkType, records: p.records };
  });
}

export function scenarioConfig(scenario: string) {
  const file = `${CAPTURES}${scenario}/ldirectord.cf`;
  return parseLdirectordConfig(readFileSync(file, 'utf8'), file);
}

export function explainScenario(scenario: string, o: ExplainOptions & { withConfig?: boolean } = {}): Explanation {
  return explainCaptures(loadScenario(scenario), { names: NAMES, ...o, config: o.withConfig ? scenarioConfig(scenario) : o.config });
}
