/**
 * ARP for the director: the VIP responder (packet path, allocation-free), the gratuitous ARP plan
 * for a takeover, and the neighbour resolver for the real servers. All pure: time is an argument.
 * The frame builders themselves live in packet/arp.ts and are re-exported here.
 */

export {
  ArpDrop,
  ARP_DROP_REASONS,
  ARP_DROP_HELP,
  isArpReply,
  respondArp,
} from './responder.ts';
export type { ArpDropReason, ResponderSelf } from './responder.ts';

export { GarpAnnouncer, GARP_IPADDR, GARP_IPADDR2 } from './announcer.ts';
export type { GarpAnnouncerOptions, GarpMode } from './announcer.ts';

export { ArpResolver, RESOLVER_DEFAULTS } from './resolver.ts';
export { NdpResolver } from './ndp-resolver.ts';
export type { Ndp6Event, NdpResolverOptions } from './ndp-resolver.ts';
export type { NeighState, NeighView, ResolverEvent, ResolverOptions } from './resolver.ts';

export {
  ARP_FRAME_LEN,
  ARP_OP_REPLY,
  ARP_OP_REQUEST,
  ARP_PAYLOAD_LEN,
  ETH_ZLEN,
  arpReply,
  arpRequest,
  gratuitousArp,
  writeArpFrame,
} from '../packet/index.ts';
export type { ArpReplySpec, ArpRequestSpec, GarpOp, GarpOptions } from '../packet/index.ts';
