/**
 * Row blocks (wasm-plan.ts rowCuts): a multi-part head whose parts all have unique rows runs as
 * several items, each every part in order over one block of rows. Checked here: the blocks
 * cover every tile of every part once, in order, and never share a row; the result is bit for
 * bit the whole-head order's (the test hook turns blocks off) on 1 and 2 threads, and matches
 * the oracle.
 */
import { describe, expect, test } from "vitest";
import { expectMatchesOracle, oracle, tensor } from "../../../test/helpers.js";
import { compile } from "../../compile.js";
import { attention } from "../../index.js";
import * as patterns from "../../pattern/index.js";
import type { Pattern, PlanPart } from "../../types.js";
import { Rng } from "../../util/rng.js";
import {
  DEFER_HEADS_PER_THREAD,
  deferItems,
  deferrable,
  ITEM_MERGE,
  ITEM_ROW_BLOCK,
  ITEM_STORE,
  planItems,
  setDeferForTests,
  setRowBlocksForTests,
  useDeferred,
} from "./wasm-items.js";

/** Checks that the blocks tile every part in order and that no row belongs to two blocks. */
function checkBlocks(parts: readonly PlanPart[], Lq: number, items: number[], blocks: number[][]): void {
  const P = parts.length;
  if (blocks.length === 0) {
    expect(items.length).toBe(4);
    expect(items[0]).toBe(-1); // the whole head, every part in order
    return;
  }
  const blockOfRow = new Int32Array(Lq).fill(-1);
  const next = new Array<number>(P).fill(0);
  for (let j = 0; j < blocks.length; j++) {
    expect(items[j * 4]).toBe(ITEM_ROW_BLOCK);
    expect(items[j * 4 + 1]).toBe(j);
    for (let i = 0; i < P; i++) {
      const [a, b] = [blocks[j][2 * i], blocks[j][2 * i + 1]];
      expect(a).toBe(next[i]); // consecutive, from 0
      expect(b).toBeGreaterThanOrEqual(a);
      next[i] = b;
      const p = parts[i];
      for (let s = p.qTiles[a]; s < p.qTiles[b]; s++) {
        const qi = p.qIndex === null ? s : p.qIndex[s];
        // a row belongs to one block across all parts
        if (blockOfRow[qi] === -1) blockOfRow[qi] = j;
        expect(blockOfRow[qi]).toBe(j);
      }
    }
  }
  for (let i = 0; i < P; i++) expect(next[i]).toBe(parts[i].qTiles.length - 1); // to the end
}

const globals = (n: number) => Array.from({ length: 16 }, (_, i) => Math.floor((i * n) / 16) + 7);

describe("row blocks of multi-part heads", () => {
  test("fixed 128 / 16 at n = 4096 splits into row blocks that tile every part", () => {
    const n = 4096;
    const plan = compile(patterns.fixed({ block: 128, summary: 16 }), { queryLength: n, headDim: 64 });
    const blocks: number[][] = [];
    const items = planItems(plan.heads[0], n, blocks);
    expect(blocks.length).toBeGreaterThan(8);
    checkBlocks(plan.heads[0], n, items, blocks);
    let cost = 0;
    for (let i = 3; i < items.length; i += 4) cost += items[i];
    expect(cost).toBe(plan.scoredPairs);
  });

  test("a part whose tiles span the sequence (Longformer's global rows) leaves the head whole", () => {
    const n = 4096;
    const plan = compile(patterns.longformer({ window: 256, global: globals(n) }), { queryLength: n, headDim: 64 });
    const blocks: number[][] = [];
    const items = planItems(plan.heads[0], n, blocks);
    expect(blocks.length).toBe(0);
    expect(items).toEqual([-1, 0, 0, plan.scoredPairs]);
  });

  const cases: [string, (n: number) => Pattern, number, boolean][] = [
    ["fixed 128 / 16", () => patterns.fixed({ block: 128, summary: 16 }), 2500, true],
    ["fixed 64 / 8", () => patterns.fixed({ block: 64, summary: 8 }), 1531, true],
    [
      "union of a causal window and a dilated window (gathered residues: no cut)",
      () =>
        patterns.union(
          patterns.slidingWindow({ left: 64, right: 0 }),
          patterns.dilatedWindow({ left: 256, right: 0, dilation: 8 }),
        ),
      3001,
      false,
    ],
    [
      "union of a window and causal blocks",
      () => patterns.union(patterns.slidingWindow({ left: 32, right: 32 }), patterns.fixed({ block: 96, summary: 4 })),
      2049,
      true,
    ],
    ["strided 128 (no cut: stays whole)", () => patterns.strided({ stride: 128 }), 2048, false],
    // the 16 global rows form one tile over rows 7..1694: the only cuts lie outside it
    [
      "longformer (cut only past the last global row)",
      (n) => patterns.longformer({ window: 64, global: globals(n) }),
      1800,
      true,
    ],
  ];
  for (const [name, make, n, splits] of cases) {
    test(`${name}, n = ${n}: bitwise the whole-head result on 1 and 2 threads, and the oracle's`, () => {
      const oldDefer = setDeferForTests("never");
      try {
        rowBlockCase(make, n, splits);
      } finally {
        setDeferForTests(oldDefer);
      }
    });
  }

  function rowBlockCase(make: (n: number) => Pattern, n: number, splits: boolean): void {
    {
      const rng = new Rng(n);
      const H = 2;
      const D = 32;
      const q = tensor([1, H, n, D], rng, 3);
      const k = tensor([1, H, n, D], rng);
      const v = tensor([1, H, n, D], rng);
      const pattern = make(n);
      const dims = { queryLength: n, heads: H, headDim: D };
      const blocked = compile(pattern, dims);
      const blocks: number[][] = [];
      checkBlocks(blocked.heads[0], n, planItems(blocked.heads[0], n, blocks), blocks);
      expect(blocks.length > 1).toBe(splits);
      const one = attention(q, k, v, { plan: blocked, backend: "wasm", threads: 1 });
      const two = attention(q, k, v, { plan: blocked, backend: "wasm", threads: 2 });
      const old = setRowBlocksForTests(false);
      let whole: ReturnType<typeof attention>;
      try {
        whole = attention(q, k, v, { plan: compile(pattern, dims), backend: "wasm", threads: 2 });
      } finally {
        setRowBlocksForTests(old);
      }
      for (const r of [two, whole]) {
        expect(Buffer.from(r.out.data.buffer).equals(Buffer.from(one.out.data.buffer))).toBe(true);
        expect(Buffer.from(r.lse.buffer).equals(Buffer.from(one.lse.buffer))).toBe(true);
      }
      const bound = pattern.bind({ queryLength: n, keyLength: n, heads: H, headDim: D });
      expectMatchesOracle(
        { out: one.out.data, lse: one.lse },
        oracle(q, k, v, 1 / Math.sqrt(D), bound.mask),
        D,
        3,
        true,
      );
    }
  }
});

/** Runs `fn` with row blocks off and the deferred mode set, restoring both. */
function withModes<T>(blocks: boolean, defer: "auto" | "always" | "never", fn: () => T): T {
  const oldBlocks = setRowBlocksForTests(blocks);
  const oldDefer = setDeferForTests(defer);
  try {
    return fn();
  } finally {
    setRowBlocksForTests(oldBlocks);
    setDeferForTests(oldDefer);
  }
}

const same = (a: Float32Array, b: Float32Array): boolean =>
  Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));

describe("deferred merges of multi-part heads without a row cut", () => {
  test("the items cover every tile of every part once; merge items cover every row once", () => {
    const n = 2048;
    const plan = compile(patterns.strided({ stride: 128 }), { queryLength: n, headDim: 64 });
    const parts = plan.heads[0];
    expect(deferrable(parts, n)).toBe(true);
    const { first, second } = deferItems(parts, n);
    const next = parts.map(() => 0);
    let cost = 0;
    for (let i = 0; i < first.length; i += 4) {
      const p = first[i] === 0 ? 0 : ITEM_STORE - first[i];
      expect(p === 0 || first[i] <= ITEM_STORE).toBe(true); // part 0 merges in place, the others store
      expect(first[i + 1]).toBe(next[p]);
      next[p] = first[i + 2];
      cost += first[i + 3];
    }
    expect(next).toEqual(parts.map((p) => p.qTiles.length - 1));
    expect(cost).toBe(plan.scoredPairs);
    expect(first.length / 4).toBeGreaterThan(4); // one head now spreads over several items
    let row = 0;
    for (let i = 0; i < second.length; i += 4) {
      expect(second[i]).toBe(ITEM_MERGE);
      expect(second[i + 1]).toBe(row);
      row = second[i + 2];
    }
    expect(row).toBe(n);
  });

  test("auto defers only with threads and few multi-part rows", () => {
    expect(useDeferred(1, 1)).toBe(false);
    expect(useDeferred(1, 2)).toBe(true);
    expect(useDeferred(0, 2)).toBe(false);
    expect(useDeferred(DEFER_HEADS_PER_THREAD * 2 - 1, 2)).toBe(true);
    expect(useDeferred(DEFER_HEADS_PER_THREAD * 2, 2)).toBe(false);
  });

  const cases: [string, (n: number) => Pattern, number, number][] = [
    ["strided 128", () => patterns.strided({ stride: 128 }), 2048, 2],
    ["strided 64, odd n", () => patterns.strided({ stride: 64 }), 1531, 1],
    ["longformer ±64 + 16 global", (n) => patterns.longformer({ window: 64, global: globals(n) }), 2500, 2],
    [
      "union of a causal window and a dilated window",
      () =>
        patterns.union(
          patterns.slidingWindow({ left: 64, right: 0 }),
          patterns.dilatedWindow({ left: 256, right: 0, dilation: 8 }),
        ),
      1800,
      3,
    ],
  ];
  for (const [name, make, n, H] of cases) {
    test(`${name}, n = ${n}, H = ${H}: bitwise the whole-head result on 1 and 2 threads, and the oracle's`, () => {
      const rng = new Rng(n + H);
      const D = 32;
      const q = tensor([1, H, n, D], rng, 3);
      const k = tensor([1, H, n, D], rng);
      const v = tensor([1, H, n, D], rng);
      // a row whose scores overflow float32 (marked by the kernel, recomputed in float64): the
      // marker must survive the deferred merges as it does the in-place ones
      for (let d = 0; d < D; d++) q.data[(n - 3) * D + d] = d % 2 === 0 ? 3e38 : -3e38;
      const pattern = make(n);
      const dims = { queryLength: n, heads: H, headDim: D };
      const plan = compile(pattern, dims);
      expect(deferrable(plan.heads[0], n)).toBe(true);
      const whole = withModes(false, "never", () =>
        attention(q, k, v, { plan: compile(pattern, dims), backend: "wasm", threads: 2 }),
      );
      for (const threads of [1, 2]) {
        const r = withModes(true, "always", () => attention(q, k, v, { plan, backend: "wasm", threads }));
        // it did defer: the records of parts 1 … P − 1 are counted in the wasm memory it used
        const records = (plan.heads[0].length - 1) * n * (D + 3) * 4 * H;
        const plain = withModes(false, "never", () => attention(q, k, v, { plan, backend: "wasm", threads }));
        expect(r.stats.backendBytes).toBeGreaterThanOrEqual(plain.stats.backendBytes + records);
        expect(same(r.out.data, whole.out.data)).toBe(true);
        expect(same(r.lse, whole.lse)).toBe(true);
      }
      const auto = attention(q, k, v, { plan, backend: "wasm", threads: 2 }); // deferred: H < 8
      expect(same(auto.out.data, whole.out.data)).toBe(true);
      const bound = pattern.bind({ queryLength: n, keyLength: n, heads: H, headDim: D });
      expectMatchesOracle(
        { out: whole.out.data, lse: whole.lse },
        oracle(q, k, v, 1 / Math.sqrt(D), bound.mask),
        D,
        3,
        true,
      );
    });
  }
});
