// Pure capture analysis for teaching DSR: roles, flows, ladder diagrams (text, SVG, HTML), findings.
export { mergeCaptures, flagText, LINKTYPE_ETHERNET, BROADCAST_MAC, type CaptureInput, type CaptureRecord, type WireFrame, type Sighting, type ArpInfo, type IpInfo, type L4Info } from './frames.ts';
export { inferRoles, findForwards, hostLabel, roleText, isMulticastMac, type Host, type Role, type Roles, type Service, type RoleOptions } from './roles.ts';
export { buildFlows, type Arrow, type ArrowKind, type Flow } from './flows.ts';
export { findProblems, type Finding, type Severity, type FindingOptions } from './findings.ts';
export { explainCaptures, flowVerdict, type Explanation, type ExplainOptions, type CaptureSummary } from './explain.ts';
export { renderText, renderFlowText, renderRolesText, type TextOptions } from './text.ts';
export { renderSvg, renderFlowSvg, xmlEscape, ARROW_COLORS, ARROW_MEANING, type SvgOptions } from './svg.ts';
export { renderHtml, type HtmlOptions } from './html.ts';
