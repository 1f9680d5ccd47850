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
import type { Plan } from "../types.js";
import { CTL_WORDS, poolUnsupportedReason, WorkerPool } from "./pool.js";
import {
  align16,
  Bump,
  CTL_OFFSET,
  DATA_START,
  ensureMemory,
  PAGE,
  placePlan,
  planArenaEnd,
  resetPlanArena,
} from "./wasm-plan.js";

export { wasmPlansSerialised } from "./wasm-plan.js";

import { WASM_PLAIN, WASM_PLAIN_RELAXED, WASM_SHARED, WASM_SHARED_RELAXED } from "./wasm/bytes.js";

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
  resetPlanArena();
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
  ensureMemory(rt, planArenaEnd() + callBytes(itemCount, stride));

  const buf = rt.memory.buffer;
  const i32 = new Int32Array(buf);
  const f32 = new Float32Array(buf);
  const mem = new Bump(planArenaEnd());
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
  return { out, lse, memoryBytes: entry.bytes + (mem.at - planArenaEnd()) };
}

/** Control words must fit below DATA_START. */
export const WASM_LAYOUT = { CTL_OFFSET, DATA_START, ctlBytes: CTL_WORDS * 4 };
