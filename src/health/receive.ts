/**
 * ldirectord's `receive` is a Perl regular expression matched with `=~ /$receive/` (no flags). dsrlb
 * compiles it as a JavaScript RegExp: the common syntax is the same. One Perl rule is kept by hand:
 * without /m, Perl's `$` also matches before a final newline.
 */

/** The compiled receive pattern, or the reason it does not compile. '' compiles to null (no check). */
export function compileReceive(receive: string): { ok: true; re: RegExp | null } | { ok: false; error: string } {
  if (receive === '') return { ok: true, re: null };
  try {
    return { ok: true, re: new RegExp(receive) };
  } catch (e) {
    return { ok: false, error: (e as Error).message };
  }
}

/** Does `text` contain a match of `re`, with Perl's `$` before a final newline. */
export function perlMatch(re: RegExp, text: string): boolean {
  re.lastIndex = 0;
  if (re.test(text)) return true;
  if (text.endsWith('\n')) {
    re.lastIndex = 0;
    return re.test(text.slice(0, -1));
  }
  return false;
}
