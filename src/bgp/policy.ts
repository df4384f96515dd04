/**
 * When a director announces a VIP over BGP (pure: no I/O, no clock).
 *
 * A VIP is servable when the packet path is up, the director is not stopping, and at least one
 * real with weight > 0 (and a resolved MAC) serves one of the VIP's services. The director announces exactly the
 * servable VIPs; everything else is withdrawn. planAnnouncements() turns "what is announced now"
 * and "what should be" into the changes to make, so a caller only ever acts on a difference.
 */

export interface RealView {
  weight: number;
  /** The real's MAC is known (false: no new flow can reach it yet). Default true. */
  resolved?: boolean;
}

export interface ServiceView {
  /** Dotted IPv4 VIP, or null for a service with no address of its own (fwmark). */
  vip: string | null;
  reals: readonly RealView[];
}

export interface PolicyInput {
  /** The packet path runs (captures and forwards). */
  packetPathUp: boolean;
  /** The director is stopping or about to exit: withdraw everything first. */
  stopping: boolean;
  services: readonly ServiceView[];
}

/** The VIPs to announce, sorted (so a plan is stable), each once. */
export function servableVips(i: PolicyInput): string[] {
  if (!i.packetPathUp || i.stopping) return [];
  const out = new Set<string>();
  for (const s of i.services) {
    if (s.vip !== null && s.reals.some((r) => r.weight > 0 && r.resolved !== false)) out.add(s.vip);
  }
  return [...out].sort(compareIp);
}

/** Every VIP the services name (announced or not), sorted. */
export function allVips(services: readonly ServiceView[]): string[] {
  return [...new Set(services.flatMap((s) => (s.vip === null ? [] : [s.vip])))].sort(compareIp);
}

export interface AnnouncementPlan {
  announce: string[];
  withdraw: string[];
}

/** What to change to go from `announced` to `desired`; empty lists when nothing changes. */
export function planAnnouncements(announced: Iterable<string>, desired: Iterable<string>): AnnouncementPlan {
  const now = new Set(announced);
  const want = new Set(desired);
  return {
    announce: [...want].filter((v) => !now.has(v)).sort(compareIp),
    withdraw: [...now].filter((v) => !want.has(v)).sort(compareIp),
  };
}

export function planIsEmpty(p: AnnouncementPlan): boolean {
  return p.announce.length === 0 && p.withdraw.length === 0;
}

function ipKey(a: string): number {
  return a.split('.').reduce((n, o) => n * 256 + Number(o), 0);
}

function compareIp(a: string, b: string): number {
  return ipKey(a) - ipKey(b);
}
