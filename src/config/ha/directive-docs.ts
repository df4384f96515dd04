/**
 * What the documentation says of each ha.cf directive dsrlb knows: syntax, default, what dsrlb does.
 * docs/ha-config.md and docs/configuration.md carry a table generated from this (`npm run docs`),
 * and a test fails when HA_KNOWN_DIRECTIVES (hacf.ts) and this list differ. The directives dsrlb
 * reads but does not implement (HA_UNSUPPORTED_DIRECTIVES) are listed in one generated row.
 */

export interface HaDirectiveDoc {
  syntax: string;
  default: string;
  dsrlb: string;
}

export const HA_DIRECTIVE_DOCS: Readonly<Record<string, HaDirectiveDoc>> = {
  keepalive: { syntax: 'keepalive T', default: '1 s', dsrlb: 'interval between heartbeats; must be shorter than deadtime (error)' },
  deadtime: { syntax: 'deadtime T', default: '30 s', dsrlb: 'a peer silent this long is dead: the standby takes over' },
  warntime: { syntax: 'warntime T', default: 'deadtime / 2', dsrlb: 'a peer silent this long is logged as late (`W_HA_LATE`); must be shorter than deadtime' },
  initdead: { syntax: 'initdead T', default: 'deadtime', dsrlb: 'dead time right after start-up, before the peer was ever heard; must not be shorter than deadtime, warned when under twice deadtime' },
  udpport: { syntax: 'udpport N', default: '694', dsrlb: 'port of `ucast` and `bcast` heartbeats' },
  ucast: { syntax: 'ucast IF ADDR…', default: '–', dsrlb: 'heartbeats to ADDR; an address of this host is skipped, so one file can list both nodes' },
  bcast: { syntax: 'bcast IF…', default: '–', dsrlb: 'heartbeats to IF\'s broadcast address' },
  mcast: { syntax: 'mcast IF GROUP PORT TTL LOOP', default: '–', dsrlb: 'heartbeats to a multicast group' },
  node: { syntax: 'node NAME…', default: '–', dsrlb: 'the cluster members; dsrlb runs pairs: exactly two (`E_HA_NODES`)' },
  auto_failback: { syntax: 'auto_failback on\\|off\\|legacy', default: 'legacy (warned, as heartbeat does)', dsrlb: 'whether the resources go back to their owner when it returns (`legacy` behaves as `on` between two dsrlb nodes)' },
  nice_failback: { syntax: 'nice_failback on\\|off', default: '–', dsrlb: 'the pre-1.2 spelling, read as `auto_failback off\\|on` (warned)' },
  logfacility: { syntax: 'logfacility F', default: 'none (stdout when no log directive is set)', dsrlb: 'the node\'s log lines go to syslog facility F (`local0`…`local7`, `daemon`, …) through `/dev/log`; `none`: no syslog' },
  logfile: { syntax: 'logfile PATH', default: '–', dsrlb: 'the log lines are also appended to PATH (JSON lines; reopened on SIGHUP)' },
  debugfile: { syntax: 'debugfile PATH', default: '–', dsrlb: 'every line, debug ones too, is appended to PATH (JSON lines; reopened on SIGHUP)' },
  respawn: { syntax: 'respawn USER CMD', default: '–', dsrlb: 'parsed, **not run** (`W_HA_UNSUPPORTED`)' },
  ping: { syntax: 'ping ADDR…', default: '–', dsrlb: 'parsed, **not used**: no ipfail (`W_HA_UNSUPPORTED`)' },
};
