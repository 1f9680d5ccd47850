/**
 * Longformer patterns against brute-force definitions written here from the paper (not
 * imported from the implementation): sliding, dilated (one and per-head), global tokens,
 * longformer = the union, and compositions. Hazards: n = 1, lengths not a multiple of any
 * tile, Lq != Lk, tiny and huge windows, duplicate / out-of-range global indices.
 */
import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { expectAttentionMatches, expectPlanEquals, type Sizes } from "../../test/plan-check.js";
import { attention, explain, patterns } from "../index.js";
import type { MaskFn } from "../types.js";

// Brute-force index sets (Beltagy et al. 2020 §3.1), q query position, k key position.
const windowSet =
  (left: number, right: number): MaskFn =>
  (q, k) =>
    q - left <= k && k <= q + right;
const dilatedSet =
  (left: number, right: number, d: (h: number) => number): MaskFn =>
  (q, k, h) => {
    const t = (k - q) / d(h); // k = q + t·d for an integer t in [-left, right]
    return Number.isInteger(t) && t >= -left && t <= right;
  };
const globalSet =
  (g: number[]): MaskFn =>
  (q, k) =>
    g.includes(q) || g.includes(k);
const or =
  (...ms: MaskFn[]): MaskFn =>
  (q, k, h) =>
    ms.some((m) => m(q, k, h));

const sizesArb = fc.record({
  Lq: fc.integer({ min: 1, max: 300 }),
  Lk: fc.integer({ min: 1, max: 300 }),
  H: fc.integer({ min: 1, max: 3 }),
  D: fc.constantFrom(4, 8, 16),
});
const sideArb = fc.oneof(fc.integer({ min: 0, max: 6 }), fc.integer({ min: 0, max: 140 }), fc.constant(100_000));
const selfSizes = sizesArb.map((s) => ({ ...s, Lk: s.Lq }));

/** Distinct positions below n, from raw draws. */
const positions = (raw: number[], n: number): number[] => [...new Set(raw.map((x) => x % n))];

describe("sliding window", () => {
  test("plan == brute force and attention == oracle, random windows and lengths", () => {
    fc.assert(
      fc.property(sizesArb, sideArb, sideArb, fc.nat(1000), (s, left, right, seed) => {
        const p = patterns.slidingWindow({ left, right, align: "top-left" }); // bottom-right: test/align.test.ts
        expectPlanEquals(p, s, windowSet(left, right));
        expectAttentionMatches(p, s, windowSet(left, right), seed);
      }),
      { numRuns: 25 },
    );
  });

  test("n = 1, causal window (right = 0), and a fixed tile", () => {
    const s1: Sizes = { Lq: 1, Lk: 1, H: 1, D: 4 };
    expectPlanEquals(patterns.slidingWindow({ left: 0, right: 0 }), s1, windowSet(0, 0));
    const s: Sizes = { Lq: 77, Lk: 77, H: 2, D: 8 };
    const p = patterns.slidingWindow({ left: 9, right: 0, tile: 5 });
    expectPlanEquals(p, s, windowSet(9, 0));
    expectAttentionMatches(p, s, windowSet(9, 0), 3);
  });

  test("efficiency at n = 65,536 (256 each side) is at least 0.85 and planning visits only the band", () => {
    const e = explain(patterns.slidingWindow({ left: 256, right: 256 }), { queryLength: 65_536, headDim: 64 });
    expect(e.allowedPairs).toBe(65_536 * 513 - 2 * ((256 * 257) / 2));
    expect(e.efficiency).toBeGreaterThanOrEqual(0.85);
    expect(e.tiles).toBeLessThan((65_536 / 8) * 40);
  });

  test("rejects negative or fractional widths", () => {
    expect(() => patterns.slidingWindow({ left: -1, right: 2 })).toThrow(/left.*-1.*integer >= 0/);
    expect(() => patterns.slidingWindow({ left: 1, right: 2.5 })).toThrow(/right.*2\.5/);
    expect(() => patterns.slidingWindow(undefined as never)).toThrow(/slidingWindow\(options\)/);
  });
});

describe("dilated window", () => {
  test("plan == brute force, one dilation and one per head", () => {
    const dilArb = fc.oneof(fc.integer({ min: 1, max: 7 }), fc.constant(400));
    fc.assert(
      fc.property(
        sizesArb,
        sideArb,
        sideArb,
        dilArb,
        fc.array(dilArb, { minLength: 3, maxLength: 3 }),
        fc.boolean(),
        fc.nat(1000),
        (s, left, right, d, ds, perHead, seed) => {
          const dil = perHead ? ds.slice(0, s.H) : d;
          const dOf = (h: number) => (perHead ? ds[h] : d);
          const p = patterns.dilatedWindow({
            left: Math.min(left, 50),
            right: Math.min(right, 50),
            dilation: dil,
            align: "top-left",
          });
          const brute = dilatedSet(Math.min(left, 50), Math.min(right, 50), dOf);
          expect(p.headDependent).toBe(perHead);
          expectPlanEquals(p, s, brute);
          expectAttentionMatches(p, s, brute, seed);
        },
      ),
      { numRuns: 25 },
    );
  });

  test("huge window with dilation: every key of the same residue", () => {
    const s: Sizes = { Lq: 101, Lk: 130, H: 1, D: 4 };
    const brute: MaskFn = (q, k) => (q - k) % 3 === 0;
    expectPlanEquals(
      patterns.dilatedWindow({ left: 1_000_000, right: 1_000_000, dilation: 3, align: "top-left" }),
      s,
      brute,
    );
  });

  test("a per-head dilation list must match the heads", () => {
    const p = patterns.dilatedWindow({ left: 2, right: 2, dilation: [1, 2] });
    expect(() => explain(p, { queryLength: 10, heads: 3, headDim: 4 })).toThrow(/one dilation per head: 3 entries/);
    expect(() => patterns.dilatedWindow({ left: 2, right: 2, dilation: 0 })).toThrow(/dilation.*0.*>= 1/);
    expect(() => patterns.dilatedWindow({ left: 2, right: 2, dilation: [2, 0.5] })).toThrow(/dilation\[1\]/);
  });

  test("efficiency at n = 65,536 (128 each side, dilation 2) is at least 0.85", () => {
    const e = explain(patterns.dilatedWindow({ left: 128, right: 128, dilation: 2 }), {
      queryLength: 65_536,
      headDim: 64,
    });
    expect(e.efficiency).toBeGreaterThanOrEqual(0.85);
  });
});

describe("global tokens and longformer", () => {
  test("globalTokens and longformer == brute force, in either union order", () => {
    fc.assert(
      fc.property(
        selfSizes,
        sideArb,
        fc.array(fc.nat(10_000), { maxLength: 20 }),
        fc.constantFrom(1, 2, 3),
        fc.nat(1000),
        (s, w, raw, d, seed) => {
          const g = positions(raw, s.Lq);
          const win = dilatedSet(w, w, () => d);
          const brute = or(globalSet(g), win);
          const lf = patterns.longformer({ window: w, dilation: d, global: g });
          expectPlanEquals(lf, s, brute);
          expectAttentionMatches(lf, s, brute, seed);
          expectPlanEquals(patterns.globalTokens(g), s, globalSet(g));
          const reversed = patterns.union(
            patterns.dilatedWindow({ left: w, right: w, dilation: d }),
            patterns.globalTokens(g),
          );
          expectPlanEquals(reversed, s, brute);
        },
      ),
      { numRuns: 25 },
    );
  });

  test("global tokens with Lq != Lk mark query rows and key columns below each length", () => {
    const g = [0, 5, 40];
    for (const [Lq, Lk] of [
      [10, 50],
      [50, 10],
    ]) {
      const s: Sizes = { Lq, Lk, H: 2, D: 8 };
      const tl = { align: "top-left" as const };
      const p = patterns.union(patterns.globalTokens(g, tl), patterns.slidingWindow({ left: 2, right: 1, ...tl }));
      const brute = or(globalSet(g), windowSet(2, 1));
      expectPlanEquals(p, s, brute);
      expectAttentionMatches(p, s, brute, 11);
    }
  });

  test("duplicate, negative and out-of-range global indices are rejected clearly", () => {
    expect(() => patterns.globalTokens([1, 7, 1])).toThrow(
      /globalTokens\(indices\).*distinct positions; 1 appears more than once/,
    );
    expect(() => patterns.globalTokens([-2])).toThrow(/indices\)\[0\].*-2/);
    expect(() => patterns.globalTokens([1.5])).toThrow(/1\.5/);
    expect(() => patterns.globalTokens("0,1" as never)).toThrow(/array of distinct/);
    expect(() => patterns.longformer({ window: 4, global: [3, 3] })).toThrow(/appears more than once/);
    const p = patterns.longformer({ window: 4, global: [0, 64] });
    expect(() => explain(p, { queryLength: 64, headDim: 8 })).toThrow(
      /below the sequence length 64.*64 is out of range/,
    );
    const q = { data: new Float32Array(64 * 4), shape: [1, 1, 64, 4] as [number, number, number, number] };
    expect(() => attention(q, q, q, { pattern: p })).toThrow(/out of range/);
  });

  test("an empty global list is the window alone; window = 0 is the diagonal", () => {
    const s: Sizes = { Lq: 33, Lk: 33, H: 1, D: 4 };
    expectPlanEquals(patterns.longformer({ window: 3, global: [] }), s, windowSet(3, 3));
    expectPlanEquals(patterns.longformer({ window: 0 }), s, windowSet(0, 0));
  });

  test("efficiency at n = 65,536 (256 each side + 16 globals) is at least 0.85", () => {
    const g = Array.from({ length: 16 }, (_, i) => i * 4096 + 7);
    const e = explain(patterns.longformer({ window: 256, global: g }), { queryLength: 65_536, headDim: 64 });
    expect(e.efficiency).toBeGreaterThanOrEqual(0.85);
  });
});
