/**
 * Who answers for a VIP: ARP for an IPv4 VIP, Neighbor Discovery for an IPv6 one. In DSR only
 * the director may answer, although every real holds the VIP too (to accept the traffic and to
 * reply from it). The IPv4 and IPv6 problems look alike on the wire but have different fixes:
 * - IPv4: Linux answers ARP for any local address on any interface (arp_ignore=0), so a VIP on lo
 *   is answered on eth0 unless arptables or arp_ignore/arp_announce stop it;
 * - IPv6: Linux answers a Neighbor Solicitation only for an address on the interface the
 *   solicitation came in on (ndisc_recv_ns looks the target up on that device). A VIP6 on lo is
 *   never answered; a VIP6 on eth0 is.
 */
import type { Finding } from './findings.ts';
import type { WireFrame } from './frames.ts';
import type { Roles } from './roles.ts';

export function neighbourFindings(
  vip: string, frames: readonly WireFrame[], roles: Roles, name: (mac: string) => string, flowsOf: (ns: Set<number>) => number[],
): Finding[] {
  const out: Finding[] = [];
  const v6 = vip.includes(':');
  const mine = (f: WireFrame): boolean => !!f.arp && !!f.arp.ndp === v6;
  const answers = frames.filter((f) => mine(f) && f.arp!.spa === vip && (f.arp!.op === 'reply' || f.arp!.gratuitous));
  const macs = [...new Set(answers.map((f) => f.arp!.sha))];
  if (macs.length > 1) {
    const others = macs.filter((m) => !roles.directorMacs.has(m));
    const ips = others.map((m) => roles.byMac.get(m)?.ip).filter((x): x is string => !!x);
    const where = others.length ? others.map(name).join(', ') : 'each real server';
    out.push(
      v6
        ? {
            code: 'ndp-multiple-macs',
            severity: 'problem',
            title: `${macs.length} MACs answer Neighbor Solicitations for the VIP ${vip}: ${macs.map(name).join('; ')}`,
            detail:
              'A real server that holds the VIP6 on the interface facing the clients (eth0) answers Neighbor Solicitations for it, as the director does. ' +
              'The client sends to the answer its neighbour entry holds at that moment (a later advertisement with the override flag replaces it), ' +
              'so connections reach a real directly and are never scheduled by the director. There is no arp_ignore for IPv6; Linux answers a solicitation ' +
              'only for an address on the receiving interface, so the VIP6 belongs on lo.',
            fix: `on ${where}: ip -6 addr del ${vip}/128 dev eth0; ip -6 addr add ${vip}/128 dev lo (then the clients: ip -6 neigh flush all)`,
            frames: answers.map((f) => f.n),
            flows: flowsOf(new Set(answers.map((f) => f.n))),
          }
        : {
            code: 'arp-multiple-macs',
            severity: 'problem',
            title: `${macs.length} MACs answer ARP for the VIP ${vip}: ${macs.map(name).join('; ')}`,
            detail:
              'Every real server holds the VIP on lo; unless ARP for it is suppressed there, its kernel answers too. ' +
              'A client keeps one of the answers (Linux: the first, then ignores others for a second) and sends the ' +
              'whole connection to that MAC: traffic that reaches a real directly is never scheduled by the director.',
            fix:
              `on ${where}: ` +
              (ips.length
                ? ips.map((rip) => `arptables -A INPUT -d ${vip} -j DROP; arptables -A OUTPUT -s ${vip} -o eth0 -j mangle --mangle-ip-s ${rip}`).join(' | ')
                : `arptables -A INPUT -d ${vip} -j DROP; arptables -A OUTPUT -s ${vip} -o eth0 -j mangle --mangle-ip-s <its own address>`) +
              ` — or: sysctl -w net.ipv4.conf.all.arp_ignore=1 net.ipv4.conf.all.arp_announce=2 (see docs/arp-problem.md; check with: dsrlb doctor --vip ${vip} --role real)`,
            frames: answers.map((f) => f.n),
            flows: flowsOf(new Set(answers.map((f) => f.n))),
          },
    );
  }
  const unspecified = v6 ? '::' : '0.0.0.0';
  const asked = frames.filter((f) => mine(f) && f.arp!.op === 'request' && f.arp!.tpa === vip && !f.arp!.gratuitous && f.arp!.spa !== vip && f.arp!.spa !== unspecified);
  const unanswered = asked.filter(
    (q) => !frames.some((r) => mine(r) && r.arp!.op === 'reply' && r.arp!.spa === vip && r.arp!.tha === q.arp!.sha && r.timeMs >= q.timeMs && r.timeMs - q.timeMs < 1000),
  );
  if (unanswered.length > 0) {
    out.push({
      code: v6 ? 'ndp-unanswered' : 'arp-unanswered',
      severity: 'problem',
      title: `${unanswered.length} ${v6 ? 'Neighbor Solicitation(s)' : 'ARP request(s)'} for the VIP ${vip} got no answer`,
      detail: `Nobody claims the VIP: the clients cannot send to it. In DSR only the active director answers ${v6 ? 'Neighbor Solicitations' : 'ARP'} for the VIP.`,
      fix: v6
        ? `start the director with the VIP6's virtual6= service (dsrlb run --config ldirectord.cf --iface IF answers Neighbor Solicitations for it) or make the standby take over; check with: dsrlb doctor --vip6 ${vip} --role real on the reals`
        : `start the director (dsrlb run --config ldirectord.cf --iface IF) or make the standby take over; check with: dsrlb doctor --vip ${vip} --role director`,
      frames: unanswered.map((f) => f.n),
      flows: flowsOf(new Set(unanswered.map((f) => f.n))),
    });
  }
  return out;
}
