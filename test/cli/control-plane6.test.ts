/**
 * ldirectord's control plane with IPv6 reals: the checks of a virtual6= section reach the table as
 * ipvsadm-style operations naming the service by its VIP6 and the real by its address (a real on
 * ::1, really checked), a fallback6= comes in when every real is down, and a reload of the file
 * turns into the IPv6 operations.
 */
import net from 'node:net';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ControlPlane, loadCheckedConfig } from '../../src/cli/control-plane.ts';
import { describeOp, type Director } from '../../src/engine/index.ts';
import { silentLogger } from '../../src/ports/index.ts';
import { poll } from '../helpers/wait.ts';

const tmp = mkdtempSync(join(tmpdir(), 'dsrlb-cp6-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** A director that records the operations and answers like the packet path (E_NO_REAL for a real it does not hold). */
function fakeDirector() {
  const ops: string[] = [];
  const raw: unknown[] = [];
  const d = {
    request: async (op: Parameters<Director['request']>[0]) => {
      ops.push(describeOp(op));
      raw.push(op);
      return undefined;
    },
  };
  return { ops, raw, director: d as unknown as Director };
}

async function freePort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '::1', r));
  const p = (s.address() as net.AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return p;
}

describe('control plane, IPv6 reals', () => {
  it('a real6 that stops answering is quiesced, a fallback6 comes in, and both undo when it answers again', async () => {
    const port = await freePort();
    const cf = join(tmp, 'a.cf');
    writeFileSync(cf, [
      'checkinterval=1', 'checktimeout=1', 'quiescent=yes',
      `virtual6=[2001:db8::10]:80`, `\treal6=[::1]:${port} gate`, '\tfallback6=[2001:db8::99]:80 gate', '\tchecktype=connect', '',
    ].join('\n'));
    const f = fakeDirector();
    const cp = new ControlPlane(f.director, silentLogger, cf, loadCheckedConfig(cf));
    let server: net.Server | null = null;
    try {
      cp.start();
      await poll(() => f.ops.length >= 3, { timeoutMs: 8000 });
      // At start the real is taken as up at its weight (as loaded); its first failed check quiesces it.
      // Direct routing keeps the virtual port (realForwardPort): the check goes to the real's own port.
      expect(f.ops.slice(0, 3)).toEqual([
        'edit real [::1]:80 in TCP [2001:db8::10]:80: {"weight":1}',
        'edit real [::1]:80 in TCP [2001:db8::10]:80: {"weight":0}',
        'add real [2001:db8::99]:80 to TCP [2001:db8::10]:80 (weight 1)',
      ]);
      expect(f.raw[1]).toMatchObject({ op: 'editReal', addr6: '::1', svc: { vip6: '2001:db8::10' } });
      expect(f.raw[2]).toMatchObject({ op: 'addReal6', real: { port: 80, weight: 1 } });
      server = net.createServer((s) => s.destroy());
      await new Promise<void>((r) => server!.listen(port, '::1', r));
      await poll(() => f.ops.length >= 5, { timeoutMs: 8000 });
      expect(f.ops.slice(3, 5).sort()).toEqual([
        'delete real [2001:db8::99]:80 from TCP [2001:db8::10]:80',
        'edit real [::1]:80 in TCP [2001:db8::10]:80: {"weight":1}',
      ]);
    } finally {
      cp.stop();
      await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
    }
  });

  it('a reload applies the IPv6 difference', async () => {
    const cf = join(tmp, 'b.cf');
    const text = (w: number) => ['virtual6=[2001:db8::10]:80', `\treal6=[2001:db8::21]:80 gate ${w}`, '\tchecktype=off', ''].join('\n');
    writeFileSync(cf, text(1));
    const f = fakeDirector();
    const cp = new ControlPlane(f.director, silentLogger, cf, loadCheckedConfig(cf));
    try {
      writeFileSync(cf, text(4) + 'virtual6=[2001:db8::11]:80\n\treal6=[2001:db8::22]:80 gate\n\tchecktype=off\n');
      expect(await cp.reload('test')).toBe(true);
      expect(f.ops).toEqual([
        'edit real [2001:db8::21]:80 in TCP [2001:db8::10]:80: {"weight":4}',
        'add service TCP [2001:db8::11]:80 (wrr)',
        'add real [2001:db8::22]:80 to TCP [2001:db8::11]:80 (weight 1)',
      ]);
    } finally {
      cp.stop();
    }
  });
});
