/** The control side of the live director with fake host ports: order of effects, undo, drop sync. */
import { describe, expect, it } from 'vitest';
import { Director, type FromPacket, type PacketPathInit, type Service6WithReals, type ServiceWithReals } from '../../src/engine/index.ts';
import { foldIPv6, parseIPv4, parseIPv6 } from '../../src/model/index.ts';
import { silentLogger, type NetControl, type PacketPathHandle, type ServiceMatch, type StartPacketPath } from '../../src/ports/index.ts';

const ip = (s: string) => parseIPv4(s)!;
const SERVICES: ServiceWithReals[] = [{
  spec: { proto: 'tcp', vip: ip('192.168.0.10'), port: 80, scheduler: 'rr' },
  reals: [{ addr: ip('192.168.0.7'), port: 80, weight: 1 }, { addr: ip('192.168.0.8'), port: 80, weight: 1 }],
}];

function fakes(opts: { failPath?: boolean; local?: string[] } = {}) {
  const log: string[] = [];
  const net: NetControl = {
    installIngressDrop: async (iface, s) => void log.push(`drop ${iface} ${s.map((x) => `${x.proto}:${x.port}`).join(',')}`),
    removeIngressDrop: async (iface) => void log.push(`undrop ${iface}`),
    localAddresses: () => (opts.local ?? ['192.168.0.7']).map(ip),
    addressOn: () => ip('192.168.0.7'),
    createLocalPath: async () => {
      log.push('local up');
      return { iface: 'dsrlb-l0', peerMac: '02:00:00:00:00:99' };
    },
    removeLocalPath: async () => void log.push('local down'),
  };
  let onMsg: ((m: unknown) => void) | null = null;
  let lastInit: unknown = null;
  const start: StartPacketPath = async ({ init }) => {
    lastInit = init;
    if (opts.failPath) throw new Error('no capture');
    log.push('path up');
    const h: PacketPathHandle = {
      pid: 1,
      post: (m) => {
        const msg = m as { id: number };
        queueMicrotask(() => onMsg?.({ ev: 'reply', id: msg.id, ok: true } satisfies FromPacket));
        return true;
      },
      onMessage: (cb) => void (onMsg = cb),
      onExit: () => {},
      stop: async () => void log.push('path down'),
    };
    return h;
  };
  return { log, net, start, init: () => lastInit as { localIface?: string; localPeerMac?: string; arpSenderIp: number } };
}

describe('Director', () => {
  it('cleans leftovers, builds the local path for a local real, drops the service traffic, then starts the packet path; stop undoes in reverse', async () => {
    const f = fakes();
    const d = new Director({ net: f.net, startPacketPath: f.start, log: silentLogger });
    await d.start({ iface: 'eth0', services: SERVICES });
    expect(f.log).toEqual(['undrop eth0', 'local down', 'local up', 'drop eth0 tcp:80', 'path up']);
    expect(f.init().localIface).toBe('dsrlb-l0');
    expect(f.init().localPeerMac).toBe('02:00:00:00:00:99');
    expect(f.init().arpSenderIp).toBe(ip('192.168.0.7'));
    f.log.length = 0;
    await d.stop();
    expect(f.log).toEqual(['path down', 'undrop eth0', 'local down']);
  });

  it('makes the local path even without a local real (a fallback or ipvsadm -a may add one), not with localDelivery: false', async () => {
    const f = fakes({ local: ['10.9.9.9'] });
    const d = new Director({ net: f.net, startPacketPath: f.start, log: silentLogger });
    await d.start({ iface: 'eth0', services: SERVICES });
    expect(f.log).toContain('local up');
    await d.stop();
    const g = fakes();
    const e = new Director({ net: g.net, startPacketPath: g.start, log: silentLogger });
    await e.start({ iface: 'eth0', services: SERVICES, localDelivery: false });
    expect(g.log).not.toContain('local up');
    expect(g.init().localIface).toBeUndefined();
    await e.stop();
  });

  it('a failed start undoes what it did and rethrows', async () => {
    const f = fakes({ failPath: true });
    const d = new Director({ net: f.net, startPacketPath: f.start, log: silentLogger });
    await expect(d.start({ iface: 'eth0', services: SERVICES })).rejects.toThrow('no capture');
    expect(f.log.slice(-2)).toEqual(['undrop eth0', 'local down']);
  });

  it('keeps the ingress drop in step with services added and removed at run time (empty table: no drop)', async () => {
    const f = fakes();
    const d = new Director({ net: f.net, startPacketPath: f.start, log: silentLogger });
    await d.start({ iface: 'eth0', services: [] });
    expect(f.log.filter((l) => l.startsWith('drop'))).toEqual([]);
    await d.request({ op: 'addService', spec: { proto: 'udp', vip: ip('192.168.0.10'), port: 53, scheduler: 'rr' } });
    await d.request({ op: 'addService', spec: { proto: 'tcp', vip: ip('192.168.0.10'), port: 80, scheduler: 'rr' } });
    expect(f.log.filter((l) => l.startsWith('drop'))).toEqual(['drop eth0 udp:53', 'drop eth0 udp:53,tcp:80']);
    await d.request({ op: 'deleteService', svc: { proto: 'udp', vip: ip('192.168.0.10'), port: 53 } });
    expect(f.log.at(-1)).toBe('drop eth0 tcp:80');
    await d.request({ op: 'flush' });
    expect(f.log.at(-1)).toBe('undrop eth0');
    await d.stop();
  });

  it('IPv6 services: in the packet path start-up with the host facts NDP needs, and in the ingress drop by their VIP6', async () => {
    const f = fakes();
    const drops: ServiceMatch[][] = [];
    const net: NetControl = {
      ...f.net,
      installIngressDrop: async (_iface, s) => void drops.push([...s]),
      localAddresses6: () => ['2001:db8::7'],
      addressOn6: () => '2001:db8::7',
      ipv6Forwarding: () => true,
    };
    const d = new Director({ net, startPacketPath: f.start, log: silentLogger });
    const v6: Service6WithReals = {
      spec: { proto: 'tcp', vip6: parseIPv6('2001:db8::10')!, port: 80, scheduler: 'rr' },
      reals: [{ addr6: parseIPv6('2001:db8::8')!, port: 80, weight: 1 }],
    };
    await d.start({ iface: 'eth0', services: SERVICES, services6: [v6] });
    const init = f.init() as unknown as PacketPathInit;
    expect(init.services6).toEqual([v6]);
    expect([init.localAddrs6, init.ndpSenderIp6, init.ndpRouter]).toEqual([['2001:db8::7'], '2001:db8::7', true]);
    const fold = foldIPv6(parseIPv6('2001:db8::10')!);
    expect(drops.at(-1)).toEqual([{ proto: 'tcp', vip: ip('192.168.0.10'), port: 80 }, { proto: 'tcp', vip: fold, port: 80, vip6: '2001:db8::10' }]);
    // Added at run time (a reload): into the drop; removed by its vip6 key, the IPv4 service stays.
    await d.request({ op: 'addService6', spec: { proto: 'udp', vip6: '2001:db8::10', port: 53, scheduler: 'rr' } });
    expect(drops.at(-1)!.map((m) => `${m.proto}:${m.vip6 ?? m.vip}:${m.port}`)).toEqual([`tcp:${ip('192.168.0.10')}:80`, 'tcp:2001:db8::10:80', 'udp:2001:db8::10:53']);
    await d.request({ op: 'deleteService', svc: { proto: 'tcp', vip: fold, port: 80, vip6: '2001:db8::10' } });
    expect(drops.at(-1)!.map((m) => `${m.proto}:${m.vip6 ?? m.vip}:${m.port}`)).toEqual([`tcp:${ip('192.168.0.10')}:80`, 'udp:2001:db8::10:53']);
    await d.stop();
  });

  it('without IPv6 services the start-up carries no IPv6 fields (an IPv4 director is unchanged)', async () => {
    const f = fakes();
    const d = new Director({ net: { ...f.net, addressOn6: () => '2001:db8::7' }, startPacketPath: f.start, log: silentLogger });
    await d.start({ iface: 'eth0', services: SERVICES });
    expect(Object.keys(f.init()).filter((k) => /6|ndp/i.test(k))).toEqual([]);
    await d.stop();
  });
});

