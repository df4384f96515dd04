// Host checks (dsrlb doctor), testbed captures and recorded teaching runs.
export { startTestbedCapture, type CaptureOptions, type TestbedCapture } from './capture.ts';
export { recordScenario, RECORD_CONFIG, SCENARIOS, type RecordOptions, type RecordResult, type Scenario } from './record.ts';
export {
  runChecks, doctorOk, formatFindings, effective, arptablesRules, nftArpRules,
  type DoctorFinding, type DoctorOptions, type DoctorRole, type HostFacts, type AddrFact, type ArpProbeResult, type Status,
} from './checks.ts';
export { runChecks6, proxyEntries, type Addr6Fact, type Doctor6Options, type Host6Facts, type NdpProbeResult } from './checks6.ts';
export { gatherFacts, probeArp, probeNdp, type NdpProbeOptions, pickIface, pickIface6, parseIpAddrJson, parseIpAddr6Json, checkIfaceName, type GatherOptions, type ProbeOptions } from './facts.ts';
