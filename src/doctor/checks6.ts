/**
 * dsrlb doctor's IPv6 checks for a VIP6 (`--vip6`), pure: the real servers' side of IPv6, the NDP
 * form of the ARP problem. What they rely on was measured on Linux 6.18 in namespaces
 * (docs/arp-problem.md, "The NDP problem"):
 *   - the kernel answers a Neighbor Solicitation only for an address of the interface it arrived
 *     on: a VIP6 on lo (or on any interface but the wire one) is never advertised on eth0, and the
 *     kernel never takes it as the source of its own solicitations there;
 *   - it does answer for a VIP6 on eth0 (DAD or `nodad`), and for any address with a proxy-NDP entry
 *     on eth0 when forwarding and proxy_ndp are on;
 *   - no sysctl stops those answers; an nft rule dropping incoming NS for the VIP6, or outgoing NA
 *     for it, does (`dsrlb arp-rules --vip6 … --apply`).
 * The packet path does not handle IPv6: a director for the VIP6 is another program.
 */
import { canonicalIPv6 } from '../model/index.ts';
import { nftNdpRules } from '../testbed/index.ts';
import type { ArpProbeResult, DoctorFinding, DoctorRole, Status } from './checks.ts';

export interface Addr6Fact {
  dev: string;
  /** Canonical text (RFC 5952). */
  addr: string;
  prefix: number;
  tentative: boolean;
  dadfailed: boolean;
}

/** Who answered Neighbor Solicitations for a VIP6 (same shape as the ARP probe). */
export type NdpProbeResult = ArpProbeResult;

export interface Host6Facts {
  iface: string;
  /** The wire interface's MAC (to tell this host's own answers apart), when it exists. */
  mac: string | null;
  addrs6: Addr6Fact[];
  /** net.ipv6 keys as read (null when unreadable): 'conf.all.forwarding', 'conf.IF.forwarding', 'conf.all.proxy_ndp', 'conf.IF.proxy_ndp', 'conf.IF.disable_ipv6'. */
  sysctl6: Record<string, string | null>;
  /** `ip -6 neigh show proxy` output; null when it failed. */
  proxyNdp: string | null;
  /** `nft list ruleset ip6` and `inet` output; null when nft is missing or failed. */
  nft6: string | null;
  ndpProbe: NdpProbeResult | null;
}

export interface Doctor6Options {
  vip6: string;
  role: DoctorRole;
  fixPrefix?: string;
}

const on = (v: string | null | undefined): boolean => v !== null && v !== undefined && v.trim() !== '' && Number(v.trim()) > 0;

/** Devices `ip -6 neigh show proxy` lists a proxy entry for the address on. */
export function proxyEntries(text: string | null, vip6: string): string[] {
  if (!text) return [];
  const out: string[] = [];
  for (const line of text.split('\n')) {
    const m = /^(\S+)\s+dev\s+(\S+)/.exec(line.trim());
    if (m && canonicalIPv6(m[1]!) === vip6) out.push(m[2]!);
  }
  return out;
}

export function runChecks6(facts: Host6Facts, o: Doctor6Options): DoctorFinding[] {
  const out: DoctorFinding[] = [];
  const p = o.fixPrefix ?? '';
  const IF = facts.iface;
  const vip6 = canonicalIPv6(o.vip6) ?? o.vip6;
  const add = (check: string, status: Status, message: string, fix: string[] = []): void => {
    out.push({ check, status, message, fix: fix.map((f) => (f.startsWith('# or: ') ? `# or: ${p}${f.slice(6)}` : f.startsWith('#') ? f : p + f)) });
  };
  const mine = facts.addrs6.filter((a) => a.addr === vip6);
  const onLo = mine.some((a) => a.dev === 'lo');
  const onIf = mine.filter((a) => a.dev === IF);
  const other = mine.filter((a) => a.dev !== 'lo' && a.dev !== IF);
  const v6off = on(facts.sysctl6[`conf.${IF}.disable_ipv6`]);
  const rulesFix = `dsrlb arp-rules --vip6 ${vip6} --iface ${IF} --apply`;

  // --- VIP6 on lo ----------------------------------------------------------------------------------
  if (o.role === 'real') {
    if (v6off) {
      add('vip6-on-lo', 'fail', `IPv6 is off on ${IF} (disable_ipv6=1): this real cannot receive connections for the VIP6 ${vip6}`, [`sysctl -w net.ipv6.conf.${IF}.disable_ipv6=0`]);
    } else if (onIf.length) {
      const state = onIf.some((a) => a.dadfailed) ? ' (duplicate address detection failed: another host holds it there too)' : onIf.some((a) => a.tentative) ? ' (tentative)' : '';
      add('vip6-on-lo', 'fail', `the VIP6 ${vip6} is on ${IF}${state}: a real server must hold it on lo, or its kernel answers Neighbor Solicitations for it on the wire`,
        [...onIf.map((a) => `ip -6 addr del ${vip6}/${a.prefix} dev ${IF}`), ...(onLo ? [] : [`ip -6 addr add ${vip6}/128 dev lo`])]);
    } else if (onLo) {
      add('vip6-on-lo', 'ok', `${vip6} is on lo${other.length ? ` (and on ${other.map((a) => a.dev).join(', ')})` : ''}: packets for the VIP6 are delivered here, and Linux does not advertise an address of lo on ${IF}`);
    } else if (other.length) {
      add('vip6-on-lo', 'ok', `${vip6} is on ${other.map((a) => a.dev).join(', ')}, not on ${IF}: delivered here and not advertised on ${IF} (lo is the usual place)`);
    } else {
      add('vip6-on-lo', 'fail', `the VIP6 ${vip6} is not configured here: this real server would refuse the connections the director sends it`, [`ip -6 addr add ${vip6}/128 dev lo`]);
    }
  } else {
    add('vip6-on-lo', 'info', `dsrlb's packet path does not handle IPv6: for the VIP6 ${vip6} this director is only checked for who answers Neighbor Solicitations (ndp-probe)`);
  }

  // --- NDP suppression (real) -----------------------------------------------------------------------
  if (o.role === 'real' && !v6off) {
    const answering = onIf.filter((a) => !a.tentative);
    const forwarding = on(facts.sysctl6[`conf.${IF}.forwarding`]);
    const proxyNdp = on(facts.sysctl6['conf.all.proxy_ndp']) || on(facts.sysctl6[`conf.${IF}.proxy_ndp`]);
    const proxied = proxyEntries(facts.proxyNdp, vip6).includes(IF);
    const viaProxy = proxied && forwarding && proxyNdp;
    const nf = nftNdpRules(facts.nft6, vip6);
    const dropped = nf.inDrop || nf.outDrop;
    const rules = [nf.inDrop ? 'incoming NS for it dropped' : '', nf.outDrop ? 'outgoing NA for it dropped' : ''].filter(Boolean).join(', ');
    const why = [answering.length ? `it is on ${IF}` : '', viaProxy ? `a proxy-NDP entry for it on ${IF} (forwarding=1, proxy_ndp=1)` : ''].filter(Boolean).join(' and ');
    if (why && !dropped) {
      const fix = [
        ...(answering.length ? [`ip -6 addr del ${vip6}/${answering[0]!.prefix} dev ${IF}`, ...(onLo ? [] : [`ip -6 addr add ${vip6}/128 dev lo`])] : []),
        ...(viaProxy ? [`ip -6 neigh del proxy ${vip6} dev ${IF}`] : []),
        `# or: ${rulesFix}`,
      ];
      add('ndp-suppression', 'fail',
        `this host answers Neighbor Solicitations for the VIP6 ${vip6} on ${IF}: ${why}, and no nft rule drops them (no sysctl stops these answers). Clients and routers that hear it send their IPv6 connections here, past the director (the NDP problem)`,
        fix);
    } else if (why) {
      add('ndp-suppression', 'ok', `the kernel would answer Neighbor Solicitations for ${vip6} (${why}) but nft rules stop it: ${rules}`);
    } else if (proxied) {
      add('ndp-suppression', 'ok', `a proxy-NDP entry for ${vip6} on ${IF} is inactive (forwarding=${forwarding ? 1 : 0}, proxy_ndp=${proxyNdp ? 1 : 0}); it answers as soon as both are on`, [`ip -6 neigh del proxy ${vip6} dev ${IF}`]);
    } else {
      add('ndp-suppression', 'ok', `this host does not answer Neighbor Solicitations for ${vip6} on ${IF}: Linux answers only for addresses of the interface a solicitation arrives on, and no proxy-NDP entry names it${rules ? `; nft rules too: ${rules}` : ''}`);
    }
  }

  // --- NDP probe ------------------------------------------------------------------------------------
  const pr = facts.ndpProbe;
  if (pr) {
    const self = facts.mac;
    const list = pr.answers.map((a) => `${a.mac}${a.mac === self ? ' (this host)' : ''} ×${a.count}`).join(', ');
    const others = pr.answers.filter((a) => a.mac !== self);
    if (pr.error) add('ndp-probe', 'warn', `could not probe NDP for the VIP6 on ${IF}: ${pr.error}`);
    else if (o.role === 'real') {
      if (pr.answers.length === 0) {
        add('ndp-probe', 'warn', `${pr.sent} Neighbor Solicitations for ${vip6} from ${pr.senderIp}: nobody answered. No director for the VIP6 is on this segment (dsrlb's packet path does not handle IPv6: it must be another program), so clients cannot reach it`);
      } else if (pr.answers.length === 1) {
        add('ndp-probe', 'ok', `${pr.sent} Neighbor Solicitations for ${vip6}: one MAC answers, ${list} (the director)`);
      } else {
        add('ndp-probe', 'fail', `${pr.answers.length} MACs answer Neighbor Solicitations for ${vip6}: ${list}. Only the director may: the others are real servers with the VIP6 on their wire interface, or a proxy-NDP entry (the NDP problem)`,
          [`# on each host that owns one of these MACs but is not the director (ip -br link | grep MAC finds it), run: dsrlb doctor --vip6 ${vip6} --role real`]);
      }
    } else if (others.length === 0) {
      add('ndp-probe', 'ok', `${pr.sent} Neighbor Solicitations for ${vip6}: no other host answers (a host cannot hear its own kernel's answers)`);
    } else {
      add('ndp-probe', 'fail', `other hosts answer Neighbor Solicitations for ${vip6}: ${list}. Real servers advertising the VIP6 draw its clients past this director`,
        [`# on each host that owns one of these MACs (ip -br link | grep MAC finds it), run: dsrlb doctor --vip6 ${vip6} --role real`]);
    }
  }
  return out;
}
