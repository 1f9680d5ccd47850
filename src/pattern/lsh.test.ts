import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { ASYNC_TEST_BACKENDS, runOn } from "../../test/backends.js";
import { randomRotations as rotations } from "../../test/helpers.js";
import { lshOracle } from "../../test/lsh-oracle.js";
import { attention } from "../attention.js";
import { referenceAttention } from "../backends/reference/reference.js";
import { explain } from "../explain.js";
import type { Pattern, Tensor } from "../types.js";
import { randomTensor } from "../util/rng.js";
import { LSH_SELF_SCORE, type LshRotations, lsh } from "./lsh.js";
import { normaliseKeys, seededRotations } from "./lsh-hash.js";

/** Rotations with the round axis permuted: round r of the result is round perm[r] of `rot`. */
function permuteRounds(rot: LshRotations, perm: number[]): LshRotations {
  const [H, D, R, half] = rot.shape;
  const data = new Float32Array(rot.data.length);
  for (let hd = 0; hd < H * D; hd++) {
    for (let r = 0; r < R; r++) {
      for (let j = 0; j < half; j++) data[(hd * R + r) * half + j] = rot.data[(hd * R + perm[r]) * half + j]; // [H, D, R, half]
    }
  }
  return { data, shape: rot.shape };
}

function maxAbs(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i] - b[i]);
    if (Number.isNaN(d)) return Number.POSITIVE_INFINITY;
    m = Math.max(m, d);
  }
  return m;
}

/** Dense shared-QK attention with HF's self mask, by the reference kernel (float64) on normalised keys. */
function denseSelfMasked(qk: Tensor, v: Tensor, causal: boolean) {
  const [B, H, n, D] = qk.shape;
  const k = new Float32Array(qk.data.length);
  for (let r = 0; r < B * H; r++) k.set(normaliseKeys(qk.data.subarray(r * n * D, (r + 1) * n * D), n, D), r * n * D);
  const mask = causal ? (q: number, kk: number) => kk <= q : undefined;
  return referenceAttention({
    q: qk.data,
    k,
    v: v.data,
    B,
    H,
    Hkv: H,
    Lq: n,
    Lk: n,
    D,
    scale: 1,
    mask,
    selfScore: -1e5,
  });
}

const shape = (B: number, H: number, n: number, D: number): [number, number, number, number] => [B, H, n, D];

describe.each(ASYNC_TEST_BACKENDS)("patterns.lsh: semantics on $label", (backend) => {
  const go = (q: Tensor, k: Tensor, v: Tensor, o: { pattern: Pattern }) => runOn(backend, q, k, v, o);
  it("matches the float64 HF oracle on random shapes (padding, duplicates, causal, rounds, factorised buckets)", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.record({
          B: fc.integer({ min: 1, max: 2 }),
          H: fc.integer({ min: 1, max: 2 }),
          n: fc.integer({ min: 1, max: 70 }),
          D: fc.integer({ min: 1, max: 9 }),
          C: fc.integer({ min: 1, max: 16 }),
          hashes: fc.integer({ min: 1, max: 4 }),
          factors: fc.array(fc.integer({ min: 1, max: 3 }), { minLength: 1, maxLength: 3 }),
          before: fc.integer({ min: 0, max: 2 }),
          after: fc.integer({ min: 0, max: 2 }),
          causal: fc.boolean(),
          seed: fc.integer({ min: 0, max: 1000 }),
        }),
        async ({ B, H, n, D, C, hashes, factors: halves, before, after, causal, seed }) => {
          const qk = randomTensor(shape(B, H, n, D), seed);
          const v = randomTensor(shape(B, H, n, D), seed + 1);
          const factors = halves.map((f) => 2 * f); // HF's factorised buckets; one factor = plain
          const rot = rotations(
            seed + 2,
            H,
            D,
            hashes,
            factors.reduce((a, f) => a + f, 0),
          );
          const buckets = factors.length === 1 && seed % 2 === 0 ? undefined : factors; // implied by rotations
          const pattern = lsh({
            buckets,
            chunkLength: C,
            chunksBefore: before,
            chunksAfter: after,
            causal,
            rotations: rot,
          });
          const got = await go(qk, qk, v, { pattern });
          const want = lshOracle({
            ...{ qk: qk.data, v: v.data, B, H, n, D, rotations: rot.data, buckets: factors, hashes },
            ...{ chunkLength: C, chunksBefore: before, chunksAfter: after, causal },
          });
          expect(maxAbs(got.out.data, want.out)).toBeLessThan(2e-5);
          for (let i = 0; i < want.lse.length; i++) {
            expect(Math.abs(got.lse[i] - want.lse[i])).toBeLessThan(1e-4 + 1e-6 * Math.abs(want.lse[i]));
          }
        },
      ),
      { numRuns: 60 },
    );
  });

  it("buckets = 2 and chunkLength >= n: dense shared-QK attention with the self mask", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 40 }),
        fc.integer({ min: 0, max: 8 }),
        fc.integer({ min: 1, max: 12 }),
        fc.integer({ min: 1, max: 3 }),
        fc.boolean(),
        fc.integer({ min: 0, max: 1000 }),
        async (n, extra, D, hashes, causal, seed) => {
          const qk = randomTensor([1, 2, n, D], seed, 2);
          const v = randomTensor([1, 2, n, D], seed + 1);
          const pattern = lsh({ buckets: 2, hashes, chunkLength: n + extra, causal, seed });
          const got = await go(qk, qk, v, { pattern });
          const want = denseSelfMasked(qk, v, causal);
          expect(maxAbs(got.out.data, want.out)).toBeLessThan(1e-5);
          expect(maxAbs(got.lse, want.lse)).toBeLessThan(1e-3); // lse can be ~ -1e5 (self only): float32 ulp there is 8e-3/2
          expect(got.stats.scoredPairs).toBe(2 * n * n);
        },
      ),
      { numRuns: 40 },
    );
  });

  it("one round whose chunk window covers every chunk once: dense with the self mask (LSH path)", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 6 }),
        fc.integer({ min: 2, max: 5 }),
        fc.integer({ min: 0, max: 5 }),
        fc.integer({ min: 1, max: 4 }),
        fc.boolean(),
        fc.integer({ min: 0, max: 1000 }),
        async (C, chunks, cut, half, causal, seed) => {
          const n = chunks * C - Math.min(cut, C - 1); // padded last chunk included
          const before = seed % chunks;
          const after = chunks - 1 - before;
          const qk = randomTensor([1, 1, n, 5], seed, 2);
          const v = randomTensor([1, 1, n, 5], seed + 1);
          const pattern = lsh({
            buckets: 2 * half,
            hashes: 1,
            chunkLength: C,
            chunksBefore: before,
            chunksAfter: after,
            causal,
            seed,
          });
          const got = await go(qk, qk, v, { pattern });
          const want = denseSelfMasked(qk, v, causal);
          expect(maxAbs(got.out.data, want.out)).toBeLessThan(1e-5);
        },
      ),
      { numRuns: 40 },
    );
  });

  it("is invariant to the order of hash rounds (cyclic shifts; any order when chunks see no neighbours or hashes = 2)", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 2, max: 5 }),
        fc.integer({ min: 17, max: 90 }),
        fc.integer({ min: 2, max: 16 }),
        fc.boolean(),
        fc.boolean(),
        fc.integer({ min: 0, max: 1000 }),
        async (hashes, n, C, isolated, causal, seed) => {
          const D = 6;
          const qk = randomTensor([1, 2, n, D], seed);
          const v = randomTensor([1, 2, n, D], seed + 1);
          const rot = rotations(seed + 2, 2, D, hashes, 6);
          const shift = 1 + (seed % (hashes - 1));
          const cyclic = [...Array(hashes).keys()].map((r) => (r + shift) % hashes);
          const shuffled = [...Array(hashes).keys()].sort(
            (a, b) => ((a * 7 + seed) % 5) - ((b * 7 + seed) % 5) || a - b,
          );
          const neighbours = isolated ? { chunksBefore: 0, chunksAfter: 0 } : { chunksBefore: 1, chunksAfter: 1 };
          const run = (r: LshRotations) =>
            go(qk, qk, v, { pattern: lsh({ chunkLength: C, causal, rotations: r, ...neighbours }) });
          const base = await run(rot);
          const perms = isolated || hashes === 2 ? [cyclic, shuffled] : [cyclic];
          for (const perm of perms) {
            const other = await run(permuteRounds(rot, perm));
            expect(maxAbs(other.out.data, base.out.data)).toBeLessThan(1e-6);
            expect(other.stats.scoredPairs).toBe(base.stats.scoredPairs);
          }
        },
      ),
      { numRuns: 30 },
    );
  });

  it("same seed: bit-identical output; another seed: another output; seed = seededRotations(seed)", async () => {
    const qk = randomTensor([2, 2, 200, 16], 3);
    const v = randomTensor([2, 2, 200, 16], 4);
    const sizes = { buckets: 8, hashes: 3, chunkLength: 16 };
    const a = await go(qk, qk, v, { pattern: lsh({ ...sizes, seed: 42 }) });
    const b = await go(qk, qk, v, { pattern: lsh({ ...sizes, seed: 42 }) });
    const c = await go(qk, qk, v, { pattern: lsh({ ...sizes, seed: 43 }) });
    const data = seededRotations(42, 2, 16, 3, 4);
    const d = await go(qk, qk, v, {
      pattern: lsh({ chunkLength: 16, rotations: { data, shape: [2, 16, 3, 4] } }),
    });
    expect(Buffer.from(b.out.data.buffer).equals(Buffer.from(a.out.data.buffer))).toBe(true);
    expect(Buffer.from(b.lse.buffer).equals(Buffer.from(a.lse.buffer))).toBe(true);
    expect(Buffer.from(d.out.data.buffer).equals(Buffer.from(a.out.data.buffer))).toBe(true);
    expect(maxAbs(c.out.data, a.out.data)).toBeGreaterThan(1e-3);
  });

  it("no NaN for n = 1..300 with all-equal inputs (zero, one and large), causal or not", async () => {
    for (let n = 1; n <= 300; n++) {
      const value = [0, 1, -3e3][n % 3];
      const qk: Tensor = { data: new Float32Array(n * 4).fill(value), shape: [1, 1, n, 4] };
      const v: Tensor = { data: new Float32Array(n * 4).fill(0.5), shape: [1, 1, n, 4] };
      const { out, lse } = await go(qk, qk, v, {
        pattern: lsh({ buckets: 4, hashes: 2, chunkLength: 16, causal: n % 2 === 0, seed: n }),
      });
      expect(maxAbs(out.data, new Float32Array(n * 4).fill(0.5))).toBeLessThan(1e-6);
      expect(lse.every((x) => Number.isFinite(x))).toBe(true);
    }
  });

  it("separate q and k: keys are length-normalised, so scaling k changes nothing", async () => {
    const q = randomTensor([1, 2, 64, 8], 5);
    const k = randomTensor([1, 2, 64, 8], 6);
    const k3 = { data: k.data.map((x) => x * 3), shape: k.shape };
    const v = randomTensor([1, 2, 64, 8], 7);
    const pattern = lsh({ buckets: 4, hashes: 2, chunkLength: 8, seed: 1 });
    expect(maxAbs((await go(q, k3, v, { pattern })).out.data, (await go(q, k, v, { pattern })).out.data)).toBeLessThan(
      1e-5,
    );
  });

  it("the self mask value is HF's -1e5", async () => {
    expect(LSH_SELF_SCORE).toBe(-1e5);
    const qk = randomTensor([1, 1, 1, 3], 1);
    const { lse, out } = await go(qk, qk, qk, { pattern: lsh({ buckets: 2, hashes: 1, chunkLength: 4 }) });
    expect(lse[0]).toBe(-1e5); // a single token sees only itself
    expect(Array.from(out.data)).toEqual(Array.from(qk.data));
  });
});

describe("patterns.lsh: work accounting", () => {
  it("scores n·(before + 1 + after)·chunkLength·hashes pairs per head, exactly, and explain() agrees", () => {
    fc.assert(
      fc.property(
        fc.record({
          C: fc.integer({ min: 1, max: 12 }),
          m: fc.integer({ min: 2, max: 8 }),
          hashes: fc.integer({ min: 1, max: 4 }),
          before: fc.integer({ min: 0, max: 2 }),
          after: fc.integer({ min: 0, max: 2 }),
          B: fc.integer({ min: 1, max: 2 }),
          H: fc.integer({ min: 1, max: 2 }),
          causal: fc.boolean(),
          seed: fc.integer({ min: 0, max: 1000 }),
        }),
        ({ C, m, hashes, before, after, B, H, causal, seed }) => {
          const n = m * C;
          const qk = randomTensor([B, H, n, 4], seed);
          const pattern = lsh({
            buckets: 6,
            hashes,
            chunkLength: C,
            chunksBefore: before,
            chunksAfter: after,
            causal,
            seed,
          });
          const { stats } = attention(qk, qk, qk, { pattern });
          const formula = B * H * n * (before + 1 + after) * C * hashes;
          if (causal) {
            expect(stats.scoredPairs).toBeLessThanOrEqual(formula);
          } else {
            expect(stats.scoredPairs).toBe(formula);
            expect(stats.allowedPairs).toBe(formula);
          }
          expect(stats.flops).toBe(4 * 4 * stats.scoredPairs);
          const ex = explain(pattern, { queryLength: n, heads: H, headDim: 4, batch: B, q: qk, k: qk });
          expect([ex.scoredPairs, ex.allowedPairs, ex.tiles]).toEqual([
            stats.scoredPairs,
            stats.allowedPairs,
            stats.tiles,
          ]);
        },
      ),
      { numRuns: 40 },
    );
  });

  it("padding: each round is padded to a multiple of the chunk and the padding is never scored", () => {
    const C = 8;
    for (const n of [9, 13, 20, 31]) {
      const qk = randomTensor([1, 1, n, 4], n);
      const { stats } = attention(qk, qk, qk, {
        pattern: lsh({ buckets: 4, hashes: 3, chunkLength: C, chunksAfter: 1 }),
      });
      const perRound = Math.ceil(n / C);
      const sizes: number[] = [];
      for (let r = 0; r < 3; r++) for (let j = 0; j < perRound; j++) sizes.push(Math.min(C, n - j * C));
      let expected = 0;
      sizes.forEach((rows, c) => {
        for (let o = -1; o <= 1; o++) expected += rows * sizes[(c + o + sizes.length) % sizes.length];
      });
      expect(stats.scoredPairs).toBe(expected);
      expect(stats.scoredPairs).toBeLessThan(n * 3 * C * 3);
    }
  });

  it("grows linearly in n, not as n²", () => {
    const pairs = [256, 1024].map((n) => {
      const qk = randomTensor([1, 1, n, 8], n);
      return attention(qk, qk, qk, { pattern: lsh({ buckets: 16, hashes: 2, chunkLength: 32 }) }).stats.scoredPairs;
    });
    expect(pairs[1]).toBe(4 * pairs[0]);
  });
});
