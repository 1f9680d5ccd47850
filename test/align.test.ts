/**
 * Alignment for Lq != Lk (issue #9, item 3): every positional pattern takes
 * align: "top-left" | "bottom-right" (default, as causal()): query q sits at key position
 * q + off with off = Lk - Lq (bottom-right) or 0 (top-left). Plans equal the brute-force
 * definition pair by pair; attention matches the oracle on every backend.
 */
import { describe, expect, test } from "vitest";
import { attention, compile, patterns } from "../src/index.js";
import type { MaskFn, Pattern } from "../src/types.js";
import { expectAttentionMatches, expectPlanEquals, type Sizes } from "./plan-check.js";

type Align = "top-left" | "bottom-right";

interface Family {
  name: string;
  make: (align: Align) => Pattern;
  /** The definition at key coordinates: x = q + off is the query's key position. */
  brute: (x: number, k: number, h: number, Lk: number) => boolean;
  maxLq?: "Lk";
}

const FAMILIES: Family[] = [
  {
    name: "slidingWindow",
    make: (align) => patterns.slidingWindow({ left: 5, right: 2, align }),
    brute: (x, k) => k >= x - 5 && k <= x + 2,
  },
  {
    name: "dilatedWindow",
    make: (align) => patterns.dilatedWindow({ left: 3, right: 2, dilation: [1, 3], align }),
    brute: (x, k, h) => {
      const d = [1, 3][h];
      return (x - k) % d === 0 && x - k >= -2 * d && x - k <= 3 * d;
    },
  },
  {
    name: "globalTokens",
    make: (align) => patterns.globalTokens([0, 7, 20], { align }),
    brute: (x, k) => [0, 7, 20].includes(x) || [0, 7, 20].includes(k),
  },
  {
    name: "longformer",
    make: (align) => patterns.longformer({ window: 3, global: [2, 19], align }),
    brute: (x, k) => [2, 19].includes(x) || [2, 19].includes(k) || Math.abs(x - k) <= 3,
  },
  {
    name: "strided",
    make: (align) => patterns.strided({ stride: 5, align }),
    brute: (x, k) => k <= x && (x - k <= 5 || (x - k) % 5 === 0),
  },
  {
    name: "strided factorized",
    make: (align) => patterns.strided({ stride: 4, factorized: true, align }),
    brute: (x, k, h) => k <= x && (h % 2 === 0 ? x - k <= 4 : (x - k) % 4 === 0),
  },
  {
    name: "fixed",
    make: (align) => patterns.fixed({ block: 6, summary: 2, align }),
    brute: (x, k) => k <= x && (Math.floor(k / 6) === Math.floor(x / 6) || k % 6 >= 4),
  },
  {
    name: "bigBird",
    make: (align) => patterns.bigBird({ blockSize: 4, randomBlocks: 0, align }),
    brute: (x, k, _h, Lk) => {
      const nb = Math.ceil(Lk / 4);
      const qb = Math.floor(x / 4);
      const kb = Math.floor(k / 4);
      return qb === 0 || qb === nb - 1 || kb === 0 || kb === nb - 1 || Math.abs(qb - kb) <= 1;
    },
    maxLq: "Lk",
  },
];

const SIZES: [number, number][] = [
  [13, 40],
  [40, 23],
  [1, 37],
];

describe.each(FAMILIES)("$name", (f) => {
  for (const align of ["bottom-right", "top-left"] as const) {
    for (const [Lq, Lk] of SIZES) {
      if (f.maxLq === "Lk" && Lq > Lk) continue;
      test(`${align}, Lq = ${Lq}, Lk = ${Lk}: plan equals the definition, attention the oracle`, () => {
        const off = align === "top-left" ? 0 : Lk - Lq;
        const brute: MaskFn = (q, k, h) => f.brute(q + off, k, h, Lk);
        const s: Sizes = { Lq, Lk, H: 2, D: 4 };
        expectPlanEquals(f.make(align), s, brute);
        expectAttentionMatches(f.make(align), s, brute, Lq * 131 + Lk);
      });
    }
  }
});

test("a decoding step (Lq = 1, Lk = n) with a causal window sees the last keys", () => {
  const n = 1000;
  const plan = compile(patterns.slidingWindow({ left: 3, right: 0 }), { queryLength: 1, keyLength: n, headDim: 4 });
  const part = plan.heads[0][0];
  const keys: number[] = [];
  for (let e = part.rowPtr[0]; e < part.rowPtr[1]; e++) {
    for (let c = part.kTiles[part.colIdx[e]]; c < part.kTiles[part.colIdx[e] + 1]; c++) keys.push(c);
  }
  expect(plan.allowedPairs).toBe(4);
  expect(keys).toContain(n - 1);
  expect(Math.min(...keys)).toBeGreaterThanOrEqual(n - 64);
  const q = { data: new Float32Array(4).fill(1), shape: [1, 1, 1, 4] as [number, number, number, number] };
  const kv = {
    data: new Float32Array(n * 4).map((_, i) => Math.floor(i / 4)),
    shape: [1, 1, n, 4] as [number, number, number, number],
  };
  const out = attention(q, kv, kv, { plan, backend: "js" }).out.data;
  expect(out[0]).toBeGreaterThan(n - 4);
  const topLeft = compile(patterns.slidingWindow({ left: 3, right: 0, align: "top-left" }), {
    queryLength: 1,
    keyLength: n,
    headDim: 4,
  });
  expect(topLeft.allowedPairs).toBe(1); // only key 0
});
