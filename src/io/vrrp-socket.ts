/**
 * VRRP's raw IP sockets (IP protocol 112, and 51 for keepalived's AH): Node has no raw IP sockets,
 * so this uses the `raw-socket` binding (a dependency already, for ping checks), which passes any
 * protocol number and any setsockopt() through. Checked on a namespace pair against keepalived
 * 2.2.7: the socket receives its adverts once it has joined 224.0.0.18 on the interface
 * (IP_ADD_MEMBERSHIP with an ip_mreqn), and keepalived accepts what it sends with IP_HDRINCL
 * (our own header: TTL 255, the interface's source address). SO_BINDTODEVICE keeps other
 * interfaces' VRRP out; IP_MULTICAST_LOOP off keeps our own adverts out. Needs CAP_NET_RAW.
 */
import { createRequire } from 'node:module';
import { ipToString } from '../model/index.ts';
import type { VrrpTransport } from '../ports/index.ts';

interface RawSock {
  on(ev: 'message', cb: (buf: Buffer, source: string) => void): void;
  on(ev: 'error', cb: (e: Error) => void): void;
  send(buf: Buffer, off: number, len: number, addr: string, before: (() => void) | null, after: (e: Error | null, bytes: number) => void): void;
  setOption(level: number, option: number, value: number | Buffer, length?: number): void;
  close(): void;
}

interface RawModule {
  createSocket(o: { protocol: number }): RawSock;
}

const SOL_SOCKET = 1;
const SO_BINDTODEVICE = 25;
const SO_RCVBUF = 8;
const IPPROTO_IP = 0;
const IP_HDRINCL = 3;
const IP_MULTICAST_IF = 32;
const IP_MULTICAST_LOOP = 34;
const IP_ADD_MEMBERSHIP = 35;
const GROUP = 0xe0000012;

export interface VrrpSocketOptions {
  iface: string;
  ifindex: number;
  /** This host's address on iface (multicast source, membership). */
  self: number;
  /** Also open an IP protocol 51 socket (VRRPv2 AH authentication). */
  ah: boolean;
  /** Join 224.0.0.18 (false for unicast peers only). */
  multicast: boolean;
  onError?: (e: Error) => void;
}

function mreqn(self: number, ifindex: number): Buffer {
  const b = Buffer.alloc(12);
  b.writeUInt32BE(GROUP, 0);
  b.writeUInt32BE(self >>> 0, 4);
  b.writeInt32LE(ifindex, 8);
  return b;
}

function openOne(raw: RawModule, proto: number, o: VrrpSocketOptions): RawSock {
  const s = raw.createSocket({ protocol: proto });
  const dev = Buffer.from(`${o.iface}\0`);
  s.setOption(SOL_SOCKET, SO_BINDTODEVICE, dev, dev.length);
  s.setOption(SOL_SOCKET, SO_RCVBUF, 1 << 20); // a flood of forged adverts is counted, not lost
  s.setOption(IPPROTO_IP, IP_HDRINCL, 1);
  const m = mreqn(o.self, o.ifindex);
  s.setOption(IPPROTO_IP, IP_MULTICAST_IF, m, m.length);
  const off = Buffer.alloc(4);
  s.setOption(IPPROTO_IP, IP_MULTICAST_LOOP, off, off.length);
  if (o.multicast) s.setOption(IPPROTO_IP, IP_ADD_MEMBERSHIP, m, m.length);
  return s;
}

export function openVrrpSocket(o: VrrpSocketOptions): VrrpTransport {
  const raw = createRequire(import.meta.url)('raw-socket') as RawModule;
  const vrrp = openOne(raw, 112, o);
  const ah = o.ah ? openOne(raw, 51, o) : null;
  const listeners: ((p: Buffer) => void)[] = [];
  for (const s of [vrrp, ah]) {
    if (!s) continue;
    s.on('message', (buf) => {
      const copy = Buffer.from(buf);
      for (const l of listeners) l(copy);
    });
    s.on('error', (e) => o.onError?.(e));
  }
  return {
    send(packet, dst) {
      const s = packet[9] === 51 && ah ? ah : vrrp;
      s.send(packet, 0, packet.length, ipToString(dst), null, (e) => {
        if (e) o.onError?.(e);
      });
    },
    onPacket(cb) {
      listeners.push(cb);
    },
    close() {
      vrrp.close();
      ah?.close();
    },
  };
}
