/**
 * Every configuration sample Debian's keepalived 2.2.7 ships (copied to test/fixtures/keepalived/
 * samples/, see its README) parses, or fails with exactly the errors listed here — each one's line,
 * code and reason — and docs/keepalived.md lists the same outcome. All the LVS samples are written for
 * lb_kind NAT, which dsrlb refuses; each is also read with `lb_kind DR` substituted, and its services
 * must list as `ipvsadm -L -n` lists them under keepalived with DR (the real takes the virtual port).
 */
import { readFileSync, readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { formatServices, parseKeepalivedConfig, type FileSource } from '../../src/config/index.ts';
import { ConfigErrors } from '../../src/errors/index.ts';
import { validateChecks } from '../../src/health/index.ts';

const DIR = new URL('../fixtures/keepalived/samples/', import.meta.url);
const NO_FILES: FileSource = { read: () => null, glob: () => [], dirname: () => '/' };

const NAT = 'lb_kind NAT: dsrlb is a direct-routing (DR) director only';
/** Sample -> its outcome: `ok` (virtual services, vrrp instances) or its errors as "LINE CODE reason". */
const EXPECTED: Record<string, { ok: [number, number] } | { errors: string[] }> = {
  'keepalived.conf.HTTP_GET.port': { errors: [`16 E_CONFIG_UNSUPPORTED ${NAT}`] },
  'keepalived.conf.IPv6': {
    errors: [
      // IPv6 services are read (docs/ipv6.md); an IPv6 range and IPv6 persistence are not.
      '8 E_CONFIG_UNSUPPORTED ae00::2-9: IPv6 address ranges are not supported', `16 E_CONFIG_UNSUPPORTED ${NAT}`,
      '24 E_CONFIG_UNSUPPORTED SMTP_CHECK: SMTP_CHECK is not supported',
      '17 E_CONFIG_UNSUPPORTED persistence on an IPv6 virtual_server: the dsrlb data path has no persistence for IPv6',
    ],
  },
  'keepalived.conf.PING_CHECK': { errors: [`17 E_CONFIG_UNSUPPORTED ${NAT}`] },
  'keepalived.conf.SMTP_CHECK': {
    errors: [`28 E_CONFIG_UNSUPPORTED ${NAT}`, ...[39, 58, 89].map((l) => `${l} E_CONFIG_UNSUPPORTED SMTP_CHECK: SMTP_CHECK is not supported`)],
  },
  'keepalived.conf.SSL_GET': { errors: [`33 E_CONFIG_UNSUPPORTED ${NAT}`, `58 E_CONFIG_UNSUPPORTED ${NAT}`] },
  'keepalived.conf.UDP_CHECK': { errors: [`17 E_CONFIG_UNSUPPORTED ${NAT}`, '23 E_CONFIG_UNSUPPORTED UDP_CHECK: UDP_CHECK is not supported'] },
  // Written for `keepalived -i high` / `-i low`: without a config id the vrrp_script has no script line.
  'keepalived.conf.conditional_conf': {
    errors: ['6 E_CONFIG_BAD_VALUE vrrp_script check_VI_0: no script', '23 E_CONFIG_UNSUPPORTED use_vmac: VMAC interfaces are not supported'],
  },
  'keepalived.conf.fwmark': { errors: ['7 E_CONFIG_UNSUPPORTED virtual_server fwmark: firewall-mark services are not supported', `10 E_CONFIG_UNSUPPORTED ${NAT}`] },
  'keepalived.conf.inhibit': { errors: [`16 E_CONFIG_UNSUPPORTED ${NAT}`] },
  'keepalived.conf.misc_check': { errors: [`17 E_CONFIG_UNSUPPORTED ${NAT}`] },
  'keepalived.conf.misc_check_arg': { errors: [`16 E_CONFIG_UNSUPPORTED ${NAT}`] },
  'keepalived.conf.quorum': { errors: [`26 E_CONFIG_UNSUPPORTED ${NAT}`] },
  'keepalived.conf.sample': { errors: [`29 E_CONFIG_UNSUPPORTED ${NAT}`] },
  'keepalived.conf.status_code': { errors: [`17 E_CONFIG_UNSUPPORTED ${NAT}`] },
  'keepalived.conf.track_interface': { ok: [0, 1] },
  'keepalived.conf.virtual_server_group': {
    errors: ['18 E_CONFIG_UNSUPPORTED fwmark services are not supported', '19 E_CONFIG_UNSUPPORTED fwmark services are not supported', `25 E_CONFIG_UNSUPPORTED ${NAT}`],
  },
  'keepalived.conf.virtualhost': { errors: [`16 E_CONFIG_UNSUPPORTED ${NAT}`] },
  'keepalived.conf.vrrp': { ok: [0, 4] },
  'keepalived.conf.vrrp.localcheck': { ok: [0, 9] },
  'keepalived.conf.vrrp.lvs_syncd': {
    errors: ['11 E_CONFIG_UNSUPPORTED lvs_sync_daemon_interface: the IPVS sync daemon is not supported', `53 E_CONFIG_UNSUPPORTED ${NAT}`],
  },
  'keepalived.conf.vrrp.routes': { ok: [0, 1] },
  'keepalived.conf.vrrp.rules': { ok: [0, 1] },
  'keepalived.conf.vrrp.scripts': { ok: [0, 3] },
  'keepalived.conf.vrrp.static_ipaddress': { ok: [0, 1] },
  'keepalived.conf.vrrp.sync': { ok: [0, 9] },
};

const HEAD = ['IP Virtual Server version 1.2.1 (size=4096)', 'Prot LocalAddress:Port Scheduler Flags', '  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn'];
const row = (addr: string, w = 1) => `  -> ${addr.padEnd(28)} Route   ${String(w).padEnd(6)} 0          0         `;
/** The NAT samples read with lb_kind DR: their ipvsadm -L -n listing, or the errors left. */
const AS_DR: Record<string, string[] | { errors: number[] }> = {
  'keepalived.conf.HTTP_GET.port': ['TCP  192.168.200.100:443 rr persistent 50', row('192.168.201.100:443')],
  'keepalived.conf.IPv6': { errors: [8, 24, 17] },
  'keepalived.conf.PING_CHECK': ['UDP  10.10.10.2:1358 rr persistent 50', row('192.168.200.6:1358')],
  'keepalived.conf.SMTP_CHECK': { errors: [39, 58, 89] },
  'keepalived.conf.SSL_GET': [
    'TCP  192.168.200.100:80 rr persistent 50', row('192.168.201.100:80'),
    'TCP  192.168.200.100:443 rr persistent 50', row('192.168.201.100:443'),
  ],
  'keepalived.conf.UDP_CHECK': { errors: [23] },
  'keepalived.conf.fwmark': { errors: [7] },
  'keepalived.conf.inhibit': ['TCP  10.10.10.2:1358 rr persistent 50', row('192.168.200.2:1358')],
  'keepalived.conf.misc_check': ['TCP  10.10.10.2:1358 rr persistent 50', row('192.168.200.6:1358')],
  'keepalived.conf.misc_check_arg': ['TCP  10.10.10.2:1358 rr persistent 50', row('192.168.200.6:1358')],
  // Reals written on port 8080: under DR, ipvsadm gives them the virtual's port.
  'keepalived.conf.quorum': ['TCP  10.0.1.1:80 wrr persistent 900', ...Array.from({ length: 10 }, (_, i) => row(`10.0.0.${i + 1}:80`))],
  'keepalived.conf.sample': ['TCP  10.10.10.2:1358 rr persistent 50', row('192.168.200.2:1358')],
  'keepalived.conf.status_code': ['TCP  192.168.200.100:443 rr persistent 50', row('192.168.201.100:443')],
  'keepalived.conf.virtual_server_group': { errors: [18, 19] },
  'keepalived.conf.virtualhost': ['TCP  192.168.200.100:80 rr persistent 50', row('192.168.201.100:80')],
  'keepalived.conf.vrrp.lvs_syncd': { errors: [11] },
};

function outcome(text: string, name: string): { ok: [number, number]; listing: string } | { errors: { line: number; code: string; message: string }[] } {
  try {
    const c = parseKeepalivedConfig(text, name, NO_FILES);
    const errs = validateChecks(c.lvs);
    if (errs.length) return { errors: errs.map((e) => ({ line: e.line, code: e.code, message: e.message })) };
    return { ok: [c.lvs.virtuals.length, c.vrrpInstances.length], listing: formatServices(c.lvs).split('\n\nChecks:')[0]! };
  } catch (e) {
    if (!(e instanceof ConfigErrors)) throw e;
    return { errors: e.errors.map((x) => ({ line: x.line, code: x.code, message: x.message })) };
  }
}

const samples = readdirSync(DIR).filter((n) => n.startsWith('keepalived.conf')).sort();

describe("Debian keepalived 2.2.7's samples", () => {
  it('are all here and all have an expected outcome', () => {
    expect(samples).toEqual(Object.keys(EXPECTED).sort());
    expect(samples.length).toBe(25);
  });

  for (const name of samples) {
    it(`${name}: ${'ok' in EXPECTED[name]! ? 'parses' : 'fails with its documented reasons'}`, () => {
      const text = readFileSync(new URL(name, DIR), 'utf8');
      const got = outcome(text, name);
      const want = EXPECTED[name]!;
      if ('ok' in want) {
        expect(got).toMatchObject({ ok: want.ok });
        return;
      }
      expect('errors' in got).toBe(true);
      const errs = 'errors' in got ? got.errors : [];
      expect(errs.map((e) => `${e.line} ${e.code}`)).toEqual(want.errors.map((w) => w.split(' ').slice(0, 2).join(' ')));
      errs.forEach((e, i) => expect(e.message).toContain(`${name}:${e.line}: ${want.errors[i]!.split(' ').slice(2).join(' ')}`));
    });
  }

  for (const [name, want] of Object.entries(AS_DR)) {
    it(`${name} with lb_kind DR: ${Array.isArray(want) ? 'the ipvsadm -L -n listing' : 'the errors left'}`, () => {
      const text = readFileSync(new URL(name, DIR), 'utf8');
      expect(text).toContain('lb_kind NAT');
      const got = outcome(text.replaceAll('lb_kind NAT', 'lb_kind DR'), name);
      if (Array.isArray(want)) expect('listing' in got ? got.listing : got).toBe([...HEAD, ...want].join('\n'));
      else expect('errors' in got ? got.errors.map((e) => e.line) : got).toEqual(want.errors);
    });
  }

  it('docs/keepalived.md gives every sample its outcome', () => {
    const md = readFileSync(new URL('../../docs/keepalived.md', import.meta.url), 'utf8');
    for (const [name, want] of Object.entries(EXPECTED)) {
      const line = md.split('\n').find((l) => l.startsWith(`| \`${name}\` |`));
      expect(line, name).toBeDefined();
      if ('ok' in want) expect(line).toContain('| parses |');
      else for (const e of want.errors) expect(line).toContain(`:${e.split(' ')[0]}`);
    }
  });
});
