// dns-packet's record-type table (its types.js), which @types/dns-packet does not declare.
declare module 'dns-packet/types.js' {
  const types: { toString(type: number): string; toType(name: string): number };
  export default types;
}
