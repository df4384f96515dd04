import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  deleteArgv,
  listingToRules,
  missingNftRules,
  missingRules,
  renderNftArpRuleset,
  renderArptablesRules,
  renderArptablesSave,
  ruleKey,
} from '../../src/testbed/arp-rules.ts';

/** The seed's arptables file, as kept unchanged in docs/reference-setup/. */
const SEED = new URL('../../docs/reference-setup/arptables', import.meta.url);

describe('arptables rules', () => {
  it('renders the seed file’s rule lines for www1 (jf dialect: IN/OUT)', () => {
    const lines = renderArptablesRules({ vip: '192.168.0.10', rip: '192.168.0.7', iface: 'eth0' });
    expect(lines).toEqual([
      '-A IN -d 192.168.0.10 -j DROP',
      '-A OUT -s 192.168.0.10 -o eth0 -j mangle --mangle-ip-s 192.168.0.7',
    ]);
    const seed = readFileSync(SEED, 'utf8');
    const seedRules = seed.split('\n').filter((l) => /-A /.test(l)).map((l) => l.replace(/^\[\d+:\d+\]\s*/, '').trim());
    expect(seedRules).toHaveLength(2);
    expect(lines).toEqual(seedRules);
  });

  it('renders INPUT/OUTPUT for the netfilter arptables (Debian 12)', () => {
    expect(renderArptablesRules({ vip: '10.0.0.1', rip: '10.0.0.2', iface: 'ens3', dialect: 'netfilter' })).toEqual([
      '-A INPUT -d 10.0.0.1 -j DROP',
      '-A OUTPUT -s 10.0.0.1 -o ens3 -j mangle --mangle-ip-s 10.0.0.2',
    ]);
  });

  it('renders a restore file', () => {
    expect(renderArptablesSave({ vip: '192.168.0.10', rip: '192.168.0.8', iface: 'eth0' })).toBe(
      '*filter\n:IN ACCEPT\n:OUT ACCEPT\n:FORWARD ACCEPT\n-A IN -d 192.168.0.10 -j DROP\n' +
        '-A OUT -s 192.168.0.10 -o eth0 -j mangle --mangle-ip-s 192.168.0.8\nCOMMIT\n',
    );
  });

  it('turns a rule into its delete', () => {
    expect(deleteArgv('-A INPUT -d 1.2.3.4 -j DROP')).toEqual(['-D', 'INPUT', '-d', '1.2.3.4', '-j', 'DROP']);
  });

  it('matches rules whatever the option order, counters or "any" interfaces', () => {
    const want = '-A INPUT -d 192.168.0.10 -j DROP';
    expect(ruleKey('[6:168] -A INPUT -j DROP -i * -o * -d 192.168.0.10 , pcnt=0 -- bcnt=0')).toBe(ruleKey(want));
    expect(ruleKey('*filter')).toBeNull();
    // What `arptables -L -n` prints on Debian 12 (arptables 0.0.5).
    const listing = [
      'Chain INPUT (policy ACCEPT)',
      '-j DROP -d 192.168.0.10 ',
      '',
      'Chain OUTPUT (policy ACCEPT)',
      '-j mangle -o eth0 -s 192.168.0.10 --mangle-ip-s 192.168.0.7 ',
      '',
      'Chain FORWARD (policy ACCEPT)',
    ].join('\n');
    const rules = listingToRules(listing);
    expect(rules).toHaveLength(2);
    const expected = renderArptablesRules({ vip: '192.168.0.10', rip: '192.168.0.7', iface: 'eth0', dialect: 'netfilter' });
    expect(missingRules(expected, rules.join('\n'))).toEqual([]);
    const other = renderArptablesRules({ vip: '192.168.0.10', rip: '192.168.0.8', iface: 'eth0', dialect: 'netfilter' });
    expect(missingRules(other, rules.join('\n'))).toEqual([other[1]]);
  });

  it('renders the nft arp equivalent and finds its rules in `nft list` output', () => {
    const p = { vip: '192.168.0.10', rip: '192.168.0.9', iface: 'eth0' };
    const file = renderNftArpRuleset(p);
    expect(file).toContain('arp daddr ip 192.168.0.10 drop');
    expect(file).toContain('oifname "eth0" arp saddr ip 192.168.0.10 arp saddr ip set 192.168.0.9');
    // What nft 1.0.6 lists back.
    const listed = [
      'table arp dsrlb_noarp {',
      '\tchain in {',
      '\t\ttype filter hook input priority filter; policy accept;',
      '\t\tarp daddr ip 192.168.0.10 drop',
      '\t}',
      '',
      '\tchain out {',
      '\t\ttype filter hook output priority filter; policy accept;',
      '\t\toifname "eth0" arp saddr ip 192.168.0.10 arp saddr ip set 192.168.0.9',
      '\t}',
      '}',
    ].join('\n');
    expect(missingNftRules(p, listed)).toEqual([]);
    expect(missingNftRules({ ...p, rip: '192.168.0.7' }, listed)).toHaveLength(1);
  });
});
