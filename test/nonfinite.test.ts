/**
 * One NaN rule on every backend (docs/semantics.md, "NaN, infinity and overflow"): a NaN or
 * ±∞ in q, k or v makes NaN the whole output row and the lse of every row whose allowed pairs
 * touch it; every other row is bit for bit what it is without the bad value. Asserted value by
 * value on js, wasm (1 and 2 threads) and the reference, with the bad value in q, k and v, in
 * allowed and disallowed positions, in masked and unmasked rows, across union parts.
 *
 * Float32 overflow: q, k entries of 1e20 (scores near 1e40) give the float64 oracle's answer
 * on every backend, never an empty row (out 0, lse −∞).
 */
import { describe, expect, test } from "vitest";
import { attention, patterns } from "../src/index.js";
import type { MaskFn, Pattern, Tensor } from "../src/types.js";
import { Rng } from "../src/util/rng.js";
import { backendOptions, TEST_BACKENDS } from "./backends.js";
import { oracle, randomMask, tensor } from "./helpers.js";

const ALL: { label: string; options: object }[] = [
  ...TEST_BACKENDS.map((b) => ({ label: b.label, options: backendOptions(b) })),
  { label: "reference", options: { backend: "reference" } },
];

const B = 1;
const H = 2;
const Lq = 37;
const Lk = 45;
const D = 8;

interface Case {
  name: string;
  pattern: Pattern;
  mask: MaskFn; // the same allowed pairs, to predict which rows are touched
}

const rnd = randomMask(3, 0.3, true); // rows q % 7 == 3 fully masked
const CASES: Case[] = [
  { name: "dense", pattern: patterns.dense(), mask: () => true },
  { name: "random mask with empty rows", pattern: patterns.mask(rnd), mask: rnd },
  {
    name: "union of causal and a mask (rows merged across parts)",
    pattern: patterns.union(
      patterns.causal(),
      patterns.mask((_q, k) => k % 11 === 2),
    ),
    mask: (q, k) => k <= q + Lk - Lq || k % 11 === 2,
  },
];

type Where = "q" | "k" | "v";
/** Places: tensor, head, row, d. Rows chosen to hit masked rows (3, 10), keys allowed by few rows (44). */
const PLACES: [Where, number, number, number][] = [
  ["q", 0, 5, 2],
  ["q", 1, 3, 0], // row 3 is fully masked in the random mask
  ["k", 0, 2, 7], // k % 11 == 2: allowed everywhere in the union
  ["k", 1, 44, 1], // the last key: few rows allow it
  ["v", 0, 30, 4],
  ["v", 1, 9, 0],
];
const VALUES = [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY];

function inputs(seed: number): { q: Tensor; k: Tensor; v: Tensor } {
  const rng = new Rng(seed);
  return { q: tensor([B, H, Lq, D], rng), k: tensor([B, H, Lk, D], rng), v: tensor([B, H, Lk, D], rng) };
}

function withValue(t: Tensor, h: number, row: number, d: number, x: number): Tensor {
  const data = t.data.slice();
  const L = t.shape[2];
  data[(h * L + row) * D + d] = x; // [B, H, L, D], B = 1
  return { data, shape: t.shape };
}

/** Rows of head h that the rule poisons: [H, Lq] flags. */
function touched(mask: MaskFn, where: Where, h: number, row: number): Uint8Array {
  const out = new Uint8Array(H * Lq);
  for (let i = 0; i < Lq; i++) {
    let any = false;
    let touch = false;
    for (let j = 0; j < Lk; j++) {
      if (!mask(i, j, h)) continue;
      any = true;
      if (where !== "q" && j === row) touch = true;
    }
    if (where === "q" ? any && i === row : touch) out[h * Lq + i] = 1;
  }
  return out;
}

describe.each(ALL)("$label", ({ options }) => {
  test.each(CASES)("NaN / ±∞ in q, k, v: touched rows NaN, others bit for bit unchanged ($name)", (c) => {
    const base = inputs(17);
    const clean = attention(base.q, base.k, base.v, { pattern: c.pattern, ...options });
    let poisonedRows = 0;
    let cleanRows = 0;
    for (const [where, h, row, d] of PLACES) {
      const bad = touched(c.mask, where, h, row);
      for (const x of VALUES) {
        const t = { ...base, [where]: withValue(base[where], h, row, d, x) };
        const r = attention(t.q, t.k, t.v, { pattern: c.pattern, ...options });
        for (let i = 0; i < H * Lq; i++) {
          const at = `${where}[${h}, ${row}, ${d}] = ${x}, row ${i}`;
          if (bad[i] === 1) {
            poisonedRows++;
            expect(r.lse[i], at).toBeNaN();
            for (let e = 0; e < D; e++) expect(r.out.data[i * D + e], at).toBeNaN();
          } else {
            cleanRows++;
            expect(Object.is(r.lse[i], clean.lse[i]), at).toBe(true);
            for (let e = 0; e < D; e++)
              expect(Object.is(r.out.data[i * D + e], clean.out.data[i * D + e]), at).toBe(true);
          }
        }
      }
    }
    expect(poisonedRows).toBeGreaterThan(0);
    expect(cleanRows).toBeGreaterThan(poisonedRows);
  });

  test("a bad value in a disallowed position changes nothing", () => {
    const base = inputs(23);
    const pattern = patterns.causal({ align: "top-left" }); // key j allowed for rows i >= j
    const clean = attention(base.q, base.k, base.v, { pattern, ...options });
    // key 40 > every query row (Lq = 37): no row allows it
    for (const where of ["k", "v"] as const) {
      const t = { ...base, [where]: withValue(base[where], 0, 40, 3, Number.NaN) };
      const r = attention(t.q, t.k, t.v, { pattern, ...options });
      expect(Array.from(r.lse)).toEqual(Array.from(clean.lse));
      expect(Array.from(r.out.data)).toEqual(Array.from(clean.out.data));
    }
  });
});

describe.each(ALL)("float32 overflow, $label", ({ options }) => {
  test("q, k entries of 1e20: the oracle's answer, never an empty row", () => {
    const rng = new Rng(41);
    const q = tensor([1, 2, 33, 8], rng);
    const k = tensor([1, 2, 40, 8], rng);
    const v = tensor([1, 2, 40, 8], rng);
    for (let i = 0; i < q.data.length; i++) if ((i >> 3) % 3 === 0) q.data[i] *= 1e20; // every third row
    for (let i = 0; i < k.data.length; i++) k.data[i] *= 1e20;
    const scale = 1 / Math.sqrt(8);
    for (const [pattern, mask] of [
      [patterns.dense(), undefined],
      [patterns.mask(randomMask(5, 0.4, true)), randomMask(5, 0.4, true)],
    ] as [Pattern, MaskFn | undefined][]) {
      const want = oracle(q, k, v, scale, mask);
      const got = attention(q, k, v, { pattern, ...options });
      for (let i = 0; i < want.lse.length; i++) {
        if (want.lse[i] === Number.NEGATIVE_INFINITY) {
          expect(got.lse[i]).toBe(Number.NEGATIVE_INFINITY);
          continue;
        }
        // the oracle's float64 lse (~1e40) is +∞ in float32 for the big rows, 1e20-ish otherwise
        if (Number.isFinite(want.lse[i]))
          expect(Math.abs(got.lse[i] - want.lse[i])).toBeLessThanOrEqual(1e-5 * Math.abs(want.lse[i]));
        else expect(got.lse[i]).toBe(want.lse[i]);
        for (let d = 0; d < 8; d++)
          expect(Math.abs(got.out.data[i * 8 + d] - want.out[i * 8 + d])).toBeLessThanOrEqual(1e-5);
      }
    }
  });

  test("an accumulator beyond float32 (v near its largest value) follows the oracle", () => {
    const rng = new Rng(43);
    const q = tensor([1, 1, 20, 8], rng);
    const k = tensor([1, 1, 300, 8], rng, 0.01);
    const v = { data: new Float32Array(300 * 8).fill(3e38), shape: [1, 1, 300, 8] as [number, number, number, number] };
    const want = oracle(q, k, v, 1 / Math.sqrt(8));
    const got = attention(q, k, v, options);
    for (let i = 0; i < want.out.length; i++) {
      expect(Number.isFinite(got.out.data[i])).toBe(true);
      expect(Math.abs(got.out.data[i] - want.out[i])).toBeLessThanOrEqual(1e-6 * 3e38);
    }
    for (let i = 0; i < want.lse.length; i++) expect(Math.abs(got.lse[i] - want.lse[i])).toBeLessThanOrEqual(1e-5);
  });
});

describe("NaN rule on a content-dependent plan (LSH: gathered rows and keys, rounds merged)", () => {
  test("NaN in v: the same rows NaN on every tiled backend, the rest bit for bit unchanged", () => {
    const rng = new Rng(51);
    const qk = tensor([1, 2, 96, 8], rng);
    const v = tensor([1, 2, 96, 8], rng);
    const pattern = patterns.lsh({ buckets: 4, hashes: 2, chunkLength: 8, seed: 3 });
    const bad = withValue(v, 1, 10, 2, Number.NaN);
    const sets: string[] = [];
    for (const b of TEST_BACKENDS) {
      const clean = attention(qk, qk, v, { pattern, ...backendOptions(b) });
      const r = attention(qk, qk, bad, { pattern, ...backendOptions(b) });
      const rows: number[] = [];
      for (let i = 0; i < r.lse.length; i++) {
        if (Number.isNaN(r.lse[i])) {
          rows.push(i);
          for (let d = 0; d < 8; d++) expect(r.out.data[i * 8 + d]).toBeNaN();
        } else {
          expect(Object.is(r.lse[i], clean.lse[i])).toBe(true);
          for (let d = 0; d < 8; d++) expect(Object.is(r.out.data[i * 8 + d], clean.out.data[i * 8 + d])).toBe(true);
        }
      }
      expect(rows.length).toBeGreaterThan(0);
      expect(rows.every((i) => i >= 96)).toBe(true); // head 0 never reads head 1's values
      expect(rows.length).toBeLessThan(96);
      sets.push(rows.join(","));
    }
    expect(new Set(sets).size).toBe(1);
  });
});
