// Failover between two directors (heartbeat-style), pure: wire format, replay guard, state machine.
// CRC-32 (IEEE 802.3, zlib's) for authkeys `crc`: Node's own (zlib.crc32, Node >= 20.15).
export { crc32 } from 'node:zlib';
export {
  decodeMessage, digest, encodeMessage, MAX_MESSAGE_BYTES, ReplayGuard, WIRE_STATES,
  type DecodeFailure, type DecodeResult, type HaMessage, type WireState,
} from './codec.ts';
export { HaFsm, TRANSITIONS, wireState, type FsmAction, type FsmConfig, type FsmEvent, type PeerView, type Role } from './fsm.ts';
export {
  decodeSyncBatch, decodeSyncDatagram, encodeSyncBatch, encodeSyncDatagrams, isSyncState, syncDelta, syncKey,
  REC_TYPE_V4, REC_TYPE_V6, SYNC_DATAGRAM_HEADER, SYNC_DATAGRAM_MAGIC, SYNC_DATAGRAM_MAX_BYTES, SYNC_DATAGRAM_RECORDS,
  SYNC_DATAGRAM_RECORDS6, SYNC_MAX_RECORDS, SYNC_MAX_RECORDS6, SYNC_RECORD6_BYTES, SYNC_RECORD_BYTES, SYNC_V2_MAGIC,
  type SyncConn, type SyncDatagramResult, type SyncState,
} from './sync.ts';
