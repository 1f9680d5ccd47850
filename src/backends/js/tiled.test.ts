import { describe, expect, test } from "vitest";
import { maxAbsDiff, oracle } from "../../../test/helpers.js";
import { attention, patterns } from "../../index.js";
import { randomTensor } from "../../util/rng.js";

describe("tiled kernel hazards", () => {
  test("n = 1: one query, one key", () => {
    const q = randomTensor([1, 1, 1, 8], 1);
    const k = randomTensor([1, 1, 1, 8], 2);
    const v = randomTensor([1, 1, 1, 8], 3);
    const r = attention(q, k, v);
    expect(Array.from(r.out.data)).toEqual(Array.from(v.data)); // softmax of one score is 1
    const dot = q.data.reduce((s, x, i) => s + x * k.data[i], 0) / Math.sqrt(8);
    expect(r.lse[0]).toBeCloseTo(dot, 5);
  });

  test("fully masked row: bottom-right causal with Lq > Lk gives out 0 and lse -Infinity", () => {
    const q = randomTensor([1, 2, 100, 16], 4);
    const k = randomTensor([1, 2, 70, 16], 5);
    const v = randomTensor([1, 2, 70, 16], 6);
    const r = attention(q, k, v, { pattern: patterns.causal() });
    for (let h = 0; h < 2; h++) {
      for (let i = 0; i < 100; i++) {
        const masked = i < 30; // k <= i + 70 - 100 has no key for i < 30
        expect(r.lse[h * 100 + i] === Number.NEGATIVE_INFINITY).toBe(masked);
        if (masked) for (let d = 0; d < 16; d++) expect(r.out.data[(h * 100 + i) * 16 + d]).toBe(0);
      }
    }
  });

  test("causal alignments differ exactly by the offset Lk - Lq", () => {
    const q = randomTensor([1, 1, 5, 4], 7);
    const k = randomTensor([1, 1, 9, 4], 8);
    const v = randomTensor([1, 1, 9, 4], 9);
    const tl = patterns.causal({ align: "top-left" }).bind({ queryLength: 5, keyLength: 9, heads: 1, headDim: 4 });
    const br = patterns.causal({ align: "bottom-right" }).bind({ queryLength: 5, keyLength: 9, heads: 1, headDim: 4 });
    expect([0, 1, 2].map((k2) => tl.mask(1, k2, 0))).toEqual([true, true, false]);
    expect(br.mask(0, 4, 0)).toBe(true); // first query sees keys 0..4
    expect(br.mask(0, 5, 0)).toBe(false);
    expect(br.mask(4, 8, 0)).toBe(true); // last query sees every key (decoding)
    const r = attention(q, k, v, { pattern: patterns.causal({ align: "top-left" }) });
    expect(maxAbsDiff(r.out.data, oracle(q, k, v, 0.5, tl.mask).out)).toBeLessThan(1e-6);
  });

  test("overflow: logits of order 1e4 give finite, exact results", () => {
    const q = randomTensor([1, 1, 130, 8], 10, 3000);
    const k = randomTensor([1, 1, 130, 8], 11);
    const v = randomTensor([1, 1, 130, 8], 12);
    const r = attention(q, k, v, { pattern: patterns.causal() });
    expect(r.out.data.every(Number.isFinite)).toBe(true);
    expect(r.lse.every(Number.isFinite)).toBe(true);
  });

  test("NaN and Infinity in inputs do not crash", () => {
    const q = randomTensor([1, 1, 70, 4], 13);
    const k = randomTensor([1, 1, 70, 4], 14);
    const v = randomTensor([1, 1, 70, 4], 15);
    q.data[5] = Number.NaN;
    k.data[9] = Number.POSITIVE_INFINITY;
    expect(() => attention(q, k, v)).not.toThrow();
  });

  test("grouped-query attention: query head h uses kv head floor(h / (H / Hkv))", () => {
    const q = randomTensor([1, 4, 20, 8], 16);
    const k = randomTensor([1, 2, 20, 8], 17);
    const v = randomTensor([1, 2, 20, 8], 18);
    const r = attention(q, k, v);
    for (let h = 0; h < 4; h++) {
      const kvh = Math.floor(h / 2);
      const one = attention(
        { data: q.data.slice(h * 160, (h + 1) * 160), shape: [1, 1, 20, 8] },
        { data: k.data.slice(kvh * 160, (kvh + 1) * 160), shape: [1, 1, 20, 8] },
        { data: v.data.slice(kvh * 160, (kvh + 1) * 160), shape: [1, 1, 20, 8] },
      );
      expect(Array.from(r.out.data.slice(h * 160, (h + 1) * 160))).toEqual(Array.from(one.out.data));
    }
  });

  test("causal skips the empty tiles: scored pairs about half of Lq·Lk", () => {
    const n = 1024;
    const q = randomTensor([1, 1, n, 1], 19);
    const r = attention(q, q, q, { pattern: patterns.causal() });
    expect(r.stats.allowedPairs).toBe((n * (n + 1)) / 2);
    expect(r.stats.scoredPairs).toBeLessThanOrEqual(0.54 * n * n);
  });
});
