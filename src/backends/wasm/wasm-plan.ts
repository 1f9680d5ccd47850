/**
 * Plans in the wasm backend's memory: a compiled Plan is serialised once into a plan arena at
 * the start of the data region (part descriptors [·, PART_WORDS i32] and the plan's typed arrays, see
 * assembly/kernel.ts) together with its work items, and found again by a WeakMap keyed by the
 * Plan object. Workers share the memory, so a reused plan crosses to them without a copy.
 *
 * Work items and determinism: an item is either a range of query tiles of a single-part
 * plan whose rows are unique (every output row then belongs to exactly one tile), a row block
 * of a multi-part head (every part in plan order over rows no other block has, see rowCuts),
 * or a whole (batch, head) running all its parts in plan order (union parts and LSH rounds repeat rows
 * and merge them by log-sum-exp, so their order is fixed inside one item); a placed plan also
 * keeps the deferred form of such heads (wasm-items.ts deferItems) for calls that use it. Items never share
 * output rows and the item list does not depend on the thread count, so the result is
 * bitwise identical for any number of threads.
 */
import type { Plan, PlanPart } from "../../types.js";
import { maxTile } from "../js/tiled.js";
import { DATA_START, ITEM_ROW_BLOCK, MAX_BYTES, PART, PART_WORDS } from "./layout.js";
import type { WasmMemory } from "./memory.js";
import { MAX_ITEMS } from "./pool.js";
import { deferItems, deferrable, itemPairsFor, planItems } from "./wasm-items.js";

export { WasmMemoryError } from "./memory.js";

/** What placing a plan needs of the runtime: the owner of its memory. */
export interface ArenaRuntime {
  mem: WasmMemory;
}

/**
 * Columns of one kernel pass of a part (descriptor word 14; assembly/kernel.ts merges a run of
 * consecutive key tiles into passes of about equal width, at most this many): RUN_COLS, or the
 * part's widest key tile. Wider passes ran slower (St, Kp and Vp of a pass leave L1).
 */
const RUN_COLS = 128;
export function passCols(part: PlanPart): number {
  return Math.max(maxTile(part.kTiles), RUN_COLS);
}

/**
 * Columns of the part's packed key window (descriptor word 13; a multiple of 4, at least one
 * pass). Query tiles of at most 32 rows (bands, strided residues) get WINDOW_COLS, so a pass
 * that overlaps earlier ones (the next query tile's band) packs only its new keys; wider
 * tiles (dense) pack every pass afresh into one pass's room, which stays in cache.
 */
const WINDOW_COLS = 1024;
export function keyWindow(part: PlanPart): number {
  const cap = (passCols(part) + 3) & ~3;
  if (maxTile(part.qTiles) > 32) return cap;
  const keys = part.kTiles[part.kTiles.length - 1];
  return Math.max(cap, Math.min(WINDOW_COLS, (keys + 3) & ~3));
}

/** Columns between two 4-d groups of Vp; vCols() in assembly/kernel.ts. */
const vCols = (kWin: number): number => ((kWin & 255) === 0 ? kWin + 128 : kWin);

/** Scratch bytes one thread needs for a part; mirrors scratchBytes() in assembly/kernel.ts. */
function scratchFor(part: PlanPart, D: number): number {
  const rp = (maxTile(part.qTiles) + 7) & ~7;
  const cap = passCols(part);
  const kw = keyWindow(part);
  return (2 * D * rp + cap * rp + 4 * rp + 2 * cap + (kw + vCols(kw)) * D) * 4 + 64;
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
  /** The memory owner it was placed in, and the arena generation: a reset or a new runtime forgets it. */
  owner: WasmMemory;
  generation: number;
  /** Part-descriptor pointer of each row [B·H]. */
  rowParts: Int32Array;
  /** Sorted items: [row, partIndex, qtBegin, qtEnd] quadruples. */
  items: Int32Array;
  stride: number;
  bytes: number;
  /** Scored pairs of the costliest item (the first): bounds how long one item may run. */
  maxItemCost: number;
  /** The same work with deferrable whole heads deferred (wasm-items.ts deferItems); null when no head is. */
  deferred: DeferredItems | null;
}

/** Items of a call that defers its deferrable heads: two phases, each sorted by decreasing cost. */
export interface DeferredItems {
  first: Int32Array;
  second: Int32Array;
  maxItemCost: number;
  /** Per row [B·H]: parts with records (P − 1 for a deferred head, else 0). */
  recordParts: Int32Array;
}

/** Work items a call may have at most (both phases): tiles + a whole head per row + its merge items. */
export function itemsBound(plan: Plan): number {
  return plan.tiles + plan.batch * plan.dims.heads * (2 + Math.ceil(plan.dims.queryLength / 512));
}

/** (batch, head) rows whose plan has several parts: what the deferred mode's records are bounded by. */
export function multiPartRows(plan: Plan): number {
  let n = 0;
  for (const parts of plan.rows) if (parts.length > 1) n++;
  return n;
}

/** Bytes of records a deferred call needs at most: (P − 1)·Lq·(D + 3) floats per multi-part row. */
export function recordBytesBound(plan: Plan, D: number): number {
  let n = 0;
  for (const parts of plan.rows) {
    if (parts.length > 1) n += align16((parts.length - 1) * plan.dims.queryLength * (D + 3) * 4);
  }
  return n;
}

/**
 * True when one item holds more than half a head's work (the whole head, or row blocks cut
 * lopsided, as Longformer's with every global row before the only cut): such a head may run
 * deferred (wasm-items.ts deferItems).
 */
function lopsided(items: readonly number[]): boolean {
  let total = 0;
  let max = 0;
  for (let i = 3; i < items.length; i += 4) {
    total += items[i];
    max = Math.max(max, items[i]);
  }
  return total > 0 && 2 * max > total;
}

/** Sorts [row, kind, a, b, cost] quintuples by decreasing cost (stable) into [row, kind, a, b] quadruples. */
function sortItems(order: number[]): { items: Int32Array; maxCost: number } {
  const count = order.length / 5;
  if (count > MAX_ITEMS) throw new Error(`wasm backend: ${count} work items exceed ${MAX_ITEMS}; split the batch`);
  const idx = Array.from({ length: count }, (_, i) => i);
  idx.sort((a, b) => order[b * 5 + 4] - order[a * 5 + 4] || a - b);
  const items = new Int32Array(count * 4);
  for (let n = 0; n < count; n++) {
    const o = idx[n] * 5;
    items.set([order[o], order[o + 1], order[o + 2], order[o + 3]], n * 4);
  }
  return { items, maxCost: count > 0 ? order[idx[0] * 5 + 4] : 0 };
}

const planCache = new WeakMap<Plan, PlanEntry>();
/** Above this the arena is reset before a new plan is placed (wasm memory never shrinks). */
const ARENA_LIMIT = 1 << 30;
/** Plans serialised into wasm memory so far (tests: a reused plan is written once). */
let plansSerialised = 0;
export function wasmPlansSerialised(): number {
  return plansSerialised;
}

/** Bytes a plan needs in the arena (descriptors + arrays), and its scratch stride. */
export function planFootprint(plan: Plan, D: number): { bytes: number; stride: number } {
  let byD = footprints.get(plan);
  if (byD === undefined) {
    byD = new Map();
    footprints.set(plan, byD);
  }
  let f = byD.get(D);
  if (f === undefined) {
    f = countFootprint(plan, D);
    byD.set(D, f);
  }
  return f;
}

/** planFootprint's answers (a plan is immutable: counting it once is enough). */
const footprints = new WeakMap<Plan, Map<number, { bytes: number; stride: number }>>();

function countFootprint(plan: Plan, D: number): { bytes: number; stride: number } {
  const seen = new Set<PlanPart[]>();
  let bytes = 0;
  let stride = 0;
  for (const parts of plan.rows) {
    if (seen.has(parts)) continue;
    seen.add(parts);
    bytes += parts.length * PART_WORDS * 4; // part descriptors
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

/** Places `plan` in the arena (or finds it there); `callBytes` is what the call needs after the arena. */
export function placePlan(
  rt: ArenaRuntime,
  plan: Plan,
  D: number,
  callBytesFor: (items: number, stride: number) => number,
): PlanEntry {
  const mem = rt.mem;
  const hit = planCache.get(plan);
  if (hit !== undefined && hit.owner === mem && hit.generation === mem.arenaGeneration) return hit;
  const { bytes, stride } = planFootprint(plan, D);
  const callBytes = callBytesFor(itemsBound(plan), stride);
  if (mem.callStart + bytes > DATA_START + ARENA_LIMIT || mem.callStart + bytes + callBytes > MAX_BYTES) {
    mem.resetArena();
  }
  const start = mem.callStart;
  mem.ensure(start + bytes + callBytes);
  const buf = mem.memory.buffer;
  const i32 = new Int32Array(buf);
  const f32 = new Float32Array(buf);
  const u32 = new Uint32Array(buf);
  const bump = new Bump(start);
  const B = plan.batch;
  const H = plan.dims.heads;
  const Lq = plan.dims.queryLength;
  const rowParts = new Int32Array(B * H);
  const itemPairs = itemPairsFor(plan.scoredPairs); // item size: every row's work (wasm-items.ts)
  const placed = new Map<
    PlanPart[],
    { ptr: number; items: number[]; deferred: { first: number[]; second: number[] } | null }
  >();
  const copyI32 = (a: Int32Array | null): number => {
    if (a === null) return 0;
    const p = bump.take(a.byteLength);
    i32.set(a, p / 4);
    return p;
  };
  const order: number[] = []; // [row, partIndex, qtBegin, qtEnd, cost] per item
  const first: number[] = []; // the same with deferrable heads deferred: phase 1 …
  const second: number[] = []; // … and phase 2 (merge items)
  const recordParts = new Int32Array(B * H);
  let anyDeferred = false;
  for (let row = 0; row < B * H; row++) {
    const parts = plan.rows[row];
    let info = placed.get(parts);
    if (info === undefined) {
      const ptr = bump.take(parts.length * PART_WORDS * 4);
      for (let i = 0; i < parts.length; i++) {
        const p = parts[i];
        const w = ptr / 4 + i * PART_WORDS; // part descriptor i (assembly/layout.mjs, PART)
        i32[w + PART.Q_INDEX] = copyI32(p.qIndex);
        i32[w + PART.K_INDEX] = copyI32(p.kIndex);
        i32[w + PART.Q_TILES] = copyI32(p.qTiles);
        i32[w + PART.NUM_QT] = p.qTiles.length - 1;
        i32[w + PART.K_TILES] = copyI32(p.kTiles);
        i32[w + PART.ROW_PTR] = copyI32(p.rowPtr);
        i32[w + PART.COL_IDX] = copyI32(p.colIdx);
        i32[w + PART.MASK_OFF] = copyI32(p.maskOff); // word offsets into maskWords
        const words = bump.take(p.maskWords.byteLength);
        u32.set(p.maskWords, words / 4);
        i32[w + PART.MASK_WORDS] = words;
        i32[w + PART.HAS_SELF] = p.selfScore === undefined ? 0 : 1;
        f32[w + PART.SELF_SCORE] = p.selfScore ?? 0;
        i32[w + PART.TQ_MAX] = maxTile(p.qTiles);
        i32[w + PART.TK_MAX] = maxTile(p.kTiles);
        i32[w + PART.K_WIN] = keyWindow(p);
        i32[w + PART.CAP] = passCols(p);
      }
      const blocks: number[][] = [];
      const its = planItems(parts, Lq, blocks, itemPairs);
      if (blocks.length > 0) {
        // row-block tables: per block, per part [qtBegin, qtEnd) i32 pairs; items point at them
        const table = bump.take(blocks.length * parts.length * 8);
        for (let j = 0; j < blocks.length; j++) {
          i32.set(blocks[j], table / 4 + j * parts.length * 2);
        }
        for (let i = 0; i < its.length; i += 4) {
          if (its[i] === ITEM_ROW_BLOCK) its[i + 1] = table + its[i + 1] * parts.length * 8;
        }
      }
      info = {
        ptr,
        items: its,
        deferred: lopsided(its) && deferrable(parts, Lq) ? deferItems(parts, Lq, itemPairs) : null,
      };
      placed.set(parts, info);
    }
    rowParts[row] = info.ptr;
    const it = info.items;
    for (let i = 0; i < it.length; i += 4) order.push(row, it[i], it[i + 1], it[i + 2], it[i + 3]);
    const d = info.deferred;
    const one = d === null ? it : d.first;
    for (let i = 0; i < one.length; i += 4) first.push(row, one[i], one[i + 1], one[i + 2], one[i + 3]);
    if (d !== null) {
      anyDeferred = true;
      recordParts[row] = parts.length - 1;
      for (let i = 0; i < d.second.length; i += 4)
        second.push(row, d.second[i], d.second[i + 1], d.second[i + 2], d.second[i + 3]);
    }
  }
  const { items, maxCost: maxItemCost } = sortItems(order);
  let deferred: DeferredItems | null = null;
  if (anyDeferred) {
    const a = sortItems(first);
    const b = sortItems(second);
    deferred = { first: a.items, second: b.items, maxItemCost: Math.max(a.maxCost, b.maxCost), recordParts };
  }
  mem.extendArena(bump.at);
  plansSerialised++;
  const entry: PlanEntry = {
    owner: mem,
    generation: mem.arenaGeneration,
    rowParts,
    items,
    stride,
    bytes: bump.at - start,
    maxItemCost,
    deferred,
  };
  planCache.set(plan, entry);
  return entry;
}
