// Health checks: ldirectord's checks (checks/, the I/O), the policy that turns results into table
// changes (policy.ts, pure), the config-time validation, and the runner that ties them to a clock.
export type {
  CheckerName, CheckKind, CheckSpec, ConnectSpec, HttpSpec, SimpleTcpSpec, DnsSpec, PingSpec, ExternalSpec, NoneSpec,
  CheckResult, Checker, CheckerRegistry, VirtualRef, RealRef, RealChangeEvent, FallbackEvent, CheckEvent, HealthSink,
  RealHealthStatus, VirtualHealthStatus, HealthUpdateSummary,
} from './types.ts';
export { specBoundMs } from './types.ts';
export { validateChecks } from './validate.ts';
export {
  specFor, httpUrlFor, kindsOf, policySettingsFor, virtualKey, realKey, virtualRef, realRef, NEGOTIATE_SERVICES,
  type SpecResult, type SpecProblem, type SpecKind,
} from './spec.ts';
export {
  step, stepReal, nextKind, newRealState, settleFallback, startVirtual, reconcileVirtual,
  type RealHealthState, type RealPolicySettings, type VirtualHealthState, type VirtualPolicySettings,
  type CheckOutcome, type RealChange, type FallbackChange, type FallbackTarget, type StepResult,
} from './policy.ts';
export { maintenanceNames } from './maintenance.ts';
export { compileReceive, perlMatch } from './receive.ts';
export {
  encodeQuery, encodeMessage, decodeMessage, judgeDnsAnswer, reverseName, DNS_TYPE, DNS_CLASS_IN,
  type DnsMessage, type DnsRecord, type DnsQuestion,
} from './dns-message.ts';
export { defaultCheckers } from './checks/index.ts';
export { fsMaintenanceProbe, shellCommandRunner, type MaintenanceProbe, type CommandRunner } from './host.ts';
export { HealthMonitor, type HealthMonitorOptions } from './runner.ts';
