/**
 * Shannon entropy of a string in bits per character: -Σ p(c)·log2 p(c) over the UTF-16 code
 * units of `value`. 0 for an empty or single-symbol string; log2(n) at most for n distinct
 * symbols (a random base64 string of 40 characters scores about 4.9, English words about 3).
 */
export function shannonEntropy(value: string): number {
  const length = value.length;
  if (length <= 1) return 0;
  // ASCII fast path: counts in a reused typed array; anything else in a map.
  const counts = ASCII_COUNTS;
  counts.fill(0);
  let other: Map<number, number> | undefined;
  for (let i = 0; i < length; i++) {
    const code = value.charCodeAt(i);
    if (code < 128) counts[code]!++;
    else {
      other ??= new Map();
      other.set(code, (other.get(code) ?? 0) + 1);
    }
  }
  let entropy = 0;
  for (let code = 0; code < 128; code++) {
    const count = counts[code]!;
    if (count === 0) continue;
    const p = count / length;
    entropy -= p * Math.log2(p);
  }
  if (other) {
    for (const count of other.values()) {
      const p = count / length;
      entropy -= p * Math.log2(p);
    }
  }
  return entropy;
}

const ASCII_COUNTS = new Uint32Array(128);
