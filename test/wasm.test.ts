/**
 * The WebAssembly kernel against the oracle, on one and two threads, on random shapes,
 * patterns and hazards: n = 1, lengths that are not a multiple of the tile, Lq != Lk,
 * grouped-query heads, random masks with fully masked rows, unions (rows repeated across
 * parts), every seed pattern, hand-built plans with gathered rows/columns, non-uniform tiles
 * and selfScore, LSH (content-dependent, rows repeated across rounds), logits ×1000.
 * Thread count never changes a bit of the result.
 */
import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { referenceAttention } from "../src/backends/reference/reference.js";
import { AttentionArgumentError, attention, patterns } from "../src/index.js";
import { segmentedTiles } from "../src/layout/part.js";
import type { Dims, PartSpec, Pattern } from "../src/types.js";
import { PARTIAL } from "../src/types.js";
import { Rng } from "../src/util/rng.js";
import { expectMatchesOracle, maxAbsDiff, oracle, randomMask, tensor } from "./helpers.js";

function permutation(n: number, rng: Rng): Int32Array {
  const p = Int32Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(rng.next() * (i + 1));
    [p[i], p[j]] = [p[j], p[i]];
  }
  return p;
}

/** Random ascending segment starts 0 = s0 < ... < n, for non-uniform tiles. */
function segments(n: number, rng: Rng): number[] {
  const out = [0];
  while (out[out.length - 1] < n) out.push(Math.min(n, out[out.length - 1] + 1 + Math.floor(rng.next() * 40)));
  return out;
}

/**
 * A hand-planned pattern: part A scores mask m1 in a random row and column order with
 * non-uniform tiles (optionally with a self score); part B scores m2 minus m1 in identity
 * order, so rows repeat across parts and merge by log-sum-exp.
 */
function handPlanned(seed: number, selfScore: number | undefined, twoParts: boolean): Pattern {
  const m1 = randomMask(seed, 0.35, true);
  const m2 = randomMask(seed + 1, 0.2, false);
  const mask = twoParts ? (q: number, k: number, h: number) => m1(q, k, h) || m2(q, k, h) : m1;
  return {
    name: "hand-planned",
    headDependent: true,
    children: [],
    bind(dims: Dims) {
      const { queryLength: Lq, keyLength: Lk } = dims;
      const plan = (head: number, batch: number): PartSpec[] => {
        const rng = new Rng(seed * 31 + head);
        const qTiles = segmentedTiles(segments(Lq, rng), 16);
        const kTiles = segmentedTiles(segments(Lk, rng), 24);
        const a: PartSpec = {
          label: "gathered",
          head,
          batch,
          qIndex: permutation(Lq, rng),
          kIndex: permutation(Lk, rng),
          qTiles,
          kTiles,
          mask: m1,
          selfScore,
          tilesFor: (_qt, visit) => {
            for (let kt = 0; kt + 1 < kTiles.length; kt++) visit(kt, PARTIAL);
          },
        };
        if (!twoParts) return [a];
        const qt2 = Int32Array.from({ length: Math.ceil(Lq / 8) + 1 }, (_, t) => Math.min(Lq, t * 8));
        const kt2 = Int32Array.from({ length: Math.ceil(Lk / 8) + 1 }, (_, t) => Math.min(Lk, t * 8));
        const b: PartSpec = {
          label: "rest",
          head,
          batch,
          qIndex: null,
          kIndex: null,
          qTiles: qt2,
          kTiles: kt2,
          mask: (q, k, h) => m2(q, k, h) && !m1(q, k, h),
          tilesFor: (_qt, visit) => {
            for (let kt = 0; kt + 1 < kt2.length; kt++) visit(kt, PARTIAL);
          },
        };
        return [a, b];
      };
      return { mask, classify: () => PARTIAL, plan };
    },
  };
}

const patternArb = fc.oneof(
  fc.constant({ kind: "dense" as const }),
  fc.constant({ kind: "causal" as const }),
  fc.record({
    kind: fc.constant("mask" as const),
    seed: fc.nat(1000),
    density: fc.double({ min: 0, max: 1, noNaN: true }),
  }),
  fc.record({ kind: fc.constant("union" as const), seed: fc.nat(1000) }),
  fc.record({
    kind: fc.constant("window" as const),
    left: fc.integer({ min: 0, max: 90 }),
    right: fc.integer({ min: 0, max: 40 }),
  }),
  fc.record({ kind: fc.constant("bigbird" as const), block: fc.integer({ min: 1, max: 24 }), seed: fc.nat(99) }),
  fc.record({ kind: fc.constant("strided" as const), stride: fc.integer({ min: 1, max: 40 }) }),
  fc.record({
    kind: fc.constant("fixed" as const),
    block: fc.integer({ min: 2, max: 40 }),
    summary: fc.integer({ min: 1, max: 2 }),
  }),
  fc.record({ kind: fc.constant("planned" as const), seed: fc.nat(1000), self: fc.boolean(), two: fc.boolean() }),
);
type PatternSpec = typeof patternArb extends fc.Arbitrary<infer T> ? T : never;

function makePattern(p: PatternSpec): { pattern: Pattern; selfScore?: number } {
  switch (p.kind) {
    case "dense":
      return { pattern: patterns.dense() };
    case "causal":
      return { pattern: patterns.causal() };
    case "mask":
      return { pattern: patterns.mask(randomMask(p.seed, p.density, true)) };
    case "union":
      return { pattern: patterns.union(patterns.causal(), patterns.mask(randomMask(p.seed, 0.1, true))) };
    case "window":
      return { pattern: patterns.slidingWindow({ left: p.left, right: p.right }) };
    case "bigbird":
      return { pattern: patterns.bigBird({ blockSize: p.block, randomBlocks: 1, seed: p.seed }) };
    case "strided":
      return { pattern: patterns.strided({ stride: p.stride }) };
    case "fixed":
      return { pattern: patterns.fixed({ block: p.block, summary: Math.min(p.summary, p.block) }) };
    case "planned": {
      const selfScore = p.self && !p.two ? -1e4 : undefined;
      return { pattern: handPlanned(p.seed, selfScore, p.two), selfScore };
    }
  }
}

const shapeArb = fc.record({
  B: fc.integer({ min: 1, max: 2 }),
  Hkv: fc.integer({ min: 1, max: 2 }),
  group: fc.integer({ min: 1, max: 2 }),
  Lq: fc.oneof(fc.constant(1), fc.integer({ min: 1, max: 260 })),
  Lk: fc.oneof(fc.constant(1), fc.integer({ min: 1, max: 260 })),
  D: fc.constantFrom(1, 3, 8, 64, 80),
  seed: fc.nat(1 << 30),
});
type Shape = typeof shapeArb extends fc.Arbitrary<infer T> ? T : never;

function check(shape: Shape, spec: PatternSpec, logitScale: number): void {
  const { B, Hkv, group, Lq, Lk, D, seed } = shape;
  const H = Hkv * group;
  const rng = new Rng(seed);
  const q = tensor([B, H, Lq, D], rng, logitScale);
  const k = tensor([B, Hkv, Lk, D], rng);
  const v = tensor([B, Hkv, Lk, D], rng);
  let made: ReturnType<typeof makePattern>;
  try {
    made = makePattern(spec);
    made.pattern.bind({ queryLength: Lq, keyLength: Lk, heads: H, headDim: D });
  } catch (e) {
    if (e instanceof AttentionArgumentError) return; // a pattern that rejects these sizes
    throw e;
  }
  const { pattern, selfScore } = made;
  const scale = 1 / Math.sqrt(D);
  const one = attention(q, k, v, { pattern, backend: "wasm", threads: 1 });
  const two = attention(q, k, v, { pattern, backend: "wasm", threads: 2 });
  expect(one.stats.backend).toBe("wasm");
  // thread count never changes a bit
  expect(Buffer.from(two.out.data.buffer).equals(Buffer.from(one.out.data.buffer))).toBe(true);
  expect(Buffer.from(two.lse.buffer).equals(Buffer.from(one.lse.buffer))).toBe(true);
  const bound = pattern.bind({ queryLength: Lq, keyLength: Lk, heads: H, headDim: D });
  const want =
    selfScore === undefined
      ? oracle(q, k, v, scale, bound.mask)
      : referenceAttention({
          q: q.data,
          k: k.data,
          v: v.data,
          B,
          H,
          Hkv,
          Lq,
          Lk,
          D,
          scale,
          mask: bound.mask,
          selfScore,
        });
  expectMatchesOracle({ out: one.out.data, lse: one.lse }, want, D, logitScale, true);
  const js = attention(q, k, v, { pattern, backend: "js" });
  expect(one.stats.scoredPairs).toBe(js.stats.scoredPairs);
  expect(one.stats.allowedPairs).toBe(js.stats.allowedPairs);
}

describe("wasm kernel equals the reference, on 1 and 2 threads", () => {
  test("random shapes and patterns, unit-normal inputs", () => {
    fc.assert(
      fc.property(shapeArb, patternArb, (shape, spec) => check(shape, spec, 1)),
      { numRuns: 70, seed: 424242 },
    );
  });

  test("overflow: logits scaled ×1000", () => {
    fc.assert(
      fc.property(shapeArb, patternArb, (shape, spec) => check(shape, spec, 1000)),
      { numRuns: 25, seed: 99 },
    );
  });

  test("n = 1, non-multiple tiles, many work items (450 × 333 on 2 heads)", () => {
    for (const [Lq, Lk] of [
      [1, 1],
      [1, 450],
      [450, 1],
      [450, 333],
    ]) {
      check({ B: 1, Hkv: 1, group: 2, Lq, Lk, D: 64, seed: Lq * 7 + Lk }, { kind: "causal" }, 1);
      check({ B: 1, Hkv: 1, group: 2, Lq, Lk, D: 64, seed: Lq + Lk }, { kind: "dense" }, 1);
    }
  });
});

describe("wasm kernel passes over a packed key window that slides", () => {
  // assembly/kernel.ts packs gathered key orders (and keys at D != 64) into a window of 1,024
  // columns that later passes reuse and that slides when a pass runs past it: parts with more
  // keys than that (residue classes of 1,300 keys; a long band) exercise reuse and slides
  test("dilated and strided residues, a band at D = 80: the oracle's result, bitwise on 1 and 2 threads", () => {
    const n = 2600;
    const cases: [Pattern, number][] = [
      [patterns.dilatedWindow({ left: 40, right: 40, dilation: 2 }), 64],
      [patterns.strided({ stride: 2 }), 64],
      [patterns.slidingWindow({ left: 100, right: 100 }), 80],
    ];
    for (const [i, [pattern, D]] of cases.entries()) {
      const rng = new Rng(500 + i);
      const q = tensor([1, 1, n, D], rng);
      const k = tensor([1, 1, n, D], rng);
      const v = tensor([1, 1, n, D], rng);
      const one = attention(q, k, v, { pattern, backend: "wasm", threads: 1 });
      const two = attention(q, k, v, { pattern, backend: "wasm", threads: 2 });
      expect(Buffer.from(two.out.data.buffer).equals(Buffer.from(one.out.data.buffer))).toBe(true);
      expect(Buffer.from(two.lse.buffer).equals(Buffer.from(one.lse.buffer))).toBe(true);
      const bound = pattern.bind({ queryLength: n, keyLength: n, heads: 1, headDim: D });
      expectMatchesOracle({ out: one.out.data, lse: one.lse }, oracle(q, k, v, 1 / Math.sqrt(D), bound.mask), D, 1);
    }
  });
});

describe("wasm on content-dependent plans (LSH: gathered rows, rounds repeat rows, self score)", () => {
  test("equals the js kernel on the same plan; thread count never changes a bit", () => {
    fc.assert(
      fc.property(
        fc.record({
          L: fc.integer({ min: 1, max: 300 }),
          hashes: fc.integer({ min: 1, max: 3 }),
          chunk: fc.integer({ min: 1, max: 40 }),
          causal: fc.boolean(),
          H: fc.integer({ min: 1, max: 3 }),
          seed: fc.nat(1000),
        }),
        ({ L, hashes, chunk, causal, H, seed }) => {
          const rng = new Rng(seed + 1);
          const q = tensor([1, H, L, 16], rng);
          const v = tensor([1, H, L, 16], rng);
          const pattern = patterns.lsh({ buckets: 4, hashes, chunkLength: chunk, causal, seed });
          const js = attention(q, q, v, { pattern, backend: "js" });
          const one = attention(q, q, v, { pattern, backend: "wasm", threads: 1 });
          const two = attention(q, q, v, { pattern, backend: "wasm", threads: 2 });
          expect(maxAbsDiff(one.out.data, js.out.data)).toBeLessThanOrEqual(1e-5);
          expect(maxAbsDiff(one.lse, js.lse)).toBeLessThanOrEqual(1e-5);
          expect(Buffer.from(two.out.data.buffer).equals(Buffer.from(one.out.data.buffer))).toBe(true);
          expect(Buffer.from(two.lse.buffer).equals(Buffer.from(one.lse.buffer))).toBe(true);
        },
      ),
      { numRuns: 30, seed: 5 },
    );
  });
});

describe("backend dispatch", () => {
  const rng = new Rng(3);
  const q = tensor([1, 2, 40, 8], rng);
  const k = tensor([1, 2, 40, 8], rng);
  test("auto picks wasm and reports its threads", () => {
    const r = attention(q, k, k);
    expect(r.stats.backend).toBe("wasm");
    expect(r.stats.threads).toBeGreaterThanOrEqual(1);
    expect(attention(q, k, k, { threads: 2 }).stats.threads).toBe(2);
  });
  test("a forced backend that cannot run lists its reasons", () => {
    const pattern = patterns.lsh({ buckets: 4, hashes: 1, chunkLength: 8 });
    expect(() => attention(q, q, k, { pattern, backend: "reference" })).toThrow(
      /"reference" cannot: .*content-dependent/,
    );
  });
  test("threads must be a positive integer", () => {
    expect(() => attention(q, k, k, { threads: 0 })).toThrow(AttentionArgumentError);
    expect(() => attention(q, k, k, { threads: 1.5 })).toThrow(/options\.threads/);
  });
  test("unknown backend names the choices", () => {
    expect(() => attention(q, k, k, { backend: "gpu" as never })).toThrow(/"auto", "wasm", "js", "reference"/);
  });
});

describe("rows with no allowed key after a call that wrote every row", () => {
  // wasm memory keeps the previous call's out region; rows no part merges must still be 0
  test.each([1, 2])("threads %i: out 0, lse −∞, the rest as the oracle", (threads) => {
    const [B, H, L, D] = [1, 2, 96, 16];
    const rng = new Rng(11);
    const q = tensor([B, H, L, D], rng);
    const k = tensor([B, H, L, D], rng);
    const v = tensor([B, H, L, D], rng);
    attention(q, k, v, { backend: "wasm", threads }); // dense: every out row written
    const empty = (qi: number) => qi % 7 === 3; // these rows see no key
    const allowed = (qi: number, ki: number) => !empty(qi) && ki <= qi;
    const pattern = patterns.mask(allowed);
    const r = attention(q, k, v, { pattern, backend: "wasm", threads });
    for (let row = 0; row < B * H * L; row++) {
      if (!empty(row % L)) continue;
      expect(r.lse[row]).toBe(Number.NEGATIVE_INFINITY);
      for (let d = 0; d < D; d++) expect(r.out.data[row * D + d]).toBe(0);
    }
    expectMatchesOracle({ out: r.out.data, lse: r.lse }, oracle(q, k, v, 1 / Math.sqrt(D), allowed), D, 1);
  });
});
