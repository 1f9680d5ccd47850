/**
 * HuggingFace conformance for patterns.bigBird: every ../shared/conformance/hf/bigbird_* case
 * (BigBirdBlockSparseAttention, ITC, transformers 5.17.0, float32) reproduced by attention() on
 * every test backend with the case's own random table (rand_attn, passed as randomTable),
 * within the README's tolerances (1e-6 relative Frobenius, we allow 2e-6; 1e-5 absolute).
 *
 * The README's known HF quirk: where HF's table names a block already in the row (the window
 * or a global block, or the same block twice), HF counts that block twice in the softmax; we
 * use the allowed SET. Those (head, query block) rows are found from the table, not
 * hard-coded, EXCLUDED from the comparison with HF, and instead checked twice: against HF with
 * a float64 model of the double count (to show that the difference is exactly that quirk), and
 * against the float64 oracle with set semantics (to show that we compute the set).
 */
import { describe, expect, it } from "vitest";
import { bigBird } from "../src/pattern/bigbird.js";
import { ASYNC_TEST_BACKENDS, runOn } from "./backends.js";
import { oracle } from "./helpers.js";
import { compareRows, hfCases, readF32, readI32, readMeta, toHeads } from "./hf-case.js";

interface Meta {
  n: number;
  heads: number;
  head_dim: number;
  block_size: number;
  num_random_blocks: number;
  arrays: Record<string, { file: string; shape: number[] }>;
}

/** Float64 attention of one row over key blocks counted with multiplicity (HF's double count). */
function multisetRow(
  q: Float32Array,
  k: Float32Array,
  v: Float32Array,
  base: number,
  i: number,
  blocks: number[],
  b: number,
  D: number,
) {
  const scale = 1 / Math.sqrt(D);
  const scores: number[] = [];
  const keys: number[] = [];
  for (const kb of blocks) {
    for (let j = kb * b; j < (kb + 1) * b; j++) {
      let dot = 0;
      for (let d = 0; d < D; d++) dot += q[base + i * D + d] * k[base + j * D + d]; // [1, H, n, D] at head base
      scores.push(dot * scale);
      keys.push(j);
    }
  }
  const m = Math.max(...scores);
  let l = 0;
  const acc = new Float64Array(D);
  scores.forEach((s, t) => {
    const p = Math.exp(s - m);
    l += p;
    for (let d = 0; d < D; d++) acc[d] += p * v[base + keys[t] * D + d];
  });
  return Array.from(acc, (x) => x / l);
}

const CASES = hfCases("bigbird_");

describe("HuggingFace BigBird conformance (../shared/conformance/hf/bigbird_*)", () => {
  it("finds the shared HF cases (../shared/conformance/hf/bigbird_*): they are part of the suite, never skipped", () => {
    expect(CASES.length, "../shared/conformance beside the checkout").toBeGreaterThan(0);
  });
  for (const name of CASES) {
    it(`${name}: attention(q, k, v, bigBird({ randomTable })) reproduces BigBirdBlockSparseAttention`, async () => {
      const meta = readMeta<Meta>(name);
      const { n, heads: H, head_dim: D, block_size: b, num_random_blocks: R } = meta;
      const nb = n / b;
      const q = toHeads(readF32(name, meta.arrays.q.file), n, H, D);
      const k = toHeads(readF32(name, meta.arrays.k.file), n, H, D);
      const v = toHeads(readF32(name, meta.arrays.v.file), n, H, D);
      const want = toHeads(readF32(name, meta.arrays.out.file), n, H, D).data;
      const flat = readI32(name, meta.arrays.rand_attn.file); // (H, nb - 2, R)
      expect(meta.arrays.rand_attn.shape).toEqual([H, nb - 2, R]);
      const table = Array.from({ length: H }, (_, h) =>
        Array.from({ length: nb - 2 }, (_, i) =>
          Array.from(flat.subarray((h * (nb - 2) + i) * R, (h * (nb - 2) + i + 1) * R)),
        ),
      );
      // rows where HF double counts: the table repeats a block of the row or itself
      const strict = new Uint8Array(H * n).fill(1); // [H, n] rows compared with HF directly
      const quirk: Array<{ h: number; qb: number; blocks: number[] }> = [];
      for (let h = 0; h < H; h++) {
        for (let qb = 1; qb + 1 < nb; qb++) {
          const row = table[h][qb - 1];
          const base = new Set([0, nb - 1, qb - 1, qb, qb + 1]);
          const overlaps = row.some((x) => base.has(x)) || new Set(row).size < row.length;
          if (!overlaps) continue;
          quirk.push({ h, qb, blocks: [...base, ...row] });
          strict.fill(0, h * n + qb * b, h * n + (qb + 1) * b);
        }
      }
      expect(quirk.length).toBeLessThanOrEqual(0.05 * H * nb); // the exception stays an exception
      const pattern = bigBird({ blockSize: b, randomTable: table });
      const setRef = oracle(
        q,
        k,
        v,
        1 / Math.sqrt(D),
        pattern.bind({ queryLength: n, keyLength: n, heads: H, headDim: D }).mask,
      );
      for (const be of ASYNC_TEST_BACKENDS) {
        const res = await runOn(be, q, k, v, { pattern });
        const c = compareRows(res.out.data, want, strict, D);
        expect(c.relFro, be.label).toBeLessThan(2e-6);
        expect(c.maxAbs, be.label).toBeLessThan(1e-5);
        expect(res.stats.scoredPairs, be.label).toBe(res.stats.allowedPairs); // block tiles, all full
        const quirkRows = new Uint8Array(H * n);
        for (const x of quirk) quirkRows.fill(1, x.h * n + x.qb * b, x.h * n + (x.qb + 1) * b);
        if (quirk.length > 0) {
          const s = compareRows(res.out.data, setRef.out, quirkRows, D);
          expect(s.maxAbs, `${be.label}: quirk rows follow set semantics`).toBeLessThan(1e-5);
        }
      }
      // the excluded rows differ from HF only by the double count
      for (const { h, qb, blocks } of quirk) {
        for (let i = qb * b; i < (qb + 1) * b; i++) {
          const row = multisetRow(q.data, k.data, v.data, h * n * D, i, blocks, b, D);
          for (let d = 0; d < D; d++) expect(Math.abs(row[d] - want[(h * n + i) * D + d])).toBeLessThan(1e-5);
        }
      }
    });
  }
});
