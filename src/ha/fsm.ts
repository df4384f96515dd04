/**
 * The failover state machine of one node of a pair, pure: events in (with `now`, ms), actions out.
 * The node wrapper (engine/ha-node.ts) does the I/O: it sends heartbeats carrying wireState(),
 * feeds authenticated peer heartbeats and clock ticks in, and runs the actions in order.
 *
 * Roles: init (just started: resources released, listening, waiting for the peer up to initdead),
 * standby, active (owns the resources), stopped (after an orderly shutdown). The peer is "dead" when
 * silent for deadtime (initdead before it was ever heard), "late" after warntime — or early, when
 * the transport saw the peer refuse heartbeats (ICMP port unreachable: its host is up, its daemon
 * is not) since its last heartbeat AND it has been silent for more than 1.5 × keepalive. The
 * silence is required so that a forged ICMP alone, while heartbeats keep arriving, changes nothing.
 *
 * Every role change is a row of TRANSITIONS, tried in order; the first whose guard holds wins.
 */
import type { AutoFailback } from '../config/index.ts';
import type { WireState } from './codec.ts';

export type Role = 'init' | 'standby' | 'active' | 'stopped';

export interface FsmConfig {
  self: string;
  peer: string;
  /** The haresources owner. */
  preferred: string;
  autoFailback: AutoFailback;
  deadtimeMs: number;
  warntimeMs: number;
  initdeadMs: number;
  /** The heartbeat interval; with it, a refused peer silent for more than 1.5 × keepalive is dead early. Absent: only deadtime. */
  keepaliveMs?: number;
}

export type FsmEvent =
  | { ev: 'start'; now: number }
  | { ev: 'tick'; now: number }
  /** An authenticated, fresh heartbeat from the peer. */
  | { ev: 'heartbeat'; now: number; state: WireState }
  /** The transport saw a heartbeat to the peer refused (ICMP port unreachable): its host is up, nothing listens. */
  | { ev: 'refused'; now: number; addr: string }
  | { ev: 'shutdown'; now: number };

export type FsmAction =
  /** Release anything a previous run may have left (start-up): the giveup steps, idempotent. */
  | { do: 'cleanup' }
  | { do: 'takeover'; reason: string }
  | { do: 'giveup'; reason: string }
  /** Tell the peer at once that we give the resources up (a status with st=stopping, repeated). */
  | { do: 'send-giveup' }
  /** Send our status now (the role changed). */
  | { do: 'announce' }
  /** Split brain won: announce the VIP again (gratuitous ARP) so every neighbour points here. */
  | { do: 'reannounce' }
  | { do: 'log'; level: 'info' | 'warn' | 'error'; code: string; msg: string };

export interface PeerView {
  heard: boolean;
  lastAt: number;
  state: WireState | null;
  late: boolean;
  dead: boolean;
  /** When a heartbeat to the peer was last refused since its last valid heartbeat (null: not since). */
  refusedAt: number | null;
}

interface Ctx {
  cfg: FsmConfig;
  now: number;
  startedAt: number;
  peer: PeerView;
  /** The peer's state before this event's heartbeat. */
  peerBefore: WireState | null;
  /** The peer had been declared dead before this event's heartbeat. */
  peerWasDead: boolean;
  event: FsmEvent;
}

type Guard = (c: Ctx) => boolean;
interface Transition {
  name: string;
  from: Role[];
  on: FsmEvent['ev'];
  when: Guard;
  to: Role;
  actions: (c: Ctx) => FsmAction[];
}

const preferredIsSelf: Guard = (c) => c.cfg.preferred === c.cfg.self;
const failback: Guard = (c) => c.cfg.autoFailback !== 'off';
const peerSays = (...s: WireState[]): Guard => (c) => c.event.ev === 'heartbeat' && s.includes(c.event.state);
const peerSilentTooLong: Guard = (c) =>
  c.peer.heard ? c.now - c.peer.lastAt >= c.cfg.deadtimeMs : c.now - c.startedAt >= c.cfg.initdeadMs;
/** Early death: refused since its last heartbeat and silent for more than 1.5 × keepalive (not before it was ever heard). */
const peerRefusedAndSilent: Guard = (c) =>
  c.peer.heard && c.peer.refusedAt !== null && c.cfg.keepaliveMs !== undefined && c.now - c.peer.lastAt > 1.5 * c.cfg.keepaliveMs;
const and = (...g: Guard[]): Guard => (c) => g.every((x) => x(c));
const not = (g: Guard): Guard => (c) => !g(c);
const always: Guard = () => true;

const take = (reason: string) => (): FsmAction[] => [{ do: 'takeover', reason }, { do: 'announce' }];

/** The transition table. */
export const TRANSITIONS: readonly Transition[] = [
  { name: 'start', from: ['init'], on: 'start', when: always, to: 'init', actions: () => [{ do: 'cleanup' }, { do: 'announce' }] },

  // Shutdown: an active node tells the peer first (so it takes over at once), then releases.
  { name: 'shutdown-active', from: ['active'], on: 'shutdown', when: always, to: 'stopped',
    actions: () => [{ do: 'send-giveup' }, { do: 'giveup', reason: 'shutdown' }] },
  { name: 'shutdown', from: ['init', 'standby'], on: 'shutdown', when: always, to: 'stopped', actions: () => [{ do: 'send-giveup' }] },

  // Not active: the peer gives up, or is dead, or nobody is active and we are preferred.
  { name: 'peer-gave-up', from: ['init', 'standby'], on: 'heartbeat', when: peerSays('stopping'), to: 'active', actions: take('the peer gave its resources up') },
  { name: 'initdead-expired', from: ['init'], on: 'tick', when: peerSilentTooLong, to: 'active', actions: take('the peer was not heard within initdead') },
  { name: 'peer-dead', from: ['standby'], on: 'tick', when: peerSilentTooLong, to: 'active', actions: take('the peer is dead (deadtime)') },
  // Early: the peer's host refuses our heartbeats (its daemon is gone) and it has been silent for
  // more than 1.5 × keepalive. On the refusal itself, or on a later tick once the silence is long enough.
  { name: 'peer-refused', from: ['standby'], on: 'refused', when: peerRefusedAndSilent, to: 'active', actions: take('the peer is dead (heartbeats refused, silent > 1.5 × keepalive)') },
  { name: 'peer-refused-silent', from: ['standby'], on: 'tick', when: peerRefusedAndSilent, to: 'active', actions: take('the peer is dead (heartbeats refused, silent > 1.5 × keepalive)') },
  { name: 'init-peer-active', from: ['init'], on: 'heartbeat', when: peerSays('active'), to: 'standby', actions: () => [{ do: 'announce' }] },
  { name: 'preferred-takes', from: ['init', 'standby'], on: 'heartbeat', when: and(peerSays('init', 'standby'), preferredIsSelf), to: 'active',
    actions: take('nobody is active and this is the preferred node') },
  { name: 'init-to-standby', from: ['init'], on: 'heartbeat', when: peerSays('init', 'standby'), to: 'standby', actions: () => [{ do: 'announce' }] },

  // Active: split brain (both active) resolves to the preferred node, which never stops serving.
  // (Once per split brain: while the peer keeps saying active, nothing more is done.)
  { name: 'split-brain-ongoing', from: ['active'], on: 'heartbeat', when: (c) => c.peerBefore === 'active' && !c.peerWasDead && peerSays('active')(c) && preferredIsSelf(c), to: 'active', actions: () => [] },
  { name: 'split-brain-keep', from: ['active'], on: 'heartbeat', when: and(peerSays('active'), preferredIsSelf), to: 'active',
    actions: () => [{ do: 'log', level: 'error', code: 'E_HA_SPLIT_BRAIN', msg: 'split brain: both nodes active; this (preferred) node keeps the resources' }, { do: 'reannounce' }, { do: 'announce' }] },
  { name: 'split-brain-yield', from: ['active'], on: 'heartbeat', when: and(peerSays('active'), not(preferredIsSelf)), to: 'standby',
    actions: () => [{ do: 'log', level: 'error', code: 'E_HA_SPLIT_BRAIN', msg: 'split brain: both nodes active; the preferred peer keeps the resources, this node gives them up' }, { do: 'giveup', reason: 'split brain' }, { do: 'announce' }] },
  // auto_failback on/legacy: the preferred node is back (standby): hand the resources over.
  // The peer was (or may have been, while we could not hear it) active too and is not now: a split
  // brain the peer resolved alone. Announce the VIP again: neighbours may have learnt its MAC.
  { name: 'peer-yielded', from: ['active'], on: 'heartbeat',
    when: (c) => (c.peerBefore === 'active' || c.peerWasDead) && peerSays('standby', 'stopping', 'init')(c), to: 'active',
    actions: () => [{ do: 'log', level: 'warn', code: 'W_HA_PEER_YIELDED', msg: 'the peer may have been active meanwhile and is not: announcing the VIP again' }, { do: 'reannounce' }] },
  { name: 'failback', from: ['active'], on: 'heartbeat', when: and(peerSays('standby'), not(preferredIsSelf), failback), to: 'standby',
    actions: () => [{ do: 'send-giveup' }, { do: 'giveup', reason: 'auto_failback: the preferred node is back' }, { do: 'announce' }] },
];

export function wireState(role: Role): WireState {
  return role === 'stopped' ? 'stopping' : role;
}

export class HaFsm {
  role: Role = 'init';
  startedAt = 0;
  readonly peer: PeerView = { heard: false, lastAt: 0, state: null, late: false, dead: false, refusedAt: null };
  /** Role changes, newest last (bounded). */
  readonly history: Array<{ at: number; from: Role; to: Role; transition: string }> = [];

  constructor(readonly cfg: FsmConfig) {}

  handle(event: FsmEvent): FsmAction[] {
    const out: FsmAction[] = [];
    const now = event.now;
    const peerBefore = this.peer.state;
    const peerWasDead = this.peer.dead;
    if (event.ev === 'start') this.startedAt = now;
    if (event.ev === 'heartbeat') {
      if (this.peer.dead || this.peer.late) out.push({ do: 'log', level: 'info', code: 'I_HA_PEER_BACK', msg: `peer ${this.cfg.peer} heard again (${event.state})` });
      else if (!this.peer.heard) out.push({ do: 'log', level: 'info', code: 'I_HA_PEER_UP', msg: `peer ${this.cfg.peer} is up (${event.state})` });
      this.peer.heard = true;
      this.peer.lastAt = now;
      this.peer.state = event.state;
      this.peer.late = false;
      this.peer.dead = false;
      this.peer.refusedAt = null;
    }
    if (event.ev === 'refused' && this.peer.heard) this.peer.refusedAt = now;
    if ((event.ev === 'tick' || event.ev === 'refused') && this.peer.heard && this.role !== 'stopped') {
      const silent = now - this.peer.lastAt;
      const k = this.cfg.keepaliveMs;
      if (!this.peer.dead && silent >= this.cfg.deadtimeMs) {
        this.peer.dead = true;
        out.push({ do: 'log', level: 'warn', code: 'W_HA_PEER_DEAD', msg: `peer ${this.cfg.peer} dead: silent for ${Math.round(silent)} ms (deadtime ${this.cfg.deadtimeMs})` });
      } else if (!this.peer.dead && this.peer.refusedAt !== null && k !== undefined && silent > 1.5 * k) {
        this.peer.dead = true;
        out.push({ do: 'log', level: 'warn', code: 'W_HA_PEER_DEAD_EARLY', msg: `peer ${this.cfg.peer} dead early: its host refuses our heartbeats (ICMP port unreachable, ${Math.round(now - this.peer.refusedAt)} ms ago) and it has been silent for ${Math.round(silent)} ms (> 1.5 × keepalive ${k}; deadtime ${this.cfg.deadtimeMs})` });
      } else if (event.ev === 'tick' && !this.peer.late && !this.peer.dead && silent >= this.cfg.warntimeMs) {
        this.peer.late = true;
        out.push({ do: 'log', level: 'warn', code: 'W_HA_LATE', msg: `late heartbeat from ${this.cfg.peer}: ${Math.round(silent)} ms (warntime ${this.cfg.warntimeMs})` });
      }
    }
    const ctx: Ctx = { cfg: this.cfg, now, startedAt: this.startedAt, peer: this.peer, peerBefore, peerWasDead, event };
    for (const t of TRANSITIONS) {
      if (t.on !== event.ev || !t.from.includes(this.role) || !t.when(ctx)) continue;
      const from = this.role;
      this.role = t.to;
      if (from !== t.to || t.name === 'split-brain-keep' || t.name === 'peer-yielded') {
        this.history.push({ at: now, from, to: t.to, transition: t.name });
        if (this.history.length > 64) this.history.shift();
      }
      out.push(...t.actions(ctx));
      break;
    }
    return out;
  }
}
