import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  CAP_NET_ADMIN,
  CAP_NET_RAW,
  hasCap,
  ifaceFindings,
  offloadFindings,
  offloadsToDisable,
  parseCapEff,
  parseCapSet,
  parseEuid,
  parseEthtoolFeatures,
  privilegeFindings,
  segmentationOffloadsOn,
  sizeFindings,
} from '../../src/io/index.ts';

const fixture = (n: string) => readFileSync(new URL(`./fixtures/${n}`, import.meta.url), 'utf8');
const codes = (fs: { code: string }[]) => fs.map((f) => f.code);

describe('privileges', () => {
  // This machine's root: every capability but CAP_SYS_RESOURCE (bit 24).
  const status = 'Name:\tnode\nCapInh:\t0000000000000000\nCapPrm:\t000001fffeffffff\nCapEff:\t000001fffeffffff\n';
  it('parses CapEff', () => {
    const eff = parseCapEff(status)!;
    expect(eff).toBe(0x1fffeffffffn);
    expect(hasCap(eff, CAP_NET_RAW)).toBe(true);
    expect(hasCap(eff, 24)).toBe(false);
    expect(parseCapEff('Name: x\n')).toBeNull();
  });
  it('names the missing capability and the fix', () => {
    expect(privilegeFindings(0x1fffeffffffn, { capture: true, admin: true })).toEqual([]);
    const none = privilegeFindings(0n, { capture: true, admin: true }, '/usr/bin/node');
    expect(codes(none)).toEqual(['E_PRIV_NET_RAW', 'E_PRIV_NET_ADMIN']);
    expect(none[0]!.fix).toMatch(/^run as root, or: setcap cap_net_raw\+ep \/usr\/bin\/node \(or an ambient capability/);
    expect(none[1]!.fix).toMatch(/AmbientCapabilities=CAP_NET_RAW CAP_NET_ADMIN/);
    const rawOnly = privilegeFindings(1n << BigInt(CAP_NET_RAW), { capture: true, admin: true });
    expect(codes(rawOnly)).toEqual(['E_PRIV_NET_ADMIN']);
    expect(codes(privilegeFindings(1n << BigInt(CAP_NET_ADMIN), { capture: true }))).toEqual(['E_PRIV_NET_RAW']);
    expect(codes(privilegeFindings(null, { capture: true }))).toEqual(['W_PRIV_UNKNOWN']);
  });
  it('non-root with file capabilities: nft and ethtool (child programs) will not have CAP_NET_ADMIN', () => {
    const both = 0x3000n;
    const fileCaps = privilegeFindings({ capEff: both, capAmb: 0n, euid: 65534 }, { capture: true, admin: true });
    expect(codes(fileCaps)).toEqual(['E_PRIV_CHILD_NET_ADMIN']);
    expect(privilegeFindings({ capEff: both, capAmb: both, euid: 65534 }, { capture: true, admin: true })).toEqual([]);
    expect(privilegeFindings({ capEff: 0x1fffeffffffn, capAmb: 0n, euid: 0 }, { capture: true, admin: true })).toEqual([]);
    expect(parseCapSet('CapAmb:\t0000000000003000\n', 'CapAmb')).toBe(0x3000n);
    expect(parseEuid('Uid:\t65534\t65534\t65534\t65534\n')).toBe(65534);
  });
});

describe('interface state (sysfs values seen on veth)', () => {
  it('missing, admin down, no carrier, up', () => {
    expect(codes(ifaceFindings('eth9', { operstate: null, flags: null, mtu: null }))).toEqual(['E_IFACE_MISSING']);
    // veth just created: flags 0x1002 (no IFF_UP), operstate down
    const down = ifaceFindings('va', { operstate: 'down\n', flags: '0x1002\n', mtu: '1500\n' });
    expect(down).toEqual([{ severity: 'error', code: 'E_IFACE_DOWN', message: 'interface va is administratively down', fix: 'ip link set va up' }]);
    // up, peer down: 0x1003, lowerlayerdown
    expect(codes(ifaceFindings('va', { operstate: 'lowerlayerdown\n', flags: '0x1003\n', mtu: '1500\n' }))).toEqual(['E_IFACE_NO_CARRIER']);
    expect(ifaceFindings('va', { operstate: 'up\n', flags: '0x1003\n', mtu: '1500\n' })).toEqual([]);
    // loopback and some virtual devices report "unknown" when up
    expect(ifaceFindings('lo', { operstate: 'unknown\n', flags: '0x9\n', mtu: '65536\n' })).toEqual([]);
    expect(codes(ifaceFindings('x', { operstate: 'dormant\n', flags: '0x1003\n', mtu: '1500\n' }))).toEqual(['W_IFACE_STATE']);
  });
});

describe('ethtool -k', () => {
  const veth = parseEthtoolFeatures(fixture('ethtool-k-veth.txt'));
  const off = parseEthtoolFeatures(fixture('ethtool-k-veth-off.txt'));

  it('parses top-level and indented features, on/off and [fixed]', () => {
    expect(veth.get('tx-checksumming')).toEqual({ on: true, fixed: false });
    expect(veth.get('tcp-segmentation-offload')).toEqual({ on: true, fixed: false });
    expect(veth.get('generic-receive-offload')).toEqual({ on: false, fixed: false });
    expect(veth.get('large-receive-offload')).toEqual({ on: false, fixed: true });
    expect(veth.get('tx-checksum-ip-generic')).toEqual({ on: true, fixed: false });
  });

  it('a fresh veth: warns with the exact ethtool -K command', () => {
    expect(offloadsToDisable(veth)).toEqual(['tso', 'gso', 'tx']);
    const f = offloadFindings('eth0', veth);
    expect(codes(f)).toEqual(['W_OFFLOAD']);
    expect(f[0]!.fix).toBe('ethtool -K eth0 tso off gso off tx off');
    expect(f[0]!.message).toMatch(/tcp-segmentation-offload .*generic-segmentation-offload .*tx-checksumming/);
    expect(segmentationOffloadsOn(veth)).toBe(true);
  });

  it('after ethtool -K ... off: nothing to say', () => {
    expect(offloadFindings('eth0', off)).toEqual([]);
    expect(segmentationOffloadsOn(off)).toBe(false);
  });

  it('an offload fixed on cannot be fixed: a separate warning, not in the command', () => {
    const f = parseEthtoolFeatures('generic-receive-offload: on\nlarge-receive-offload: on [fixed]\n');
    expect(offloadsToDisable(f)).toEqual(['gro']);
    expect(codes(offloadFindings('eth1', f))).toEqual(['W_OFFLOAD', 'W_OFFLOAD_FIXED']);
  });
});

describe('MTU, snaplen and ring', () => {
  it('warns when the snaplen is below MTU + 18 and notes jumbo frames', () => {
    const f = sizeFindings('eth0', { mtu: 9000, snaplen: 1600, bufferSize: 16 << 20, offloadsOn: false });
    expect(codes(f)).toEqual(['W_SNAPLEN', 'I_JUMBO', 'I_RING']);
    expect(f[0]!.fix).toBe('use a snaplen of at least 9018');
  });
  it('a ring sized for 64 KiB slots because of offloads holds few frames', () => {
    const f = sizeFindings('eth0', { mtu: 1500, snaplen: 65536, bufferSize: 16 << 20, offloadsOn: true });
    expect(codes(f)).toEqual(['W_RING_SMALL']);
    expect(f[0]!.message).toMatch(/holds about 25\d frames/);
    const ok = sizeFindings('eth0', { mtu: 1500, snaplen: 65536, bufferSize: 16 << 20, offloadsOn: false });
    expect(codes(ok)).toEqual(['I_RING']);
  });
  it('dsrlb\'s packet ring has fixed 2048-byte slots, offloads or not', () => {
    const f = sizeFindings('eth0', { mtu: 1500, snaplen: 65536, bufferSize: 32 << 20, offloadsOn: true, slotBytes: 2048 });
    expect(codes(f)).toEqual(['I_RING']);
    expect(f[0]!.message).toMatch(/holds about 16384 frames .*fixed slot/);
  });
});
