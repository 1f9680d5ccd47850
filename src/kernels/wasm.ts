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
 * plan arena (compiled plans, each written once and reused while the Plan object lives:
 * part descriptors [·, 16 i32] and plan arrays) | per call: items [n, 4 i32] |
 * heads [B·H, 16 i32] | q | k | v | out | lse | scratch [threads, stride].
 */
import type { Plan, PlanPart } from "../types.js";
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

/** Stops the worker pool and drops the module's memory (it can only grow while alive). */
export function releaseWasm(): void {
  runtime?.pool?.close();
  runtime = null;
  arenaGeneration++;
  arenaEnd = DATA_START;
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
function planItems(parts: readonly PlanPart[], Lq: number): number[] {
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
  /** The compiled plan (its dims match the shapes above). */
  plan: Plan;
  threads: number;
}

export interface WasmResult {
  out: Float32Array;
  lse: Float32Array;
  /** Bytes of wasm memory this problem used (its plan, inputs, outputs, scratch). */
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

/**
 * A plan serialised into wasm memory, once: part descriptors and typed arrays in the plan
 * arena at the start of the data region, the work items of every (batch, head) sorted by
 * decreasing cost (stable) so the pool's tail is short. Reused by every call with the same
 * Plan object (WeakMap), so a compiled plan crosses to the workers (shared memory) without
 * copying per call.
 */
interface PlanEntry {
  runtime: Runtime;
  generation: number;
  /** Part-descriptor pointer of each row [B·H]. */
  rowParts: Int32Array;
  /** Sorted items: [row, partIndex, qtBegin, qtEnd] quadruples. */
  items: Int32Array;
  stride: number;
  bytes: number;
}

const planCache = new WeakMap<Plan, PlanEntry>();
/** Arena state: plans live in [DATA_START, arenaEnd); a reset (generation + 1) forgets them all. */
let arenaEnd = DATA_START;
let arenaGeneration = 0;
/** Above this the arena is reset before a new plan is placed (wasm memory never shrinks). */
const ARENA_LIMIT = 1 << 30;
/** Plans serialised into wasm memory so far (tests: a reused plan is written once). */
let plansSerialised = 0;
export function wasmPlansSerialised(): number {
  return plansSerialised;
}

/** Bytes a plan needs in the arena (descriptors + arrays), and its scratch stride. */
function planFootprint(plan: Plan, D: number): { bytes: number; stride: number } {
  const seen = new Set<PlanPart[]>();
  let bytes = 0;
  let stride = 0;
  for (const parts of plan.rows) {
    if (seen.has(parts)) continue;
    seen.add(parts);
    bytes += parts.length * 64;
    for (const p of parts) {
      for (const a of [p.qIndex, p.kIndex, p.qTiles, p.kTiles, p.rowPtr, p.colIdx, p.maskOff, p.maskWords]) {
        if (a !== null) bytes += align16(a.byteLength);
      }
      stride = Math.max(stride, scratchFor(p, D));
    }
  }
  return { bytes: align16(bytes), stride: (stride + 63) & ~63 };
}

function ensureMemory(rt: Runtime, total: number): void {
  if (total > MAX_BYTES) {
    throw new Error(
      `wasm backend: this problem needs ${total} bytes of WebAssembly memory, above the 4 GiB limit; split the batch/heads or use backend "js"`,
    );
  }
  const have = rt.memory.buffer.byteLength;
  if (total > have) rt.memory.grow(Math.ceil((total - have) / PAGE));
}

/** Places `plan` in the arena (or finds it there); `callBytes` is what the call needs after the arena. */
function placePlan(
  rt: Runtime,
  plan: Plan,
  D: number,
  callBytesFor: (items: number, stride: number) => number,
): PlanEntry {
  const hit = planCache.get(plan);
  if (hit !== undefined && hit.runtime === rt && hit.generation === arenaGeneration) return hit;
  const { bytes, stride } = planFootprint(plan, D);
  const callBytes = callBytesFor(plan.tiles + plan.batch * plan.dims.heads, stride); // items <= tiles + rows
  if (arenaEnd + bytes > DATA_START + ARENA_LIMIT || arenaEnd + bytes + callBytes > MAX_BYTES) {
    arenaGeneration++;
    arenaEnd = DATA_START;
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
      info = { ptr, items: planItems(parts, Lq) };
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
  const entry: PlanEntry = { runtime: rt, generation: arenaGeneration, rowParts, items, stride, bytes: mem.at - start };
  planCache.set(plan, entry);
  return entry;
}

export function runWasm(pr: WasmProblem): WasmResult {
  const rt = load();
  if (rt === null) throw new Error(`WebAssembly kernel unavailable: ${loadError}`);
  const { B, H, Hkv, Lq, Lk, D, threads, plan } = pr;
  const callBytes = (n: number, stride: number): number => {
    const sizes = [
      n * 16,
      B * H * 64,
      pr.q.byteLength,
      pr.k.byteLength,
      pr.v.byteLength,
      pr.q.byteLength,
      B * H * Lq * 4,
    ];
    let t = threads * stride + 16 * 16;
    for (const x of sizes) t += align16(x);
    return t;
  };
  const entry = placePlan(rt, plan, D, callBytes);
  const itemCount = entry.items.length / 4;
  const stride = entry.stride;
  ensureMemory(rt, arenaEnd + callBytes(itemCount, stride));

  const buf = rt.memory.buffer;
  const i32 = new Int32Array(buf);
  const f32 = new Float32Array(buf);
  const mem = new Bump(arenaEnd);
  const itemsPtr = mem.take(itemCount * 16);
  const headsPtr = mem.take(B * H * 64);
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

  const group = H / Hkv;
  for (let b = 0; b < B; b++) {
    for (let h = 0; h < H; h++) {
      const row = b * H + h;
      const w = headsPtr / 4 + row * 16; // head descriptor: 16 i32 words
      const kvRow = b * Hkv + Math.floor(h / group);
      i32[w] = qPtr + row * Lq * D * 4; // q, out: [B, H, Lq, D]
      i32[w + 1] = kPtr + kvRow * Lk * D * 4; // k, v: [B, Hkv, Lk, D]
      i32[w + 2] = vPtr + kvRow * Lk * D * 4;
      i32[w + 3] = outPtr + row * Lq * D * 4;
      i32[w + 4] = lsePtr + row * Lq * 4; // lse: [B, H, Lq]
      i32[w + 5] = entry.rowParts[row];
      i32[w + 6] = plan.rows[row].length;
      i32[w + 7] = D;
      f32[w + 8] = pr.scale;
    }
  }
  const items = entry.items;
  for (let n = 0; n < itemCount; n++) {
    const w = itemsPtr / 4 + n * 4; // item: 4 i32 words
    i32[w] = headsPtr + items[n * 4] * 64;
    i32[w + 1] = items[n * 4 + 1];
    i32[w + 2] = items[n * 4 + 2];
    i32[w + 3] = items[n * 4 + 3];
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
  return { out, lse, memoryBytes: entry.bytes + (mem.at - arenaEnd) };
}

/** Control words must fit below DATA_START. */
export const WASM_LAYOUT = { CTL_OFFSET, DATA_START, ctlBytes: CTL_WORDS * 4 };
