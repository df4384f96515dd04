// Pure capture analysis for teaching DSR: roles, flows, ladder diagrams (text, SVG, HTML), findings.
export { mergeCaptures, flagText, LINKTYPE_ETHERNET, BROADCAST_MAC, type CaptureInput, type CaptureRecord, type WireFrame, type Sighting, type ArpInfo, type IpInfo, type L4Info } from './frames.ts';
export { inferRoles, findForwards, RoleFacts, RoleMarks, hostLabel, roleText, isMulticastMac, type Host, type Role, type Roles, type Service, type RoleOptions } from './roles.ts';
export { endpoint, type Arrow, type ArrowKind, type Flow } from './flows.ts';
export { buildFlows, FlowBuilder, UNBOUNDED, DEFAULT_MAX_FLOWS, DEFAULT_MAX_FLOW_FRAMES, DEFAULT_MAX_OPEN_FLOWS, type FlowBounds, type FlowSpans, type UndrawnCounts } from './flow-builder.ts';
export { findProblems, type Finding, type Severity, type FindingOptions, type FindingTotals } from './findings.ts';
export { explainCaptures, explainSources, flowVerdict, type Explanation, type ExplainOptions, type StreamExplainOptions, type CaptureSummary } from './explain.ts';
export { FrameMerger, mergeStreams, memorySources, wireFrames, DEFAULT_WINDOW_MS, DEFAULT_WINDOW_FRAMES, type CaptureSource, type CaptureStream, type StreamRecord, type StreamBounds, type MergedFrame } from './stream.ts';
export { Evidence, DEFAULT_MAX_SAMPLES } from './evidence.ts';
export { renderText, renderFlowText, renderRolesText, type TextOptions } from './text.ts';
export { renderSvg, renderFlowSvg, xmlEscape, ARROW_COLORS, ARROW_MEANING, type SvgOptions } from './svg.ts';
export { renderHtml, type HtmlOptions } from './html.ts';
