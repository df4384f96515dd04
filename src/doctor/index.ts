// Host checks (dsrlb doctor), testbed captures and recorded teaching runs.
export { startTestbedCapture, type CaptureOptions, type TestbedCapture } from './capture.ts';
export { recordScenario, RECORD_CONFIG, SCENARIOS, type RecordOptions, type RecordResult, type Scenario } from './record.ts';
