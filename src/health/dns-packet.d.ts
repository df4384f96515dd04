// What @types/dns-packet does not declare of dns-packet 5.6: the per-type rdata codecs
// (`record(type)`, exported by its index.js). The type-name table is in dns-packet-types.d.ts.
import 'dns-packet';

declare module 'dns-packet' {
  /** The rdata codec of a record type: encode() writes the 2-byte rdata length, then the rdata. */
  export function record(type: string): { encode(data: unknown): Buffer };
}
