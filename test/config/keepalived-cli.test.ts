/** dsrlb config check --keepalived-conf: the ipvsadm view plus the VRRP instances, or file:line errors. */
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { run } from '../../src/cli/commands/config.ts';

const dir = mkdtempSync(join(tmpdir(), 'dsrlb-ka-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function cli(...argv: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await run(argv, { out: (s) => out.push(s), err: (s) => err.push(s) });
  return { code, out: out.join('\n'), err: err.join('\n') };
}

describe('dsrlb config check --keepalived-conf', () => {
  it('lists the services as ipvsadm -L -n, then the VRRP instance; includes followed', async () => {
    mkdirSync(join(dir, 'conf.d'));
    writeFileSync(join(dir, 'conf.d', 'vs.conf'), [
      'virtual_server 192.168.0.10 80 {', '  lb_algo wlc', '  lb_kind DR', '  delay_loop 2',
      '  real_server 192.168.0.7 80 {', '    weight 3', '    TCP_CHECK {', '      connect_timeout 1', '    }', '  }', '}', '',
    ].join('\n'));
    const main = join(dir, 'keepalived.conf');
    writeFileSync(main, [
      'vrrp_instance VI_1 {', '  state MASTER', '  interface eth0', '  virtual_router_id 7', '  priority 150', '  advert_int 1',
      '  virtual_ipaddress {', '    192.168.0.10/24', '  }', '}', 'include conf.d/*.conf', '',
    ].join('\n'));
    const r = await cli('check', '--keepalived-conf', main);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(r.out).toContain('TCP  192.168.0.10:80 wlc\n  -> 192.168.0.7:80               Route   3      0          0');
    expect(r.out).toContain(`TCP  192.168.0.10:80  (${join(dir, 'conf.d', 'vs.conf')}:1)\n    checktype         connect`);
    expect(r.out).toContain(`VRRP instances:\nVI_1  (${main}:1)\n    state             MASTER`);
    expect(r.out).toContain('    virtual_ipaddress 192.168.0.10/24');
    const j = await cli('check', '--json', '--keepalived-conf', main);
    expect(JSON.parse(j.out).vrrpInstances[0].vrid).toBe(7);
  });

  it('prints every error as file:line: code: message, exit 1', async () => {
    const bad = join(dir, 'bad.conf');
    writeFileSync(bad, 'virtual_server 10.0.0.1 80 {\n  lb_kind NAT\n  lb_algo lblc\n}\n');
    const r = await cli('check', '--keepalived-conf', bad);
    expect(r.code).toBe(1);
    expect(r.err.split('\n')).toEqual([
      `${bad}:2: E_CONFIG_UNSUPPORTED: lb_kind NAT: dsrlb is a direct-routing (DR) director only; NAT (masquerading) is not supported — write lb_kind DR`,
      `${bad}:3: E_CONFIG_UNSUPPORTED: lb_algo lblc: a Linux IPVS scheduler dsrlb does not implement (dsrlb has rr wrr lc wlc sed nq sh dh mh)`,
      `${bad}: 2 errors`,
    ]);
  });

  it('takes --config-id for @ID lines', async () => {
    const f = join(dir, 'cond.conf');
    writeFileSync(f, 'vrrp_instance V {\n interface eth0\n virtual_router_id 1\n@a priority 170\n@b priority 85\n}\n');
    expect((await cli('check', '--keepalived-conf', f, '--config-id', 'b')).out).toContain('    priority          85');
  });
});
