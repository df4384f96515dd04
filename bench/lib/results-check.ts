/**
 * The shape check of a results.json document, used by the run itself before it writes one, by
 * `--from` before it renders one, and by the tests (pure).
 */
import { IPV6_PATHS, IPV6_RATIO_KEYS, METRICS, PATHS, SCHEMA } from './results.ts';

function isSummary(x: unknown): boolean {
  if (x === null) return true;
  if (typeof x !== 'object') return false;
  const s = x as Record<string, unknown>;
  return ['median', 'min', 'max', 'n'].every((k) => typeof s[k] === 'number') && (s.min as number) <= (s.median as number) && (s.median as number) <= (s.max as number);
}

/** Problems with a results.json document (empty when it has the shape the issue asks for). */
export function validateResults(doc: unknown): string[] {
  const errs: string[] = [];
  if (typeof doc !== 'object' || doc === null) return ['not an object'];
  const r = doc as Record<string, any>;
  if (r.schema !== SCHEMA) errs.push(`schema is ${JSON.stringify(r.schema)}, not ${SCHEMA}`);
  for (const k of ['stamp', 'started_at', 'finished_at', 'command']) if (typeof r[k] !== 'string') errs.push(`${k} missing`);
  for (const k of ['os', 'kernel', 'cpus', 'node', 'versions']) if (r.machine?.[k] === undefined) errs.push(`machine.${k} missing`);
  if (typeof r.params?.rounds !== 'number') errs.push('params.rounds missing');
  if (!Array.isArray(r.rounds)) errs.push('rounds is not an array');
  for (const p of PATHS) {
    const pr = r.paths?.[p];
    if (!pr && IPV6_PATHS.includes(p) && r.ipv6_ratios === undefined) continue; // written before the IPv6 paths
    if (!pr) {
      errs.push(`paths.${p} missing`);
      continue;
    }
    if (!['ok', 'failed', 'skipped'].includes(pr.status)) errs.push(`paths.${p}.status is ${pr.status}`);
    if (pr.status !== 'ok' && typeof pr.reason !== 'string') errs.push(`paths.${p} is ${pr.status} without a reason`);
    for (const m of METRICS) {
      if (!(m in (pr.metrics ?? {}))) errs.push(`paths.${p}.metrics.${m} missing`);
      else if (!isSummary(pr.metrics[m])) errs.push(`paths.${p}.metrics.${m} is not {median,min,max,n} or null`);
    }
  }
  for (const k of ['dsrlb_over_nft', 'dsrlb_over_direct', 'dsrlb_over_cref']) {
    for (const m of METRICS) {
      const v = r.ratios?.[k]?.[m];
      if (v === undefined || (v !== null && typeof v !== 'number')) errs.push(`ratios.${k}.${m} missing`);
    }
  }
  if (r.ipv6_ratios !== undefined) {
    for (const k of IPV6_RATIO_KEYS) {
      for (const m of METRICS) {
        const v = r.ipv6_ratios?.[k]?.[m];
        if (v === undefined || (v !== null && typeof v !== 'number')) errs.push(`ipv6_ratios.${k}.${m} missing`);
        if (!isSummary(r.ipv6_ratios?.paired?.[k]?.[m] ?? null)) errs.push(`ipv6_ratios.paired.${k}.${m} is not {median,min,max,n} or null`);
      }
    }
  }
  if (!Array.isArray(r.targets)) errs.push('targets missing');
  return errs;
}
