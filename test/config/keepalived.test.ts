/**
 * keepalived.conf: the grammar of keepalived 2.2's parser (comments, quoting, braces, include globs,
 * @ID lines, $definitions), file:line errors across included files, the mapping of virtual_server
 * onto the ldirectord model, vrrp_instance, and the docs table generated from the keyword tables.
 */
import { readFileSync } from 'node:fs';
import { thrown } from '../helpers/thrown.ts';
import { describe, expect, it } from 'vitest';
import {
  formatServices, keepalivedDirectiveTable, parseKeepalivedConfig, type FileSource, type KeepalivedConfig,
} from '../../src/config/index.ts';
import { ConfigErrors } from '../../src/errors/index.ts';
import { ipToString } from '../../src/model/index.ts';

/** An in-memory file tree: absolute path -> text; globs with * and ? on the last component. */
function memfs(files: Record<string, string>): FileSource {
  return {
    read: (p) => files[p] ?? null,
    glob: (pat) => {
      const re = new RegExp(`^${pat.replace(/[.+^${}()|\\]/g, '\\$&').replace(/\*/g, '[^/]*').replace(/\?/g, '[^/]')}$`);
      return Object.keys(files).filter((f) => re.test(f)).sort();
    },
    dirname: (p) => p.slice(0, p.lastIndexOf('/')) || '/',
  };
}

const MAIN = '/etc/keepalived/keepalived.conf';

function parse(text: string, extra: Record<string, string> = {}, configId: string | null = null): KeepalivedConfig {
  return parseKeepalivedConfig(text, MAIN, memfs({ [MAIN]: text, ...extra }), { configId });
}

function errors(text: string, extra: Record<string, string> = {}, configId: string | null = null): string[] {
  try {
    parse(text, extra, configId);
  } catch (e) {
    if (!(e instanceof ConfigErrors)) throw e;
    return e.errors.map((x) => `${x.file}:${x.line} ${x.code}`);
  }
  throw new Error('expected errors');
}

const VS = (body: string) => `virtual_server 10.0.0.10 80 {\n  lb_kind DR\n  lb_algo rr\n${body}\n}\n`;

describe('keepalived.conf grammar', () => {
  it('reads blocks with braces on their own lines, shared lines and "} }"', () => {
    const c = parse([
      'virtual_server 10.0.0.10 80',
      '{',
      '  lb_kind DR ; protocol TCP'.replace(' ; protocol TCP', ''),
      '  real_server 10.0.0.1 80 { weight 3',
      '    TCP_CHECK { connect_timeout 2 } }',
      '  real_server 10.0.0.2 80 { weight 2',
      '    TCP_CHECK {', '    }', '  }',
      '}',
    ].join('\n'));
    const v = c.lvs.virtuals[0]!;
    expect(v.reals.map((r) => `${ipToString(r.address)} ${r.weight}`)).toEqual(['10.0.0.1 3', '10.0.0.2 2']);
    expect(v.checktype).toBe('connect');
    expect(v.checktimeout).toBe(2);
  });

  it('cuts comments at # and ! outside double quotes, keeps escaped ones', () => {
    const c = parse([
      '! a comment',
      '# another',
      'vrrp_instance VI_1 {   # trailing',
      '  interface eth0 ! bang',
      '  virtual_router_id 51',
      '  notify_master "/bin/echo #1 !2" \\#x',
      '}',
    ].join('\n'));
    expect(c.vrrpInstances[0]!.interface).toBe('eth0');
    expect(c.vrrpInstances[0]!.notifyMaster).toBe('/bin/echo #1 !2 #x');
  });

  it('splits words with quotes and escapes as keepalived does', () => {
    const c = parse('vrrp_instance V {\n interface eth0\n virtual_router_id 1\n notify_backup \'/a b\' "c\\td" e\\x41\n}\n');
    expect(c.vrrpInstances[0]!.notifyBackup).toBe('/a b c\td eA');
  });

  it('follows include globs in sorted order, relative to the including file, with file:line errors', () => {
    const extra = {
      '/etc/keepalived/conf.d/20-b.conf': VS('  real_server 10.0.0.2 80 {\n  weight 70000\n }'),
      '/etc/keepalived/conf.d/10-a.conf': 'global_defs {\n  router_id A\n}\n',
    };
    expect(errors('include conf.d/*.conf\n', extra)).toEqual(['/etc/keepalived/conf.d/20-b.conf:5 E_CONFIG_BAD_VALUE']);
    const ok = parse('include conf.d/*.conf\n', { ...extra, '/etc/keepalived/conf.d/20-b.conf': VS('') });
    expect(ok.files).toEqual([MAIN, '/etc/keepalived/conf.d/10-a.conf', '/etc/keepalived/conf.d/20-b.conf']);
    expect(ok.globals.routerId).toBe('A');
  });

  it('warns when an include matches nothing, and stops an include loop', () => {
    const c = parse('include /nowhere/*.conf\n');
    expect(c.warnings.map((w) => `${w.line} ${w.code}`)).toEqual(['1 E_CONFIG_NOT_FOUND']);
    expect(errors('include keepalived.conf\n')[0]).toMatch(/E_CONFIG_SYNTAX/);
  });

  it('applies @ID lines only for that config id, and @^ID lines only for another', () => {
    const text = 'vrrp_instance V {\n interface eth0\n virtual_router_id 1\n@high priority 170\n@low priority 85\n@^high state MASTER\n}\n';
    expect(parse(text, {}, 'high').vrrpInstances[0]).toMatchObject({ priority: 170, state: 'BACKUP' });
    expect(parse(text, {}, 'low').vrrpInstances[0]).toMatchObject({ priority: 85, state: 'MASTER' });
    expect(parse(text, {}, null).vrrpInstances[0]).toMatchObject({ priority: 100, state: 'MASTER' });
  });

  it('substitutes $NAME and ${NAME}, multi-line definitions included', () => {
    const c = parse([
      '$IF=eth1',
      '$REAL=real_server 10.0.0.1 80 { \\',
      '  weight 4 \\',
      '}',
      'vrrp_instance V {',
      '  interface ${IF}',
      '  virtual_router_id 9',
      '}',
      VS('  $REAL'),
    ].join('\n'));
    expect(c.vrrpInstances[0]!.interface).toBe('eth1');
    expect(c.lvs.virtuals[0]!.reals[0]!.weight).toBe(4);
  });

  it('refuses ~SEQ and parameterised definitions at their line', () => {
    expect(errors('~SEQ(i, 1, 3) virtual_server 10.0.0.$i 80 { }\n')).toEqual([`${MAIN}:1 E_CONFIG_UNSUPPORTED`]);
    expect(errors('$D=x\nglobal_defs {\n router_id $D(1)\n}\n')).toEqual([`${MAIN}:3 E_CONFIG_UNSUPPORTED`]);
  });

  it('reports unbalanced braces and unterminated quotes with their lines', () => {
    expect(errors('global_defs {\n router_id x\n')).toEqual([`${MAIN}:1 E_CONFIG_SYNTAX`]);
    expect(errors('global_defs {\n}\n}\n')).toEqual([`${MAIN}:3 E_CONFIG_SYNTAX`]);
    expect(errors('global_defs {\n router_id "x\n}\n')).toContain(`${MAIN}:2 E_CONFIG_SYNTAX`);
  });

  it('warns about unknown keywords and keywords read but not acted on, with their lines', () => {
    const c = parse(VS('  frobnicate 1\n  quorum 2'));
    expect(c.warnings.map((w) => `${w.line} ${w.code}`)).toEqual(['4 E_CONFIG_UNKNOWN_DIRECTIVE', '5 E_CONFIG_NOT_ACTED_ON']);
  });
});

describe('virtual_server onto dsrlb services', () => {
  it('refuses NAT, TUN and a missing lb_kind, saying dsrlb is DR only', () => {
    for (const k of ['NAT', 'TUN']) {
      const e = thrown(() => parse(`virtual_server 10.0.0.10 80 {\n lb_kind ${k}\n}\n`)) as ConfigErrors;
      expect(e.errors.map((x) => x.message)).toEqual([expect.stringMatching(/:2: lb_kind .*direct-routing \(DR\) director only/)]);
    }
    expect(errors('virtual_server 10.0.0.10 80 {\n lb_algo rr\n}\n')).toEqual([`${MAIN}:1 E_CONFIG_UNSUPPORTED`]);
  });

  it('knows every IPVS scheduler name; the kernel-only ones are refused as such', () => {
    for (const s of ['rr', 'wrr', 'lc', 'wlc', 'sh', 'mh', 'dh', 'sed', 'nq']) expect(parse(`virtual_server 10.0.0.10 80 {\n lb_kind DR\n lb_algo ${s}\n}\n`).lvs.virtuals[0]!.scheduler).toBe(s);
    for (const s of ['lblc', 'lblcr', 'fo', 'ovf', 'twos']) expect(errors(`virtual_server 10.0.0.10 80 {\n lb_kind DR\n lb_algo ${s}\n}\n`)).toEqual([`${MAIN}:3 E_CONFIG_UNSUPPORTED`]);
    expect(errors('virtual_server 10.0.0.10 80 {\n lb_kind DR\n lb_algo xx\n}\n')).toEqual([`${MAIN}:3 E_CONFIG_BAD_VALUE`]);
  });

  it('maps keepalived defaults and inheritance: wlc, delay_loop 60, connect_timeout 5, retry 1', () => {
    const v = parse('virtual_server 10.0.0.10 80 {\n lb_kind DR\n real_server 10.0.0.1 80 {\n  TCP_CHECK {\n  }\n }\n}\n').lvs.virtuals[0]!;
    expect(v).toMatchObject({ scheduler: 'wlc', checkinterval: 60, checktimeout: 5, failurecount: 2, quiescent: false, persistent: 0, checktype: 'connect' });
    const w = parse(VS([
      ' delay_loop 3', ' retry 4', ' connect_timeout 1.5', ' inhibit_on_failure', ' persistence_granularity 255.255.255.0',
      ' protocol UDP', ' sorry_server 10.0.0.99 8080',
      ' real_server 10.0.0.1 80 {', '  weight 5', '  PING_CHECK {', '   retry 2', '  }', ' }',
    ].join('\n'))).lvs.virtuals[0]!;
    expect(w).toMatchObject({
      protocol: 'udp', checkinterval: 3, checktimeout: 1.5, failurecount: 3, quiescent: true, persistent: 360,
      netmask: 0xffffff00, checktype: 'ping', fallback: { address: 0x0a000063, port: 8080, method: 'gate' },
    });
    expect(w.reals[0]!.weight).toBe(5);
  });

  it('maps HTTP_GET, SSL_GET, MISC_CHECK and DNS_CHECK', () => {
    const http = parse(VS(' real_server 10.0.0.1 80 {\n  HTTP_GET {\n   url {\n    path /health\n    status_code 200\n   }\n   connect_port 8080\n  }\n }')).lvs.virtuals[0]!;
    expect(http).toMatchObject({ checktype: 'negotiate', service: 'http', checkport: 8080, request: '/health' });
    expect(http.reals[0]).toMatchObject({ request: '/health', receive: '' });
    expect(parse(VS(' real_server 10.0.0.1 443 {\n  SSL_GET {\n   url {\n    path /\n   }\n  }\n }')).lvs.virtuals[0]!.service).toBe('https');
    const misc = parse(VS(' real_server 10.0.0.1 80 {\n  MISC_CHECK {\n   misc_path "/usr/local/bin/check 10.0.0.1"\n   misc_timeout 4\n  }\n }')).lvs.virtuals[0]!;
    expect(misc).toMatchObject({ checktype: 'external', checkcommand: '/usr/local/bin/check 10.0.0.1', checktimeout: 4 });
    const dns = parse(VS(' real_server 10.0.0.1 53 {\n  DNS_CHECK {\n   name www.example.com\n   type A\n  }\n }')).lvs.virtuals[0]!;
    expect(dns).toMatchObject({ checktype: 'negotiate', service: 'dns', request: 'www.example.com' });
    expect(errors(VS(' real_server 10.0.0.1 53 {\n  DNS_CHECK {\n   type MX\n  }\n }'))).toEqual([`${MAIN}:6 E_CONFIG_UNSUPPORTED`]);
  });

  it('refuses reals of one virtual checked in different ways, and unsupported checkers', () => {
    expect(errors(VS(' real_server 10.0.0.1 80 {\n  TCP_CHECK {\n  }\n }\n real_server 10.0.0.2 80 {\n  PING_CHECK {\n  }\n }'))).toEqual([`${MAIN}:9 E_CONFIG_UNSUPPORTED`]);
    expect(errors(VS(' real_server 10.0.0.1 80 {\n  SMTP_CHECK {\n  }\n }'))).toEqual([`${MAIN}:5 E_CONFIG_UNSUPPORTED`]);
    expect(errors(VS(' real_server 10.0.0.1 80 {\n  TCP_CHECK {\n   connect_ip 10.0.0.5\n  }\n }'))).toEqual([`${MAIN}:6 E_CONFIG_UNSUPPORTED`]);
  });

  it('expands a virtual_server_group, ranges included, and finds duplicates', () => {
    const c = parse('virtual_server_group G {\n 10.0.0.10 80\n 10.0.0.20-22 8080\n}\nvirtual_server group G {\n lb_kind DR\n real_server 10.0.0.1 80 {\n }\n}\n');
    expect(c.lvs.virtuals.map((v) => `${ipToString(v.address!)}:${v.port}`)).toEqual(['10.0.0.10:80', '10.0.0.20:8080', '10.0.0.21:8080', '10.0.0.22:8080']);
    expect(errors(`${VS('')}${VS('')}`)).toEqual([`${MAIN}:6 E_CONFIG_DUPLICATE`]);
    expect(errors('virtual_server group H {\n lb_kind DR\n}\n')).toEqual([`${MAIN}:1 E_CONFIG_BAD_VALUE`]);
  });

  it('lists the services as ipvsadm -L -n does (DR: the real gets the virtual port)', () => {
    const c = parse(VS(' persistence_timeout 50\n real_server 10.0.0.2 8080 {\n  weight 2\n }\n real_server 10.0.0.1 80 {\n }'));
    expect(formatServices(c.lvs).split('\n').slice(0, 6).join('\n')).toBe([
      'IP Virtual Server version 1.2.1 (size=4096)',
      'Prot LocalAddress:Port Scheduler Flags',
      '  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn',
      'TCP  10.0.0.10:80 rr persistent 50',
      '  -> 10.0.0.1:80                  Route   1      0          0         ',
      '  -> 10.0.0.2:80                  Route   2      0          0         ',
    ].join('\n'));
  });
});

describe('vrrp_instance and global_defs', () => {
  it('reads every keyword of the instance with keepalived\'s defaults', () => {
    const c = parse([
      'global_defs {', ' router_id R1', ' vrrp_version 3', ' vrrp_garp_master_delay 2', '}',
      'vrrp_script chk {', ' script "/bin/true"', ' interval 2', ' weight -10', '}',
      'vrrp_instance VI_1 {', ' state MASTER', ' interface eth0', ' virtual_router_id 51', ' priority 150', ' advert_int 0.1',
      ' nopreempt', ' preempt_delay 5', ' authentication {', '  auth_type PASS', '  auth_pass secret123456', ' }',
      ' virtual_ipaddress {', '  192.168.0.10/24 dev eth0', '  192.168.0.11', ' }',
      ' unicast_src_ip 192.168.0.2', ' unicast_peer {', '  192.168.0.3', ' }',
      ' garp_master_repeat 3', ' notify_master "/bin/echo master"', ' notify_backup /bin/b', ' notify_fault /bin/f',
      ' track_interface {', '  eth1 weight -20', ' }', ' track_script {', '  chk', ' }', '}',
    ].join('\n'));
    expect(c.globals).toMatchObject({ routerId: 'R1', vrrpVersion: 3, garpMasterDelayS: 2 });
    const v = c.vrrpInstances[0]!;
    expect(v).toMatchObject({
      name: 'VI_1', state: 'MASTER', interface: 'eth0', vrid: 51, priority: 150, advertIntCs: 10, version: 3, nopreempt: true,
      preemptDelayCs: 500, auth: { type: 'PASS', pass: 'secret12' }, unicastSrcIp: 0xc0a80002, unicastPeers: [0xc0a80003],
      garpMasterDelayS: 2, garpMasterRepeat: 3, notifyMaster: '/bin/echo master', notifyBackup: '/bin/b', notifyFault: '/bin/f',
    });
    expect(v.vips.map((a) => `${ipToString(a.address)}/${a.prefix} ${a.dev}`)).toEqual(['192.168.0.10/24 eth0', '192.168.0.11/32 null']);
    expect(v.trackInterfaces).toMatchObject([{ name: 'eth1', weight: -20 }]);
    expect(v.trackScripts).toMatchObject([{ name: 'chk', weight: 0 }]);
    expect(c.vrrpScripts[0]).toMatchObject({ name: 'chk', script: '/bin/true', intervalS: 2, weight: -10 });
    expect(c.warnings.filter((w) => w.code !== 'E_CONFIG_NOT_ACTED_ON').map((w) => `${w.line} ${w.code}`)).toEqual(['21 E_CONFIG_BAD_VALUE']); // auth_pass cut to 8 bytes
  });

  it('checks VRIDs, priorities, states, track_script names and AH with VRRPv3', () => {
    const base = (body: string) => `vrrp_instance V {\n interface eth0\n virtual_router_id 1\n${body}\n}\n`;
    expect(errors(base(' priority 0'))).toEqual([`${MAIN}:4 E_CONFIG_BAD_VALUE`]);
    expect(errors(base(' state LEADER'))).toEqual([`${MAIN}:4 E_CONFIG_BAD_VALUE`]);
    expect(errors(base(' track_script {\n  nope\n }'))).toEqual([`${MAIN}:5 E_CONFIG_BAD_VALUE`]);
    expect(errors(base(' version 3\n authentication {\n  auth_type AH\n  auth_pass x\n }'))).toEqual([`${MAIN}:1 E_CONFIG_UNSUPPORTED`]);
    expect(errors('vrrp_instance V {\n interface eth0\n}\n')).toEqual([`${MAIN}:1 E_CONFIG_BAD_VALUE`]);
    expect(errors(`${base('')}${base('')}`)).toEqual([`${MAIN}:6 E_CONFIG_DUPLICATE`]);
  });
});

describe('docs/keepalived.md', () => {
  it('has the directive table the code generates (`npm run docs` rewrites it)', () => {
    const md = readFileSync(new URL('../../docs/keepalived.md', import.meta.url), 'utf8');
    const m = /<!-- BEGIN keepalived directives -->\n([\s\S]*?)<!-- END keepalived directives -->/.exec(md);
    expect(m?.[1]).toBe(keepalivedDirectiveTable());
  });
});
