/**
 * dsrlb doctor's judgement, pure: the facts gathered on a host (facts.ts) in, one finding per
 * check out, each with what is wrong and the exact commands that fix it. No I/O here.
 *
 * Checks: interface, vip-on-lo, arp-suppression, rp-filter, ip-forward, offloads (director),
 * arp-probe (who answers ARP for the VIP, seen from this host); with a VIP6, the IPv6 checks of
 * checks6.ts after them (vip6-on-lo, ndp-suppression, ndp-probe).
 */
import { parseEthtoolFeatures, type Feature } from '../io/index.ts';
import { runChecks6, type Host6Facts } from './checks6.ts';

export type DoctorRole = 'director' | 'real';
export type Status = 'ok' | 'info' | 'warn' | 'fail';

export interface AddrFact {
  dev: string;
  addr: string;
  prefix: number;
}

export interface ArpProbeResult {
  /** Requests sent. */
  sent: number;
  /** Sender address used in the requests ('0.0.0.0' when the interface has none). */
  senderIp: string;
  /** Every MAC that answered for the VIP, with how many answers. */
  answers: Array<{ mac: string; count: number }>;
  /** Set when the probe could not run. */
  error?: string;
}

export interface HostFacts {
  iface: string;
  /** null when the interface does not exist. */
  ifaceState: { up: boolean; operstate: string; mtu: number; mac: string } | null;
  addrs: AddrFact[];
  /** Values of net.ipv4.* keys as read (null when unreadable), e.g. 'conf.all.arp_ignore', 'ip_forward'. */
  sysctl: Record<string, string | null>;
  /** `arptables -L -n` output; null when arptables is missing or failed. */
  arptables: string | null;
  /** `nft list ruleset arp` output; null when nft is missing or failed. */
  nftArp: string | null;
  /** `ethtool -k IF` output; null when not available. */
  ethtool: string | null;
  arpProbe: ArpProbeResult | null;
  /** The IPv6 facts, gathered when a VIP6 is given. */
  v6?: Host6Facts;
}

export interface DoctorOptions {
  /** The IPv4 VIP; without it the IPv4 checks (vip-on-lo to ip-forward, arp-probe) are left out. */
  vip?: string;
  /** The VIP6: the IPv6 checks (checks6.ts) run when it is given and facts.v6 is there. */
  vip6?: string;
  role: DoctorRole;
  /** Prefix for every fix command, e.g. 'ip netns exec dsr-www3 ' when the doctor looked into a namespace. */
  fixPrefix?: string;
}

export interface DoctorFinding {
  check: string;
  status: Status;
  message: string;
  /** Commands that fix it, in order (alternatives are separate findings' fixes or marked "or:"). */
  fix: string[];
}

function num(v: string | null | undefined): number | null {
  if (v === null || v === undefined) return null;
  const n = Number(v.trim());
  return Number.isFinite(n) ? n : null;
}

/** The kernel applies the larger of conf/all and conf/IF for arp_ignore, arp_announce and rp_filter. */
export function effective(facts: HostFacts, key: string): number | null {
  const a = num(facts.sysctl[`conf.all.${key}`]);
  const d = num(facts.sysctl[`conf.${facts.iface}.${key}`]);
  if (a === null && d === null) return null;
  return Math.max(a ?? 0, d ?? 0);
}

/** arptables 0.0.5 (-L -n) lists rules like "-d 192.168.0.10 -j DROP" under "Chain INPUT" / "Chain IN". */
export function arptablesRules(text: string | null, vip: string): { inDrop: boolean; outMangle: boolean } {
  if (!text) return { inDrop: false, outMangle: false };
  let chain = '';
  let inDrop = false;
  let outMangle = false;
  const esc = vip.replaceAll('.', '\\.');
  for (const line of text.split('\n')) {
    const c = /^Chain (\S+)/.exec(line);
    if (c) {
      chain = c[1]!;
      continue;
    }
    if ((chain === 'INPUT' || chain === 'IN') && new RegExp(`-d ${esc}(/32|/255\\.255\\.255\\.255)?\\b`).test(line) && /-j DROP/.test(line)) inDrop = true;
    if ((chain === 'OUTPUT' || chain === 'OUT') && new RegExp(`-s ${esc}(/32|/255\\.255\\.255\\.255)?\\b`).test(line) && /mangle/.test(line) && /--mangle-ip-s/.test(line)) outMangle = true;
  }
  return { inDrop, outMangle };
}

/** The nft equivalent: an arp-family input rule dropping requests for the VIP, an output rule rewriting it as sender. */
export function nftArpRules(text: string | null, vip: string): { inDrop: boolean; outMangle: boolean } {
  if (!text) return { inDrop: false, outMangle: false };
  const esc = vip.replaceAll('.', '\\.');
  return {
    inDrop: new RegExp(`arp daddr ip ${esc}\\b[^\\n]*\\bdrop\\b`).test(text),
    outMangle: new RegExp(`arp saddr ip ${esc}\\b[^\\n]*arp saddr ip set`).test(text),
  };
}

function ownAddr(facts: HostFacts): string | null {
  const a = facts.addrs.find((x) => x.dev === facts.iface);
  return a ? a.addr : null;
}

export function runChecks(facts: HostFacts, o: DoctorOptions): DoctorFinding[] {
  const out: DoctorFinding[] = [];
  const p = o.fixPrefix ?? '';
  const IF = facts.iface;
  const vip = o.vip ?? '';
  const add = (check: string, status: Status, message: string, fix: string[] = []): void => {
    out.push({ check, status, message, fix: fix.map((f) => (f.startsWith('# or: ') ? `# or: ${p}${f.slice(6)}` : f.startsWith('#') ? f : p + f)) });
  };

  // --- interface ---------------------------------------------------------------------------------
  const st = facts.ifaceState;
  if (!st) add('interface', 'fail', `interface ${IF} does not exist (give the wire interface with --iface)`, ['ip -br link']);
  else if (!st.up) add('interface', 'fail', `interface ${IF} is down`, [`ip link set ${IF} up`]);
  else if (st.mtu < 1500) {
    add('interface', 'warn', `${IF} is up but its MTU is ${st.mtu}: DSR forwards frames as they come (no fragmentation), so every host on the segment needs the same MTU, 1500 for ordinary clients`, [`ip link set ${IF} mtu 1500`]);
  } else add('interface', 'ok', `${IF} is up (${st.mac}, ${ownAddr(facts) ?? facts.v6?.addrs6.find((a) => a.dev === IF && !a.addr.startsWith('fe80:'))?.addr ?? 'no IPv4 address'}, MTU ${st.mtu}${st.mtu > 1500 ? ': jumbo frames, every host of the segment must match' : ''})`);

  // --- VIP on lo -----------------------------------------------------------------------------------
  const vipAddrs = facts.addrs.filter((a) => a.addr === vip);
  const onLo = vipAddrs.some((a) => a.dev === 'lo');
  const elsewhere = vipAddrs.filter((a) => a.dev !== 'lo');
  if (o.role === 'real') {
    if (elsewhere.length) {
      add('vip-on-lo', 'fail', `the VIP ${vip} is on ${elsewhere.map((a) => a.dev).join(', ')}: a real server must hold it on lo only, or it answers ARP for it on the wire`,
        [...elsewhere.map((a) => `ip addr del ${vip}/${a.prefix} dev ${a.dev}`), ...(onLo ? [] : [`ip addr add ${vip}/32 dev lo`])]);
    } else if (!onLo) {
      add('vip-on-lo', 'fail', `the VIP ${vip} is not on lo: this real server would reset or ignore the connections the director sends it (their destination is the VIP)`, [`ip addr add ${vip}/32 dev lo`]);
    } else add('vip-on-lo', 'ok', `${vip}/32 is on lo: packets for the VIP are delivered here, replies leave with the VIP as source`);
  } else {
    if (elsewhere.some((a) => a.dev === IF)) {
      add('vip-on-lo', 'warn', `the VIP ${vip} is on ${IF}: the kernel answers ARP for it and takes its traffic on other ports itself; dsrlb answers ARP for the VIP in userspace and needs no address`,
        [`ip addr del ${vip}/${elsewhere.find((a) => a.dev === IF)!.prefix} dev ${IF}`]);
    } else if (onLo) add('vip-on-lo', 'ok', `${vip}/32 is on lo: this director is also a real server (its own flows go to its stack through dsrlb's local path)`);
    else add('vip-on-lo', 'ok', `the VIP is not configured here: dsrlb answers ARP for it in userspace (a director that is also a real server holds it on lo)`);
  }

  // --- ARP suppression ---------------------------------------------------------------------------
  const holdsVip = vipAddrs.length > 0;
  if (o.role === 'real' || holdsVip) {
    const ignore = effective(facts, 'arp_ignore');
    const announce = effective(facts, 'arp_announce');
    const at = arptablesRules(facts.arptables, vip);
    const nf = nftArpRules(facts.nftArp, vip);
    const inOk = (ignore !== null && ignore >= 1 && ignore !== 4) || at.inDrop || nf.inDrop;
    const outOk = announce === 2 || at.outMangle || nf.outMangle;
    const how = [
      ignore !== null && ignore >= 1 ? `arp_ignore=${ignore}` : '',
      announce === 2 ? 'arp_announce=2' : '',
      at.inDrop || at.outMangle ? 'arptables rules' : '',
      nf.inDrop || nf.outMangle ? 'nft arp rules' : '',
    ].filter(Boolean).join(', ');
    const rip = ownAddr(facts) ?? '<this host\'s address>';
    const sysctlFix = `sysctl -w net.ipv4.conf.all.arp_ignore=1 net.ipv4.conf.all.arp_announce=2 net.ipv4.conf.${IF}.arp_ignore=1 net.ipv4.conf.${IF}.arp_announce=2`;
    const inRule = `arptables -A INPUT -d ${vip} -j DROP`;
    const outRule = `arptables -A OUTPUT -s ${vip} -o ${IF} -j mangle --mangle-ip-s ${rip}`;
    const severity: Status = o.role === 'real' ? 'fail' : 'warn';
    const state = `arp_ignore=${ignore ?? '?'} arp_announce=${announce ?? '?'} (max of all and ${IF}), arptables: ${at.inDrop ? 'INPUT drop' : 'no INPUT drop'}/${at.outMangle ? 'OUTPUT mangle' : 'no OUTPUT mangle'}, nft arp: ${nf.inDrop || nf.outMangle ? 'rules' : 'none'}`;
    if (inOk && outOk) add('arp-suppression', 'ok', `this host does not answer or announce ARP for the VIP (${how})`);
    else if (!inOk) {
      add('arp-suppression', severity,
        `this host answers ARP requests for the VIP ${vip}: it holds the VIP and nothing stops its kernel from replying (${state}). Clients that hear it send their connections here, past the director (the ARP problem)${o.role === 'director' ? '; harmless while this director is active, wrong as soon as it is standby' : ''}`,
        outOk ? [inRule, `# or: ${sysctlFix}`] : [inRule, outRule, `# or: ${sysctlFix}`]);
    } else {
      add('arp-suppression', severity,
        `this host may announce the VIP ${vip} in its own ARP requests (the sender address of a request is the source of the packet that caused it, the VIP for every reply): neighbours then learn the VIP at this MAC (${state})`,
        [outRule, `# or: sysctl -w net.ipv4.conf.all.arp_announce=2 net.ipv4.conf.${IF}.arp_announce=2`]);
    }
  }

  // --- rp_filter -----------------------------------------------------------------------------------
  const rp = effective(facts, 'rp_filter');
  if (rp === 1) {
    add('rp-filter', 'warn',
      `strict reverse-path filtering on ${IF} (rp_filter=1): packets for the VIP from a client whose route back leaves by another interface are dropped without a trace; loose mode (2) keeps the check and allows asymmetric paths`,
      [`sysctl -w net.ipv4.conf.all.rp_filter=2 net.ipv4.conf.${IF}.rp_filter=2`]);
  } else add('rp-filter', 'ok', `rp_filter=${rp ?? '?'} on ${IF} (${rp === 2 ? 'loose' : rp === 0 ? 'off' : 'unknown'})`);

  // --- ip_forward ----------------------------------------------------------------------------------
  const fwd = num(facts.sysctl['ip_forward']);
  if (o.role === 'director' && fwd === 1 && !holdsVip) {
    add('ip-forward', 'warn',
      'ip_forward=1 on a director without the VIP: when dsrlb is not running (or for ports it does not serve) the kernel routes VIP packets back onto the LAN and sends ICMP redirects; dsrlb forwards in userspace and needs no kernel forwarding',
      ['sysctl -w net.ipv4.ip_forward=0']);
  } else add('ip-forward', 'ok', `ip_forward=${fwd ?? '?'}${o.role === 'real' ? ' (a real server needs no forwarding)' : holdsVip ? ' (the VIP is local: the kernel delivers, never forwards, VIP packets)' : ' (dsrlb forwards in userspace)'}`);

  // --- offloads (director) -----------------------------------------------------------------------
  if (o.role === 'director') {
    if (facts.ethtool === null) add('offloads', 'warn', `cannot read the offloads of ${IF} (ethtool missing or failed)`, ['apt-get install ethtool']);
    else {
      const feats = parseEthtoolFeatures(facts.ethtool);
      const on = (n: string): Feature | undefined => (feats.get(n)?.on ? feats.get(n) : undefined);
      const table: Array<[string, string, Status, string]> = [
        ['generic-receive-offload', 'gro', 'fail', 'glues frames into super-frames larger than the MTU, which cannot be sent on'],
        ['large-receive-offload', 'lro', 'fail', 'glues frames in the NIC into super-frames'],
        ['tcp-segmentation-offload', 'tso', 'warn', 'makes libpcap size every ring slot for 64 KiB (fewer frames fit, drops under load)'],
        ['generic-segmentation-offload', 'gso', 'warn', 'makes libpcap size every ring slot for 64 KiB'],
        ['tx-checksumming', 'tx', 'warn', 'frames this host sends leave with unfinished checksums on virtual links'],
      ];
      const bad = table.filter(([n]) => on(n));
      const changeable = bad.filter(([n]) => !feats.get(n)!.fixed);
      if (bad.length === 0) add('offloads', 'ok', `gro, lro, tso, gso and tx checksumming are off on ${IF}`);
      else {
        const status: Status = bad.some(([, , s]) => s === 'fail') ? 'fail' : 'warn';
        add('offloads', status, `offloads on ${IF} hurt a capturing director: ${bad.map(([n, s, , why]) => `${s} (${n}${feats.get(n)!.fixed ? ', fixed' : ''}) ${why}`).join('; ')}`,
          changeable.length ? [`ethtool -K ${IF} ${changeable.map(([, s]) => `${s} off`).join(' ')}`] : []);
      }
    }
  }

  // --- ARP probe -----------------------------------------------------------------------------------
  const pr = facts.arpProbe;
  if (pr) {
    const self = st?.mac;
    const others = pr.answers.filter((a) => a.mac !== self);
    const list = pr.answers.map((a) => `${a.mac}${a.mac === self ? ' (this host)' : ''} ×${a.count}`).join(', ');
    if (pr.error) add('arp-probe', 'warn', `could not probe ARP for the VIP on ${IF}: ${pr.error}`);
    else if (o.role === 'real') {
      if (pr.answers.length === 0) {
        add('arp-probe', 'warn', `${pr.sent} ARP requests for ${vip} from ${pr.senderIp}: nobody answered. No director is active (or it is not on this segment): clients cannot reach the VIP`,
          ['# start the director: dsrlb run --config ldirectord.cf --iface IF (on the director)']);
      } else if (pr.answers.length === 1) {
        add('arp-probe', 'ok', `${pr.sent} ARP requests for ${vip}: one MAC answers, ${list} (the active director)`);
      } else {
        add('arp-probe', 'fail', `${pr.answers.length} MACs answer ARP for ${vip}: ${list}. Only the active director may: the others are real servers without ARP suppression (the ARP problem) or a second active director`,
          [`# on each host that owns one of these MACs but is not the active director (ip -br link | grep MAC finds it), run: dsrlb doctor --vip ${vip} --role real`]);
      }
    } else {
      if (others.length === 0) {
        add('arp-probe', 'ok', `${pr.sent} ARP requests for ${vip}: ${pr.answers.length ? `only this host answers (${list})` : 'no other host answers'} (a host cannot hear its own kernel's answers; dsrlb's show up as this host's MAC)`);
      } else {
        add('arp-probe', 'fail', `other hosts answer ARP for ${vip}: ${list}. Real servers without ARP suppression, or another active director: clients that hear them bypass this director`,
          [`# on each host that owns one of these MACs (ip -br link | grep MAC finds it), run: dsrlb doctor --vip ${vip} --role real`]);
      }
    }
  }
  const v6 = o.vip6 !== undefined && facts.v6 ? runChecks6(facts.v6, { vip6: o.vip6, role: o.role, fixPrefix: p }) : [];
  return [...(o.vip === undefined ? out.filter((f) => !IPV4_CHECKS.has(f.check)) : out), ...v6];
}

/** The checks about the IPv4 VIP, left out when only a VIP6 is given. */
const IPV4_CHECKS = new Set(['vip-on-lo', 'arp-suppression', 'rp-filter', 'ip-forward', 'arp-probe']);

export function doctorOk(findings: readonly DoctorFinding[]): boolean {
  return findings.every((f) => f.status === 'ok' || f.status === 'info');
}

export function formatFindings(findings: readonly DoctorFinding[]): string[] {
  const out: string[] = [];
  const width = Math.max(...findings.map((f) => f.check.length), 8);
  for (const f of findings) {
    const tag = { ok: 'ok  ', info: 'info', warn: 'WARN', fail: 'FAIL' }[f.status];
    out.push(`  ${tag}  ${f.check.padEnd(width)}  ${f.message}`);
    f.fix.forEach((c, i) => out.push(`  ${' '.repeat(4)}  ${' '.repeat(width)}  ${i === 0 ? 'fix: ' : '     '}${c}`));
  }
  return out;
}
