/**
 * The WebAssembly SIMD backend: loads the kernel compiled from assembly/kernel.ts (embedded
 * base64, no download), lays out one problem in the module's linear memory (inputs, plans
 * as typed arrays, head/part/item descriptors, per-thread scratch) and runs the work items
 * on the calling thread or on the worker pool.
 *
 * Work items and determinism: an item is either a range of query tiles of a single-part
 * plan whose rows are unique (every output row then belongs to exactly one tile), a row block
 * of a multi-part head (every part in plan order over rows no other block has; wasm-items.ts
 * rowCuts), or a whole (batch, head) running all its parts in plan order (union parts and LSH rounds repeat rows
 * and merge them by log-sum-exp, so their order is fixed inside one item). With threads and few
 * multi-part heads, a whole head whose parts have unique rows runs deferred instead (its parts'
 * tile ranges as items, parts >= 1 to records, then merge items behind a barrier: wasm-items.ts
 * deferItems, assembly/merge.ts). Items never share output rows and no row's arithmetic
 * depends on how the work is cut, so the result is bitwise identical for any number of threads.
 *
 * Memory layout (bytes): [0, 64 KiB) the module's own constant tables | control words |
 * plan arena (compiled plans, kept across calls: src/backends/wasm/wasm-plan.ts) | items [n, 4 i32] |
 * heads [B·H, 16 i32] | q | k | v | out | lse | scratch [threads, stride] | records (deferred
 * heads: [P − 1][Lq][D + 3] f32 each).
 */
import type { Plan } from "../../types.js";
import { cleanInputs, finishAll, hasMarks, type NonFinite } from "../nonfinite.js";
import { CTL_OFFSET, DATA_START, HEAD, HEAD_WORDS, ITEM, ITEM_WORDS, MAX_BYTES } from "./layout.js";
import { PoolError, WorkerPool } from "./pool.js";
import { useDeferred } from "./wasm-items.js";
import { align16, Bump, itemsBound, multiPartRows, placePlan, planFootprint, recordBytesBound } from "./wasm-plan.js";
import { dropRuntime, loadedRuntime, type Runtime } from "./wasm-runtime.js";

export { WasmMemoryError, wasmPlansSerialised } from "./wasm-plan.js";
export type { KernelExports, Runtime } from "./wasm-runtime.js";
export {
  dropRuntime,
  failNextWorkerItemForTests,
  releaseWasm,
  startWasmThreads,
  wasmHostReasons,
  wasmPoolSize,
  wasmRuntime,
  wasmVariant,
} from "./wasm-runtime.js";

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
  /**
   * Rows whose inputs held NaN/±∞ (q, k, v are then cleaned copies); null when all finite;
   * undefined when not scanned yet: the run scans them in wasm memory (SIMD) after copying
   * them in and cleans them there when needed (patterns that plan without data only).
   */
  bad?: NonFinite | null;
  /** The caller's arrays to copy the result into (options.out's data [B, H, Lq, D], options.lse [B, H, Lq]); null / absent: new arrays. */
  outInto?: Float32Array | null;
  lseInto?: Float32Array | null;
}

export interface WasmResult {
  out: Float32Array;
  lse: Float32Array;
  /** Bytes of wasm memory this problem used (its plan, inputs, outputs, scratch). */
  memoryBytes: number;
}

/** A problem with its wasm memory needs counted, before any wasm memory is touched. */
export interface WasmPrepared {
  pr: WasmProblem;
  /** Bytes of linear memory the run needs at most: control words, its plan, items, descriptors, q, k, v, out, lse, scratch. */
  bytes: number;
  /** Why it cannot run (memory above the limit); empty when it can. */
  reasons: string[];
  /** Bytes reserved for deferred merges' records (wasm-items.ts useDeferred); 0 = the call does not defer. */
  recordBytes: number;
}

let memoryLimit = MAX_BYTES;
/** Records of deferred merges a call may hold at most (wasm-items.ts useDeferred; above it, whole heads run). */
const MAX_RECORD_BYTES = 256 * 2 ** 20;

/**
 * Test hook: pretend 32-bit WebAssembly memory holds only `bytes` (default 4 GiB), so a test
 * can prove that "auto" falls back without allocating 4 GiB. Returns the previous limit.
 */
export function setWasmMemoryLimitForTests(bytes: number = MAX_BYTES): number {
  const old = memoryLimit;
  memoryLimit = Math.min(bytes, MAX_BYTES);
  return old;
}

/** The sizes a problem's wasm memory needs are counted from: shapes, plan and threads (no data). */
export type WasmShape = Pick<WasmProblem, "B" | "H" | "Hkv" | "Lq" | "Lk" | "D" | "plan" | "threads">;

/** Bytes one call needs after the plan arena: items, head descriptors, q, k, v, out, lse, scratch, records. */
function callBytes(pr: WasmShape, items: number, stride: number, records: number): number {
  const { B, H, Hkv, Lq, Lk, D, threads } = pr;
  const qBytes = B * H * Lq * D * 4; // q and out: [B, H, Lq, D]
  const kvBytes = B * Hkv * Lk * D * 4; // k (transformed keys too) and v: [B, Hkv, Lk, D]
  const sizes = [items * ITEM_WORDS * 4, B * H * HEAD_WORDS * 4, qBytes, kvBytes, kvBytes, qBytes, B * H * Lq * 4];
  let t = threads * stride + records + 16 * 16;
  for (const x of sizes) t += align16(x);
  return t;
}

/**
 * Counts the linear memory a problem needs from its shapes and plan alone (nothing is
 * prepared, copied or written to wasm memory): its plan placed after a fresh arena, plus the
 * call's data. Pure: the wasm op's notSupportedReasons calls it.
 */
export function wasmNeeds(pr: WasmShape): Omit<WasmPrepared, "pr"> {
  const { bytes: planBytes, stride } = planFootprint(pr.plan, pr.D);
  const base = DATA_START + planBytes;
  let recordBytes = useDeferred(multiPartRows(pr.plan), pr.threads) ? recordBytesBound(pr.plan, pr.D) : 0;
  // the deferred mode only changes time: without room for its records the call runs whole heads
  if (recordBytes > MAX_RECORD_BYTES || base + callBytes(pr, itemsBound(pr.plan), stride, recordBytes) > memoryLimit) {
    recordBytes = 0;
  }
  const total = base + callBytes(pr, itemsBound(pr.plan), stride, recordBytes);
  const reasons: string[] = [];
  if (total > memoryLimit) {
    const limit = memoryLimit === MAX_BYTES ? "32-bit WebAssembly's 4 GiB" : `the ${memoryLimit}-byte test limit`;
    reasons.push(
      `the plan needs ${total} bytes of WebAssembly memory (inputs, outputs, ${planBytes} bytes of plan, ${pr.threads * stride} bytes of scratch), above ${limit}; split the batch/heads or use backend "js"`,
    );
  }
  return { bytes: total, reasons, recordBytes };
}

/** wasmNeeds of a problem with its data: what runWasm takes. */
export function prepareWasm(pr: WasmProblem): WasmPrepared {
  return { pr, ...wasmNeeds(pr) };
}

export function runWasm(pr: WasmProblem, prepared: WasmPrepared = prepareWasm(pr)): WasmResult {
  let rt = loadedRuntime();
  if (rt.pool !== null && !rt.pool.healthy) {
    dropRuntime(rt); // a worker died between calls: start over with a fresh memory and pool
    rt = loadedRuntime();
  }
  if (prepared.reasons.length > 0) throw new Error(`wasm backend: ${prepared.reasons.join("; ")}`);
  const { B, H, Hkv, Lq, Lk, D, threads, plan } = pr;
  const need = (items: number, stride: number): number => callBytes(pr, items, stride, prepared.recordBytes);
  let entry = placePlan(rt, plan, D, need);
  if (rt.mem.callStart + need(entry.items.length / 4, entry.stride) > memoryLimit) {
    rt.mem.resetArena(); // the cached plan sits too high for this call's data: place it afresh at the start
    entry = placePlan(rt, plan, D, need);
  }
  const deferred = prepared.recordBytes > 0 ? entry.deferred : null; // two phases (wasm-items.ts deferItems)
  const list = deferred === null ? entry.items : deferred.first;
  const itemCount = list.length / 4;
  const mergeCount = deferred === null ? 0 : deferred.second.length / 4;
  const stride = entry.stride;
  rt.mem.ensure(rt.mem.callStart + need(itemCount + mergeCount, stride));

  const buf = rt.memory.buffer;
  const i32 = new Int32Array(buf);
  const f32 = new Float32Array(buf);
  const mem = new Bump(rt.mem.callStart);
  const itemsPtr = mem.take((itemCount + mergeCount) * ITEM_WORDS * 4); // phase 1, then phase 2 (merge items)
  const headsPtr = mem.take(B * H * HEAD_WORDS * 4);
  const lsePtr = mem.take(B * H * Lq * 4);
  const scratch = mem.take(threads * stride);
  const recordParts = deferred?.recordParts;
  let records = 0;
  if (recordParts !== undefined) {
    for (let row = 0; row < B * H; row++) records += align16(recordParts[row] * Lq * (D + 3) * 4);
  }
  let recPtr = mem.take(records); // records of deferred heads: [P − 1][Lq][D + 3] f32 per head (assembly/merge.ts)
  // q, k, v, out last: an array already resident in this memory (WasmMemory.allocResident) is
  // read or written where it is, and its slot here is never touched (no copy, no resident pages)
  const qAt = mem.take(pr.q.byteLength);
  const kAt = mem.take(pr.k.byteLength);
  const vAt = mem.take(pr.v.byteLength);
  const outAt = mem.take(pr.q.byteLength);
  const outResident = pr.outInto === null || pr.outInto === undefined ? -1 : rt.mem.residentPtr(pr.outInto);
  const outPtr = outResident >= 0 ? outResident : outAt;
  let qPtr = rt.mem.residentPtr(pr.q);
  let kPtr = rt.mem.residentPtr(pr.k);
  let vPtr = rt.mem.residentPtr(pr.v);
  // q, k, v in, each scanned chunk by chunk while the chunk is still in cache (one pass over
  // memory instead of two); the scan only when the caller has not cleaned the inputs already
  const scan = pr.bad === undefined;
  let finite = true;
  for (const [src, ptr, at] of [
    [pr.q, qPtr, qAt],
    [pr.k, kPtr, kAt],
    [pr.v, vPtr, vAt],
  ] as const) {
    if (ptr >= 0) finite = finite && (!scan || rt.kernel.allFinite(ptr, src.length) === 1);
    else finite = copyIn(rt, f32, src, at, scan && finite) && finite;
  }
  if (qPtr < 0) qPtr = qAt;
  if (kPtr < 0) kPtr = kAt;
  if (vPtr < 0) vPtr = vAt;
  if (scan) {
    if (finite) pr = { ...pr, bad: null };
    else {
      const c = cleanInputs(pr.q, pr.k, pr.v, pr); // the NaN rule's slow path (nonfinite.ts)
      // cleaned copies go into this call's own slots: a resident input is the caller's, never written
      f32.set(c.q, qAt / 4);
      f32.set(c.k, kAt / 4);
      f32.set(c.v, vAt / 4);
      qPtr = qAt;
      kPtr = kAt;
      vPtr = vAt;
      pr = { ...pr, q: c.q, k: c.k, v: c.v, bad: c.bad };
    }
  }
  // out is not cleared: a row's first merge writes it whole (lse −∞ before it), and rows no
  // part merges (lse still −∞) are zeroed after the copy out (zeroEmptyRows)
  f32.fill(Number.NEGATIVE_INFINITY, lsePtr / 4, lsePtr / 4 + B * H * Lq);

  const group = H / Hkv;
  for (let b = 0; b < B; b++) {
    for (let h = 0; h < H; h++) {
      const row = b * H + h;
      const w = headsPtr / 4 + row * HEAD_WORDS; // head descriptor of row (assembly/layout.mjs, HEAD)
      const kvRow = b * Hkv + Math.floor(h / group);
      i32[w + HEAD.Q] = qPtr + row * Lq * D * 4; // q, out: [B, H, Lq, D]
      i32[w + HEAD.K] = kPtr + kvRow * Lk * D * 4; // k, v: [B, Hkv, Lk, D]
      i32[w + HEAD.V] = vPtr + kvRow * Lk * D * 4;
      i32[w + HEAD.OUT] = outPtr + row * Lq * D * 4;
      i32[w + HEAD.LSE] = lsePtr + row * Lq * 4; // lse: [B, H, Lq]
      i32[w + HEAD.PARTS] = entry.rowParts[row];
      i32[w + HEAD.NUM_PARTS] = plan.rows[row].length;
      i32[w + HEAD.D] = D;
      f32[w + HEAD.SCALE] = pr.scale;
      const parts = recordParts === undefined ? 0 : recordParts[row];
      i32[w + HEAD.RECORDS] = parts > 0 ? recPtr : 0; // records [P − 1][Lq][D + 3] f32 (assembly/merge.ts)
      i32[w + HEAD.LQ] = Lq;
      if (parts > 0) {
        // an unwritten record must merge as nothing: L = 0 and chk = 0 (words D + 1, D + 2)
        for (let j = 0; j < parts * Lq; j++) {
          const rw = recPtr / 4 + j * (D + 3); // record j of [P − 1][Lq]
          f32[rw + D + 1] = 0;
          f32[rw + D + 2] = 0;
        }
        recPtr += align16(parts * Lq * (D + 3) * 4);
      }
    }
  }
  const writeItems = (items: Int32Array, at: number): void => {
    // sorted by decreasing cost: [row, partIndex, qtBegin, qtEnd]
    for (let n = 0; n < items.length / 4; n++) {
      const w = at / 4 + n * ITEM_WORDS; // item n (assembly/layout.mjs, ITEM)
      i32[w + ITEM.HEAD] = headsPtr + items[n * 4] * HEAD_WORDS * 4;
      i32[w + ITEM.PART] = items[n * 4 + 1];
      i32[w + ITEM.QT_BEGIN] = items[n * 4 + 2];
      i32[w + ITEM.QT_END] = items[n * 4 + 3];
    }
  };
  writeItems(list, itemsPtr);
  // phase 2 (deferred heads): merge items after a barrier, once every part-0 merge and record is written
  if (deferred !== null) writeItems(deferred.second, itemsPtr + itemCount * ITEM_WORDS * 4);
  const maxItemFlops = 4 * D * (deferred === null ? entry.maxItemCost : deferred.maxItemCost);
  runItemsOn(rt, threads, itemsPtr, itemCount + mergeCount, itemCount, scratch, stride, maxItemFlops);
  // the result out of wasm memory: into the caller's arrays when given (no allocation), else new ones
  const out = outResident >= 0 ? pr.outInto! : copyOut(f32.subarray(outPtr / 4, outPtr / 4 + pr.q.length), pr.outInto);
  const lse = copyOut(f32.subarray(lsePtr / 4, lsePtr / 4 + B * H * Lq), pr.lseInto);
  zeroEmptyRows(out, lse, D);
  if (pr.bad || hasMarks(lse)) finishAll({ ...pr, out, lse }, pr.plan.rows, pr.bad); // the NaN rule (nonfinite.ts)
  return { out, lse, memoryBytes: entry.bytes + (mem.at - rt.mem.callStart) };
}

/** Floats per chunk of copyIn: 256 KiB, still in L2 when the scan reads it back. */
const COPY_CHUNK = 1 << 16;

/**
 * Copies `src` into wasm memory at byte `ptr`; with `scan`, checks each chunk right after
 * copying it (allFinite in wasm SIMD) and returns whether every value is finite (true without
 * `scan`). A chunk with a non-finite value ends the scan, not the copy.
 */
function copyIn(rt: Runtime, f32: Float32Array, src: Float32Array, ptr: number, scan: boolean): boolean {
  let finite = true;
  for (let i = 0; i < src.length; i += COPY_CHUNK) {
    const end = Math.min(src.length, i + COPY_CHUNK);
    f32.set(src.subarray(i, end), ptr / 4 + i);
    if (scan && finite) finite = rt.kernel.allFinite(ptr + i * 4, end - i) === 1;
  }
  return finite;
}

/** Zeroes the out rows [B·H·Lq][D] whose lse is −∞ (no allowed key: out 0), which no merge wrote. */
function zeroEmptyRows(out: Float32Array, lse: Float32Array, D: number): void {
  for (let r = 0; r < lse.length; r++) {
    if (lse[r] === Number.NEGATIVE_INFINITY) out.fill(0, r * D, (r + 1) * D); // out: [B·H·Lq, D]
  }
}

/** `src` (a view of wasm memory) copied into `into` when given, else into a new array. */
function copyOut(src: Float32Array, into: Float32Array | null | undefined): Float32Array {
  if (into === null || into === undefined) return src.slice();
  into.set(src);
  return into;
}

/**
 * Runs `count` items at `items` on the calling thread (in order), or on the pool with `threads`
 * threads; items from index `barrier` on start once every earlier item is done.
 */
function runItemsOn(
  rt: Runtime,
  threads: number,
  items: number,
  count: number,
  barrier: number,
  scratch: number,
  stride: number,
  maxItemFlops: number,
): void {
  if (threads <= 1 || count <= 1) {
    rt.kernel.runItems(items, count, scratch);
    return;
  }
  try {
    if (rt.pool === null) rt.pool = new WorkerPool(rt.module, rt.memory, CTL_OFFSET);
    rt.pool.ensure(threads - 1);
    rt.pool.run(rt.kernel, threads, items, count, scratch, stride, maxItemFlops, 0, barrier);
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
