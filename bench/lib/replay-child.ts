/**
 * Runs one `dsrlb replay` in this process and prints, last, a line "@@stats {json}" with the wall
 * time and the peak resident memory (getrusage maxrss) — what bench/replay-stream.ts measures.
 * With --whole first, it replays the old way instead: the whole file read into memory (readPcapFile)
 * and the frames replayed from that array, for comparison in the same run.
 */
import { writeFileSync } from 'node:fs';
import { main } from '../../src/cli/main.ts';
import { loadLdirectordConfig } from '../../src/config/index.ts';
import { dataplaneFromConfig, replayFrames } from '../../src/engine/index.ts';
import { PcapWriter, readPcapFile } from '../../src/io/index.ts';
import { parseIPv4, parseMac } from '../../src/model/index.ts';

const argv = process.argv.slice(2);
const t0 = process.hrtime.bigint();
let code = 0;
if (argv[0] === '--whole') {
  const [, config, input, output, selfMac, ...neigh] = argv;
  const dp = dataplaneFromConfig(loadLdirectordConfig(config!), { selfMac: parseMac(selfMac!)!, answerArp: true });
  for (const n of neigh) {
    const [ip, mac] = n.split('=');
    dp.services.setNeighbour(parseIPv4(ip!)!, parseMac(mac!)!);
  }
  const file = readPcapFile(input!);
  const w = new PcapWriter();
  replayFrames(dp, file.records, (t, b, len) => w.add(t, b, len));
  writeFileSync(output!, w.toBuffer());
} else {
  code = await main(argv, { out: () => {}, err: (s) => process.stderr.write(s + '\n') });
}
const ms = Number(process.hrtime.bigint() - t0) / 1e6;
process.stdout.write(`@@stats ${JSON.stringify({ code, ms, maxRssMiB: process.resourceUsage().maxRSS / 1024 })}\n`);
