/** A real whose MAC nobody answers for gets no new flows, and the director says so; it does not crash. */
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';
import { hostNamespace, VIP } from '../../src/testbed/index.ts';
import { countBy, curl, forEachIoBackend, useLab } from './lab.ts';

const prefix = `dsru${process.pid % 10000}`;

// Once per frame I/O backend (ring, pcap): the same testbed made anew for each.
forEachIoBackend(() => {
const lab = useLab(prefix, fileURLToPath(new URL('./fixtures/ghost-real.cf', import.meta.url)), { waitForMacs: false });

it('schedules around an unresolved real and logs it', async () => {
  // The resolver gives up on a silent address after its broadcast probes (3 x 1 s).
  for (let i = 0; i < 60; i++) {
    if (/does not answer ARP/.test(lab.director.output())) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  expect(lab.director.output()).toMatch(/"real":"192\.168\.0\.50".*does not answer ARP/);
  const client = hostNamespace(prefix, 'client');
  const answers: string[] = [];
  for (let i = 0; i < 9; i++) answers.push((await curl(client, `http://${VIP}/`)) ?? 'failed');
  expect(Object.fromEntries(countBy(answers))).toEqual({ www1: 3, www2: 3, www3: 3 });
  const s = await lab.director.snapshot();
  const ghost = s.services[0]!.reals.find((r) => r.addr === 0xc0a80032)!;
  expect(ghost.mac).toBeNull();
  expect(ghost.conns).toBe(0);
}, 30_000);
});
