/** The checkers that do the I/O, one file per kind. Nothing is opened or loaded until a check runs. */
import type { CheckerRegistry } from '../types.ts';
import { connectCheck } from './connect.ts';
import { dnsCheck } from './dns.ts';
import { externalCheck } from './external.ts';
import { httpCheck } from './http.ts';
import { noneCheck } from './none.ts';
import { pingCheck } from './ping.ts';
import { simpleTcpCheck } from './simpletcp.ts';

export { connectCheck, dnsCheck, externalCheck, httpCheck, noneCheck, pingCheck, simpleTcpCheck };
export { buildEchoRequest, parseEchoReply, parseEchoReply6, pingChecker, openRawIcmpSocket, type RawSocket } from './ping.ts';
export { bounded } from './bounded.ts';

export function defaultCheckers(): CheckerRegistry {
  return {
    connect: connectCheck, http: httpCheck, simpletcp: simpleTcpCheck, dns: dnsCheck, ping: pingCheck,
    external: externalCheck, none: noneCheck,
  };
}
