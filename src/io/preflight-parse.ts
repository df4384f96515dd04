/**
 * Start-up checks, the pure half: parse /proc/self/status, sysfs values and `ethtool -k` output
 * (given as text) into findings. preflight.ts reads the files and runs the commands.
 */

export type Severity = 'error' | 'warning' | 'info';

export interface Finding {
  severity: Severity;
  /** Stable code, e.g. 'E_PRIV_NET_RAW', 'W_OFFLOAD'. */
  code: string;
  message: string;
  /** A command or step that fixes it. */
  fix?: string;
}

// ---- privileges ---------------------------------------------------------------------------

export const CAP_NET_ADMIN = 12;
export const CAP_NET_RAW = 13;

/** The effective capability set from /proc/PID/status text; null when the line is missing. */
export function parseCapEff(statusText: string): bigint | null {
  const m = /^CapEff:\s*([0-9a-fA-F]+)\s*$/m.exec(statusText);
  return m ? BigInt('0x' + m[1]) : null;
}

export function hasCap(capEff: bigint, cap: number): boolean {
  return ((capEff >> BigInt(cap)) & 1n) === 1n;
}

export interface PrivilegeNeeds {
  /** Capture and send (AF_PACKET): CAP_NET_RAW. */
  capture?: boolean;
  /** nft ingress drop, ethtool -K: CAP_NET_ADMIN. */
  admin?: boolean;
}

export function privilegeFindings(capEff: bigint | null, needs: PrivilegeNeeds, nodePath = 'node'): Finding[] {
  if (capEff === null) {
    return [{ severity: 'warning', code: 'W_PRIV_UNKNOWN', message: 'cannot read CapEff from /proc/self/status; privileges not checked' }];
  }
  const out: Finding[] = [];
  const setcap = `run as root, or: setcap cap_net_raw,cap_net_admin+ep ${nodePath}`;
  if (needs.capture && !hasCap(capEff, CAP_NET_RAW)) {
    out.push({ severity: 'error', code: 'E_PRIV_NET_RAW', message: 'missing CAP_NET_RAW: packet capture and sending (AF_PACKET) will fail', fix: setcap });
  }
  if (needs.admin && !hasCap(capEff, CAP_NET_ADMIN)) {
    out.push({
      severity: 'error',
      code: 'E_PRIV_NET_ADMIN',
      message: 'missing CAP_NET_ADMIN: the nft ingress drop and ethtool -K (offload changes) will fail',
      fix: setcap,
    });
  }
  return out;
}

// ---- interface state ----------------------------------------------------------------------

const IFF_UP = 0x1;

export interface IfaceSysfs {
  /** null when /sys/class/net/IF does not exist. */
  operstate: string | null;
  flags: string | null;
  mtu: string | null;
}

export function ifaceFindings(iface: string, s: IfaceSysfs): Finding[] {
  if (s.operstate === null) {
    return [{ severity: 'error', code: 'E_IFACE_MISSING', message: `interface ${iface} does not exist`, fix: 'check the name with: ip link' }];
  }
  const flags = s.flags === null ? NaN : parseInt(s.flags.trim(), 16);
  const op = s.operstate.trim();
  if (Number.isFinite(flags) && (flags & IFF_UP) === 0) {
    return [{ severity: 'error', code: 'E_IFACE_DOWN', message: `interface ${iface} is administratively down`, fix: `ip link set ${iface} up` }];
  }
  if (op === 'down' || op === 'lowerlayerdown' || op === 'notpresent') {
    return [{ severity: 'error', code: 'E_IFACE_NO_CARRIER', message: `interface ${iface} is up but has no link (operstate ${op})`, fix: 'check the cable / the veth peer / the lower device' }];
  }
  if (op !== 'up' && op !== 'unknown') {
    return [{ severity: 'warning', code: 'W_IFACE_STATE', message: `interface ${iface} has operstate ${op}` }];
  }
  return [];
}

// ---- MTU, snaplen and the ring -------------------------------------------------------------

export interface SizeInput {
  mtu: number;
  /** Receive buffer size given to the capture (frames longer are dropped). */
  snaplen: number;
  /** Kernel ring size in bytes. */
  bufferSize: number;
  /** Whether GRO/LRO/TSO/GSO are on (libpcap then sizes ring slots for 64 KiB). */
  offloadsOn: boolean;
}

/**
 * Approximate bytes of ring per frame as libpcap 1.10 sizes a TPACKET_V2 slot: the largest frame
 * it expects (the MTU plus link header and VLAN tag; 64 KiB with segmentation offloads) plus the
 * slot header, rounded to 16. An estimate, for the warning text only.
 */
export function ringSlotEstimate(mtu: number, offloadsOn: boolean): number {
  const frame = offloadsOn ? 65535 : mtu + 14 + 4;
  const header = 32 + 20 + 16; // tpacket2_hdr + sockaddr_ll + alignment
  return Math.ceil((frame + header) / 16) * 16;
}

export function sizeFindings(iface: string, s: SizeInput): Finding[] {
  const out: Finding[] = [];
  const maxFrame = s.mtu + 14 + 4; // Ethernet header + one 802.1Q tag (FCS is not captured)
  if (s.snaplen < maxFrame) {
    out.push({
      severity: 'warning',
      code: 'W_SNAPLEN',
      message: `snaplen ${s.snaplen} is smaller than the largest frame on ${iface} (MTU ${s.mtu} + 18 = ${maxFrame}); longer frames will be dropped`,
      fix: `use a snaplen of at least ${maxFrame}`,
    });
  }
  if (s.mtu > 1500) {
    out.push({ severity: 'info', code: 'I_JUMBO', message: `${iface} has jumbo frames (MTU ${s.mtu}): each ring slot is larger, the ring holds fewer frames` });
  }
  const slot = ringSlotEstimate(s.mtu, s.offloadsOn);
  const frames = Math.floor(s.bufferSize / slot);
  out.push({
    severity: frames < 1024 ? 'warning' : 'info',
    code: frames < 1024 ? 'W_RING_SMALL' : 'I_RING',
    message: `a ${s.bufferSize}-byte ring holds about ${frames} frames on ${iface} (about ${slot} bytes per slot${s.offloadsOn ? ', sized for 64 KiB because of offloads' : ''})`,
    ...(frames < 1024 ? { fix: s.offloadsOn ? `turn offloads off (see W_OFFLOAD) or raise the buffer size` : 'raise the buffer size' } : {}),
  });
  return out;
}

// ---- offloads -------------------------------------------------------------------------------

export interface Feature {
  on: boolean;
  fixed: boolean;
}

/** Parses `ethtool -k IF` output (top-level and indented sub-features alike). */
export function parseEthtoolFeatures(text: string): Map<string, Feature> {
  const out = new Map<string, Feature>();
  for (const line of text.split('\n')) {
    const m = /^\s*([a-z0-9_-]+):\s+(on|off)\s*(\[(?:fixed|requested on|requested off)\])?\s*$/.exec(line);
    if (m) out.set(m[1]!, { on: m[2] === 'on', fixed: m[3] === '[fixed]' });
  }
  return out;
}

/** The offloads that hurt a capturing forwarder, with the short names `ethtool -K` takes. */
export const HARMFUL_OFFLOADS: ReadonlyArray<{ feature: string; short: string; why: string }> = [
  { feature: 'generic-receive-offload', short: 'gro', why: 'merges frames into super-frames larger than the MTU that cannot be re-sent' },
  { feature: 'large-receive-offload', short: 'lro', why: 'merges frames in the NIC into super-frames' },
  { feature: 'tcp-segmentation-offload', short: 'tso', why: 'makes libpcap size every ring slot for 64 KiB' },
  { feature: 'generic-segmentation-offload', short: 'gso', why: 'makes libpcap size every ring slot for 64 KiB' },
  { feature: 'tx-checksumming', short: 'tx', why: 'frames sent from this host leave with unfinished checksums (veth, local senders)' },
];

/** The short names of harmful offloads that are on and can be changed. */
export function offloadsToDisable(features: Map<string, Feature>): string[] {
  return HARMFUL_OFFLOADS.filter((h) => {
    const f = features.get(h.feature);
    return f !== undefined && f.on && !f.fixed;
  }).map((h) => h.short);
}

export function offloadCommand(iface: string, shorts: readonly string[]): string {
  return `ethtool -K ${iface} ${shorts.map((s) => `${s} off`).join(' ')}`;
}

export function offloadFindings(iface: string, features: Map<string, Feature>): Finding[] {
  const out: Finding[] = [];
  const on = HARMFUL_OFFLOADS.filter((h) => features.get(h.feature)?.on);
  const changeable = offloadsToDisable(features);
  if (changeable.length > 0) {
    const names = on.filter((h) => changeable.includes(h.short));
    out.push({
      severity: 'warning',
      code: 'W_OFFLOAD',
      message: `offloads on ${iface} break capture-and-forward: ${names.map((h) => `${h.feature} (${h.why})`).join('; ')}`,
      fix: offloadCommand(iface, changeable),
    });
  }
  const fixedOn = on.filter((h) => features.get(h.feature)?.fixed);
  for (const h of fixedOn) {
    out.push({ severity: 'warning', code: 'W_OFFLOAD_FIXED', message: `${h.feature} is on and fixed on ${iface} (cannot be turned off): ${h.why}` });
  }
  return out;
}

/** True when any offload that makes libpcap use 64 KiB ring slots is on. */
export function segmentationOffloadsOn(features: Map<string, Feature>): boolean {
  return ['generic-receive-offload', 'large-receive-offload', 'tcp-segmentation-offload', 'generic-segmentation-offload'].some(
    (n) => features.get(n)?.on === true,
  );
}
