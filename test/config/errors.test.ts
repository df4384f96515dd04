import { describe, expect, it } from 'vitest';
import { parseLdirectordConfig } from '../../src/config/index.ts';
import { ConfigError, ConfigErrors } from '../../src/errors/index.ts';
import { cf, codes, errorsOf } from './helpers.ts';

const V = 'virtual=10.0.0.1:80';
const R = '\treal=10.0.0.2:80 gate';

describe('each error kind, at its line', () => {
  it.each<[string, string[], string]>([
    // E_CONFIG_UNKNOWN_DIRECTIVE names the directive
    ['unknown global directive', ['checktimeout=5', 'frobnicate=1'], '2 E_CONFIG_UNKNOWN_DIRECTIVE'],
    ['unknown directive in a virtual', [V, R, '\tweight=3'], '3 E_CONFIG_UNKNOWN_DIRECTIVE'],
    ['upper-case name', ['CheckTimeout=5'], '1 E_CONFIG_UNKNOWN_DIRECTIVE'],
    // E_CONFIG_SYNTAX
    ['line without a name', ['= 5'], '1 E_CONFIG_SYNTAX'],
    ['unterminated quote', [V, R, '\treceive="ok'], '3 E_CONFIG_SYNTAX'],
    ['indented line before any virtual', ['  checktimeout=5'], '1 E_CONFIG_SYNTAX'],
    ['directive without a value', ['checktimeout'], '1 E_CONFIG_SYNTAX'],
    ['virtual without a value', ['virtual='], '1 E_CONFIG_SYNTAX'],
    ['text after the virtual address', ['virtual=10.0.0.1:80 tcp'], '1 E_CONFIG_SYNTAX'],
    ['only a request on a real', [V, '\treal=10.0.0.2 gate 1 "x"'], '2 E_CONFIG_SYNTAX'],
    ['junk on a real line', [V, '\treal=10.0.0.2 gate 1 extra'], '2 E_CONFIG_SYNTAX'],
    ['port before the arrow of a range', [V, '\treal=10.0.0.2:80->10.0.0.3 gate'], '2 E_CONFIG_SYNTAX'],
    ['text after a closing quote', [V, R, '\trequest="a" b'], '3 E_CONFIG_SYNTAX'],
    // E_CONFIG_MISPLACED
    ['real at the global level', ['real=10.0.0.2 gate'], '1 E_CONFIG_MISPLACED'],
    ['global-only directive in a virtual', [V, R, '\tautoreload=yes'], '3 E_CONFIG_MISPLACED'],
    ['maintenancedir in a virtual', [V, R, '\tmaintenancedir=/tmp'], '3 E_CONFIG_MISPLACED'],
    ['indented virtual', [V, R, '\tvirtual=10.0.0.1:81'], '3 E_CONFIG_MISPLACED'],
    // E_CONFIG_BAD_VALUE
    ['zero checktimeout', ['checktimeout=0'], '1 E_CONFIG_BAD_VALUE'],
    ['non-numeric interval', ['checkinterval=10s'], '1 E_CONFIG_BAD_VALUE'],
    ['yes/no', ['quiescent=true'], '1 E_CONFIG_BAD_VALUE'],
    ['unknown scheduler', [V, R, '\tscheduler=fastest'], '3 E_CONFIG_BAD_VALUE'],
    ['unknown check type', [V, R, '\tchecktype=http'], '3 E_CONFIG_BAD_VALUE'],
    ['unknown service', [V, R, '\tservice=gopher'], '3 E_CONFIG_BAD_VALUE'],
    ['bad method', [V, '\treal=10.0.0.2 route'], '2 E_CONFIG_BAD_VALUE'],
    ['weight too big', [V, '\treal=10.0.0.2 gate 70000'], '2 E_CONFIG_BAD_VALUE'],
    ['port out of range', [V, '\treal=10.0.0.2:65536 gate'], '2 E_CONFIG_BAD_VALUE'],
    ['unknown port name', [V, '\treal=10.0.0.2:gopherish gate'], '2 E_CONFIG_BAD_VALUE'],
    ['checkport 0', [V, R, '\tcheckport=0'], '3 E_CONFIG_BAD_VALUE'],
    ['virtual without port', ['virtual=10.0.0.1'], '1 E_CONFIG_BAD_VALUE'],
    ['firewall mark 0', ['virtual=0'], '1 E_CONFIG_BAD_VALUE'],
    ['port 0 without persistence', ['virtual=10.0.0.1:0', R], '1 E_CONFIG_BAD_VALUE'],
    ['protocol fwm on an address', [V, R, '\tprotocol=fwm'], '3 E_CONFIG_BAD_VALUE'],
    ['protocol tcp on a mark', ['virtual=5', R, '\tprotocol=tcp'], '3 E_CONFIG_BAD_VALUE'],
    ['protocol sctp', [V, R, '\tprotocol=sctp'], '3 E_CONFIG_BAD_VALUE'],
    ['netmask as prefix length', [V, R, '\tpersistent=60', '\tnetmask=24'], '4 E_CONFIG_BAD_VALUE'],
    ['persistent too long', [V, R, '\tpersistent=99999999'], '3 E_CONFIG_BAD_VALUE'],
    ['httpmethod POST', [V, R, '\thttpmethod=POST'], '3 E_CONFIG_BAD_VALUE'],
    ['empty request', [V, R, '\trequest=""'], '3 E_CONFIG_BAD_VALUE'],
    ['logfile that is neither', ['logfile="var/log/x"'], '1 E_CONFIG_BAD_VALUE'],
    ['emailalertstatus with none', ['emailalertstatus=none,running'], '1 E_CONFIG_BAD_VALUE'],
    ['emailalertstatus unknown', ['emailalertstatus=sleeping'], '1 E_CONFIG_BAD_VALUE'],
    ['range backwards', [V, '\treal=10.0.0.9->10.0.0.2 gate'], '2 E_CONFIG_BAD_VALUE'],
    ['range too large', [V, '\treal=10.0.0.1->10.255.0.1 gate'], '2 E_CONFIG_BAD_VALUE'],
    ['sh flag with wrr', [V, R, '\tschedflags=sh-port'], '3 E_CONFIG_BAD_VALUE'],
    ['unknown sched flag', [V, R, '\tscheduler=sh', '\tschedflags=sh-random'], '4 E_CONFIG_BAD_VALUE'],
    ['thresholds matching no real', [V, R, '\trealthresholds=10.0.0.9 10'], '3 E_CONFIG_BAD_VALUE'],
    ['lower threshold above upper', [V, R, '\trealthresholds=10.0.0.2 10 20'], '3 E_CONFIG_BAD_VALUE'],
    // E_CONFIG_BAD_ADDRESS
    ['octet > 255', ['virtual=10.0.0.256:80'], '1 E_CONFIG_BAD_ADDRESS'],
    ['host name', [V, '\treal=web1.example.com:80 gate'], '2 E_CONFIG_BAD_ADDRESS'],
    ['leading zero', [V, '\treal=10.0.0.010 gate'], '2 E_CONFIG_BAD_ADDRESS'],
    ['0.0.0.0', ['virtual=0.0.0.0:80'], '1 E_CONFIG_BAD_ADDRESS'],
    ['fallback host name', ['fallback=localhost:80'], '1 E_CONFIG_BAD_ADDRESS'],
    // E_CONFIG_DUPLICATE
    ['duplicate virtual', [V, R, 'virtual=10.0.0.1:80', R], '3 E_CONFIG_DUPLICATE'],
    ['duplicate fwmark', ['virtual=3', R, 'virtual=3', R], '3 E_CONFIG_DUPLICATE'],
    ['duplicate real', [V, R, R], '3 E_CONFIG_DUPLICATE'],
    ['real inside a range given again', [V, '\treal=10.0.0.1->10.0.0.5:80 gate', '\treal=10.0.0.3:80 gate 2'], '3 E_CONFIG_DUPLICATE'],
    ['gate reals that differ only by port', [V, '\treal=10.0.0.2:80 gate', '\treal=10.0.0.2:8080 gate'], '3 E_CONFIG_DUPLICATE'],
    // E_CONFIG_UNSUPPORTED
    ['lblc scheduler', [V, R, '\tscheduler=lblc'], '3 E_CONFIG_UNSUPPORTED'],
    ['lblcr scheduler', [V, R, '\tscheduler=lblcr'], '3 E_CONFIG_UNSUPPORTED'],
    ['fo scheduler', [V, R, '\tscheduler=fo'], '3 E_CONFIG_UNSUPPORTED'],
    ['ovf scheduler', [V, R, '\tscheduler=ovf'], '3 E_CONFIG_UNSUPPORTED'],
    ['IPv6 persistence', ['virtual6=[2001:db8::1]:80', '\treal6=[2001:db8::2]:80 gate', '\tpersistent=300'], '3 E_CONFIG_UNSUPPORTED'],
    ['IPv6 address range', ['virtual6=[2001:db8::1]:80', '\treal6=[2001:db8::2]->[2001:db8::5]:80 gate'], '2 E_CONFIG_UNSUPPORTED'],
    ['IPv6 firewall mark', ['virtual6=7'], '1 E_CONFIG_UNSUPPORTED'],
    // IPv6 in the wrong place
    ['real6 in an IPv4 virtual', [V, '\treal6=[2001:db8::2]:80 gate'], '2 E_CONFIG_MISPLACED'],
    ['real in an IPv6 virtual', ['virtual6=[2001:db8::1]:80', R], '2 E_CONFIG_MISPLACED'],
    ['IPv6 address in virtual=', ['virtual=[2001:db8::1]:80'], '1 E_CONFIG_BAD_ADDRESS'],
    // E_CONFIG_DEPRECATED
    ['connecttimeout', ['connecttimeout=5'], '1 E_CONFIG_DEPRECATED'],
    ['connecttimeout in a virtual', [V, R, '\tconnecttimeout=5'], '3 E_CONFIG_DEPRECATED'],
    ['timeout', ['timeout=5'], '1 E_CONFIG_DEPRECATED'],
  ])('%s', (_name, lines, expected) => {
    expect(codes(cf(...lines))).toEqual([expected]);
  });
});

describe('messages', () => {
  it('an unknown directive is named, with file:line', () => {
    const [e] = errorsOf(cf('checktimeout=5', 'frobnicate=1'));
    expect(e!.message).toBe('test.cf:2: unknown directive "frobnicate"');
  });
  it('hints at lower case', () => {
    expect(errorsOf(cf('Quiescent=yes'))[0]!.message).toContain('lower case: quiescent');
  });
  it('an unsupported scheduler names itself and what dsrlb has', () => {
    expect(errorsOf(cf(V, R, '\tscheduler=lblc'))[0]!.message)
      .toBe('test.cf:3: scheduler lblc exists in Linux IPVS but dsrlb does not implement it (use one of rr wrr lc wlc sed nq sh dh mh)');
  });
  it('a duplicate points back to the first definition', () => {
    expect(errorsOf(cf(V, R, R))[0]!.message).toBe('test.cf:3: real 10.0.0.2:80 is already at line 2 in this virtual');
    expect(errorsOf(cf(V, R, V, R))[0]!.message).toBe('test.cf:3: virtual TCP 10.0.0.1:80 is already defined at line 1');
  });
  it('a host name is explained', () => {
    expect(errorsOf(cf(V, '\treal=web1:80 gate'))[0]!.message).toContain('dsrlb does not resolve names');
  });
});

describe('all errors at once', () => {
  const text = cf(
    'checktimeout=abc', //                1 bad value
    'bogus=1', //                         2 unknown
    'virtual=10.0.0.1:80', //             3
    '\treal=10.0.0.2:80 gate', //         4
    '\treal=10.0.0.2:80 gate', //         5 duplicate
    '\tscheduler=lblcr', //               6 unsupported
    '\tcolour=blue', //                   7 unknown
    'virtual=10.0.0.300:80', //           8 bad address (section still read)
    '\tchecktype=sometimes', //           9 bad value inside the dropped section
    'virtual=10.0.0.1:80', //            10 duplicate virtual
    '\treal=10.0.0.3 gate', //           11
    'real=10.0.0.4 gate', //             12 misplaced
  );

  it('reports every one, in line order, in one ConfigErrors', () => {
    expect(codes(text)).toEqual([
      '1 E_CONFIG_BAD_VALUE', '2 E_CONFIG_UNKNOWN_DIRECTIVE', '5 E_CONFIG_DUPLICATE', '6 E_CONFIG_UNSUPPORTED',
      '7 E_CONFIG_UNKNOWN_DIRECTIVE', '8 E_CONFIG_BAD_ADDRESS', '9 E_CONFIG_BAD_VALUE', '10 E_CONFIG_DUPLICATE',
      '12 E_CONFIG_MISPLACED',
    ]);
  });

  it('throws ConfigErrors whose items are ConfigErrors with file and line', () => {
    let caught: unknown;
    try {
      parseLdirectordConfig(text, 'x.cf');
    } catch (e) {
      caught = e;
    }
    expect(caught).toBeInstanceOf(ConfigErrors);
    const ce = caught as ConfigErrors;
    expect(ce.code).toBe('E_CONFIG_BAD_VALUE');
    for (const e of ce.errors) {
      expect(e).toBeInstanceOf(ConfigError);
      expect(e.file).toBe('x.cf');
      expect(e.message.startsWith(`x.cf:${e.line}: `)).toBe(true);
    }
    expect(ce.message.split('\n')).toHaveLength(9);
  });

  it('keeps going after a broken section: the next one is checked too', () => {
    expect(codes(cf('virtual=nonsense:80', '\tscheduler=rr', 'virtual=10.0.0.1:80', '\treal=10.0.0.2 gate 99999')))
      .toEqual(['1 E_CONFIG_BAD_ADDRESS', '4 E_CONFIG_BAD_VALUE']);
  });
});
