/**
 * HuggingFace conformance for patterns.longformer: every ../shared/conformance/hf/longformer_*
 * case (LongformerSelfAttention, transformers 5.17.0, float32) reproduced by attention() on
 * every test backend, within the README's tolerances (1e-6 relative Frobenius, we allow 2e-6;
 * 1e-5 absolute per element). HF's attention_window is the whole window: our one-sided
 * `window` is attention_window / 2 (meta.json's one_sided). Global tokens are symmetric.
 */
import { describe, expect, it } from "vitest";
import { explain } from "../src/explain.js";
import { longformer } from "../src/pattern/longformer.js";
import { ASYNC_TEST_BACKENDS, runOn } from "./backends.js";
import { compareRows, hfCases, readF32, readI32, readMeta, toHeads } from "./hf-case.js";

interface Meta {
  n: number;
  heads: number;
  head_dim: number;
  attention_window: number;
  one_sided: number;
  arrays: Record<string, { file: string; shape: number[] }>;
}

const CASES = hfCases("longformer_");

describe("HuggingFace Longformer conformance (../shared/conformance/hf/longformer_*)", () => {
  it("finds the shared HF cases (../shared/conformance/hf/longformer_*): they are part of the suite, never skipped", () => {
    expect(CASES.length, "../shared/conformance beside the checkout").toBeGreaterThan(0);
  });
  for (const name of CASES) {
    it(`${name}: attention(q, k, v, longformer) reproduces LongformerSelfAttention`, async () => {
      const meta = readMeta<Meta>(name);
      const { n, heads: H, head_dim: D } = meta;
      expect(meta.one_sided * 2).toBe(meta.attention_window); // the conversion documented in docs/patterns.md
      const q = toHeads(readF32(name, meta.arrays.q.file), n, H, D);
      const k = toHeads(readF32(name, meta.arrays.k.file), n, H, D);
      const v = toHeads(readF32(name, meta.arrays.v.file), n, H, D);
      const want = toHeads(readF32(name, meta.arrays.out.file), n, H, D).data;
      const global = Array.from(readI32(name, meta.arrays.global_idx.file));
      const pattern = longformer({ window: meta.attention_window / 2, global });
      const all = new Uint8Array(H * n).fill(1);
      for (const b of ASYNC_TEST_BACKENDS) {
        const res = await runOn(b, q, k, v, { pattern });
        const c = compareRows(res.out.data, want, all, D);
        expect(c.relFro, b.label).toBeLessThan(2e-6);
        expect(c.maxAbs, b.label).toBeLessThan(1e-5);
        // the work: each head allows the clipped band plus the global rows and columns, once
        const e = explain(pattern, { queryLength: n, heads: H, headDim: D });
        expect(res.stats.allowedPairs).toBe(e.allowedPairs);
      }
      const w = meta.one_sided;
      let perHead = 0;
      for (let i = 0; i < n; i++) {
        for (let j = 0; j < n; j++) if (Math.abs(i - j) <= w || global.includes(i) || global.includes(j)) perHead++;
      }
      expect(explain(pattern, { queryLength: n, heads: H, headDim: D }).allowedPairs).toBe(H * perHead);
    });
  }
});
