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
import { CTL_WORDS, MAX_ITEMS, poolUnsupportedReason, WorkerPool } from "./pool.js";
import { maxTile } from "./tiled.js";
import { WASM_PLAIN, WASM_PLAIN_RELAXED, WASM_SHARED, WASM_SHARED_RELAXED } from "./wasm/bytes.js";

const PAGE = 65536;
const CTL_OFFSET = 65536; // after the module's data segments (< 8 KiB)
const DATA_START = CTL_OFFSET + 4096;
const MAX_BYTES = 65536 * PAGE; // 4 GiB: 32-bit WebAssembly
/** Scored pairs per work item before a tile range is cut (≈ 16 MFLOP at D = 64). */
const ITEM_PAIRS = 65536;

interface KernelExports {
  runItem(item: number, scratch: number): void;
  runItems(items: number, count: number, scratch: number): void;
}

interface Runtime {
  module: WebAssembly.Module;
  memory: WebAssembly.Memory;
  shared: boolean;
  /** The relaxed-SIMD build (f32x4.relaxed_madd) runs: the host validated it. */
  relaxed: boolean;
  kernel: KernelExports;
  pool: WorkerPool | null;
}

let runtime: Runtime | null = null;
let loadError: string | null = null;

function decodeBase64(s: string): Uint8Array<ArrayBuffer> {
  const bin = atob(s);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

function sharedMemoryWorks(): boolean {
  if (typeof SharedArrayBuffer === "undefined") return false;
  try {
    new WebAssembly.Memory({ initial: 1, maximum: 1, shared: true });
    return true;
  } catch {
    return false;
  }
}

/** Loads the module once (synchronous compile; ~12 KB). Returns null and records why on failure. */
function load(): Runtime | null {
  if (runtime !== null || loadError !== null) return runtime;
  try {
    if (typeof WebAssembly === "undefined") throw new Error("this JavaScript runtime has no WebAssembly");
    const shared = sharedMemoryWorks();
    // relaxed SIMD where the host validates it (Node >= 22, Chrome >= 114; Node 20 only with
    // --experimental-wasm-relaxed-simd). Every thread instantiates this one module, so results
    // stay bitwise identical across thread counts on a given host.
    const relaxedBytes = decodeBase64(shared ? WASM_SHARED_RELAXED : WASM_PLAIN_RELAXED);
    const relaxed = WebAssembly.validate(relaxedBytes);
    const bytes = relaxed ? relaxedBytes : decodeBase64(shared ? WASM_SHARED : WASM_PLAIN);
    if (!WebAssembly.validate(bytes)) throw new Error("this runtime's WebAssembly lacks SIMD (v128)");
    const module = new WebAssembly.Module(bytes);
    const memory = new WebAssembly.Memory({ initial: DATA_START / PAGE + 1, maximum: 65536, shared });
    const kernel = new WebAssembly.Instance(module, { env: { memory } }).exports as unknown as KernelExports;
    runtime = { module, memory, shared, relaxed, kernel, pool: null };
  } catch (e) {
    loadError = e instanceof Error ? e.message : String(e);
  }
  return runtime;
}

/** Why the wasm backend cannot run at all on this host (empty when it can). */
export function wasmHostReasons(threads: number): string[] {
  const rt = load();
  if (rt === null) return [`WebAssembly kernel unavailable: ${loadError}`];
  if (threads > 1) {
    const why = rt.shared
      ? poolUnsupportedReason()
      : "SharedArrayBuffer is unavailable (browsers need cross-origin isolation)";
    if (why !== null) return [`threads: ${threads} needs a worker pool, but ${why}`];
  }
  return [];
}

/** Which build runs on this host: "relaxed-simd" (fused multiply-add), "simd", or null (none loads). */
export function wasmVariant(): "relaxed-simd" | "simd" | null {
  const rt = load();
  return rt === null ? null : rt.relaxed ? "relaxed-simd" : "simd";
}

/**
 * Starts the wasm worker pool for `threads` threads (the caller counts as one) and resolves
 * with the number of threads ready. Browsers need this before a synchronous
 * `attention(..., { threads })` call inside a Web Worker: a nested worker may only start
 * once its creator yields to the event loop. In Node it is optional (the pool starts on
 * first use). Throws where threads cannot run, saying why.
 */
export async function startWasmThreads(threads: number): Promise<number> {
  const reasons = wasmHostReasons(threads);
  if (reasons.length > 0) throw new Error(reasons.join("; "));
  const rt = runtime!;
  if (threads <= 1) return 1;
  if (rt.pool === null) rt.pool = new WorkerPool(rt.module, rt.memory, CTL_OFFSET);
  return 1 + Math.min(threads - 1, await rt.pool.whenReady(threads - 1));
}

/** Stops the worker pool and drops the module's memory (it can only grow while alive). */
export function releaseWasm(): void {
  runtime?.pool?.close();
  runtime = null;
}

/** Scratch bytes one thread needs for a part; mirrors scratchBytes() in assembly/kernel.ts. */
function scratchFor(part: PlanPart, D: number): number {
  const rp = (maxTile(part.qTiles) + 7) & ~7;
  const tk = maxTile(part.kTiles);
  return (2 * D * rp + tk * rp + 3 * rp + 2 * tk + 2 * tk * D) * 4 + 64;
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

export function runWasm(pr: WasmProblem): WasmResult {
  const rt = load();
  if (rt === null) throw new Error(`WebAssembly kernel unavailable: ${loadError}`);
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
  if (total > MAX_BYTES) {
    throw new Error(
      `wasm backend: this problem needs ${total} bytes of WebAssembly memory, above the 4 GiB limit; split the batch/heads or use backend "js"`,
    );
  }
  if (itemCount > MAX_ITEMS)
    throw new Error(`wasm backend: ${itemCount} work items exceed ${MAX_ITEMS}; split the batch`);
  const have = rt.memory.buffer.byteLength;
  if (total > have) rt.memory.grow(Math.ceil((total - have) / PAGE));

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
    if (rt.pool === null) rt.pool = new WorkerPool(rt.module, rt.memory, CTL_OFFSET);
    rt.pool.ensure(threads - 1);
    rt.pool.run(rt.kernel, threads, itemsPtr, itemCount, scratch, stride);
  }
  const out = f32.slice(outPtr / 4, outPtr / 4 + pr.q.length);
  const lse = f32.slice(lsePtr / 4, lsePtr / 4 + B * H * Lq);
  return { out, lse, totals, memoryBytes: mem.at - DATA_START };
}

/** Control words must fit below DATA_START. */
export const WASM_LAYOUT = { CTL_OFFSET, DATA_START, ctlBytes: CTL_WORDS * 4 };
