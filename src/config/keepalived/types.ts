/**
 * The model of a keepalived.conf as dsrlb reads it. The `virtual_server`s are mapped onto the
 * ldirectord model (`lvs`), so the director, the health checks and `config check` run them as they
 * run an ldirectord.cf; the `vrrp_instance`s keep keepalived's own shape (src/vrrp runs them).
 */
import type { ConfigWarning, LdirectordConfig } from '../ldirectord/types.ts';

export type VrrpState = 'MASTER' | 'BACKUP';

export interface VrrpAuth {
  type: 'PASS' | 'AH';
  /** As keepalived keeps it: at most 8 bytes (longer is cut, with a warning). */
  pass: string;
}

export interface VrrpVip {
  address: number;
  prefix: number;
  dev: string | null;
  line: number;
}

export interface VrrpTrack {
  name: string;
  /** 0: a failure means FAULT; else the priority change. */
  weight: number;
  line: number;
}

export interface VrrpInstanceConfig {
  name: string;
  file: string;
  line: number;
  /** The state at start (keepalived: BACKUP unless MASTER is written; priority 255 forces MASTER). */
  state: VrrpState;
  interface: string | null;
  vrid: number;
  priority: number;
  /** Advertisement interval in centiseconds (VRRPv2 rounds it to whole seconds). */
  advertIntCs: number;
  version: 2 | 3;
  nopreempt: boolean;
  /** Centiseconds. */
  preemptDelayCs: number;
  auth: VrrpAuth | null;
  vips: VrrpVip[];
  unicastPeers: number[];
  unicastSrcIp: number | null;
  garpMasterDelayS: number;
  garpMasterRepeat: number;
  garpMasterRefreshS: number;
  notifyMaster: string | null;
  notifyBackup: string | null;
  notifyFault: string | null;
  notifyStop: string | null;
  notify: string | null;
  trackInterfaces: VrrpTrack[];
  trackScripts: VrrpTrack[];
  lines: Record<string, number>;
}

export interface VrrpScriptConfig {
  name: string;
  line: number;
  script: string | null;
  intervalS: number;
  timeoutS: number;
  weight: number;
  rise: number;
  fall: number;
}

export interface KeepalivedGlobals {
  routerId: string | null;
  vrrpVersion: 2 | 3;
  garpMasterDelayS: number;
  garpMasterRepeat: number;
  garpMasterRefreshS: number;
  lines: Record<string, number>;
}

export interface KeepalivedConfig {
  file: string;
  /** Every file read (the main one, then the included ones in order). */
  files: string[];
  globals: KeepalivedGlobals;
  /** The virtual servers, as an ldirectord model (file/line point into the keepalived files). */
  lvs: LdirectordConfig;
  vrrpInstances: VrrpInstanceConfig[];
  vrrpScripts: VrrpScriptConfig[];
  warnings: ConfigWarning[];
}

export interface KeepalivedParseOptions {
  /** keepalived's `-i ID`: which `@ID` lines apply. */
  configId?: string | null;
}
