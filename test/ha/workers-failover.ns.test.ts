/**
 * Failover with `dsrlb ha --workers 2` on both directors (root, CI; ring backend): connections the
 * active director's two workers hold are all synchronised to the standby (every worker exports
 * its own), and long-lived connections opened before a SIGKILL of the active finish through the
 * peer — with rr, only connection sync can tell the peer which real each one is on.
 */
import { rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { controlRequest } from '../../src/io/index.ts';
import { testbedDown, testbedUp, VIP } from '../../src/testbed/index.ts';
import { killHelpers, makeConfigDirs, openLongConnection, startHa, waitFor, type HaProc } from './lab.ts';

const prefix = `dsrfh${process.pid % 10000}`;
let dirs: ReturnType<typeof makeConfigDirs>;
const procs: HaProc[] = [];
// This file runs in its own process (pool: forks): the ha nodes it starts use the ring backend.
process.env.DSRLB_IO = 'ring';

beforeAll(async () => {
  await testbedUp({ prefix });
  dirs = makeConfigDirs('keepalive 100ms\ndeadtime 300ms\nwarntime 200ms\ninitdead 2\n');
}, 60_000);

afterAll(async () => {
  killHelpers();
  for (const p of procs) {
    await p.term(5000).catch(() => {});
    rmSync(p.control, { force: true });
  }
  await testbedDown({ prefix });
  if (dirs) rmSync(dirs.root, { recursive: true, force: true });
}, 60_000);

interface Status { role: string; counters: { syncConnsSent: number; syncConnsReceived: number } }
type Snap = { io: { workers: number }; perWorker: Array<{ connEntries: number }> };
const snapshot = (p: HaProc) => controlRequest(p.control, { op: 'snapshot' }) as Promise<Snap>;

describe('dsrlb ha --workers 2', () => {
  it('every worker\'s connections reach the standby; long-lived connections survive a SIGKILL of the active', async () => {
    const www1 = startHa(prefix, 'www1', dirs.www1, ['--workers', '2'], 'w1');
    const www2 = startHa(prefix, 'www2', dirs.www2, ['--workers', '2'], 'w2');
    procs.push(www1, www2);
    await waitFor('www1 active, www2 standby', async () => (await www1.status()).role === 'active' && (await www2.status()).role === 'standby', 20_000, 100);
    for (const p of [www1, www2]) expect((await snapshot(p)).io.workers).toBe(2);

    // Enough connections that both workers hold some (the flow hash decides), half a request each.
    const longs = [];
    for (let i = 0; i < 8; i++) longs.push(await openLongConnection(prefix, VIP, 80));
    await new Promise((r) => setTimeout(r, 800));
    expect((await snapshot(www1)).perWorker.every((w) => w.connEntries > 0)).toBe(true);
    const got = (await www2.status()) as unknown as Status;
    expect(got.counters.syncConnsReceived).toBeGreaterThanOrEqual(8);

    await www1.kill();
    await waitFor('www2 active', async () => (await www2.status()).role === 'active', 5000, 10);
    await new Promise((r) => setTimeout(r, 1500));
    const bodies = [];
    for (const l of longs) bodies.push(await l.finish());
    for (const b of bodies) expect(['www1', 'www2', 'www3']).toContain(b);
  }, 60_000);
});
