/** A syslog daemon's socket for the logging tests: every datagram received, one JSON string per line on stdout. */
import { spawn, type ChildProcess } from 'node:child_process';

export function syslogListener(path: string): Promise<{ child: ChildProcess; got: () => string[] }> {
  const py = [
    'import json, socket',
    's = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)',
    `s.bind(${JSON.stringify(path)})`,
    's.settimeout(20)',
    'print("ready", flush=True)',
    'while True:',
    '    try: d = s.recv(65536)',
    '    except socket.timeout: break',
    '    print(json.dumps(d.decode()), flush=True)',
  ].join('\n');
  const child = spawn('python3', ['-c', py], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  return new Promise((resolve, reject) => {
    child.stdout!.setEncoding('utf8').on('data', (c: string) => {
      out += c;
      if (out.startsWith('ready\n')) resolve({ child, got: () => out.split('\n').slice(1).filter(Boolean).map((l) => JSON.parse(l) as string) });
    });
    child.once('error', reject);
    setTimeout(() => reject(new Error('listener did not start')), 10_000);
  });
}

/** Polls `cond` every 20 ms until it holds or `ms` passed (the caller asserts afterwards). */
export async function until(cond: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond() && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
}
