export type {
  KeepalivedConfig, KeepalivedGlobals, KeepalivedParseOptions, VrrpAuth, VrrpInstanceConfig, VrrpScriptConfig, VrrpState,
  VrrpTrack, VrrpVip,
} from './types.ts';
export type { FileSource } from './lines.ts';
export { parseKeepalivedConfig } from './parse.ts';
export { keepalivedDirectives, keepalivedDirectiveTable, type KaDirectiveInfo } from './registry.ts';
export { convertKeepalived, type ConvertOptions, type Converted } from './convert.ts';
