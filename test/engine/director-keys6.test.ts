/**
 * The control side with IPv6 keys: deleting an IPv6 service (its key carries vip6 and, in vip, its
 * 32-bit fold) must not take an IPv4 service whose VIP equals that fold out of the ingress drop.
 */
import { expect, it } from 'vitest';
import { Director, type FromPacket } from '../../src/engine/index.ts';
import { foldIPv6, ipToString, parseIPv4, parseIPv6 } from '../../src/model/index.ts';
import { silentLogger, type NetControl, type StartPacketPath } from '../../src/ports/index.ts';

it('an IPv6 deleteService leaves the IPv4 service with the same proto, fold-equal VIP and port in the drop', async () => {
  const drops: string[] = [];
  const net: NetControl = {
    installIngressDrop: async (_iface, s) => void drops.push(s.map((x) => `${x.proto}:${ipToString(x.vip)}:${x.port}`).join(',')),
    removeIngressDrop: async () => void drops.push('none'),
    localAddresses: () => [],
    addressOn: () => parseIPv4('192.168.0.7')!,
    createLocalPath: async () => ({ iface: 'dsrlb-l0', peerMac: '02:00:00:00:00:99' }),
    removeLocalPath: async () => {},
  };
  let onMsg: ((m: unknown) => void) | null = null;
  const start: StartPacketPath = async () => ({
    pid: 1,
    post: (m) => {
      queueMicrotask(() => onMsg?.({ ev: 'reply', id: (m as { id: number }).id, ok: true } satisfies FromPacket));
      return true;
    },
    onMessage: (cb) => void (onMsg = cb),
    onExit: () => {},
    stop: async () => {},
  });
  const d = new Director({ net, startPacketPath: start, log: silentLogger });
  const fold = foldIPv6(parseIPv6('2001:db8::10')!);
  await d.start({ iface: 'eth0', services: [{ spec: { proto: 'tcp', vip: fold, port: 80, scheduler: 'rr' }, reals: [] }] });
  const before = drops.at(-1);
  expect(before).toBe(`tcp:${ipToString(fold)}:80`);
  await d.request({ op: 'addService6', spec: { proto: 'tcp', vip6: '2001:db8::10', port: 80, scheduler: 'rr' } });
  await d.request({ op: 'deleteService', svc: { proto: 'tcp', vip: fold, port: 80, vip6: '2001:db8::10' } });
  expect(drops.at(-1)).toBe(before);
  await d.request({ op: 'deleteService', svc: { proto: 'tcp', vip: fold, port: 80 } });
  expect(drops.at(-1)).toBe('none');
  await d.stop();
});
