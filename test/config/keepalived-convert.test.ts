/**
 * dsrlb config convert: the ldirectord.cf written for a keepalived.conf parses back into the same
 * services (and checks); the ha.cf / haresources / authkeys parse with heartbeat's parsers and carry
 * VRRP's timers, peers, owner and VIPs; what cannot be expressed is listed.
 */
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { run } from '../../src/cli/commands/config.ts';
import {
  convertKeepalived, parseAuthkeys, parseHaCf, parseHaResources, parseKeepalivedConfig, parseLdirectordConfig, type FileSource,
  type VirtualService,
} from '../../src/config/index.ts';

const NO_FILES: FileSource = { read: () => null, glob: () => [], dirname: () => '/' };
const SAMPLES = new URL('../fixtures/keepalived/samples/', import.meta.url);
const dir = mkdtempSync(join(tmpdir(), 'dsrlb-kaconv-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The parts of a virtual service that decide what the director and its checks do. */
function essence(v: VirtualService) {
  return {
    protocol: v.protocol, address: v.address, port: v.port, scheduler: v.scheduler, schedFlags: v.schedFlags, persistent: v.persistent,
    netmask: v.netmask, checktype: v.checktype, service: v.service, checkport: v.checkport, request: v.request, receive: v.receive,
    checkcommand: v.checktype === 'external' ? v.checkcommand : null, checktimeout: Math.ceil(v.checktimeout),
    negotiatetimeout: Math.ceil(v.negotiatetimeout), checkinterval: Math.ceil(v.checkinterval), failurecount: v.failurecount,
    quiescent: v.quiescent, virtualhost: v.virtualhost,
    fallback: v.fallback ? { address: v.fallback.address, port: v.fallback.port ?? v.port } : null,
    reals: v.reals.map((r) => ({ address: r.address, weight: r.weight, method: r.method, request: r.request ?? v.request })),
  };
}

const KA = `global_defs {
  router_id lvs1
}
vrrp_instance VI_1 {
  state MASTER
  interface eth0
  virtual_router_id 51
  priority 150
  advert_int 0.5
  nopreempt
  authentication {
    auth_type PASS
    auth_pass s3cret
  }
  unicast_peer {
    192.168.0.3
  }
  virtual_ipaddress {
    192.168.0.10/24
  }
  notify_master /usr/local/bin/became-master
  track_interface {
    eth1
  }
}
virtual_server 192.168.0.10 80 {
  lb_algo wrr
  lb_kind DR
  persistence_timeout 300
  persistence_granularity 255.255.255.0
  delay_loop 2.5
  inhibit_on_failure
  sorry_server 192.168.0.99 80
  real_server 192.168.0.7 80 {
    weight 3
    HTTP_GET {
      url {
        path /health
        digest 0123
      }
      connect_timeout 2
      retry 2
    }
  }
  real_server 192.168.0.8 80 {
    HTTP_GET {
      url {
        path /health
      }
    }
  }
}
`;

describe('config convert', () => {
  it('writes an ldirectord.cf that parses back into the same services', () => {
    const ka = parseKeepalivedConfig(KA, 'k.conf', NO_FILES);
    const c = convertKeepalived(ka, { peer: 'lvs2' });
    const back = parseLdirectordConfig(c.ldirectordCf, 'ldirectord.cf');
    expect(back.virtuals.map(essence)).toEqual(ka.lvs.virtuals.map(essence));
    expect(c.notes).toContain('k.conf:26: delay_loop 2.5 s rounded up to 3 s (ldirectord takes whole seconds)');
    expect(c.notes.some((n) => n.startsWith('k.conf:39: digest in url is read but not acted on'))).toBe(true);
  });

  it('does so for every LVS sample read as DR that dsrlb accepts', () => {
    let n = 0;
    for (const name of ['sample', 'inhibit', 'misc_check', 'misc_check_arg', 'quorum', 'status_code', 'virtualhost', 'SSL_GET', 'HTTP_GET.port', 'PING_CHECK']) {
      const text = readFileSync(new URL(`keepalived.conf.${name}`, SAMPLES), 'utf8').replaceAll('lb_kind NAT', 'lb_kind DR');
      const ka = parseKeepalivedConfig(text, name, NO_FILES);
      const back = parseLdirectordConfig(convertKeepalived(ka).ldirectordCf, 'ldirectord.cf');
      expect(back.virtuals.map(essence), name).toEqual(ka.lvs.virtuals.map(essence));
      n += back.virtuals.length;
    }
    expect(n).toBe(11);
  });

  it('writes ha.cf, haresources and authkeys that heartbeat\'s parsers read, with VRRP\'s timers', () => {
    const c = convertKeepalived(parseKeepalivedConfig(KA, 'k.conf', NO_FILES), { peer: 'lvs2' });
    const hacf = parseHaCf(c.haCf!, 'ha.cf');
    // advert 500 ms; master down = 3 x 500 + (256 - 150) x 500 / 256 = 1707 ms.
    expect(hacf).toMatchObject({ keepaliveMs: 500, deadtimeMs: 1707, autoFailback: 'off', nodes: ['lvs1', 'lvs2'] });
    expect(hacf.media).toMatchObject([{ kind: 'ucast', iface: 'eth0', addr: 0xc0a80003 }]);
    const res = parseHaResources(c.haresources!, 'haresources');
    expect(res.groups[0]!.owner).toBe('lvs1');
    expect(res.groups[0]!.resources).toMatchObject([{ kind: 'ldirectord', file: 'ldirectord.cf' }, { kind: 'ip', addr: 0xc0a8000a, prefixLen: 24, iface: 'eth0' }]);
    expect(parseAuthkeys(c.authkeys!, 'authkeys').active).toMatchObject({ method: 'sha1', key: 's3cret' });
    expect(c.notes).toEqual(expect.arrayContaining([
      'k.conf:4: notify_master "/usr/local/bin/became-master" has no place in haresources (write a resource script that runs it on start/stop)',
      'k.conf:23: track_interface eth1: heartbeat v1 does not track interfaces (ipfail with ping nodes is the nearest)',
    ]));
  });

  it('the CLI writes the files (authkeys mode 600) and lists the notes on stderr', async () => {
    const f = join(dir, 'keepalived.conf');
    writeFileSync(f, KA);
    const out: string[] = [];
    const err: string[] = [];
    const code = await run(['convert', '--keepalived-conf', f, '--out', join(dir, 'out'), '--peer', 'lvs2'], { out: (s) => out.push(s), err: (s) => err.push(s) });
    expect(code).toBe(0);
    expect(parseLdirectordConfig(readFileSync(join(dir, 'out', 'ldirectord.cf'), 'utf8'), 'x').virtuals).toHaveLength(1);
    expect(statSync(join(dir, 'out', 'authkeys')).mode & 0o777).toBe(0o600);
    expect(err[0]).toMatch(/^Not expressed in the converted files \(\d+\):$/);
    const bad = join(dir, 'bad.conf');
    writeFileSync(bad, 'virtual_server 10.0.0.1 80 {\n lb_kind TUN\n}\n');
    const e2: string[] = [];
    expect(await run(['convert', '--keepalived-conf', bad], { out: () => undefined, err: (s) => e2.push(s) })).toBe(1);
    expect(e2[0]).toMatch(/bad\.conf:2: E_CONFIG_UNSUPPORTED: lb_kind TUN: dsrlb is a direct-routing \(DR\) director only/);
  });
});
