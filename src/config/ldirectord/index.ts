export type {
  CheckService, CheckType, ConfigWarning, EmailAlertState, Fallback, ForwardMethod, HttpMethod,
  LdirectordConfig, LdirectordGlobals, LogTarget, Protocol, RealServer, SchedFlag, SchedFlags, Scheduler,
  VirtualService,
} from './types.ts';
export {
  LDIRECTORD_DEFAULTS, SUPPORTED_SCHEDULERS, KERNEL_ONLY_SCHEDULERS, CHECK_SERVICES, serviceForPort,
  portForService,
} from './constants.ts';
export { parseLdirectordConfig, checkPortFor, checkStringsFor } from './parse.ts';
export { realForwardPort } from './resolve.ts';
export { formatServices, schedFlagNames } from './format.ts';
export { DIRECTIVES, REFUSED, type DirectiveSpec } from './directives.ts';
export { DIRECTIVE_DOCS, type DirectiveDoc } from './directive-docs.ts';
