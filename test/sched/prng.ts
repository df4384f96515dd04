/** A small seeded PRNG (mulberry32) so that the statistical tests are reproducible. */
export function mulberry32(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  };
}

/** `count` random flows: source addresses anywhere in IPv4, source ports 1024..65535. */
export function randomFlows(seed: number, count: number): { saddr: Uint32Array; sport: Uint16Array } {
  const r = mulberry32(seed);
  const saddr = new Uint32Array(count);
  const sport = new Uint16Array(count);
  for (let i = 0; i < count; i++) {
    saddr[i] = r();
    sport[i] = 1024 + (r() % 64512);
  }
  return { saddr, sport };
}
