import { describe, expect, it } from 'vitest';
import { createPicker, createRng, deriveSeed } from '../../src/load/rng.js';

describe('createRng', () => {
  it('is deterministic per seed, differs between seeds, and stays in [0, 1)', () => {
    const a = createRng(42);
    const b = createRng(42);
    const c = createRng(43);
    const seqA = Array.from({ length: 1000 }, a);
    expect(Array.from({ length: 1000 }, b)).toEqual(seqA);
    expect(Array.from({ length: 1000 }, c)).not.toEqual(seqA);
    for (const x of seqA) expect(x >= 0 && x < 1).toBe(true);
  });

  it('accepts seeds beyond 32 bits and negative ones, telling them apart', () => {
    const first = (seed: number): number => createRng(seed)();
    expect(first(2 ** 32 + 5)).not.toBe(first(5));
    expect(first(-1)).not.toBe(first(1));
    expect(() => createRng(Number.NaN)).toThrow(RangeError);
  });

  it('is roughly uniform', () => {
    const rng = createRng(7);
    const buckets = new Array<number>(10).fill(0);
    for (let i = 0; i < 100_000; i++) buckets[Math.floor(rng() * 10)]!++;
    for (const count of buckets) expect(Math.abs(count - 10_000)).toBeLessThan(500);
  });

  it('derives distinct, stable seeds', () => {
    expect(deriveSeed(1, 2)).toBe(deriveSeed(1, 2));
    expect(new Set([deriveSeed(1, 0), deriveSeed(1, 1), deriveSeed(1, 2), deriveSeed(2, 1)]).size).toBe(4);
  });
});

describe('createPicker', () => {
  it('picks in proportion to the weights', () => {
    const weights = [55, 15, 10, 10, 10, 0.5];
    const pick = createPicker(weights, createRng(1));
    const counts = new Array<number>(weights.length).fill(0);
    const n = 200_000;
    for (let i = 0; i < n; i++) counts[pick()]!++;
    const sum = weights.reduce((s, w) => s + w, 0);
    weights.forEach((w, i) => expect(Math.abs(counts[i]! / n - w / sum)).toBeLessThan(0.005));
  });

  it('handles one weight and rejects empty, zero, negative or infinite weights', () => {
    expect(createPicker([3], createRng(1))()).toBe(0);
    for (const bad of [[], [1, 0], [1, -2], [Infinity], [Number.NaN]]) expect(() => createPicker(bad, createRng(1))).toThrow(RangeError);
  });
});
