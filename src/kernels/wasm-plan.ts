/**
 * Plans in the wasm backend's memory: a compiled Plan is serialised once into a plan arena at
 * the start of the data region (part descriptors [·, 16 i32] and the plan's typed arrays, see
 * assembly/kernel.ts) together with its work items, and found again by a WeakMap keyed by the
 * Plan object. Workers share the memory, so a reused plan crosses to them without a copy.
 *
 * Work items and determinism: an item is either a range of query tiles of a single-part
 * plan whose rows are unique (every output row then belongs to exactly one tile), a row block
 * of a multi-part head (every part in plan order over rows no other block has, see rowCuts),
 * or a whole (batch, head) running all its parts in plan order (union parts and LSH rounds repeat rows
 * and merge them by log-sum-exp, so their order is fixed inside one item). Items never share
 * output rows and the item list does not depend on the thread count, so the result is
 * bitwise identical for any number of threads.
 */
import type { Plan, PlanPart } from "../types.js";
import { MAX_ITEMS } from "./pool.js";
import { maxTile } from "./tiled.js";

export const PAGE = 65536;
export const CTL_OFFSET = 65536; // after the module's data segments (< 8 KiB)
export const DATA_START = CTL_OFFSET + 4096;
export const MAX_BYTES = 65536 * PAGE; // 4 GiB: 32-bit WebAssembly
/** Scored pairs per work item before a tile range is cut (≈ 16 MFLOP at D = 64). */
const ITEM_PAIRS = 65536;

/** What the arena needs of the runtime: its memory. */
export interface ArenaRuntime {
  memory: WebAssembly.Memory;
}

/** Scratch bytes one thread needs for a part; mirrors scratchBytes() in assembly/kernel.ts. */
function scratchFor(part: PlanPart, D: number): number {
  const rp = (maxTile(part.qTiles) + 7) & ~7;
  const tk = maxTile(part.kTiles);
  return (2 * D * rp + tk * rp + 4 * rp + 2 * tk + 2 * tk * D) * 4 + 64;
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

/** Item kind: every part of a head, in order, over all its query tiles. */
export const ITEM_WHOLE_HEAD = -1;
/** Item kind: every part of a head, in order, each over its own tile range (a row block, see rowCuts). */
export const ITEM_ROW_BLOCK = -2;

/**
 * Row blocks of a multi-part head whose parts all have unique rows: cut positions x (original
 * query rows) where EVERY part has a tile boundary b with all tiles before b on rows < x and
 * all tiles from b on rows >= x. An item then runs part 0's tiles of the block, then part 1's,
 * and so on: each row still sees its parts' merges in plan order with the same arithmetic, so
 * the result is bitwise what the whole-head item gives, and blocks never share a row.
 * Returns [tile boundary per part] for each block end (the last is every part's tile count)
 * and each block's cost, cut at about ITEM_PAIRS scored pairs; null when the plan allows no cut.
 */
function rowCuts(parts: readonly PlanPart[], Lq: number): { bounds: number[][]; costs: number[] } | null {
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
    if (cost - prevCost >= ITEM_PAIRS) {
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
export function planItems(parts: readonly PlanPart[], Lq: number, blocks: number[][]): number[] {
  if (parts.length !== 1 || !rowsUnique(parts[0], Lq)) {
    let cost = 0;
    for (const p of parts) cost += p.scoredPairs;
    if (rowBlocks && parts.length > 1 && parts.every((p) => rowsUnique(p, Lq))) {
      const cuts = rowCuts(parts, Lq);
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
  const p = parts[0];
  const out: number[] = [];
  const numQT = p.qTiles.length - 1;
  let begin = 0;
  let cost = 0;
  for (let qt = 0; qt < numQT; qt++) {
    const rows = p.qTiles[qt + 1] - p.qTiles[qt];
    for (let e = p.rowPtr[qt]; e < p.rowPtr[qt + 1]; e++) {
      const kt = p.colIdx[e];
      cost += rows * (p.kTiles[kt + 1] - p.kTiles[kt]);
    }
    if (cost >= ITEM_PAIRS || qt === numQT - 1) {
      if (cost > 0) out.push(0, begin, qt + 1, cost);
      begin = qt + 1;
      cost = 0;
    }
  }
  return out;
}

export const align16 = (n: number): number => Math.ceil(n / 16) * 16;

export class Bump {
  constructor(public at: number) {}
  take(bytes: number): number {
    const p = this.at;
    this.at = p + align16(bytes);
    return p;
  }
}

/**
 * A plan serialised into wasm memory, once: part descriptors and typed arrays in the plan
 * arena at the start of the data region, the work items of every (batch, head) sorted by
 * decreasing cost (stable) so the pool's tail is short. Reused by every call with the same
 * Plan object (WeakMap), so a compiled plan crosses to the workers (shared memory) without
 * copying per call.
 */
interface PlanEntry {
  runtime: ArenaRuntime;
  generation: number;
  /** Part-descriptor pointer of each row [B·H]. */
  rowParts: Int32Array;
  /** Sorted items: [row, partIndex, qtBegin, qtEnd] quadruples. */
  items: Int32Array;
  stride: number;
  bytes: number;
  /** Scored pairs of the costliest item (the first): bounds how long one item may run. */
  maxItemCost: number;
}

const planCache = new WeakMap<Plan, PlanEntry>();
/**
 * Arena state: [DATA_START, reservedEnd) holds the packed GEMM weights (kernels/gemm.ts), plans
 * live in [arenaBase, arenaEnd) with arenaBase >= reservedEnd; a reset (generation + 1) forgets
 * them all. Per-call data of either kernel goes after arenaEnd.
 */
let reservedEnd = DATA_START;
let arenaBase = DATA_START;
let arenaEnd = DATA_START;

/** End of the plan arena: per-call data goes after it. */
export function planArenaEnd(): number {
  return arenaEnd;
}

/** Forgets every cached plan (the arena restarts at its base). */
export function resetPlanArena(): void {
  arenaGeneration++;
  arenaEnd = arenaBase;
}

/** The runtime was released: no weights, no plans. */
export function resetWasmLayout(): void {
  reservedEnd = DATA_START;
  arenaBase = DATA_START;
  resetPlanArena();
}

/**
 * The end of the packed-weight region (kernels/gemm.ts); setting it past the plan arena's base
 * forgets the plans (they are placed again, after the weights, on their next use).
 */
export function reservedRegionEnd(end?: number): number {
  if (end === undefined) return reservedEnd;
  reservedEnd = Math.max(DATA_START, end);
  if (reservedEnd > arenaBase || arenaEnd === arenaBase) {
    arenaBase = reservedEnd;
    resetPlanArena();
  }
  return reservedEnd;
}
let arenaGeneration = 0;
/** Above this the arena is reset before a new plan is placed (wasm memory never shrinks). */
const ARENA_LIMIT = 1 << 30;
/** Plans serialised into wasm memory so far (tests: a reused plan is written once). */
let plansSerialised = 0;
export function wasmPlansSerialised(): number {
  return plansSerialised;
}

/** Bytes a plan needs in the arena (descriptors + arrays), and its scratch stride. */
export function planFootprint(plan: Plan, D: number): { bytes: number; stride: number } {
  const seen = new Set<PlanPart[]>();
  let bytes = 0;
  let stride = 0;
  for (const parts of plan.rows) {
    if (seen.has(parts)) continue;
    seen.add(parts);
    bytes += parts.length * 64;
    if (parts.length > 1) {
      // row-block tables (placePlan): at most one block per tile of the first part, [P][2] i32 each
      bytes += align16(parts[0].qTiles.length * parts.length * 8);
    }
    for (const p of parts) {
      for (const a of [p.qIndex, p.kIndex, p.qTiles, p.kTiles, p.rowPtr, p.colIdx, p.maskOff, p.maskWords]) {
        if (a !== null) bytes += align16(a.byteLength);
      }
      stride = Math.max(stride, scratchFor(p, D));
    }
  }
  return { bytes: align16(bytes), stride: (stride + 63) & ~63 };
}

/** The host refused the memory a run needs (raised before the kernel writes anything). */
export class WasmMemoryError extends Error {
  override name = "WasmMemoryError";
}

export function ensureMemory(rt: ArenaRuntime, total: number): void {
  if (total > MAX_BYTES) {
    throw new WasmMemoryError(
      `wasm backend: this problem needs ${total} bytes of WebAssembly memory, above the 4 GiB limit; split the batch/heads or use backend "js"`,
    );
  }
  const have = rt.memory.buffer.byteLength;
  if (total <= have) return;
  try {
    rt.memory.grow(Math.ceil((total - have) / PAGE));
  } catch (e) {
    throw new WasmMemoryError(
      `wasm backend: could not grow WebAssembly memory to ${total} bytes (${e instanceof Error ? e.message : String(e)}); use backend "js" or a smaller batch`,
    );
  }
}

/** Places `plan` in the arena (or finds it there); `callBytes` is what the call needs after the arena. */
export function placePlan(
  rt: ArenaRuntime,
  plan: Plan,
  D: number,
  callBytesFor: (items: number, stride: number) => number,
): PlanEntry {
  const hit = planCache.get(plan);
  if (hit !== undefined && hit.runtime === rt && hit.generation === arenaGeneration) return hit;
  const { bytes, stride } = planFootprint(plan, D);
  const callBytes = callBytesFor(plan.tiles + plan.batch * plan.dims.heads, stride); // items <= tiles + rows
  if (arenaEnd + bytes > DATA_START + ARENA_LIMIT || arenaEnd + bytes + callBytes > MAX_BYTES) {
    resetPlanArena();
  }
  const start = arenaEnd;
  ensureMemory(rt, start + bytes + callBytes);
  const buf = rt.memory.buffer;
  const i32 = new Int32Array(buf);
  const f32 = new Float32Array(buf);
  const u32 = new Uint32Array(buf);
  const mem = new Bump(start);
  const B = plan.batch;
  const H = plan.dims.heads;
  const Lq = plan.dims.queryLength;
  const rowParts = new Int32Array(B * H);
  const placed = new Map<PlanPart[], { ptr: number; items: number[] }>();
  const copyI32 = (a: Int32Array | null): number => {
    if (a === null) return 0;
    const p = mem.take(a.byteLength);
    i32.set(a, p / 4);
    return p;
  };
  const order: number[] = []; // [row, partIndex, qtBegin, qtEnd, cost] per item
  for (let row = 0; row < B * H; row++) {
    const parts = plan.rows[row];
    let info = placed.get(parts);
    if (info === undefined) {
      const ptr = mem.take(parts.length * 64);
      for (let i = 0; i < parts.length; i++) {
        const p = parts[i];
        const w = ptr / 4 + i * 16; // part descriptor: 16 i32 words
        i32[w] = copyI32(p.qIndex);
        i32[w + 1] = copyI32(p.kIndex);
        i32[w + 2] = copyI32(p.qTiles);
        i32[w + 3] = p.qTiles.length - 1;
        i32[w + 4] = copyI32(p.kTiles);
        i32[w + 5] = copyI32(p.rowPtr);
        i32[w + 6] = copyI32(p.colIdx);
        i32[w + 7] = copyI32(p.maskOff); // word offsets into maskWords
        const words = mem.take(p.maskWords.byteLength);
        u32.set(p.maskWords, words / 4);
        i32[w + 8] = words;
        i32[w + 9] = p.selfScore === undefined ? 0 : 1;
        f32[w + 10] = p.selfScore ?? 0;
        i32[w + 11] = maxTile(p.qTiles);
        i32[w + 12] = maxTile(p.kTiles);
      }
      const blocks: number[][] = [];
      const its = planItems(parts, Lq, blocks);
      if (blocks.length > 0) {
        // row-block tables: per block, per part [qtBegin, qtEnd) i32 pairs; items point at them
        const table = mem.take(blocks.length * parts.length * 8);
        for (let j = 0; j < blocks.length; j++) {
          i32.set(blocks[j], table / 4 + j * parts.length * 2);
        }
        for (let i = 0; i < its.length; i += 4) {
          if (its[i] === ITEM_ROW_BLOCK) its[i + 1] = table + its[i + 1] * parts.length * 8;
        }
      }
      info = { ptr, items: its };
      placed.set(parts, info);
    }
    rowParts[row] = info.ptr;
    const it = info.items;
    for (let i = 0; i < it.length; i += 4) order.push(row, it[i], it[i + 1], it[i + 2], it[i + 3]);
  }
  const count = order.length / 5;
  if (count > MAX_ITEMS) throw new Error(`wasm backend: ${count} work items exceed ${MAX_ITEMS}; split the batch`);
  const idx = Array.from({ length: count }, (_, i) => i);
  idx.sort((a, b) => order[b * 5 + 4] - order[a * 5 + 4] || a - b);
  const items = new Int32Array(count * 4);
  for (let n = 0; n < count; n++) {
    const o = idx[n] * 5;
    items.set([order[o], order[o + 1], order[o + 2], order[o + 3]], n * 4);
  }
  arenaEnd = mem.at;
  plansSerialised++;
  const maxItemCost = count > 0 ? order[idx[0] * 5 + 4] : 0;
  const entry: PlanEntry = {
    runtime: rt,
    generation: arenaGeneration,
    rowParts,
    items,
    stride,
    bytes: mem.at - start,
    maxItemCost,
  };
  planCache.set(plan, entry);
  return entry;
}
