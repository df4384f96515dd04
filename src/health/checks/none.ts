/** service=none under checktype=negotiate: no check, the real is up (ldirectord check_none). */
import type { Checker, NoneSpec } from '../types.ts';

export const noneCheck: Checker<NoneSpec> = async () => ({ ok: true, detail: 'service none: not checked' });
