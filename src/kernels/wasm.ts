/**
 * The WebAssembly SIMD backend: loads the kernel compiled from assembly/kernel.ts (embedded
 * base64, no download), lays out one problem in the module's linear memory (inputs, plans
 * as typed arrays, head/part/item descriptors, per-thread scratch) and runs the work items
 * on the calling thread or on the worker pool.
 *
 * Work items and determinism: an item is either a range of query tiles of a single-part
 * plan whose rows are unique (every output row then belongs to exactly one tile), or a whole
 * (batch, head) running all its parts in plan order (union parts and LSH rounds repeat rows
 * and merge them by log-sum-exp, so their order is fixed inside one item). Items never share
 * output rows and the item list does not depend on the thread count, so the result is
 * bitwise identical for any number of threads.
 *
 * Memory layout (bytes): [0, 64 KiB) the module's own constant tables | control words |
 * items [n, 4 i32] | heads [B·H, 16 i32] | parts [·, 16 i32] | plan arrays | q | k | v |
 * out | lse | scratch [threads, stride].
 */
import type { PlanData, PlanTotals } from "../layout/plan.js";
import { planAll } from "../layout/plan.js";
import type { Dims, Pattern, PlanPart } from "../types.js";
import { cleanInputs, finishHead, hasMarks, type NonFinite } from "./nonfinite.js";
import { CTL_WORDS, MAX_ITEMS, PoolError, WorkerPool } from "./pool.js";
import { type HeadTask, maxTile } from "./tiled.js";
import { CTL_OFFSET, DATA_START, dropRuntime, loadedRuntime, PAGE } from "./wasm-runtime.js";

export {
  failNextWorkerItemForTests,
  releaseWasm,
  wasmHostReasons,
  wasmPoolSize,
  wasmVariant,
} from "./wasm-runtime.js";

const MAX_BYTES = 65536 * PAGE; // 4 GiB: 32-bit WebAssembly
/** Scored pairs per work item before a tile range is cut (≈ 16 MFLOP at D = 64). */
const ITEM_PAIRS = 65536;

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

/** Work items of one head's plan: [partIndex, qtBegin, qtEnd, cost] quadruples. */
function planItems(parts: PlanPart[], Lq: number): number[] {
  if (parts.length !== 1 || !rowsUnique(parts[0], Lq)) {
    let cost = 0;
    for (const p of parts) cost += p.scoredPairs;
    return [-1, 0, 0, cost];
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

export interface WasmProblem {
  q: Float32Array; // [B, H, Lq, D]
  k: Float32Array; // keys (transformed by the pattern): [B, Hkv, Lk, D]
  v: Float32Array; // [B, Hkv, Lk, D]
  B: number;
  H: number;
  Hkv: number;
  Lq: number;
  Lk: number;
  D: number;
  scale: number;
  pattern: Pattern;
  threads: number;
  /**
   * Rows whose inputs held NaN/±∞ (q, k, v are then cleaned copies); null when all finite;
   * undefined when not scanned yet: the run scans them in wasm memory (SIMD) after copying
   * them in and cleans them there when needed (patterns that plan without data only).
   */
  bad?: NonFinite | null;
}

export interface WasmResult {
  out: Float32Array;
  lse: Float32Array;
  totals: PlanTotals;
  /** Bytes of wasm memory this problem used (inputs, plans, scratch). */
  memoryBytes: number;
}

const align16 = (n: number): number => Math.ceil(n / 16) * 16;

class Bump {
  constructor(public at: number) {}
  take(bytes: number): number {
    const p = this.at;
    this.at = p + align16(bytes);
    return p;
  }
}

/** The host refused the memory a run needs (raised before the kernel writes anything). */
export class WasmMemoryError extends Error {
  override name = "WasmMemoryError";
}

/** A planned problem with its wasm memory needs counted, before any wasm memory is touched. */
export interface WasmPrepared {
  pr: WasmProblem;
  heads: PlanPart[][];
  totals: PlanTotals;
  plans: Map<PlanPart[], { items: number[]; ptr: number }>;
  itemCount: number;
  partCount: number;
  stride: number;
  /** Bytes of linear memory the run needs: control words, items, descriptors, plans, q, k, v, out, lse, scratch. */
  bytes: number;
  /** Why it cannot run (memory above the limit, too many items); empty when it can. */
  reasons: string[];
}

let memoryLimit = MAX_BYTES;

/**
 * Test hook: pretend 32-bit WebAssembly memory holds only `bytes` (default 4 GiB), so a test
 * can prove that "auto" falls back without allocating 4 GiB. Returns the previous limit.
 */
export function setWasmMemoryLimitForTests(bytes: number = MAX_BYTES): number {
  const old = memoryLimit;
  memoryLimit = Math.min(bytes, MAX_BYTES);
  return old;
}

/** Plans the problem and counts the linear memory it needs (nothing is written to wasm memory). */
export function prepareWasm(pr: WasmProblem): WasmPrepared {
  const { B, H, Hkv, Lq, Lk, D, threads } = pr;
  const dims: Dims = { queryLength: Lq, keyLength: Lk, heads: H, headDim: D };
  const data: PlanData = { q: pr.q, k: pr.k, kvHeads: Hkv };
  const heads: PlanPart[][] = []; // [B·H] in (b, h) order
  const totals = planAll(pr.pattern, dims, B, data, (b, h, parts) => {
    heads[b * H + h] = parts;
  });

  // one layout per distinct plan (plans are shared across heads / batch when data-independent)
  const plans = new Map<PlanPart[], { items: number[]; ptr: number }>();
  let planBytes = 0;
  let partCount = 0;
  let itemCount = 0;
  let stride = 0;
  for (const parts of heads) {
    let info = plans.get(parts);
    if (info === undefined) {
      info = { items: planItems(parts, Lq), ptr: 0 };
      plans.set(parts, info);
      partCount += parts.length;
      for (const p of parts) {
        for (const a of [p.qIndex, p.kIndex, p.qTiles, p.kTiles, p.rowPtr, p.colIdx, p.maskOff, p.maskBits]) {
          if (a !== null) planBytes += align16(a.byteLength);
        }
        stride = Math.max(stride, scratchFor(p, D));
      }
    }
    itemCount += info.items.length / 4;
  }
  stride = (stride + 63) & ~63;
  const sizes = [itemCount * 16, heads.length * 64, partCount * 64, planBytes];
  const tensorBytes = [pr.q.byteLength, pr.k.byteLength, pr.v.byteLength, pr.q.byteLength, B * H * Lq * 4];
  let total = DATA_START + threads * stride + 16 * 16;
  for (const s of [...sizes, ...tensorBytes]) total += align16(s);
  const reasons: string[] = [];
  if (total > memoryLimit) {
    const limit = memoryLimit === MAX_BYTES ? "32-bit WebAssembly's 4 GiB" : `the ${memoryLimit}-byte test limit`;
    reasons.push(
      `the plan needs ${total} bytes of WebAssembly memory (inputs, outputs, ${planBytes} bytes of plan, ${threads * stride} bytes of scratch), above ${limit}; split the batch/heads or use backend "js"`,
    );
  }
  if (itemCount > MAX_ITEMS) reasons.push(`${itemCount} work items exceed ${MAX_ITEMS}; split the batch`);
  return { pr, heads, totals, plans, itemCount, partCount, stride, bytes: total, reasons };
}

export function runWasm(pr: WasmProblem, prepared: WasmPrepared = prepareWasm(pr)): WasmResult {
  let rt = loadedRuntime();
  if (rt.pool !== null && !rt.pool.healthy) {
    dropRuntime(rt); // a worker died between calls: start over with a fresh memory and pool
    rt = loadedRuntime();
  }
  if (prepared.reasons.length > 0) throw new Error(`wasm backend: ${prepared.reasons.join("; ")}`);
  const { B, H, Hkv, Lq, Lk, D, threads } = pr;
  const { heads, totals, plans, itemCount, partCount, stride } = prepared;
  const total = prepared.bytes;
  const have = rt.memory.buffer.byteLength;
  if (total > have) {
    try {
      rt.memory.grow(Math.ceil((total - have) / PAGE));
    } catch (e) {
      throw new WasmMemoryError(
        `wasm backend: could not grow WebAssembly memory to ${total} bytes (${e instanceof Error ? e.message : String(e)}); use backend "js" or a smaller batch`,
      );
    }
  }

  const buf = rt.memory.buffer;
  const i32 = new Int32Array(buf);
  const f32 = new Float32Array(buf);
  const u8 = new Uint8Array(buf);
  const mem = new Bump(DATA_START);
  const itemsPtr = mem.take(itemCount * 16);
  const headsPtr = mem.take(heads.length * 64);
  const partsPtr = mem.take(partCount * 64);
  const copyI32 = (a: Int32Array | null): number => {
    if (a === null) return 0;
    const p = mem.take(a.byteLength);
    i32.set(a, p / 4);
    return p;
  };
  let partAt = partsPtr;
  for (const [parts, info] of plans) {
    info.ptr = partAt;
    for (const p of parts) {
      const w = partAt / 4; // part descriptor: 16 i32 words
      i32[w] = copyI32(p.qIndex);
      i32[w + 1] = copyI32(p.kIndex);
      i32[w + 2] = copyI32(p.qTiles);
      i32[w + 3] = p.qTiles.length - 1;
      i32[w + 4] = copyI32(p.kTiles);
      i32[w + 5] = copyI32(p.rowPtr);
      i32[w + 6] = copyI32(p.colIdx);
      i32[w + 7] = copyI32(p.maskOff);
      const bits = mem.take(p.maskBits.byteLength);
      u8.set(p.maskBits, bits);
      i32[w + 8] = bits;
      i32[w + 9] = p.selfScore === undefined ? 0 : 1;
      f32[w + 10] = p.selfScore ?? 0;
      i32[w + 11] = maxTile(p.qTiles);
      i32[w + 12] = maxTile(p.kTiles);
      partAt += 64;
    }
  }
  const qPtr = mem.take(pr.q.byteLength);
  const kPtr = mem.take(pr.k.byteLength);
  const vPtr = mem.take(pr.v.byteLength);
  const outPtr = mem.take(pr.q.byteLength);
  const lsePtr = mem.take(B * H * Lq * 4);
  const scratch = mem.take(threads * stride);
  f32.set(pr.q, qPtr / 4);
  f32.set(pr.k, kPtr / 4);
  f32.set(pr.v, vPtr / 4);
  if (pr.bad === undefined) {
    const finite =
      rt.kernel.allFinite(qPtr, pr.q.length) === 1 &&
      rt.kernel.allFinite(kPtr, pr.k.length) === 1 &&
      rt.kernel.allFinite(vPtr, pr.v.length) === 1;
    if (finite) pr = { ...pr, bad: null };
    else {
      const c = cleanInputs(pr.q, pr.k, pr.v, pr); // the NaN rule's slow path (nonfinite.ts)
      f32.set(c.q, qPtr / 4);
      f32.set(c.k, kPtr / 4);
      f32.set(c.v, vPtr / 4);
      pr = { ...pr, q: c.q, k: c.k, v: c.v, bad: c.bad };
    }
  }
  f32.fill(0, outPtr / 4, outPtr / 4 + pr.q.length);
  f32.fill(Number.NEGATIVE_INFINITY, lsePtr / 4, lsePtr / 4 + B * H * Lq);

  // heads and items; items sorted by decreasing cost (stable) so the pool's tail is short
  const group = H / Hkv;
  const order: number[] = []; // [headRow, partIndex, qtBegin, qtEnd, cost] per item
  for (let b = 0; b < B; b++) {
    for (let h = 0; h < H; h++) {
      const row = b * H + h;
      const parts = heads[row];
      const info = plans.get(parts)!;
      const w = headsPtr / 4 + row * 16; // head descriptor: 16 i32 words
      const kvRow = b * Hkv + Math.floor(h / group);
      i32[w] = qPtr + row * Lq * D * 4; // q, out: [B, H, Lq, D]
      i32[w + 1] = kPtr + kvRow * Lk * D * 4; // k, v: [B, Hkv, Lk, D]
      i32[w + 2] = vPtr + kvRow * Lk * D * 4;
      i32[w + 3] = outPtr + row * Lq * D * 4;
      i32[w + 4] = lsePtr + row * Lq * 4; // lse: [B, H, Lq]
      i32[w + 5] = info.ptr;
      i32[w + 6] = parts.length;
      i32[w + 7] = D;
      f32[w + 8] = pr.scale;
      const it = info.items;
      for (let i = 0; i < it.length; i += 4) order.push(row, it[i], it[i + 1], it[i + 2], it[i + 3]);
    }
  }
  const idx = Array.from({ length: itemCount }, (_, i) => i);
  idx.sort((a, b) => order[b * 5 + 4] - order[a * 5 + 4] || a - b);
  for (let n = 0; n < itemCount; n++) {
    const o = idx[n] * 5;
    const w = itemsPtr / 4 + n * 4; // item: 4 i32 words
    i32[w] = headsPtr + order[o] * 64;
    i32[w + 1] = order[o + 1];
    i32[w + 2] = order[o + 2];
    i32[w + 3] = order[o + 3];
  }

  if (threads <= 1 || itemCount <= 1) {
    rt.kernel.runItems(itemsPtr, itemCount, scratch);
  } else {
    const maxItemFlops = 4 * D * order[idx[0] * 5 + 4]; // items sorted by decreasing cost
    try {
      if (rt.pool === null) rt.pool = new WorkerPool(rt.module, rt.memory, CTL_OFFSET);
      rt.pool.ensure(threads - 1);
      rt.pool.run(rt.kernel, threads, itemsPtr, itemCount, scratch, stride, maxItemFlops);
    } catch (e) {
      if (!(e instanceof PoolError)) throw e;
      // A dead or stuck worker may still hold this memory: stop every worker and drop the
      // memory with them; the next call loads a fresh runtime and starts a new pool.
      dropRuntime(rt);
      throw new PoolError(
        `${e.message}. This call's result is lost; the pool was stopped and the next call starts a new one`,
      );
    }
  }
  const out = f32.slice(outPtr / 4, outPtr / 4 + pr.q.length);
  const lse = f32.slice(lsePtr / 4, lsePtr / 4 + B * H * Lq);
  if (pr.bad || hasMarks(lse)) finishAll(pr, heads, out, lse);
  return { out, lse, totals, memoryBytes: mem.at - DATA_START };
}

/** The NaN rule and the float64 path for overflowed rows (nonfinite.ts), head by head. */
function finishAll(pr: WasmProblem, heads: PlanPart[][], out: Float32Array, lse: Float32Array): void {
  const { B, H, Hkv, Lq, Lk, D } = pr;
  const group = H / Hkv;
  const task: HeadTask = {
    q: pr.q,
    k: pr.k,
    v: pr.v,
    qBase: 0,
    kBase: 0,
    vBase: 0,
    lseBase: 0,
    D,
    scale: pr.scale,
    out,
    lse,
  };
  for (let b = 0; b < B; b++) {
    for (let h = 0; h < H; h++) {
      const row = b * H + h;
      const kvRow = b * Hkv + Math.floor(h / group);
      task.qBase = row * Lq * D; // q, out: [B, H, Lq, D]
      task.kBase = kvRow * Lk * D; // k, v: [B, Hkv, Lk, D]
      task.vBase = task.kBase;
      task.lseBase = row * Lq; // lse: [B, H, Lq]; qBad likewise
      const qBad = pr.bad ? pr.bad.qBad.subarray(row * Lq, (row + 1) * Lq) : null;
      const kvBad = pr.bad ? pr.bad.kvBad.subarray(kvRow * Lk, (kvRow + 1) * Lk) : null; // kvBad: [B, Hkv, Lk]
      finishHead(task, heads[row], Lq, qBad, kvBad);
    }
  }
}

/** Control words must fit below DATA_START. */
export const WASM_LAYOUT = { CTL_OFFSET, DATA_START, ctlBytes: CTL_WORDS * 4 };
