/**
 * Per-sequence patterns: perBatch and keyPadding give every batch row its own allowed set.
 * One call over B rows must equal B separate calls (1e-6) on js, wasm (1 and 2 threads) and the
 * reference, plans are shared between rows with the same pattern object, and accounting sums
 * over rows.
 */
import { describe, expect, test } from "vitest";
import { backendOptions, TEST_BACKENDS } from "../../test/backends.js";
import { maxAbsDiff, tensor } from "../../test/helpers.js";
import { attention, compile, explain, patterns } from "../index.js";
import type { AttentionOptions, Pattern, Tensor } from "../types.js";
import { Rng } from "../util/rng.js";

const { perBatch, keyPadding, longformer, intersect, union, causal, slidingWindow, mask, globalTokens } = patterns;

/** Row b of a [B, H, L, D] tensor as a [1, H, L, D] tensor. */
function row(t: Tensor, b: number): Tensor {
  const [, H, L, D] = t.shape;
  const size = H * L * D;
  return { data: t.data.slice(b * size, (b + 1) * size), shape: [1, H, L, D] };
}

const ALL = [
  ...TEST_BACKENDS.map((b) => ({ label: b.label, opts: backendOptions(b) })),
  {
    label: "reference",
    opts: { backend: "reference" } as AttentionOptions,
  },
];

/** attention over the batch with `batched` equals per-row attention with rows[b], within 1e-6. */
function expectRowsEqual(
  batched: Pattern,
  rows: Pattern[],
  B: number,
  H: number,
  Hkv: number,
  Lq: number,
  Lk: number,
  seed: number,
): void {
  const rng = new Rng(seed);
  const D = 8;
  const q = tensor([B, H, Lq, D], rng);
  const k = tensor([B, Hkv, Lk, D], rng);
  const v = tensor([B, Hkv, Lk, D], rng);
  for (const b of ALL) {
    const got = attention(q, k, v, { pattern: batched, ...b.opts });
    let allowed = 0;
    for (let r = 0; r < B; r++) {
      const want = attention(row(q, r), row(k, r), row(v, r), { pattern: rows[r], ...b.opts });
      allowed += want.stats.allowedPairs;
      const rowOut = got.out.data.subarray(r * H * Lq * D, (r + 1) * H * Lq * D); // out: [B, H, Lq, D]
      const rowLse = got.lse.subarray(r * H * Lq, (r + 1) * H * Lq); // lse: [B, H, Lq]
      expect(maxAbsDiff(rowOut, want.out.data), `${b.label} row ${r} out`).toBeLessThanOrEqual(1e-6);
      expect(maxAbsDiff(rowLse, want.lse), `${b.label} row ${r} lse`).toBeLessThanOrEqual(1e-6);
    }
    expect(got.stats.allowedPairs, `${b.label}: accounting sums over rows`).toBe(allowed);
  }
  const e = explain(batched, { queryLength: Lq, keyLength: Lk, heads: H, headDim: D, batch: B });
  const js = attention(q, k, v, { pattern: batched, backend: "js" });
  expect(e.allowedPairs).toBe(js.stats.allowedPairs);
  expect(e.scoredPairs).toBe(js.stats.scoredPairs);
  expect(e.tiles).toBe(js.stats.tiles);
  expect(e.bytes).toBe(js.stats.bytes);
}

describe("perBatch and keyPadding equal B separate calls", () => {
  test("perBatch of longformer with per-row global tokens", () => {
    const rows = [
      longformer({ window: 3, global: [0] }),
      longformer({ window: 3, global: [5, 17] }),
      longformer({ window: 3 }),
    ];
    expectRowsEqual(perBatch(rows), rows, 3, 2, 1, 40, 40, 1);
  });

  test("keyPadding alone (one row fully padded away, one at full length)", () => {
    const lens = [13, 0, 50, 64];
    const rows = lens.map((n) =>
      intersect(
        patterns.dense(),
        mask((_q, k) => k < n, { name: `k<${n}`, tileKind: (_a, _b, k0, k1) => (k1 <= n ? 2 : k0 >= n ? 0 : 1) }),
      ),
    );
    expectRowsEqual(keyPadding(lens), rows, 4, 2, 2, 33, 64, 2);
  });

  test("intersect(perBatch(longformer rows), keyPadding(lens)): a padded Longformer batch in one call", () => {
    const globals = [[0], [1, 30], []];
    const lens = [70, 41, 9];
    const lf = globals.map((g) => longformer({ window: 4, global: g }));
    const rows = lf.map((p, b) => intersect(p, keyPadding([lens[b]])));
    expectRowsEqual(intersect(perBatch(lf), keyPadding(lens)), rows, 3, 2, 1, 70, 70, 3);
  });

  test("union with per-row masks that read b; Lq != Lk", () => {
    const m = mask((q, k, _h, b) => (q + k + (b ?? 0)) % 5 === 0, { name: "(q+k+b)%5" });
    const rows = [0, 1].map((b) =>
      union(
        causal(),
        mask((q, k) => (q + k + b) % 5 === 0),
      ),
    );
    expectRowsEqual(union(causal(), m), rows, 2, 1, 1, 21, 37, 4);
  });

  test("perBatch(...) inside a union with a shared window", () => {
    const per = perBatch([globalTokens([3]), globalTokens([0, 9])]);
    const rows = [
      union(slidingWindow({ left: 2, right: 1 }), globalTokens([3])),
      union(slidingWindow({ left: 2, right: 1 }), globalTokens([0, 9])),
    ];
    expectRowsEqual(union(slidingWindow({ left: 2, right: 1 }), per), rows, 2, 3, 3, 30, 30, 5);
  });
});

describe("per-row plans", () => {
  test("each distinct pattern object is planned once; equal rows share the plan arrays", () => {
    const a = longformer({ window: 2, global: [0] });
    const b = longformer({ window: 2, global: [4] });
    const plan = compile(perBatch([a, b, a, a]), { queryLength: 32, heads: 2, headDim: 4, batch: 4 });
    expect(plan.rows.length).toBe(8);
    expect(plan.rows[0]).toBe(plan.rows[4]); // row 2, head 0 shares row 0, head 0
    expect(plan.rows[0]).toBe(plan.rows[1]); // not head-dependent: heads share
    expect(plan.rows[0]).not.toBe(plan.rows[2]);
    const lens = compile(keyPadding([5, 9, 5]), { queryLength: 8, keyLength: 9, headDim: 4, batch: 3 });
    expect(lens.rows[0]).toBe(lens.rows[2]);
    expect(lens.rows[0]).not.toBe(lens.rows[1]);
  });

  test("row counts must match the batch", () => {
    expect(() => compile(perBatch([causal()]), { queryLength: 8, headDim: 4, batch: 2 })).toThrow(
      /perBatch.*one per batch row: 2/,
    );
    expect(() => explain(keyPadding([3, 4]), { queryLength: 8, headDim: 4 })).toThrow(
      /keyPadding.*one per batch row: 1/,
    );
    expect(() => explain(keyPadding([9]), { queryLength: 8, headDim: 4 })).toThrow(/keyPadding.*<= the key length 8/);
    expect(() => keyPadding([1.5])).toThrow(/keyPadding\(lengths\)\[0\]/);
  });

  test("a keyPadding intersection scores only tiles below each row's length", () => {
    const lf = longformer({ window: 64 });
    const full = explain(lf, { queryLength: 4096, headDim: 64, batch: 2 });
    const padded = explain(intersect(lf, keyPadding([4096, 1024])), { queryLength: 4096, headDim: 64, batch: 2 });
    expect(padded.scoredPairs).toBeLessThan(0.65 * full.scoredPairs);
    expect(padded.allowedPairs).toBeLessThan(full.allowedPairs);
  });
});
