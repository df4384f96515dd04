/**
 * The machine description of results.json: OS, kernel, CPUs, memory, tool versions, the dsrlb
 * commit, and whether the kernel has IPVS. Only reads files and asks programs their version.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import type { MachineInfo } from './results.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

function out(argv: string[]): string | null {
  try {
    return execFileSync(argv[0]!, argv.slice(1), { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 5000, cwd: ROOT }).trim();
  } catch (e) {
    const o = e as { stdout?: string; stderr?: string };
    const text = `${o.stdout ?? ''}${o.stderr ?? ''}`.trim();
    return text || null;
  }
}

function firstLine(s: string | null, re?: RegExp): string {
  if (!s) return 'not found';
  const line = re ? (s.split('\n').find((l) => re.test(l)) ?? s.split('\n')[0]!) : s.split('\n')[0]!;
  return line.trim();
}

export function onPath(bin: string): boolean {
  return (process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin').split(':').some((d) => existsSync(`${d}/${bin}`));
}

/**
 * Can this kernel run IPVS? /proc/net/ip_vs exists once the module is in (or built in); otherwise
 * `modprobe -n ip_vs` says whether it could be loaded. ipvsadm must be installed too.
 */
export function ipvsAvailability(): { available: boolean; reason: string } {
  const kernel = os.release();
  let kernelOk = existsSync('/proc/net/ip_vs');
  let why = '';
  if (!kernelOk) {
    if (onPath('modprobe')) {
      const r = out(['modprobe', '-n', '-v', 'ip_vs']);
      kernelOk = r !== null && !/not found|FATAL/i.test(r);
      if (!kernelOk) why = `kernel ${kernel} has no IPVS: /proc/net/ip_vs is missing and "modprobe -n ip_vs" fails (${firstLine(r)})`;
    } else {
      why = `kernel ${kernel} has no IPVS: /proc/net/ip_vs is missing (CONFIG_IP_VS unset) and there is no modprobe to load a module`;
    }
  }
  if (!kernelOk) return { available: false, reason: why };
  if (!onPath('ipvsadm')) return { available: false, reason: `the kernel has IPVS but ipvsadm is not installed (apt-get install ipvsadm)` };
  return { available: true, reason: '' };
}

export function describeMachine(): MachineInfo {
  let osName = 'unknown';
  try {
    osName = /^PRETTY_NAME="?([^"\n]*)"?/m.exec(readFileSync('/etc/os-release', 'utf8'))?.[1] ?? 'unknown';
  } catch {
    /* keep unknown */
  }
  const cpus = os.cpus();
  const pkgVersion = (p: string) => {
    try {
      return (JSON.parse(readFileSync(`${ROOT}/node_modules/${p}/package.json`, 'utf8')) as { version: string }).version;
    } catch {
      return 'not found';
    }
  };
  const commit = out(['git', 'rev-parse', '--short=12', 'HEAD']) ?? 'unknown';
  const dirty = (out(['git', 'status', '--porcelain', '--untracked-files=no']) ?? '').length > 0;
  return {
    hostname: os.hostname(),
    os: osName,
    kernel: `${os.type()} ${os.release()} ${os.arch()}`,
    cpus: cpus.length,
    cpu_model: cpus[0]?.model ?? 'unknown',
    mem_total_mib: Math.round(os.totalmem() / 2 ** 20),
    node: process.version,
    versions: {
      dsrlb: `${commit}${dirty ? ' (uncommitted changes in the tree)' : ''}`,
      nft: firstLine(out(['nft', '--version'])),
      trafgen: firstLine(out(['trafgen', '--version']), /trafgen/),
      ab: firstLine(out(['ab', '-V']), /ApacheBench/),
      libpcap: firstLine(out(['dpkg-query', '-W', '-f', '${Version}', 'libpcap0.8'])),
      cap: pkgVersion('cap'),
      tsx: pkgVersion('tsx'),
    },
    ipvs: ipvsAvailability(),
  };
}
