/** BGP announcement of the VIPs through BIRD 2 (pure: policy, options, configuration text). docs/design/bgp.md */
export { servableVips, allVips, planAnnouncements, planIsEmpty, type PolicyInput, type ServiceView, type RealView, type AnnouncementPlan } from './policy.ts';
export { BGP_KEYS, parseBgpOption, parseBgpFile, parseBgpPairs, isIpv4, type BgpOptions } from './options.ts';
export { renderDirectorBird, renderRouterBird, VIPS_PROTOCOL, type DirectorBirdParams, type RouterBirdParams } from './bird-config.ts';
