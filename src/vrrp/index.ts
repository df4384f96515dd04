// VRRP (RFC 3768 / 5798 as keepalived 2.2.7 speaks it): the wire format, the receive checks, the router's state machine. Pure.
export {
  AH_PROTO, VRRP_GROUP, VRRP_PROTO, VRRP_TTL, ahIcv, authKey, decodeVrrpIp, encodeVrrp, encodeVrrpIp, vrrpChecksum,
  type DecodeError, type EncodeIpOptions, type VrrpAdvert, type VrrpAuthType, type VrrpPacket,
} from './codec.ts';
export { AdvertChecker, REJECT_REASONS, type CheckConfig, type RejectReason } from './check.ts';
export { VrrpRouter, type AcceptedAdvert, type RouterConfig, type VrrpAction, type VrrpState } from './fsm.ts';
export { trackedPriority, ScriptState, type TrackedItem } from './track.ts';
