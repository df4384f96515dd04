export type { AuthKey, AuthKeys, AuthMethod, AutoFailback, HaCf, HaMedium, HaResource, HaResourceGroup, HaResources } from './types.ts';
export { HA_DEFAULTS } from './types.ts';
export { parseHaCf, parseHaTime } from './hacf.ts';
export { parseHaResources, DEFAULT_LDIRECTORD_CF } from './haresources.ts';
export { parseAuthkeys, checkAuthkeysMode } from './authkeys.ts';
export { resolveHaSetup, type HaSetup } from './resolve.ts';
export { HA_KNOWN_DIRECTIVES, HA_UNSUPPORTED_DIRECTIVES } from './hacf.ts';
export { HA_DIRECTIVE_DOCS, type HaDirectiveDoc } from './directive-docs.ts';
