/**
 * Work items of one head's plan in the wasm backend (placed by wasm-plan.ts): query-tile
 * ranges of a single-part plan with unique rows, row blocks of a multi-part head (rowCuts),
 * or the whole head. The list depends on the plan alone, never on the thread count.
 */
import type { PlanPart } from "../../types.js";
import { ITEM_MERGE, ITEM_ROW_BLOCK, ITEM_STORE, ITEM_WHOLE_HEAD } from "./layout.js";

/** Scored pairs per work item before a tile range is cut, at most (≈ 16 MFLOP at D = 64). */
export const ITEM_PAIRS = 65536;
/** … and at least (≈ 1 MFLOP at D = 64: claiming an item costs well under a microsecond). */
export const MIN_ITEM_PAIRS = 4096;
/** Items a plan is cut into when its size allows (between MIN_ITEM_PAIRS and ITEM_PAIRS each). */
const ITEMS_PER_PLAN = 64;

/**
 * Scored pairs per item for a plan of `pairs` scored pairs (every row): ITEM_PAIRS for large
 * plans, smaller for small ones so that one head at n ≤ 4,096 still spreads over the threads
 * (the last items balance the threads' finish; docs/performance.md). Where an item is cut
 * never changes its bits: tiles, row blocks and deferred parts compute the same arithmetic
 * whichever item holds them.
 */
export function itemPairsFor(pairs: number): number {
  return Math.min(ITEM_PAIRS, Math.max(MIN_ITEM_PAIRS, Math.ceil(pairs / ITEMS_PER_PLAN)));
}

/** True when every row of the part appears once (so its query tiles may run in parallel). */
function rowsUnique(part: PlanPart, Lq: number): boolean {
  if (part.qIndex === null) return true;
  const seen = new Uint8Array(Lq);
  const n = part.qTiles[part.qTiles.length - 1];
  for (let s = part.qTiles[0]; s < n; s++) {
    const qi = part.qIndex[s];
    if (seen[qi] !== 0) return false;
    seen[qi] = 1;
  }
  return true;
}

let rowBlocks = true;
let deferMode: "auto" | "always" | "never" = "auto";
/**
 * Test hook: "always" runs every deferrable head (deferrable()) deferred, on any thread count;
 * "never" never; "auto" (default) when it pays (wasm.ts useDeferred). Returns the previous mode.
 */
export function setDeferForTests(mode: "auto" | "always" | "never"): "auto" | "always" | "never" {
  const old = deferMode;
  deferMode = mode;
  return old;
}

/**
 * Deferred heads cost a second pool dispatch and (P − 1)·Lq·(D + 3) floats of records per head,
 * so they run only where whole heads leave threads idle: fewer multi-part rows than
 * DEFER_HEADS_PER_THREAD per thread (results are bitwise the same either way).
 */
export const DEFER_HEADS_PER_THREAD = 4;

/** Whether a call with `multiPartRows` (batch, head) rows of several parts runs them deferred. */
export function useDeferred(multiPartRows: number, threads: number): boolean {
  if (deferMode !== "auto") return deferMode === "always" && multiPartRows > 0;
  return threads > 1 && multiPartRows > 0 && multiPartRows < DEFER_HEADS_PER_THREAD * threads;
}
/**
 * Test hook: with false, multi-part heads run as whole-head items again (plans placed after
 * the call), so a test can compare row blocks with the whole-head order bit for bit.
 * Returns the previous setting.
 */
export function setRowBlocksForTests(enabled: boolean): boolean {
  const old = rowBlocks;
  rowBlocks = enabled;
  return old;
}

// Item kinds (the layout table, assembly/layout.mjs): ITEM_WHOLE_HEAD every part of a head in
// order over all its query tiles; ITEM_ROW_BLOCK every part in order, each over its own tile
// range (a row block, see rowCuts); ITEM_MERGE the records of rows [qtBegin, qtEnd) of a
// deferred head (second phase); ITEM_STORE - p part p's tiles to its records (first phase).
export { ITEM_MERGE, ITEM_ROW_BLOCK, ITEM_STORE, ITEM_WHOLE_HEAD } from "./layout.js";

/**
 * Row blocks of a multi-part head whose parts all have unique rows: cut positions x (original
 * query rows) where EVERY part has a tile boundary b with all tiles before b on rows < x and
 * all tiles from b on rows >= x. An item then runs part 0's tiles of the block, then part 1's,
 * and so on: each row still sees its parts' merges in plan order with the same arithmetic, so
 * the result is bitwise what the whole-head item gives, and blocks never share a row.
 * Returns [tile boundary per part] for each block end (the last is every part's tile count)
 * and each block's cost, cut at about itemPairs scored pairs; null when the plan allows no cut.
 */
function rowCuts(
  parts: readonly PlanPart[],
  Lq: number,
  itemPairs: number,
): { bounds: number[][]; costs: number[] } | null {
  const P = parts.length;
  // per part: clean boundaries b (tiles before: rows < x, tiles from b: rows >= x) and the x they allow
  const lows: Int32Array[] = [];
  const highs: Int32Array[] = [];
  const bs: Int32Array[] = [];
  const prefCost: Float64Array[] = [];
  for (const p of parts) {
    const T = p.qTiles.length - 1;
    const lo = new Int32Array(T);
    const hi = new Int32Array(T);
    const cost = new Float64Array(T + 1);
    for (let t = 0; t < T; t++) {
      let a = Lq;
      let z = -1;
      for (let s = p.qTiles[t]; s < p.qTiles[t + 1]; s++) {
        const qi = p.qIndex === null ? s : p.qIndex[s];
        if (qi < a) a = qi;
        if (qi > z) z = qi;
      }
      lo[t] = a;
      hi[t] = z;
      let c = 0;
      const rows = p.qTiles[t + 1] - p.qTiles[t];
      for (let e = p.rowPtr[t]; e < p.rowPtr[t + 1]; e++) {
        const kt = p.colIdx[e];
        c += rows * (p.kTiles[kt + 1] - p.kTiles[kt]);
      }
      cost[t + 1] = cost[t] + c;
    }
    const sufMin = new Int32Array(T + 1);
    sufMin[T] = Lq;
    for (let t = T - 1; t >= 0; t--) sufMin[t] = Math.min(sufMin[t + 1], lo[t]);
    const cl: number[] = [];
    const ch: number[] = [];
    const cb: number[] = [];
    let preMax = -1;
    for (let b = 0; b <= T; b++) {
      if (b > 0) preMax = Math.max(preMax, hi[b - 1]);
      if (preMax < sufMin[b]) {
        cl.push(preMax + 1); // cuts x in [preMax + 1, sufMin[b]]
        ch.push(sufMin[b]);
        cb.push(b);
      }
    }
    lows.push(Int32Array.from(cl));
    highs.push(Int32Array.from(ch));
    bs.push(Int32Array.from(cb));
    prefCost.push(cost);
  }
  const ptr = new Int32Array(P);
  const bounds: number[][] = [];
  const costs: number[] = [];
  let prevCost = 0;
  for (let x = 1; x < Lq; x++) {
    let ok = true;
    for (let i = 0; i < P && ok; i++) {
      while (ptr[i] < highs[i].length && highs[i][ptr[i]] < x) ptr[i]++;
      ok = ptr[i] < highs[i].length && lows[i][ptr[i]] <= x;
    }
    if (!ok) continue;
    let cost = 0;
    for (let i = 0; i < P; i++) cost += prefCost[i][bs[i][ptr[i]]];
    if (cost - prevCost >= itemPairs) {
      const b = Array.from({ length: P }, (_, i) => bs[i][ptr[i]]);
      bounds.push(b);
      costs.push(cost - prevCost);
      prevCost = cost;
    }
  }
  if (bounds.length === 0) return null;
  let total = 0;
  for (let i = 0; i < P; i++) total += prefCost[i][prefCost[i].length - 1];
  if (total - prevCost > 0) {
    bounds.push(parts.map((p) => p.qTiles.length - 1));
    costs.push(total - prevCost);
  } else {
    bounds[bounds.length - 1] = parts.map((p) => p.qTiles.length - 1); // nothing after the last cut
  }
  return { bounds, costs };
}

/**
 * Work items of one head's plan: [kind or partIndex, qtBegin, qtEnd, cost] quadruples; for
 * ITEM_ROW_BLOCK items qtBegin is the block's index into `blocks` (per part [begin, end) tiles).
 */
export function planItems(
  parts: readonly PlanPart[],
  Lq: number,
  blocks: number[][],
  itemPairs: number = ITEM_PAIRS,
): number[] {
  if (parts.length !== 1 || !rowsUnique(parts[0], Lq)) {
    let cost = 0;
    for (const p of parts) cost += p.scoredPairs;
    if (rowBlocks && parts.length > 1 && parts.every((p) => rowsUnique(p, Lq))) {
      const cuts = rowCuts(parts, Lq, itemPairs);
      if (cuts !== null) {
        const out: number[] = [];
        let prev = parts.map(() => 0);
        for (let j = 0; j < cuts.bounds.length; j++) {
          const b = cuts.bounds[j];
          const ranges: number[] = [];
          for (let i = 0; i < parts.length; i++) ranges.push(prev[i], b[i]);
          out.push(ITEM_ROW_BLOCK, blocks.length, 0, cuts.costs[j]);
          blocks.push(ranges);
          prev = b;
        }
        return out;
      }
    }
    return [ITEM_WHOLE_HEAD, 0, 0, cost];
  }
  const out: number[] = [];
  tileRanges(parts[0], 0, itemPairs, out);
  return out;
}

/**
 * Cuts a part's query tiles into ranges of about itemPairs scored pairs; appends
 * [kind, qtBegin, qtEnd, cost] per range (tiles without key tiles cost nothing and ride along).
 */
function tileRanges(p: PlanPart, kind: number, itemPairs: number, out: number[]): void {
  const numQT = p.qTiles.length - 1;
  let begin = 0;
  let cost = 0;
  for (let qt = 0; qt < numQT; qt++) {
    const rows = p.qTiles[qt + 1] - p.qTiles[qt];
    for (let e = p.rowPtr[qt]; e < p.rowPtr[qt + 1]; e++) {
      const kt = p.colIdx[e];
      cost += rows * (p.kTiles[kt + 1] - p.kTiles[kt]);
    }
    if (cost >= itemPairs || qt === numQT - 1) {
      if (cost > 0) out.push(kind, begin, qt + 1, cost);
      begin = qt + 1;
      cost = 0;
    }
  }
}

/** Rows per merge-phase item. */
const MERGE_ROWS = 512;

/** True when a head's parts may run deferred: several parts, each with unique rows. */
export function deferrable(parts: readonly PlanPart[], Lq: number): boolean {
  return parts.length > 1 && parts.every((p) => rowsUnique(p, Lq));
}

/**
 * The deferred items of a multi-part head whose parts have unique rows (assembly/merge.ts):
 * phase 1, every part cut into query-tile ranges like a single-part plan, part 0 merging
 * into out / lse in place (it is first in plan order), parts p >= 1 storing each row's state
 * as a record; phase 2, row ranges whose records are merged in plan order. A row then sees
 * the merges of the whole-head item, in the same order with the same arithmetic: the result
 * is bitwise the same. Costs: scored pairs; a merge row counts (P − 1) / 4 pairs (its
 * float64 work, about D flops per record, against a pair's 4·D flops).
 */
export function deferItems(
  parts: readonly PlanPart[],
  Lq: number,
  itemPairs: number = ITEM_PAIRS,
): { first: number[]; second: number[] } {
  const first: number[] = [];
  tileRanges(parts[0], 0, itemPairs, first);
  for (let p = 1; p < parts.length; p++) tileRanges(parts[p], ITEM_STORE - p, itemPairs, first);
  const second: number[] = [];
  for (let r = 0; r < Lq; r += MERGE_ROWS) {
    const end = Math.min(Lq, r + MERGE_ROWS);
    second.push(ITEM_MERGE, r, end, Math.max(1, Math.round(((end - r) * (parts.length - 1)) / 4)));
  }
  return { first, second };
}
