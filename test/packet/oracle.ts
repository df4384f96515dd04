/**
 * An independent, deliberately plain statement of what decodeFrame must accept, with DataView over a
 * private copy of the bytes: which layer rejects a frame and at which offset, and the key fields.
 * It exists so random inputs can be checked against a specification, not only for "no throw".
 */
export type OracleResult =
  | { ok: false; layer: string; offset: number }
  | {
      ok: true;
      etherType: number;
      vlanId: number;
      l3Off: number;
      ipProto?: number;
      ttl?: number;
      ipSrc?: number;
      ipDst?: number;
      l4Off?: number;
      srcPort?: number;
      dstPort?: number;
      arpOp?: number;
    };

export function oracle(input: Uint8Array): OracleResult {
  const n = input.length;
  const dv = new DataView(input.slice().buffer);
  const bad = (layer: string, offset: number): OracleResult => ({ ok: false, layer, offset });
  if (n < 14) return bad('ethernet', n);
  let type = dv.getUint16(12);
  let l3 = 14;
  let vlanId = -1;
  if (type === 0x8100) {
    if (n < 18) return bad('vlan', n);
    vlanId = dv.getUint16(14) % 4096;
    type = dv.getUint16(16);
    l3 = 18;
  }
  const base = { ok: true as const, etherType: type, vlanId, l3Off: l3 };
  if (type === 0x0806) {
    if (n < l3 + 28) return bad('arp', n);
    const ethIpv4 = dv.getUint16(l3) === 1 && dv.getUint16(l3 + 2) === 0x0800 && dv.getUint8(l3 + 4) === 6 && dv.getUint8(l3 + 5) === 4;
    if (!ethIpv4) return bad('arp', l3);
    return { ...base, arpOp: dv.getUint16(l3 + 6) };
  }
  if (type !== 0x0800) return base;
  if (n < l3 + 20) return bad('ipv4', n);
  const version = Math.floor(dv.getUint8(l3) / 16);
  const hl = (dv.getUint8(l3) % 16) * 4;
  if (version !== 4 || hl < 20) return bad('ipv4', l3);
  if (n < l3 + hl) return bad('ipv4', n);
  const total = dv.getUint16(l3 + 2);
  if (total < hl) return bad('ipv4', l3 + 2);
  if (l3 + total > n) return bad('ipv4', n);
  const fragField = dv.getUint16(l3 + 6);
  const ip = { ...base, ipProto: dv.getUint8(l3 + 9), ttl: dv.getUint8(l3 + 8), ipSrc: dv.getUint32(l3 + 12), ipDst: dv.getUint32(l3 + 16) };
  if (fragField % 0x2000 !== 0) return { ...ip, l4Off: -1 };
  const l4 = l3 + hl;
  const end = l3 + total;
  const room = end - l4;
  const ports = (): { srcPort: number; dstPort: number } => ({ srcPort: dv.getUint16(l4), dstPort: dv.getUint16(l4 + 2) });
  if (ip.ipProto === 6) {
    if (room < 20) return bad('tcp', end);
    const doff = Math.floor(dv.getUint8(l4 + 12) / 16) * 4;
    if (doff < 20) return bad('tcp', l4 + 12);
    if (doff > room) return bad('tcp', end);
    return { ...ip, l4Off: l4, ...ports() };
  }
  if (ip.ipProto === 17) {
    if (room < 8) return bad('udp', end);
    const ulen = dv.getUint16(l4 + 4);
    const moreFragments = (fragField & 0x2000) !== 0;
    if (ulen < 8 || (ulen > room && !moreFragments)) return bad('udp', l4 + 4);
    return { ...ip, l4Off: l4, ...ports() };
  }
  if (ip.ipProto === 1) {
    if (room < 8) return bad('icmp', end);
  }
  return { ...ip, l4Off: l4 };
}
