/**
 * A small, fast, seeded PRNG (sfc32, seeded through splitmix32) and a weighted picker (Vose's
 * alias method). The load engine draws a request and a body variant for every request, so both
 * are allocation-free per draw; the seed makes the body and mix sequence reproducible.
 */

const TWO_32 = 4294967296;

const GOLDEN = 0x9e3779b9;

/** splitmix32's output mixer: a good 32-bit avalanche for seeding (and for deriving seeds). */
function mix32(state: number): number {
  let z = state | 0;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  return (z ^ (z >>> 16)) >>> 0;
}

/** The low and high 32 bits of a seed: any finite number is accepted (negative, > 2^32). */
function seedWords(seed: number): [number, number] {
  if (!Number.isFinite(seed)) throw new RangeError(`seed must be a finite number, got ${seed}`);
  const whole = Math.trunc(seed);
  return [whole >>> 0, Math.floor(whole / TWO_32) >>> 0];
}

/** A uniform generator over [0, 1), deterministic for a given seed. */
export function createRng(seed: number): () => number {
  const [lo, hi] = seedWords(seed);
  let s = lo;
  const next = (): number => mix32((s = (s + GOLDEN) | 0));
  let a = next();
  let b = next() ^ hi;
  let c = next();
  let d = next();
  const step = (): number => {
    const t = (((a + b) | 0) + d) | 0;
    d = (d + 1) | 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) | 0;
    c = (c << 21) | (c >>> 11);
    c = (c + t) | 0;
    return (t >>> 0) / TWO_32;
  };
  // The first outputs of sfc32 still show the seed's structure: discard them.
  for (let i = 0; i < 12; i++) step();
  return step;
}

/** A seed derived from `seed` and `parts` (stable across runs and platforms), as a uint32. */
export function deriveSeed(seed: number, ...parts: number[]): number {
  const [lo, hi] = seedWords(seed);
  let h = mix32(mix32((lo + GOLDEN) | 0) ^ hi);
  // Not commutative: (1, 2) and (2, 1) give different seeds.
  for (const part of parts) h = mix32(((h + GOLDEN) | 0) ^ mix32((Math.trunc(part) + 2 * GOLDEN) | 0));
  return h;
}

/**
 * Picks an index with probability weight / sum(weights), in O(1) with one random number per
 * pick (Vose's alias method). Weights must be finite and > 0.
 */
export function createPicker(weights: readonly number[], rng: () => number): () => number {
  const n = weights.length;
  if (n === 0) throw new RangeError('createPicker needs at least one weight');
  let sum = 0;
  for (const w of weights) {
    if (!Number.isFinite(w) || w <= 0) throw new RangeError(`weights must be finite and > 0, got ${w}`);
    sum += w;
  }
  if (n === 1) return () => 0;
  const prob = new Float64Array(n);
  const alias = new Uint32Array(n);
  const scaled = weights.map((w) => (w * n) / sum);
  const small: number[] = [];
  const large: number[] = [];
  scaled.forEach((p, i) => (p < 1 ? small : large).push(i));
  while (small.length > 0 && large.length > 0) {
    const s = small.pop()!;
    const l = large.pop()!;
    prob[s] = scaled[s]!;
    alias[s] = l;
    scaled[l] = scaled[l]! + scaled[s]! - 1;
    (scaled[l]! < 1 ? small : large).push(l);
  }
  // What is left is 1 up to rounding error.
  for (const i of large) prob[i] = 1;
  for (const i of small) prob[i] = 1;
  return () => {
    const u = rng() * n;
    const i = Math.floor(u);
    return u - i < prob[i]! ? i : alias[i]!;
  };
}
