/** docs/errors.md's table of frame drop reasons is the code's own list (DROP_REASON_NAMES / DROP_REASON_HELP), in order. */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';
import { DROP_REASON_HELP, DROP_REASON_NAMES } from '../../src/dataplane/index.ts';

it('docs/errors.md lists every drop reason with the help text the code prints, and nothing else', () => {
  const md = readFileSync(fileURLToPath(new URL('../../docs/errors.md', import.meta.url)), 'utf8');
  const block = /<!-- drop-reasons:begin -->([\s\S]*?)<!-- drop-reasons:end -->/.exec(md);
  expect(block, 'the drop-reasons block markers').not.toBeNull();
  const rows = [...block![1]!.matchAll(/^\| `([a-z0-9-]+)` \| (.*) \|$/gm)].map((m) => [m[1], m[2]!.replace(/\\\|/g, '|')]);
  const expected = DROP_REASON_NAMES.filter((n) => n !== 'none').map((n) => [n, DROP_REASON_HELP[n]]);
  expect(rows).toEqual(expected);
  for (const [n, help] of expected) expect(help, `DROP_REASON_HELP['${n}']`).toBeTruthy();
});
