/**
 * Sparse Transformer patterns against brute-force definitions written here from the paper
 * (Child et al. 2019, §4.2): strided (paper and code windows), fixed, and the factorised
 * forms (A(1) on even heads, A(2) on odd). Hazards: n = 1, n not a multiple of the stride or
 * block, Lq != Lk, stride 1, stride > n, summary = block.
 */
import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { expectAttentionMatches, expectPlanEquals, type Sizes } from "../../test/plan-check.js";
import { explain, patterns } from "../index.js";
import type { MaskFn } from "../types.js";

// A(1), A(2) as sets of (i, j), written from the paper's text.
const stridedA1 =
  (l: number, code: boolean): MaskFn =>
  (i, j) =>
    j <= i && j >= (code ? i - l + 1 : Math.max(0, i - l));
const stridedA2 =
  (l: number): MaskFn =>
  (i, j) => {
    for (let t = 0; i - t * l >= 0; t++) if (j === i - t * l) return true;
    return false;
  };
const fixedA1 =
  (l: number): MaskFn =>
  (i, j) =>
    j <= i && Math.trunc(j / l) === Math.trunc(i / l);
const fixedA2 =
  (l: number, c: number): MaskFn =>
  (i, j) =>
    j <= i && j - Math.trunc(j / l) * l >= l - c;
const combine =
  (a1: MaskFn, a2: MaskFn, factorized: boolean): MaskFn =>
  (i, j, h) => {
    if (!factorized) return a1(i, j, h) || a2(i, j, h);
    return h % 2 === 0 ? a1(i, j, h) : a2(i, j, h);
  };

const sizesArb = fc.record({
  Lq: fc.integer({ min: 1, max: 300 }),
  Lk: fc.integer({ min: 1, max: 300 }),
  H: fc.integer({ min: 1, max: 3 }),
  D: fc.constantFrom(4, 8),
});
const selfSizes = sizesArb.map((s) => ({ ...s, Lk: s.Lq }));
const sizesMaybeCross = fc.oneof(selfSizes, sizesArb);
const strideArb = fc.oneof(fc.integer({ min: 1, max: 9 }), fc.integer({ min: 10, max: 140 }), fc.constant(1000));

describe("strided", () => {
  test("plan == brute force and attention == oracle (paper / code window, factorised)", () => {
    fc.assert(
      fc.property(sizesMaybeCross, strideArb, fc.boolean(), fc.boolean(), fc.nat(1000), (s, l, code, fact, seed) => {
        const p = patterns.strided({ stride: l, window: code ? "code" : "paper", factorized: fact, align: "top-left" });
        const brute = combine(stridedA1(l, code), stridedA2(l), fact);
        expect(p.headDependent).toBe(fact);
        expectPlanEquals(p, s, brute);
        expectAttentionMatches(p, s, brute, seed);
      }),
      { numRuns: 30 },
    );
  });

  test("n = 1 and stride 1 (A(2) is every earlier key)", () => {
    expectPlanEquals(patterns.strided({ stride: 4 }), { Lq: 1, Lk: 1, H: 1, D: 4 }, (i, j) => j <= i);
    const s: Sizes = { Lq: 40, Lk: 40, H: 1, D: 4 };
    expectPlanEquals(patterns.strided({ stride: 1 }), s, (i, j) => j <= i);
  });

  test("the paper's A(1) has l+1 keys, the code's l", () => {
    const n = 1000;
    const paper = explain(patterns.strided({ stride: 10, factorized: true }), { queryLength: n, headDim: 4, heads: 1 });
    const code = explain(patterns.strided({ stride: 10, window: "code", factorized: true }), {
      queryLength: n,
      headDim: 4,
      heads: 1,
    });
    // head 0 sees A(1) only: row i has min(i, W) + 1 keys
    expect(paper.allowedPairs - code.allowedPairs).toBe(n - 10);
  });

  test("efficiency at n = 65,536 (stride 128) is at least 0.85", () => {
    const e = explain(patterns.strided({ stride: 128 }), { queryLength: 65_536, headDim: 64 });
    expect(e.efficiency).toBeGreaterThanOrEqual(0.85);
    expect(e.density).toBeLessThan(0.01);
  });

  test("bad options are rejected with the fix", () => {
    expect(() => patterns.strided({ stride: 0 })).toThrow(/stride.*0.*>= 1/);
    expect(() => patterns.strided({ stride: 4, window: "openai" as never })).toThrow(/window.*"paper"/);
    expect(() => patterns.strided({ stride: 4, factorized: 1 as never })).toThrow(/factorized.*true or false/);
  });
});

describe("fixed", () => {
  test("plan == brute force and attention == oracle (factorised too)", () => {
    const blockArb = fc.oneof(fc.integer({ min: 1, max: 12 }), fc.integer({ min: 13, max: 160 }), fc.constant(500));
    fc.assert(
      fc.property(
        sizesMaybeCross,
        blockArb,
        fc.double({ min: 0, max: 1, noNaN: true }),
        fc.boolean(),
        fc.nat(1000),
        (s, l, frac, fact, seed) => {
          const c = Math.max(1, Math.min(l, Math.round(frac * l)));
          const p = patterns.fixed({ block: l, summary: c, factorized: fact, align: "top-left" });
          const brute = combine(fixedA1(l), fixedA2(l, c), fact);
          expectPlanEquals(p, s, brute);
          expectAttentionMatches(p, s, brute, seed);
        },
      ),
      { numRuns: 30 },
    );
  });

  test("summary = block is causal attention; summary must not exceed the block", () => {
    expectPlanEquals(patterns.fixed({ block: 8, summary: 8 }), { Lq: 50, Lk: 50, H: 1, D: 4 }, (i, j) => j <= i);
    expect(() => patterns.fixed({ block: 8, summary: 9 })).toThrow(/summary.*9.*\[1, 8\]/);
    expect(() => patterns.fixed({ block: 8, summary: 0 })).toThrow(/summary/);
  });

  test("efficiency at n = 65,536 (block 128, summary 16) is at least 0.85; summary tiles are full", () => {
    const e = explain(patterns.fixed({ block: 128, summary: 16 }), { queryLength: 65_536, headDim: 64 });
    expect(e.efficiency).toBeGreaterThanOrEqual(0.85);
    const summary = e.parts.find((p) => p.label.startsWith("A(2)"));
    expect(summary?.allowedPairs).toBe(summary?.scoredPairs);
  });
});

describe("composition", () => {
  test("strided ∩ causal(top-left) and strided ∪ sliding window plan exactly", () => {
    const s: Sizes = { Lq: 97, Lk: 97, H: 2, D: 4 };
    const st = combine(stridedA1(7, false), stridedA2(7), false);
    expectPlanEquals(
      patterns.intersect(patterns.strided({ stride: 7 }), patterns.causal({ align: "top-left" })),
      s,
      st,
    );
    const win: MaskFn = (i, j) => Math.abs(i - j) <= 3;
    const u = patterns.union(patterns.slidingWindow({ left: 3, right: 3 }), patterns.strided({ stride: 7 }));
    expectPlanEquals(u, s, (i, j, h) => win(i, j, h) || st(i, j, h));
    expectAttentionMatches(u, s, (i, j, h) => win(i, j, h) || st(i, j, h), 5);
  });
});
