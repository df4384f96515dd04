/**
 * N packet workers seen as one packet path (dsrlb run --workers N). The Director talks to the
 * group exactly as to one worker; the group
 * - sends every request to every worker (a change of the table, a weight from the health checks,
 *   quiesce, setActive, flush, zero, a connection-sync import: each worker owns a table and must
 *   hold the same services), waits for all N answers and gives the Director one: the first failure
 *   in worker order if any worker refused, else the workers' snapshots combined (combine.ts);
 * - relays the reals' ARP frames a worker received (ev 'arp') to the other workers (op
 *   'arpInput'), since the fan-out hash hands each frame to one worker only;
 * - passes the Director what one worker would say: neighbour events and 'started' from worker 0
 *   only (every worker's resolver follows the same frames, so worker 0 speaks for all), everything
 *   else as it comes;
 * - reports the end of ANY worker as the end of the packet path: the Director then stops, as it
 *   does when its single worker dies; it never runs on with fewer workers.
 * With one handle, the handle itself is returned: one worker behaves exactly as before.
 */
import type { PacketPathHandle } from '../ports/index.ts';
import { combineSnapshots } from './combine.ts';
import type { FromPacket, PacketSnapshot, ToPacket } from './protocol.ts';

/** Ids of the group's own messages (ARP relays): their answers are not the Director's. */
const RELAY_ID = -1;
/** Requests waiting for all answers, at most (the oldest is forgotten first). */
const MAX_PENDING = 4096;

interface Pending {
  answers: Array<FromPacket & { ev: 'reply' } | undefined>;
  left: number;
}

export function groupPacketPaths(paths: readonly PacketPathHandle[]): PacketPathHandle {
  if (paths.length === 0) throw new RangeError('groupPacketPaths: no packet path');
  if (paths.length === 1) return paths[0]!;
  const n = paths.length;
  const pending = new Map<number, Pending>();
  let listener: ((m: unknown) => void) | null = null;
  const early: unknown[] = [];
  const emit = (m: unknown) => (listener ? listener(m) : early.push(m));

  const onReply = (i: number, m: FromPacket & { ev: 'reply' }) => {
    const p = pending.get(m.id);
    if (p === undefined || p.answers[i] !== undefined) return;
    p.answers[i] = m;
    if (--p.left > 0) return;
    pending.delete(m.id);
    const answers = p.answers as Array<FromPacket & { ev: 'reply' }>;
    const failed = answers.find((a) => !a.ok);
    if (failed) {
      emit(failed);
      return;
    }
    const snaps = answers.map((a) => (a.ok ? a.snapshot : undefined)).filter((s): s is PacketSnapshot => s !== undefined);
    emit({ ev: 'reply', id: m.id, ok: true, snapshot: snaps.length === n ? combineSnapshots(snaps) : snaps[0] } satisfies FromPacket);
  };

  paths.forEach((path, i) => {
    path.onMessage((raw) => {
      const m = raw as FromPacket;
      switch (m.ev) {
        case 'reply':
          if (m.id !== RELAY_ID) onReply(i, m);
          return;
        case 'arp':
          paths.forEach((other, j) => {
            if (j !== i) other.post({ op: 'arpInput', id: RELAY_ID, frame: m.frame } satisfies ToPacket);
          });
          return;
        case 'neigh':
        case 'started':
          if (i === 0) emit(m);
          return;
        default:
          emit(m);
      }
    });
  });

  return {
    pid: paths[0]!.pid,
    post(raw) {
      const msg = raw as ToPacket;
      // A request a worker never answers (the Director gave up on it) must not stay forever.
      if (pending.size >= MAX_PENDING) pending.delete(pending.keys().next().value!);
      pending.set(msg.id, { answers: new Array(n).fill(undefined), left: n });
      let ok = true;
      for (const p of paths) ok = p.post(msg) && ok;
      if (!ok) pending.delete(msg.id);
      return ok;
    },
    onMessage(cb) {
      listener = cb;
      for (const m of early.splice(0)) cb(m);
    },
    onExit(cb) {
      let told = false;
      paths.forEach((p, i) => p.onExit((why) => {
        if (told) return;
        told = true;
        cb(`packet worker ${i} of ${n} (pid ${p.pid}) ended: ${why}`);
      }));
    },
    async stop() {
      const r = await Promise.allSettled(paths.map((p) => p.stop()));
      const bad = r.find((x): x is PromiseRejectedResult => x.status === 'rejected');
      if (bad) throw bad.reason;
    },
  };
}
