/**
 * Checks shared by the seed-pattern tests (Longformer, Sparse Transformer, BigBird): the plan's
 * allowed set, rebuilt from its parts, against a brute-force definition written in the test;
 * attention() on every test backend against the oracle with that dense mask; explain() against attention's stats.
 *
 * The synchronous backends are checked inside the (synchronous) property; the same check on
 * webgpu (asynchronous) is queued and awaited, in order, after each test (afterEach below), so
 * the seed-pattern suites run on every backend without turning every property async.
 */
import { afterEach, expect } from "vitest";
import { attentionAsync } from "../src/async.js";
import { compile } from "../src/compile.js";
import { attention, explain } from "../src/index.js";
import { expandParts } from "../src/layout/expand.js";
import type { MaskFn, Pattern, Tensor } from "../src/types.js";
import { Rng } from "../src/util/rng.js";
import { backendOptions, TEST_BACKENDS } from "./backends.js";
import { hasNaN, maxAbsDiff, oracle } from "./helpers.js";

export interface Sizes {
  Lq: number;
  Lk: number;
  H: number;
  D: number;
}

/** Every (head, q, k): the plan allows the pair exactly once iff `brute` says so; part counts add up. */
export function expectPlanEquals(pattern: Pattern, s: Sizes, brute: MaskFn): void {
  const c = compile(pattern, { queryLength: s.Lq, keyLength: s.Lk, heads: s.H, headDim: s.D });
  let allowed = 0;
  let scored = 0;
  for (let h = 0; h < s.H; h++) {
    const parts = c.heads[h];
    const count = expandParts(parts, s.Lq, s.Lk); // [Lq, Lk]
    for (const p of parts) {
      allowed += p.allowedPairs;
      scored += p.scoredPairs;
    }
    for (let q = 0; q < s.Lq; q++) {
      for (let k = 0; k < s.Lk; k++) {
        const want = brute(q, k, h) ? 1 : 0;
        const got = count[q * s.Lk + k];
        if (got !== want) {
          throw new Error(
            `${pattern.name} at ${JSON.stringify(s)}: head ${h} pair (q=${q}, k=${k}) covered ${got}×, want ${want}×`,
          );
        }
      }
    }
  }
  let bruteCount = 0;
  for (let h = 0; h < s.H; h++)
    for (let q = 0; q < s.Lq; q++) for (let k = 0; k < s.Lk; k++) if (brute(q, k, h)) bruteCount++;
  expect(allowed).toBe(bruteCount);
  expect(c.allowedPairs).toBe(bruteCount);
  expect(scored).toBeGreaterThanOrEqual(allowed);
}

export function randomQkv(s: Sizes, seed: number): { q: Tensor; k: Tensor; v: Tensor } {
  const rng = new Rng(seed);
  const t = (L: number): Tensor => {
    const data = new Float32Array(s.H * L * s.D);
    for (let i = 0; i < data.length; i++) data[i] = rng.normal();
    return { data, shape: [1, s.H, L, s.D] };
  };
  return { q: t(s.Lq), k: t(s.Lk), v: t(s.Lk) };
}

/** webgpu checks queued by expectAttentionMatches, run one after another after each test. */
let gpuChecks: (() => Promise<void>)[] = [];
afterEach(async () => {
  const jobs = gpuChecks;
  gpuChecks = [];
  for (const job of jobs) await job();
});

/** attention() with the pattern vs the float64 oracle with the brute-force mask; explain() == stats. */
export function expectAttentionMatches(pattern: Pattern, s: Sizes, brute: MaskFn, seed: number): void {
  const { q, k, v } = randomQkv(s, seed);
  const want = oracle(q, k, v, 1 / Math.sqrt(s.D), brute);
  gpuChecks.push(async () => {
    const got = await attentionAsync(q, k, v, { pattern, backend: "webgpu" });
    const label = `webgpu: ${pattern.name} ${JSON.stringify(s)} seed ${seed}`;
    expect(hasNaN(got.out.data), label).toBe(false);
    expect(maxAbsDiff(got.out.data, want.out), label).toBeLessThanOrEqual(1e-5);
    expect(maxAbsDiff(got.lse, want.lse), label).toBeLessThanOrEqual(1e-5);
    expect(got.stats.scoredPairs, label).toBe(ref.stats.scoredPairs);
    expect(got.stats.bytes, label).toBe(ref.stats.bytes);
  });
  let got = attention(q, k, v, { pattern });
  const ref = got;
  for (const b of TEST_BACKENDS) {
    got = attention(q, k, v, { pattern, ...backendOptions(b) });
    expect(hasNaN(got.out.data), b.label).toBe(false);
    expect(maxAbsDiff(got.out.data, want.out), b.label).toBeLessThanOrEqual(1e-5);
    expect(maxAbsDiff(got.lse, want.lse), b.label).toBeLessThanOrEqual(1e-5);
  }
  const e = explain(pattern, { queryLength: s.Lq, keyLength: s.Lk, heads: s.H, headDim: s.D });
  expect(e.allowedPairs).toBe(got.stats.allowedPairs);
  expect(e.scoredPairs).toBe(got.stats.scoredPairs);
  expect(e.tiles).toBe(got.stats.tiles);
  expect(e.flops).toBe(got.stats.flops);
  expect(e.bytes, "explain bytes == stats bytes on every backend").toBe(got.stats.bytes);
  expect(e.parts.length).toBe(got.stats.parts);
}
