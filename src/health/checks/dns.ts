/**
 * service=dns (ldirectord check_dns): one query for `request` sent to the real (UDP, or TCP for a TCP
 * virtual service), judged by judgeDnsAnswer(). UDP queries are sent again while no answer came,
 * like a resolver does; one deadline (negotiatetimeout) covers it all.
 */
import { randomInt } from 'node:crypto';
import { createSocket } from 'node:dgram';
import { connect } from 'node:net';
import { decodeMessage, DNS_TYPE, encodeQuery, judgeDnsAnswer } from '../dns-message.ts';
import type { Checker, DnsSpec } from '../types.ts';
import { bounded, type Done } from './bounded.ts';

function judge(buf: Uint8Array, id: number, spec: DnsSpec, done: Done): boolean {
  let msg;
  try {
    msg = decodeMessage(buf);
  } catch (e) {
    done({ ok: false, detail: `malformed DNS answer: ${(e as Error).message}` });
    return true;
  }
  if (!msg.qr || msg.id !== id) return false;
  done(judgeDnsAnswer(msg, spec.receive));
  return true;
}

export const dnsCheck: Checker<DnsSpec> = (spec, signal) => {
  const where = `${spec.address}:${spec.port}`;
  return bounded(spec.timeoutMs, signal, `dns ${spec.qtype} ${spec.name} @${where}/${spec.transport}`, (done, onCleanup) => {
    const id = randomInt(0x10000);
    const query = encodeQuery(id, spec.name, DNS_TYPE[spec.qtype]);
    if (spec.transport === 'tcp') {
      const sock = connect({ host: spec.address, port: spec.port });
      onCleanup(() => sock.destroy());
      const framed = Buffer.alloc(query.length + 2);
      framed.writeUInt16BE(query.length, 0);
      framed.set(query, 2);
      let acc = Buffer.alloc(0);
      sock.once('connect', () => sock.write(framed));
      sock.on('data', (chunk: Buffer) => {
        acc = Buffer.concat([acc, chunk]);
        if (acc.length < 2) return;
        const len = acc.readUInt16BE(0);
        if (acc.length < len + 2) return;
        if (!judge(acc.subarray(2, len + 2), id, spec, done)) done({ ok: false, detail: 'answer does not match the query id' });
      });
      sock.once('end', () => done({ ok: false, detail: `${where} closed without an answer` }));
      sock.once('error', (e) => done({ ok: false, detail: `dns ${where}: ${e.message}` }));
      return;
    }
    const sock = createSocket(spec.address.includes(':') ? 'udp6' : 'udp4');
    onCleanup(() => sock.close());
    const resendMs = Math.max(200, Math.min(1000, Math.floor(spec.timeoutMs / 3)));
    let timer: NodeJS.Timeout | null = null;
    onCleanup(() => { if (timer) clearInterval(timer); });
    sock.on('error', (e) => done({ ok: false, detail: `dns ${where}: ${e.message}` }));
    sock.on('message', (buf) => { judge(buf, id, spec, done); });
    sock.connect(spec.port, spec.address, () => {
      const send = (): void => sock.send(query, (e) => { if (e) done({ ok: false, detail: `dns ${where}: ${e.message}` }); });
      send();
      timer = setInterval(send, resendMs);
    });
  });
};
