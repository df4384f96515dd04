/** checktype=connect: a TCP connection to the check port within checktimeout (ldirectord check_connect). */
import { connect } from 'node:net';
import type { Checker, ConnectSpec } from '../types.ts';
import { bounded } from './bounded.ts';

export const connectCheck: Checker<ConnectSpec> = (spec, signal) => {
  const where = `${spec.address}:${spec.port}`;
  return bounded(spec.timeoutMs, signal, `connect ${where}`, (done, onCleanup) => {
    const sock = connect({ host: spec.address, port: spec.port });
    onCleanup(() => sock.destroy());
    sock.once('connect', () => done({ ok: true, detail: `connected to ${where}` }));
    sock.once('error', (e) => done({ ok: false, detail: `connect ${where}: ${e.message}` }));
  });
};
