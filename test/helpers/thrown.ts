/**
 * What `fn` threw, for assertions on an error's several fields; throws itself when `fn` returned,
 * so the assertions that follow are never skipped (no try/catch with expects in the catch).
 */
export function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (e) {
    return e;
  }
  throw new Error('expected a throw, but it returned');
}
