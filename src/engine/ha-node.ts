/**
 * One node of a failover pair: the pure state machine (ha/fsm.ts) wired to a heartbeat transport,
 * a clock and the resources. Heartbeats carrying this node's state go to the peer every keepalive
 * (and at once when the state changes); what arrives is authenticated and checked against replay
 * before the state machine sees it — bad, forged, replayed and foreign messages are only counted
 * and logged (at most once a second per kind). Resource actions run one after another, in the
 * order the state machine gave them; heartbeats go on meanwhile.
 */
import type { AuthKey, AutoFailback } from '../config/index.ts';
import {
  decodeMessage, decodeSyncBatch, encodeMessage, encodeSyncBatch, HaFsm, ReplayGuard, wireState,
  type FsmAction, type FsmEvent, type Role, type SyncConn, type WireState,
} from '../ha/index.ts';
import type { Clock, HaTransport, Logger } from '../ports/index.ts';

export interface HaResourceOps {
  /** Start-up: release whatever a crashed run left (the giveup steps, idempotent). */
  cleanup(): Promise<void>;
  takeover(): Promise<void>;
  giveup(): Promise<void>;
  /** Announce the VIPs again (gratuitous ARP) without interrupting service. */
  reannounce(): Promise<void>;
}

export interface HaNodeOptions {
  self: string;
  peer: string;
  preferred: string;
  autoFailback: AutoFailback;
  keepaliveMs: number;
  deadtimeMs: number;
  warntimeMs: number;
  initdeadMs: number;
  /** The key this node signs with, and every key it accepts. */
  signKey: AuthKey;
  keys: ReadonlyMap<number, AuthKey>;
  /** This run's generation: must grow from one start to the next (wall-clock ms at start does). */
  generation: number;
  /** Copies of the giveup message (default 3). */
  giveupCopies?: number;
  /** State machine tick (default keepalive / 20, between 5 and 50 ms): how late a dead peer may be noticed. */
  tickMs?: number;
}

export interface HaNodeDeps {
  transport: HaTransport;
  clock: Clock;
  resources: HaResourceOps;
  log: Logger;
}

export interface HaCounters {
  sent: number;
  received: number;
  accepted: number;
  malformed: number;
  forged: number;
  replayed: number;
  /** Copies of the last accepted message (several media deliver each message once per medium). */
  duplicates: number;
  foreign: number;
  /** Heartbeats to the peer refused (ICMP port unreachable on a unicast medium). */
  refused: number;
  takeovers: number;
  giveups: number;
  splitBrains: number;
  resourceErrors: number;
  /** Connection sync: messages and connections sent and received. */
  syncMessagesSent: number;
  syncConnsSent: number;
  syncMessagesReceived: number;
  syncConnsReceived: number;
}

export interface HaStatus {
  self: string;
  peer: string;
  preferred: string;
  role: Role;
  autoFailback: AutoFailback;
  timers: { keepaliveMs: number; deadtimeMs: number; warntimeMs: number; initdeadMs: number };
  peerState: WireState | null;
  peerHeard: boolean;
  peerDead: boolean;
  /** Milliseconds since the last valid heartbeat from the peer (null: never heard). */
  lastHeartbeatAgoMs: number | null;
  peerGeneration: number | null;
  generation: number;
  /** A resource action is running. */
  busy: boolean;
  counters: HaCounters;
  history: Array<{ agoMs: number; from: Role; to: Role; transition: string }>;
}

type BadKind = 'malformed' | 'forged' | 'replayed' | 'foreign';

export class HaNode {
  readonly fsm: HaFsm;
  private readonly guard = new ReplayGuard();
  private seq = 0;
  private nextSendAt = 0;
  private stopTimer: (() => void) | null = null;
  private chain: Promise<void> = Promise.resolve();
  private busyCount = 0;
  private readonly lastBadLog = new Map<BadKind, number>();
  readonly counters: HaCounters = {
    sent: 0, received: 0, accepted: 0, malformed: 0, forged: 0, replayed: 0, duplicates: 0, foreign: 0, refused: 0,
    takeovers: 0, giveups: 0, splitBrains: 0, resourceErrors: 0,
    syncMessagesSent: 0, syncConnsSent: 0, syncMessagesReceived: 0, syncConnsReceived: 0,
  };
  /** Connections the peer synchronised to us (authenticated, fresh). */
  onSync: ((conns: SyncConn[]) => void) | null = null;
  /** Called after every role change (tests and the CLI log it). */
  onRole: ((role: Role) => void) | null = null;
  /** The reason of the last takeover or giveup the state machine ordered (the web console shows it). */
  lastActionReason: string | null = null;

  constructor(private readonly o: HaNodeOptions, private readonly deps: HaNodeDeps) {
    this.fsm = new HaFsm({
      self: o.self, peer: o.peer, preferred: o.preferred, autoFailback: o.autoFailback,
      deadtimeMs: o.deadtimeMs, warntimeMs: o.warntimeMs, initdeadMs: o.initdeadMs, keepaliveMs: o.keepaliveMs,
    });
  }

  get role(): Role {
    return this.fsm.role;
  }

  /** Starts listening and sending; resolves when the start-up clean-up is done. */
  async start(): Promise<void> {
    const { transport, clock } = this.deps;
    transport.onMessage((m) => this.onDatagram(m));
    // Optional: only unicast media can tell that the peer's host refuses our heartbeats.
    transport.onRefused?.((addr) => {
      this.counters.refused++;
      this.dispatch({ ev: 'refused', now: clock.now(), addr });
    });
    this.dispatch({ ev: 'start', now: clock.now() });
    const tickMs = this.o.tickMs ?? Math.min(50, Math.max(5, Math.floor(this.o.keepaliveMs / 20)));
    this.stopTimer = clock.every(tickMs, () => this.tick());
    await this.idle();
  }

  /** Orderly shutdown: giveup to the peer (when active), resources released, transport closed. */
  async stop(): Promise<void> {
    if (this.fsm.role !== 'stopped') this.dispatch({ ev: 'shutdown', now: this.deps.clock.now() });
    this.stopTimer?.();
    this.stopTimer = null;
    await this.idle();
    await this.deps.transport.close();
  }

  /** Resolves when every queued resource action has run. */
  idle(): Promise<void> {
    return this.chain;
  }

  private tick(): void {
    const now = this.deps.clock.now();
    this.dispatch({ ev: 'tick', now });
    if (now >= this.nextSendAt) this.sendStatus(wireState(this.fsm.role));
  }

  private sendStatus(st: WireState): void {
    const now = this.deps.clock.now();
    this.nextSendAt = now + this.o.keepaliveMs;
    const msg = encodeMessage({ t: 'status', src: this.o.self, dest: this.o.peer, gen: this.o.generation, seq: ++this.seq, st }, this.o.signKey);
    this.deps.transport.send(msg);
    this.counters.sent++;
  }

  /** Sends connections to the peer (IPVS sync-daemon style), authenticated like the heartbeats. */
  sendSync(batch: readonly SyncConn[]): void {
    if (batch.length === 0) return;
    const msg = encodeMessage(
      { t: 'sync', src: this.o.self, dest: this.o.peer, gen: this.o.generation, seq: ++this.seq, st: wireState(this.fsm.role), extra: { c: encodeSyncBatch(batch) } },
      this.o.signKey,
    );
    this.deps.transport.send(msg);
    this.counters.syncMessagesSent++;
    this.counters.syncConnsSent += batch.length;
  }

  private bad(kind: BadKind, detail: string): void {
    this.counters[kind]++;
    const now = this.deps.clock.now();
    const last = this.lastBadLog.get(kind);
    if (last !== undefined && now - last < 1000) return;
    this.lastBadLog.set(kind, now);
    this.deps.log.warn({ kind, detail, count: this.counters[kind] }, `heartbeat ignored: ${kind}`);
  }

  /** Everything that arrives goes through here: only an authentic, fresh status from the peer reaches the state machine. */
  private onDatagram(buf: Uint8Array): void {
    this.counters.received++;
    const d = decodeMessage(buf, this.o.keys);
    if (!d.ok) {
      this.bad(d.reason === 'malformed' || d.reason === 'too-big' ? 'malformed' : 'forged', `${d.reason}: ${d.detail}`);
      return;
    }
    const m = d.msg;
    if (m.src !== this.o.peer || (m.dest !== '' && m.dest !== this.o.self)) {
      this.bad('foreign', `from ${m.src} to ${m.dest}`);
      return;
    }
    const fresh = this.guard.check(m.src, m.gen, m.seq);
    if (fresh === 'duplicate' || fresh === 'late') {
      // A copy through another medium, or a message lost on one medium and late on the other: never acted on.
      this.counters.duplicates++;
      return;
    }
    if (fresh !== 'fresh') {
      this.bad('replayed', `${fresh}: gen ${m.gen} seq ${m.seq}`);
      return;
    }
    if (m.t === 'sync') {
      const conns = decodeSyncBatch(m.extra?.c ?? '');
      if (conns === null) {
        this.bad('malformed', 'sync batch');
        return;
      }
      this.counters.syncMessagesReceived++;
      this.counters.syncConnsReceived += conns.length;
      this.onSync?.(conns);
      return;
    }
    if (m.t !== 'status') {
      this.bad('malformed', `unknown message type ${m.t}`);
      return;
    }
    this.counters.accepted++;
    this.dispatch({ ev: 'heartbeat', now: this.deps.clock.now(), state: m.st });
  }

  private dispatch(e: FsmEvent): void {
    const before = this.fsm.role;
    const actions = this.fsm.handle(e);
    for (const a of actions) this.run(a);
    if (this.fsm.role !== before) {
      this.deps.log.info({ from: before, to: this.fsm.role, on: e.ev }, `ha: ${before} -> ${this.fsm.role}`);
      this.onRole?.(this.fsm.role);
    }
  }

  private run(a: FsmAction): void {
    const { log, resources } = this.deps;
    switch (a.do) {
      case 'log':
        if (a.code === 'E_HA_SPLIT_BRAIN') this.counters.splitBrains++;
        log[a.level]({ code: a.code }, a.msg);
        return;
      case 'announce':
        this.sendStatus(wireState(this.fsm.role));
        return;
      case 'send-giveup':
        for (let i = 0; i < (this.o.giveupCopies ?? 3); i++) this.sendStatus('stopping');
        return;
      case 'takeover':
        this.counters.takeovers++;
        this.lastActionReason = a.reason;
        log.info({ reason: a.reason }, 'ha: taking the resources over');
        this.queue('takeover', () => resources.takeover());
        return;
      case 'giveup':
        this.counters.giveups++;
        this.lastActionReason = a.reason;
        log.info({ reason: a.reason }, 'ha: giving the resources up');
        this.queue('giveup', () => resources.giveup());
        return;
      case 'cleanup':
        this.queue('cleanup', () => resources.cleanup());
        return;
      case 'reannounce':
        this.queue('reannounce', () => resources.reannounce());
        return;
    }
  }

  private queue(what: string, fn: () => Promise<void>): void {
    this.busyCount++;
    const t0 = this.deps.clock.now();
    this.chain = this.chain.then(fn).then(
      () => {
        this.busyCount--;
        this.deps.log.info({ what, ms: Math.round(this.deps.clock.now() - t0) }, `ha: ${what} done`);
      },
      (e: unknown) => {
        this.busyCount--;
        this.counters.resourceErrors++;
        this.deps.log.error({ what, err: (e as Error).message }, `ha: ${what} failed`);
      },
    );
  }

  status(): HaStatus {
    const now = this.deps.clock.now();
    const p = this.fsm.peer;
    return {
      self: this.o.self, peer: this.o.peer, preferred: this.o.preferred, role: this.fsm.role, autoFailback: this.o.autoFailback,
      timers: { keepaliveMs: this.o.keepaliveMs, deadtimeMs: this.o.deadtimeMs, warntimeMs: this.o.warntimeMs, initdeadMs: this.o.initdeadMs },
      peerState: p.state, peerHeard: p.heard, peerDead: p.dead,
      lastHeartbeatAgoMs: p.heard ? Math.round(now - p.lastAt) : null,
      peerGeneration: this.guard.lastOf(this.o.peer)?.gen ?? null,
      generation: this.o.generation,
      busy: this.busyCount > 0,
      counters: { ...this.counters },
      history: this.fsm.history.map((h) => ({ agoMs: Math.round(now - h.at), from: h.from, to: h.to, transition: h.transition })),
    };
  }
}
