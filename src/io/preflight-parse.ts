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

/** A capability set (CapEff, CapAmb, ...) from /proc/PID/status text; null when the line is missing. */
export function parseCapSet(statusText: string, name: 'CapEff' | 'CapAmb' | 'CapPrm' | 'CapInh' | 'CapBnd' = 'CapEff'): bigint | null {
  const m = new RegExp(`^${name}:\\s*([0-9a-fA-F]+)\\s*$`, 'm').exec(statusText);
  return m ? BigInt('0x' + m[1]) : null;
}

/** The effective capability set from /proc/PID/status text; null when the line is missing. */
export function parseCapEff(statusText: string): bigint | null {
  return parseCapSet(statusText, 'CapEff');
}

/** The effective user id (second field of the Uid: line); null when missing. */
export function parseEuid(statusText: string): number | null {
  const m = /^Uid:\s*\d+\s+(\d+)/m.exec(statusText);
  return m ? Number(m[1]) : null;
}

export function hasCap(capEff: bigint, cap: number): boolean {
  return ((capEff >> BigInt(cap)) & 1n) === 1n;
}

export interface PrivilegeNeeds {
  /** Capture and send (AF_PACKET): CAP_NET_RAW. */
  capture?: boolean;
  /** nft ingress drop, ethtool -K: CAP_NET_ADMIN, in the nft and ethtool child processes. */
  admin?: boolean;
}

export interface ProcessPrivileges {
  capEff: bigint | null;
  capAmb: bigint | null;
  euid: number | null;
}

export const AMBIENT_FIX =
  'run as root, or give the capabilities as ambient ones (systemd: AmbientCapabilities=CAP_NET_RAW CAP_NET_ADMIN; ' +
  'by hand: setpriv --inh-caps=+net_raw,+net_admin --ambient-caps=+net_raw,+net_admin ...)';

/**
 * Which capabilities are missing for what. The capture runs in the packet worker, a child started
 * from the same node binary: it has CAP_NET_RAW when this process has (root, file capabilities on
 * node, ambient). nft and ethtool are other programs: they get CAP_NET_ADMIN only from root or from
 * the ambient set -- file capabilities on node do not pass to them (verified).
 */
export function privilegeFindings(p: ProcessPrivileges | bigint | null, needs: PrivilegeNeeds, nodePath = 'node'): Finding[] {
  const priv: ProcessPrivileges = typeof p === 'bigint' || p === null ? { capEff: p, capAmb: null, euid: null } : p;
  const { capEff, capAmb, euid } = priv;
  if (capEff === null) {
    return [{ severity: 'warning', code: 'W_PRIV_UNKNOWN', message: 'cannot read CapEff from /proc/self/status; privileges not checked' }];
  }
  const out: Finding[] = [];
  if (needs.capture && !hasCap(capEff, CAP_NET_RAW)) {
    out.push({
      severity: 'error',
      code: 'E_PRIV_NET_RAW',
      message: 'missing CAP_NET_RAW: packet capture and sending (AF_PACKET) will fail',
      fix: `run as root, or: setcap cap_net_raw+ep ${nodePath} (or an ambient capability: ${AMBIENT_FIX})`,
    });
  }
  if (needs.admin) {
    if (!hasCap(capEff, CAP_NET_ADMIN)) {
      out.push({
        severity: 'error',
        code: 'E_PRIV_NET_ADMIN',
        message: 'missing CAP_NET_ADMIN: the nft ingress drop and ethtool -K (offload changes) will fail',
        fix: AMBIENT_FIX,
      });
    } else if (euid !== null && euid !== 0 && !(capAmb !== null && hasCap(capAmb, CAP_NET_ADMIN))) {
      out.push({
        severity: 'error',
        code: 'E_PRIV_CHILD_NET_ADMIN',
        message:
          'this process has CAP_NET_ADMIN but is not root and the capability is not ambient (file capabilities on node?): ' +
          'nft and ethtool run as separate programs and will not have it',
        fix: `${AMBIENT_FIX}; or install the nft drop and turn offloads off beforehand as root`,
      });
    }
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
  /** Fixed slot size of dsrlb's own packet ring (`--io ring`); absent: libpcap's sizing. */
  slotBytes?: number;
}

/**
 * Approximate bytes of ring per frame as libpcap 1.10 sizes a TPACKET_V2 slot: the largest frame
 * it expects plus the slot header, rounded to 16 -- or 64 KiB when segmentation/receive offloads
 * are on. Measured with an 8 MiB ring on veth (MTU 1500): 5,242 frames fit with offloads off
 * (1,600 bytes a slot) and 128 with them on (65,536 bytes a slot); see native-notes/ring.md.
 */
export function ringSlotEstimate(mtu: number, offloadsOn: boolean): number {
  if (offloadsOn) return 65536;
  const header = 32 + 20 + 16; // tpacket2_hdr + sockaddr_ll + alignment
  return Math.ceil((mtu + 14 + 4 + header) / 16) * 16;
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
  const slot = s.slotBytes ?? ringSlotEstimate(s.mtu, s.offloadsOn);
  const frames = Math.floor(s.bufferSize / slot);
  const why = s.slotBytes !== undefined
    ? ', the packet ring\'s fixed slot: longer frames are dropped and counted'
    : s.offloadsOn ? ', sized for 64 KiB because of offloads' : '';
  out.push({
    severity: frames < 1024 ? 'warning' : 'info',
    code: frames < 1024 ? 'W_RING_SMALL' : 'I_RING',
    message: `a ${s.bufferSize}-byte ring holds about ${frames} frames on ${iface} (about ${slot} bytes per slot${why})`,
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
