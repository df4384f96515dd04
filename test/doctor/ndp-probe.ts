/**
 * Runs dsrlb doctor's NDP probe in the namespace it is started in (the tests start it with
 * `ip netns exec NS node --import tsx ndp-probe.ts …`) and prints the result as one JSON line.
 * Arguments: IFACE TARGET SENDER [UNICAST_MAC].
 */
import { probeNdp } from '../../src/doctor/index.ts';

const [iface, target, senderIp, unicastMac] = process.argv.slice(2);
if (!iface || !target || !senderIp) {
  process.stderr.write('usage: ndp-probe.ts IFACE TARGET SENDER [UNICAST_MAC]\n');
  process.exit(2);
}
const r = await probeNdp({ iface, target, senderIp, ...(unicastMac ? { unicastMac } : {}), count: 3, waitMs: 1200 });
process.stdout.write(`${JSON.stringify(r)}\n`);
process.exit(0);
