/**
 * parseKeepalivedConfig(text, file, src): the whole keepalived.conf pipeline, pure (files through the
 * FileSource): lines.ts (includes, comments, @ID, $definitions) -> tree.ts (words, blocks) -> the
 * keyword tables (lvs.ts, vrrp.ts, here the top level) -> lvs-map.ts (the ldirectord model). Every
 * error is collected; when there is one, one ConfigErrors carrying all of them is thrown.
 */
import { ipToString, parseIPv4 } from '../../model/index.ts';
import type { LdirectordGlobals, VirtualService } from '../ldirectord/types.ts';
import { LineReader, type FileSource } from './lines.ts';
import { mapVirtual } from './lvs-map.ts';
import { newVsDraft, VS_TABLE, type VsDraft, type VsTarget } from './lvs.ts';
import { buildTree, type Stmt } from './tree.ts';
import type { KeepalivedConfig, KeepalivedParseOptions, VrrpInstanceConfig, VrrpScriptConfig, KeepalivedGlobals } from './types.ts';
import { GLOBAL_TABLE, newGlobals, newInstance, newScript, SCRIPT_TABLE, VRRP_TABLE } from './vrrp.ts';
import { Ctx, KaDiagnostics, readOnly, refused, walk, type KeywordTable } from './walk.ts';

interface Top {
  globals: KeepalivedGlobals;
  groups: Map<string, { st: Stmt; targets: VsTarget[] }>;
  vs: VsDraft[];
  vrrp: VrrpInstanceConfig[];
  scripts: VrrpScriptConfig[];
}

const MAX_RANGE = 256;

function groupTargets(st: Stmt, ctx: Ctx): VsTarget[] {
  const out: VsTarget[] = [];
  for (const s of ctx.needBlock(st) ?? []) {
    if (s.name === 'fwmark') {
      ctx.error(s, 'E_CONFIG_UNSUPPORTED', 'fwmark services are not supported by the dsrlb data path');
      continue;
    }
    const m = /^(\d+\.\d+\.\d+\.)(\d+)(?:-(\d+))?$/.exec(s.name);
    const first = m ? parseIPv4(m[1]! + m[2]!) : null;
    if (!m || first === null) {
      if (s.name.includes(':') && s.name.includes('-')) {
        // keepalived reads the end of an IPv6 range as the last 16-bit group, in hex.
        ctx.error(s, 'E_CONFIG_UNSUPPORTED', `${s.name}: IPv6 address ranges are not supported by dsrlb (ldirectord has none either); write one line per address`);
      } else if (s.name.includes(':')) {
        const a = ctx.addr(s, s.name, 'virtual_server_group');
        const port = a && ctx.port(s, s.args[0], 'virtual_server_group entry');
        if (a && port !== undefined) out.push({ ...a, port });
      } else ctx.error(s, 'E_CONFIG_BAD_ADDRESS', `virtual_server_group: ${JSON.stringify(s.name)} is not A.B.C.D or A.B.C.D-E`);
      continue;
    }
    const last = m[3] === undefined ? Number(m[2]) : Number(m[3]);
    if (last > 255 || last < Number(m[2]) || last - Number(m[2]) >= MAX_RANGE) {
      ctx.error(s, 'E_CONFIG_BAD_ADDRESS', `virtual_server_group: bad range ${s.name}`);
      continue;
    }
    const port = ctx.port(s, s.args[0], 'virtual_server_group entry');
    if (port === undefined) continue;
    for (let i = 0; i <= last - Number(m[2]); i++) out.push({ address: (first + i) >>> 0, port });
  }
  return out;
}

const TOP_TABLE: KeywordTable<Top> = {
  global_defs: { handling: 'acted', note: 'see its own table', apply: (st, t, ctx) => { const b = ctx.needBlock(st); if (b) walk(b, GLOBAL_TABLE, t.globals, ctx, 'global_defs'); } },
  virtual_server: {
    handling: 'acted', note: '`IP PORT` (IPv4, or IPv6 without brackets) or `group NAME` (`fwmark N` refused: the data path has no marks); one IPVS service each',
    apply: (st, t, ctx) => {
      const b = ctx.needBlock(st);
      if (!b) return;
      const vs = newVsDraft(st);
      if (st.args[0] === 'fwmark') ctx.error(st, 'E_CONFIG_UNSUPPORTED', 'virtual_server fwmark: firewall-mark services are not supported by the dsrlb data path');
      else if (st.args[0] === 'group') {
        vs.groupName = st.args[1] ?? '';
        if (!st.args[1]) ctx.error(st, 'E_CONFIG_BAD_VALUE', 'virtual_server group: missing group name');
      } else {
        const a = ctx.addr(st, ctx.arg(st), 'virtual_server');
        const p = ctx.port(st, st.args[1], 'virtual_server');
        if (a !== undefined && p !== undefined) vs.targets.push({ ...a, port: p });
      }
      walk(b, VS_TABLE, vs, ctx, 'virtual_server');
      t.vs.push(vs);
    },
  },
  virtual_server_group: {
    handling: 'acted', note: 'members `IP PORT` and `A.B.C.D-E PORT` (`fwmark N` refused)',
    apply: (st, t, ctx) => {
      const name = ctx.arg(st) ?? '';
      if (t.groups.has(name)) ctx.error(st, 'E_CONFIG_DUPLICATE', `virtual_server_group ${name} is already defined at line ${t.groups.get(name)!.st.line}`);
      else t.groups.set(name, { st, targets: groupTargets(st, ctx) });
    },
  },
  vrrp_instance: {
    handling: 'acted', note: 'see its own table; dsrlb runs one instance',
    apply: (st, t, ctx) => {
      const v = newInstance(st, t.globals);
      if (!st.args[0]) ctx.error(st, 'E_CONFIG_BAD_VALUE', 'vrrp_instance: missing name');
      const b = ctx.needBlock(st);
      if (b) walk(b, VRRP_TABLE, v, ctx, 'vrrp_instance');
      for (const s of b ?? []) v.lines[s.name] = s.line;
      if (v.vrid === 0) ctx.error(st, 'E_CONFIG_BAD_VALUE', `vrrp_instance ${v.name}: no virtual_router_id`);
      if (v.interface === null) ctx.error(st, 'E_CONFIG_BAD_VALUE', `vrrp_instance ${v.name}: no interface`);
      if (v.auth?.type === 'AH' && v.version === 3) ctx.error(st, 'E_CONFIG_UNSUPPORTED', `vrrp_instance ${v.name}: AH authentication exists in VRRPv2 only`);
      t.vrrp.push(v);
    },
  },
  vrrp_script: {
    handling: 'acted', note: 'a check script for track_script (scripts start as OK)',
    apply: (st, t, ctx) => {
      const s = newScript(st);
      const b = ctx.needBlock(st);
      if (b) walk(b, SCRIPT_TABLE, s, ctx, 'vrrp_script');
      if (s.script === null) ctx.error(st, 'E_CONFIG_BAD_VALUE', `vrrp_script ${s.name}: no script`);
      t.scripts.push(s);
    },
  },
  vrrp_sync_group: readOnly('one instance: nothing to synchronise'),
  static_ipaddress: readOnly('no addresses are added'),
  static_routes: readOnly('no routes are added'),
  static_rules: readOnly('no rules are added'),
  linkbeat_use_polling: readOnly(''),
  net_namespace: readOnly('run dsrlb inside the namespace instead'),
  SSL: readOnly('SSL_GET does not present a client certificate'),
  vrrp_track_process: refused('process tracking is not supported by dsrlb (use a vrrp_script)'),
  vrrp_track_file: refused('file tracking is not supported by dsrlb (use a vrrp_script)'),
  track_file: refused('file tracking is not supported by dsrlb (use a vrrp_script)'),
  bfd_instance: refused('BFD is not supported by dsrlb'),
};

/** The registry's top-level table (for registry.ts). */
export const TOP_KEYWORDS: KeywordTable<unknown> = TOP_TABLE as KeywordTable<unknown>;

function lvsGlobals(): LdirectordGlobals {
  return {
    checktimeout: null, negotiatetimeout: null, checkinterval: 60, checkcount: 1, failurecount: 2, fallback: null, fallback6: null,
    fallbackcommand: null, autoreload: false, callback: null, logfile: { raw: 'daemon', kind: 'syslog' }, execute: [],
    fork: false, supervised: false, quiescent: false, readdquiescent: false, emailalert: null, emailalertfreq: 0,
    emailalertstatus: [], emailalertfrom: null, cleanstop: true, smtp: null, maintenancedir: null, lines: {},
  };
}

export function parseKeepalivedConfig(text: string, file: string, src: FileSource, opts: KeepalivedParseOptions = {}): KeepalivedConfig {
  const diag = new KaDiagnostics();
  const ctx = new Ctx(diag);
  const reader = new LineReader(src, diag, { configId: opts.configId ?? null });
  const lines = reader.readAll(file, text);
  const files = [...new Set([file, ...lines.map((l) => l.file)])];
  const tree = buildTree(lines, diag);
  const top: Top = { globals: newGlobals(), groups: new Map(), vs: [], vrrp: [], scripts: [] };
  // global_defs first, as keepalived applies it before the instances (vrrp_version is their default).
  walk(tree.filter((s) => s.name === 'global_defs'), TOP_TABLE, top, ctx, 'the top level');
  walk(tree.filter((s) => s.name !== 'global_defs'), TOP_TABLE, top, ctx, 'the top level');

  const virtuals: VirtualService[] = [];
  const seen = new Map<string, number>();
  for (const vs of top.vs) {
    if (vs.groupName !== null) {
      const g = top.groups.get(vs.groupName);
      if (!g) diag.error('E_CONFIG_BAD_VALUE', vs.file, vs.line, `virtual_server group ${vs.groupName}: no such virtual_server_group`);
      else vs.targets.push(...g.targets);
    }
    for (const v of mapVirtual(vs, diag)) {
      const key = `${v.protocol}:${v.address6 ?? v.address}:${v.port}`;
      const prev = seen.get(key);
      if (prev !== undefined) {
        const host = v.address6 !== undefined ? `[${v.address6}]` : ipToString(v.address!);
        diag.error('E_CONFIG_DUPLICATE', vs.file, vs.line, `virtual_server ${v.protocol.toUpperCase()} ${host}:${v.port} is already defined at line ${prev}`);
        continue;
      }
      seen.set(key, vs.line);
      virtuals.push(v);
    }
  }
  const scriptNames = new Set(top.scripts.map((s) => s.name));
  const vrids = new Map<string, number>();
  for (const v of top.vrrp) {
    for (const t of v.trackScripts) {
      if (!scriptNames.has(t.name)) diag.error('E_CONFIG_BAD_VALUE', v.file, t.line, `track_script ${t.name}: no vrrp_script of that name`);
    }
    const k = `${v.interface}/${v.vrid}`;
    if (vrids.has(k)) diag.error('E_CONFIG_DUPLICATE', v.file, v.line, `virtual_router_id ${v.vrid} on ${v.interface} is already used at line ${vrids.get(k)}`);
    vrids.set(k, v.line);
  }
  diag.finish();
  diag.warnings.sort((a, b) => (a.file === b.file ? a.line - b.line : files.indexOf(a.file) - files.indexOf(b.file)));
  return {
    file, files, globals: top.globals,
    lvs: { file, globals: lvsGlobals(), virtuals, warnings: diag.warnings },
    vrrpInstances: top.vrrp, vrrpScripts: top.scripts, warnings: diag.warnings,
  };
}
