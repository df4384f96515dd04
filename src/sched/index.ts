/**
 * The IPVS schedulers, making the same choices as Linux 6.1 for the same list order and traffic.
 * See each file for the kernel function it follows; docs of the life cycle are in types.ts.
 */
import { DsrlbError } from '../errors/index.ts';
import type { SchedFlags, SchedName, SchedOptions, Scheduler } from './types.ts';
import { RoundRobinScheduler } from './rr.ts';
import { WeightedRoundRobinScheduler } from './wrr.ts';
import { LeastConnScheduler } from './lc.ts';
import { WeightedLeastConnScheduler } from './wlc.ts';
import { ShortestExpectedDelayScheduler } from './sed.ts';
import { NeverQueueScheduler } from './nq.ts';
import { SourceHashScheduler } from './sh.ts';
import { DestHashScheduler } from './dh.ts';
import { MaglevScheduler } from './mh.ts';

export type { DestChange, SchedFlags, SchedName, SchedOptions, Scheduler } from './types.ts';
export { RoundRobinScheduler } from './rr.ts';
export { WeightedRoundRobinScheduler } from './wrr.ts';
export { LeastConnScheduler, connOverhead } from './lc.ts';
export { WeightedLeastConnScheduler } from './wlc.ts';
export { ShortestExpectedDelayScheduler } from './sed.ts';
export { NeverQueueScheduler } from './nq.ts';
export { SourceHashScheduler, SH_TAB_SIZE, shBucket } from './sh.ts';
export { DestHashScheduler, DH_TAB_SIZE } from './dh.ts';
export { MaglevScheduler, MH_TABLE_SIZES, MH_DEFAULT_TABLE_SIZE, MH_KEY1, MH_KEY2, mhHash } from './mh.ts';
export {
  hash32, hsiphash1u32, hsiphash2u32, hsiphash3u32, hsiphash4u32, hsiphashBytes, siphash24Bytes, sipKey,
} from './hash.ts';
export type { SipKey } from './hash.ts';
export { scheduleIPv6 } from './ipv6.ts';

/** Every scheduler name, in ipvsadm's documentation order. */
export const SCHEDULERS: readonly SchedName[] = ['rr', 'wrr', 'lc', 'wlc', 'sed', 'nq', 'sh', 'dh', 'mh'];

export function isSchedName(s: string): s is SchedName {
  return (SCHEDULERS as readonly string[]).includes(s);
}

/**
 * A new scheduler for one virtual service.
 *
 * The -b flags are service bits in the kernel (IP_VS_SVC_F_SCHED1 = sh-fallback = mh-fallback,
 * IP_VS_SVC_F_SCHED2 = sh-port = mh-port), so, as with ipvsadm, `mhPort` on an sh service acts as
 * sh-port and the other way round. rr, wrr, lc, wlc, sed, nq and dh ignore them.
 */
export function createScheduler(name: SchedName, flags: SchedFlags = {}, opts: SchedOptions = {}): Scheduler {
  const sched1 = !!(flags.shFallback || flags.mhFallback);
  const sched2 = !!(flags.shPort || flags.mhPort);
  switch (name) {
    case 'rr': return new RoundRobinScheduler();
    case 'wrr': return new WeightedRoundRobinScheduler();
    case 'lc': return new LeastConnScheduler();
    case 'wlc': return new WeightedLeastConnScheduler();
    case 'sed': return new ShortestExpectedDelayScheduler();
    case 'nq': return new NeverQueueScheduler();
    case 'sh': return new SourceHashScheduler(sched2, sched1);
    case 'dh': return new DestHashScheduler();
    case 'mh': return new MaglevScheduler(sched2, sched1, opts.mhTableSize);
    default:
      throw new DsrlbError('E_SCHED_UNKNOWN',
        `unknown scheduler ${JSON.stringify(name as string)} (known: ${SCHEDULERS.join(' ')})`);
  }
}

/**
 * Parses ipvsadm's -b list ("sh-port", "mh-fallback", "flag-1", ... as separate items or one
 * comma-separated string). flag-1/flag-2 are the raw bits SCHED1/SCHED2; flag-3 (SCHED3) is accepted
 * and ignored, since none of these schedulers reads it.
 */
export function parseSchedFlags(items: readonly string[] | string): SchedFlags {
  const list = typeof items === 'string' ? items.split(',') : items.flatMap((s) => s.split(','));
  const out: SchedFlags = {};
  for (const raw of list) {
    const f = raw.trim();
    if (f === '') continue;
    switch (f) {
      case 'sh-fallback': out.shFallback = true; break;
      case 'sh-port': out.shPort = true; break;
      case 'mh-fallback': out.mhFallback = true; break;
      case 'mh-port': out.mhPort = true; break;
      case 'flag-1': out.shFallback = true; out.mhFallback = true; break;
      case 'flag-2': out.shPort = true; out.mhPort = true; break;
      case 'flag-3': break;
      default:
        throw new DsrlbError('E_SCHED_FLAG', `unknown scheduler flag ${JSON.stringify(f)}`);
    }
  }
  return out;
}
