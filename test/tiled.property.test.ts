/**
 * The tiled kernel against the oracle on random shapes, patterns and hazards:
 * n = 1, lengths that are not a multiple of the tile, Lq != Lk, grouped-query heads,
 * causal in both alignments, random user masks (with and without a tile classifier),
 * unions and intersections, fully masked rows, logits scaled ×1000. On every backend, webgpu
 * (through attentionAsync) included.
 */
import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { patterns } from "../src/index.js";
import type { Pattern, TileClassifier } from "../src/types.js";
import { FULL, PARTIAL } from "../src/types.js";
import { Rng } from "../src/util/rng.js";
import { ASYNC_TEST_BACKENDS, runOn, type TestBackend } from "./backends.js";
import { expectMatchesOracle, oracle, randomMask, tensor } from "./helpers.js";

/** A band mask with an exact analytic classifier, to exercise full/partial/empty tiles. */
function band(lo: number, hi: number): Pattern {
  const classify: TileClassifier = (q0, q1, k0, k1) => {
    if (k1 - 1 < q0 - lo || k0 > q1 - 1 + hi) return 0;
    if (k0 >= q1 - 1 - lo && k1 - 1 <= q0 + hi) return FULL;
    return PARTIAL;
  };
  return patterns.mask((q, k) => k >= q - lo && k <= q + hi, {
    tileKind: classify,
    name: "band",
    headDependent: false,
  });
}

const patternArb = fc.oneof(
  fc.constant({ kind: "dense" as const }),
  fc.constant({ kind: "causal-tl" as const }),
  fc.constant({ kind: "causal-br" as const }),
  fc.record({
    kind: fc.constant("mask" as const),
    seed: fc.nat(1000),
    density: fc.double({ min: 0, max: 1, noNaN: true }),
    holes: fc.boolean(),
  }),
  fc.record({
    kind: fc.constant("band" as const),
    lo: fc.integer({ min: 0, max: 150 }),
    hi: fc.integer({ min: 0, max: 150 }),
  }),
  fc.record({ kind: fc.constant("union" as const), seed: fc.nat(1000), lo: fc.integer({ min: 0, max: 40 }) }),
  fc.record({ kind: fc.constant("intersect" as const), seed: fc.nat(1000), lo: fc.integer({ min: 0, max: 90 }) }),
);

type PatternSpec = typeof patternArb extends fc.Arbitrary<infer T> ? T : never;

function makePattern(p: PatternSpec): Pattern {
  switch (p.kind) {
    case "dense":
      return patterns.dense();
    case "causal-tl":
      return patterns.causal({ align: "top-left" });
    case "causal-br":
      return patterns.causal({ align: "bottom-right" });
    case "mask":
      return patterns.mask(randomMask(p.seed, p.density, p.holes));
    case "band":
      return band(p.lo, p.hi);
    case "union":
      return patterns.union(patterns.causal({ align: "top-left" }), patterns.mask(randomMask(p.seed, 0.1, false)));
    case "intersect":
      return patterns.intersect(band(p.lo, 0), patterns.mask(randomMask(p.seed, 0.7, true)));
  }
}

const shapeArb = fc.record({
  B: fc.integer({ min: 1, max: 2 }),
  Hkv: fc.integer({ min: 1, max: 2 }),
  group: fc.integer({ min: 1, max: 3 }),
  Lq: fc.oneof(fc.constant(1), fc.integer({ min: 1, max: 300 })),
  Lk: fc.oneof(fc.constant(1), fc.integer({ min: 1, max: 300 })),
  D: fc.constantFrom(1, 8, 64, 80),
  seed: fc.nat(1 << 30),
});

async function check(
  shape: Record<string, number>,
  spec: PatternSpec,
  logitScale: number,
  backend: TestBackend,
): Promise<void> {
  const { B, Hkv, group, Lq, Lk, D, seed } = shape as {
    B: number;
    Hkv: number;
    group: number;
    Lq: number;
    Lk: number;
    D: number;
    seed: number;
  };
  const H = Hkv * group;
  const rng = new Rng(seed);
  const q = tensor([B, H, Lq, D], rng, logitScale);
  const k = tensor([B, Hkv, Lk, D], rng);
  const v = tensor([B, Hkv, Lk, D], rng);
  const pattern = makePattern(spec);
  const scale = 1 / Math.sqrt(D);
  const got = await runOn(backend, q, k, v, { pattern });
  const bound = pattern.bind({ queryLength: Lq, keyLength: Lk, heads: H, headDim: D });
  const want = oracle(q, k, v, scale, bound.mask);
  // tolerance: 1e-5 absolute on unit-normal inputs; relative 1e-6 of the logit scale when scaled up;
  // fully masked rows: output exactly 0 and lse -Infinity
  expectMatchesOracle({ out: got.out.data, lse: got.lse }, want, D, logitScale);
  // accounting: scored pairs bound allowed pairs; allowed pairs match the oracle's mask
  let allowed = 0;
  for (let h = 0; h < H; h++)
    for (let i = 0; i < Lq; i++) for (let j = 0; j < Lk; j++) if (bound.mask(i, j, h)) allowed++;
  expect(got.stats.allowedPairs).toBe(allowed * B);
  expect(got.stats.scoredPairs).toBeGreaterThanOrEqual(got.stats.allowedPairs);
  expect(got.stats.scoredPairs).toBeLessThanOrEqual(B * H * Lq * Lk);
}

describe.each(ASYNC_TEST_BACKENDS)("tiled kernel ($label) equals the reference", (backend) => {
  test("random shapes and patterns, unit-normal inputs", async () => {
    await fc.assert(
      fc.asyncProperty(shapeArb, patternArb, (shape, spec) => check(shape, spec, 1, backend)),
      { numRuns: 60, seed: 20261128 },
    );
  });

  test("overflow: logits scaled ×1000", async () => {
    await fc.assert(
      fc.asyncProperty(shapeArb, patternArb, (shape, spec) => check(shape, spec, 1000, backend)),
      { numRuns: 25, seed: 7 },
    );
  });
});
