/**
 * Start-up checks, the I/O half: reads /proc/self/status and /sys/class/net/IF/*, runs
 * `ethtool -k IF`, and turns what it finds into findings (preflight-parse.ts); fixOffloads() runs
 * `ethtool -K IF ... off`. Everything here sees the network namespace of the calling process.
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { DsrlbError } from '../errors/index.ts';
import { assertIfaceName } from './cap.ts';
import {
  type Feature,
  type Finding,
  type PrivilegeNeeds,
  ifaceFindings,
  offloadCommand,
  offloadFindings,
  offloadsToDisable,
  parseCapEff,
  parseCapSet,
  parseEuid,
  parseEthtoolFeatures,
  privilegeFindings,
  segmentationOffloadsOn,
  sizeFindings,
} from './preflight-parse.ts';

export interface PreflightOptions {
  iface: string;
  /** Receive buffer size of the capture (default 65536). */
  snaplen?: number;
  /** Kernel ring size (default 16 MiB). */
  bufferSize?: number;
  /** Slot size of dsrlb's packet ring when that is the backend (fixed; libpcap's depends on offloads). */
  slotBytes?: number;
  /** What will be done (default: capture and admin). */
  needs?: PrivilegeNeeds;
  /** Check offloads with ethtool (default true). */
  offloads?: boolean;
  ethtool?: string;
  sysfs?: string;
  procStatus?: string;
}

function readOrNull(path: string): string | null {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return null;
  }
}

function run(cmd: string, args: string[], timeoutMs = 10_000): Promise<{ stdout: string; stderr: string; code: string | number | null }> {
  return new Promise((resolve) => {
    execFile(cmd, args, { timeout: timeoutMs }, (err, stdout, stderr) => {
      const code = err ? ((err as NodeJS.ErrnoException).code ?? 1) : 0;
      resolve({ stdout: String(stdout), stderr: String(stderr), code });
    });
  });
}

/** `ethtool -k IF` parsed; a finding instead when ethtool is missing or fails. */
export async function readOffloads(iface: string, ethtool = 'ethtool'): Promise<Map<string, Feature> | Finding> {
  assertIfaceName(iface);
  const r = await run(ethtool, ['-k', iface]);
  if (r.code === 'ENOENT') {
    return { severity: 'warning', code: 'W_ETHTOOL_MISSING', message: 'ethtool is not installed: offloads not checked', fix: 'apt-get install ethtool' };
  }
  if (r.code !== 0) {
    return { severity: 'warning', code: 'W_ETHTOOL_FAILED', message: `ethtool -k ${iface} failed: ${r.stderr.trim() || r.code}` };
  }
  return parseEthtoolFeatures(r.stdout);
}

export async function runPreflight(opts: PreflightOptions): Promise<Finding[]> {
  const { iface } = opts;
  assertIfaceName(iface);
  const sysfs = opts.sysfs ?? '/sys/class/net';
  const findings: Finding[] = [];

  const status = readOrNull(opts.procStatus ?? '/proc/self/status') ?? '';
  const priv = { capEff: parseCapEff(status), capAmb: parseCapSet(status, 'CapAmb'), euid: parseEuid(status) };
  findings.push(...privilegeFindings(priv, opts.needs ?? { capture: true, admin: true }, process.execPath));

  const dir = `${sysfs}/${iface}`;
  const sys = { operstate: readOrNull(`${dir}/operstate`), flags: readOrNull(`${dir}/flags`), mtu: readOrNull(`${dir}/mtu`) };
  const ifF = ifaceFindings(iface, sys);
  findings.push(...ifF);
  if (sys.operstate === null) return findings; // nothing more to check on a missing interface

  let offloadsOn = false;
  if (opts.offloads ?? true) {
    const features = await readOffloads(iface, opts.ethtool);
    if (features instanceof Map) {
      findings.push(...offloadFindings(iface, features));
      offloadsOn = segmentationOffloadsOn(features);
    } else {
      findings.push(features);
    }
  }
  const mtu = Number(sys.mtu?.trim());
  if (Number.isInteger(mtu) && mtu > 0) {
    findings.push(...sizeFindings(iface, { mtu, snaplen: opts.snaplen ?? 65536, bufferSize: opts.bufferSize ?? 16 << 20, offloadsOn, ...(opts.slotBytes !== undefined ? { slotBytes: opts.slotBytes } : {}) }));
  }
  return findings;
}

/** True when no finding is an error. */
export function preflightOk(findings: readonly Finding[]): boolean {
  return findings.every((f) => f.severity !== 'error');
}

/**
 * Turns off the harmful offloads that are on (and not fixed) on `iface`. Returns the short names it
 * changed ([] when nothing needed changing).
 */
export async function fixOffloads(iface: string, ethtool = 'ethtool'): Promise<string[]> {
  const features = await readOffloads(iface, ethtool);
  if (!(features instanceof Map)) throw new DsrlbError('E_ETHTOOL', features.message);
  const shorts = offloadsToDisable(features);
  if (shorts.length === 0) return [];
  const r = await run(ethtool, ['-K', iface, ...shorts.flatMap((s) => [s, 'off'])]);
  if (r.code !== 0) {
    const perm = /not permitted/i.test(r.stderr);
    throw new DsrlbError(
      perm ? 'E_ETHTOOL_PERM' : 'E_ETHTOOL',
      `${offloadCommand(iface, shorts)} failed: ${r.stderr.trim() || r.code}${perm ? ' (needs CAP_NET_ADMIN)' : ''}`,
    );
  }
  return shorts;
}

export type { Finding, Severity, PrivilegeNeeds } from './preflight-parse.ts';
