/**
 * linear(): y[r, o] = bias[o] + Σ_i x[r, i] · W[o, i] (PyTorch nn.Linear layout) on the wasm
 * SIMD module and worker pool of the attention kernel (assembly/gemm.ts), or the TypeScript
 * fallback (gemm-js.ts). See docs/performance.md, "GEMM".
 *
 * Weights are packed once: the first call with a given W packs it into wasm memory
 * (Wp [outFp/8][inF][8]) and a WeakMap keyed by W's ArrayBuffer (then its byte offset)
 * remembers where, so a fresh subarray view of the same weights finds the same copy. Packed
 * weights live in [DATA_START, wasmReserved()) of the module's memory, below every per-call
 * layout; a FinalizationRegistry returns a weight's bytes to a free list when its buffer is
 * collected, forgetWeight(W) does it at once, releaseGemm() drops them all. So there is at
 * most one packed copy per live weight, and no weight copy per call. W is treated as
 * immutable after its first use: after changing one in place, call forgetWeight(W) (a
 * 16-element fingerprint catches wholesale refills, not single edits).
 *
 * Per-call layout (bytes, from wasmCallStart(), after the attention plan arena): descriptor [16 i32] | items [n, 4 i32] |
 * bias [outFp] | x [rows, inF] | Yp [rowsP, outFp] | scratch [threads, stride].
 * Items are (row block × 8-column-panel range) cut from the shape alone, never from the
 * thread count, and each y element is summed in one fixed order, so results are bitwise
 * identical for any `threads`.
 */
import { AttentionArgumentError, checkInt, checkOptions } from "../../errors.js";
import { availableCores } from "../../platform.js";
import { linearJs } from "../js/gemm-js.js";
import { PoolError, WorkerPool } from "./pool.js";
import {
  dropRuntime,
  type Runtime,
  WASM_LAYOUT,
  wasmCallStart,
  wasmHostReasons,
  wasmReserved,
  wasmRuntime,
} from "./wasm.js";

export interface LinearOptions {
  backend?: "auto" | "wasm" | "js";
  threads?: number;
}

const PAGE = 65536;
const MAX_BYTES = 65536 * PAGE; // 4 GiB: 32-bit WebAssembly
/**
 * Features per k-chunk: a kc × 8 slice of Wp (8 KiB) and a GR-row panel of Xp (4–6 KiB) stay
 * in L1 (half of it). 256 measured above 384 and 512 on the shared machine (docs/performance.md).
 */
const KC = 256;
/** Rows per work item (rounded to the micro-kernel's rows): Xp is 128 × 256 × 4 = 128 KiB (L2). */
const MC = 128;
/** Items a call is cut into at least (columns are split when rows are few). */
const ITEM_TARGET = 16;
/** Below this many flops an unset `threads` runs on the calling thread (waking workers costs more). */
const SMALL_FLOPS = 1 << 24;
/** Panel indices are packed in 16 bits per item. */
const MAX_PANELS = 65535;

interface Packed {
  ptr: number;
  length: number;
  bytes: number;
  outF: number;
  inF: number;
  fingerprint: Uint32Array;
  rt: Runtime;
}

/** W.buffer → W.byteOffset → its packed copy. */
let packedByW = new WeakMap<ArrayBufferLike, Map<number, Packed>>();
let cacheRt: Runtime | null = null;
let free: { ptr: number; bytes: number }[] = [];
const registry = new FinalizationRegistry<Packed>((p) => releasePacked(p));

/** y [rows, outF] = bias + x [rows, inF] · Wᵀ with W [outF, inF]; y allocated when not given. */
export function linear(
  x: Float32Array,
  rows: number,
  inF: number,
  W: Float32Array,
  outF: number,
  bias: Float32Array | null,
  y?: Float32Array,
  options?: LinearOptions,
): Float32Array {
  checkInt("rows", rows, 0);
  checkInt("inF", inF, 1);
  checkInt("outF", outF, 1);
  checkArray("x", x, rows * inF, `rows · inF = ${rows} · ${inF}`);
  checkArray("W", W, outF * inF, `outF · inF = ${outF} · ${inF} ([outF, inF], nn.Linear's weight layout)`);
  if (bias !== null) checkArray("bias", bias, outF, `outF = ${outF} (or null)`);
  if (y === undefined) y = new Float32Array(rows * outF);
  else checkArray("y", y, rows * outF, `rows · outF = ${rows} · ${outF}`);
  for (const [name, a] of [
    ["x", x],
    ["W", W],
    ["bias", bias],
  ] as const) {
    if (a !== null && overlaps(y, a))
      throw new AttentionArgumentError("y", y, `an array that does not overlap ${name}`);
  }
  const o = checkOptions("options", options ?? {}, "an object { backend?, threads? }");
  const backend = o.backend ?? "auto";
  if (backend !== "auto" && backend !== "wasm" && backend !== "js") {
    throw new AttentionArgumentError("options.backend", backend, '"auto", "wasm" or "js"');
  }
  const explicit = o.threads !== undefined;
  let threads = explicit ? checkInt("options.threads", o.threads, 1, 256) : availableCores();
  if (!explicit && 2 * rows * inF * outF < SMALL_FLOPS) threads = 1;
  if (rows === 0) return y;
  if (backend === "js") {
    linearJs(x, rows, inF, W, outF, bias, y);
    return y;
  }
  const reasons = wasmGemmReasons(rows, inF, outF, threads);
  if (reasons.length > 0) {
    if (backend === "wasm") {
      throw new AttentionArgumentError(
        "options.backend",
        backend,
        `a backend that can run this linear; "wasm" cannot: ${reasons.join("; ")}. Use backend "auto" to fall back to "js"`,
      );
    }
    linearJs(x, rows, inF, W, outF, bias, y);
    return y;
  }
  linearWasm(x, rows, inF, W, outF, bias, y, threads);
  return y;
}

/** Why the wasm GEMM cannot run this shape here (empty when it can). */
export function wasmGemmReasons(rows: number, inF: number, outF: number, threads: number): string[] {
  const reasons = wasmHostReasons(threads);
  if (reasons.length > 0) return reasons;
  const outFp = Math.ceil(outF / 8) * 8;
  if (outFp / 8 > MAX_PANELS) reasons.push(`outF ${outF} exceeds ${MAX_PANELS * 8}`);
  const need = outFp * inF * 4 + layoutBytes(rows, inF, outF, threads, blockRows());
  if (need > MAX_BYTES) reasons.push(`this linear needs ${need} bytes of WebAssembly memory, above the 4 GiB limit`);
  return reasons;
}

/** Drops the packed copy of W (call it after changing W in place). */
export function forgetWeight(W: Float32Array): void {
  const byOffset = packedByW.get(W.buffer);
  const p = byOffset?.get(W.byteOffset);
  if (byOffset === undefined || p === undefined) return;
  byOffset.delete(W.byteOffset);
  registry.unregister(p);
  releasePacked(p);
}

/** Drops every packed weight; their wasm memory is reused by later calls (releaseWasm() returns it). */
export function releaseGemm(): void {
  packedByW = new WeakMap();
  free = [];
  if (cacheRt !== null && cacheRt === wasmRuntime()) wasmReserved(0);
  cacheRt = null;
}

/** Bytes of wasm memory held by packed weights now (live and freed-but-not-reused). */
export function gemmPackedBytes(): number {
  const rt = wasmRuntime();
  return rt !== null && rt === cacheRt ? wasmReserved() - WASM_LAYOUT.DATA_START : 0;
}

function checkArray(name: string, a: unknown, length: number, form: string): void {
  if (!(a instanceof Float32Array) || a.length !== length) {
    throw new AttentionArgumentError(name, a, `a Float32Array of ${form} = ${length} elements`);
  }
}

function overlaps(a: Float32Array, b: Float32Array): boolean {
  if (a.buffer !== b.buffer) return false;
  return a.byteOffset < b.byteOffset + b.byteLength && b.byteOffset < a.byteOffset + a.byteLength;
}

function blockRows(): number {
  return wasmRuntime()?.kernel.gemmBlockRows() ?? 4;
}

const align64 = (n: number): number => Math.ceil(n / 64) * 64;

function scratchStride(gr: number): number {
  return align64(itemRows(gr) * KC * 4 + 64);
}

function itemRows(gr: number): number {
  return Math.ceil(MC / gr) * gr;
}

/** Per-call bytes (descriptor, items, bias, x, Yp, scratch) above the packed weights. */
function layoutBytes(rows: number, inF: number, outF: number, threads: number, gr: number): number {
  const outFp = Math.ceil(outF / 8) * 8;
  const rowsP = Math.ceil(rows / gr) * gr;
  const items = Math.ceil(rowsP / itemRows(gr)) * ITEM_TARGET;
  return (
    64 +
    align64(items * 16) +
    align64(outFp * 4) +
    align64(rows * inF * 4) +
    align64(rowsP * outFp * 4) +
    threads * scratchStride(gr) +
    64
  );
}

function ensureBytes(rt: Runtime, end: number): void {
  const have = rt.memory.buffer.byteLength;
  if (end > have) rt.memory.grow(Math.ceil((end - have) / PAGE));
}

function fingerprint(W: Float32Array): Uint32Array {
  const bits = new Uint32Array(W.buffer, W.byteOffset, W.length);
  const f = new Uint32Array(16);
  for (let s = 0; s < 16; s++) f[s] = bits[Math.floor((s * (W.length - 1)) / 15)];
  return f;
}

function sameFingerprint(a: Uint32Array, b: Uint32Array): boolean {
  for (let s = 0; s < 16; s++) if (a[s] !== b[s]) return false;
  return true;
}

/** A block of `bytes` in the packed-weight region: first fit from the free list, else on top. */
function allocPacked(rt: Runtime, bytes: number): number {
  for (let i = 0; i < free.length; i++) {
    const f = free[i];
    if (f.bytes < bytes) continue;
    const ptr = f.ptr;
    if (f.bytes === bytes) free.splice(i, 1);
    else free[i] = { ptr: ptr + bytes, bytes: f.bytes - bytes };
    return ptr;
  }
  const ptr = wasmReserved();
  ensureBytes(rt, ptr + bytes);
  wasmReserved(ptr + bytes);
  return ptr;
}

function releasePacked(p: Packed): void {
  if (p.rt !== cacheRt || p.rt !== wasmRuntime()) return; // memory already dropped
  free.push({ ptr: p.ptr, bytes: p.bytes });
  free.sort((a, b) => a.ptr - b.ptr);
  const merged: { ptr: number; bytes: number }[] = [];
  for (const f of free) {
    const last = merged[merged.length - 1];
    if (last !== undefined && last.ptr + last.bytes === f.ptr) last.bytes += f.bytes;
    else merged.push({ ...f });
  }
  const top = merged[merged.length - 1];
  if (top !== undefined && top.ptr + top.bytes === wasmReserved()) {
    merged.pop();
    wasmReserved(top.ptr);
  }
  free = merged;
}

/** The packed copy of W in wasm memory (packing it on first use): Wp [outFp/8][inF][8]. */
function packedWeight(rt: Runtime, W: Float32Array, outF: number, inF: number): number {
  if (cacheRt !== rt) {
    // the module's memory was dropped (releaseWasm) or never used: start over
    packedByW = new WeakMap();
    free = [];
    cacheRt = rt;
  }
  const fp = fingerprint(W);
  let byOffset = packedByW.get(W.buffer);
  const old = byOffset?.get(W.byteOffset);
  if (old !== undefined) {
    const same = old.length === W.length && old.outF === outF && old.inF === inF;
    if (same && sameFingerprint(old.fingerprint, fp)) return old.ptr;
    forgetWeight(W);
  }
  const outFp = Math.ceil(outF / 8) * 8;
  const bytes = align64(outFp * inF * 4);
  const ptr = allocPacked(rt, bytes);
  const f32 = new Float32Array(rt.memory.buffer);
  const base = ptr / 4;
  for (let o = 0; o < outFp; o++) {
    const dst = base + (o >> 3) * inF * 8 + (o & 7); // Wp: [outFp/8][inF][8]
    if (o >= outF) {
      for (let i = 0; i < inF; i++) f32[dst + i * 8] = 0;
      continue;
    }
    const src = o * inF; // W: [outF, inF]
    for (let i = 0; i < inF; i++) f32[dst + i * 8] = W[src + i];
  }
  const p: Packed = { ptr, length: W.length, bytes, outF, inF, fingerprint: fp, rt };
  if (byOffset === undefined) {
    byOffset = new Map();
    packedByW.set(W.buffer, byOffset);
  }
  byOffset.set(W.byteOffset, p);
  registry.register(W.buffer, p, p);
  return ptr;
}

function linearWasm(
  x: Float32Array,
  rows: number,
  inF: number,
  W: Float32Array,
  outF: number,
  bias: Float32Array | null,
  y: Float32Array,
  threads: number,
): void {
  let rt = wasmRuntime()!;
  if (rt.pool !== null && !rt.pool.healthy) {
    dropRuntime(rt); // a worker died between calls: start over with a fresh memory and pool
    rt = wasmRuntime()!;
  }
  const gr = rt.kernel.gemmBlockRows();
  const wp = packedWeight(rt, W, outF, inF);
  const outFp = Math.ceil(outF / 8) * 8;
  const rowsP = Math.ceil(rows / gr) * gr;
  const panels = outFp / 8;
  const mc = itemRows(gr);
  const kc = Math.ceil(inF / Math.ceil(inF / KC)); // equal chunks of at most KC

  // items: row blocks of mc rows × column splits, from the shape only
  const rowBlocks = Math.ceil(rowsP / mc);
  const splits = Math.max(1, Math.min(panels, Math.ceil(ITEM_TARGET / rowBlocks)));
  const per = Math.ceil(panels / splits);
  const items: number[] = []; // [r0, r1, jp0, jp1]
  for (let rb = 0; rb < rowBlocks; rb++) {
    for (let jp0 = 0; jp0 < panels; jp0 += per) {
      items.push(rb * mc, Math.min(rowsP, (rb + 1) * mc), jp0, Math.min(panels, jp0 + per));
    }
  }
  const count = items.length / 4;
  const stride = scratchStride(gr);
  let at = wasmCallStart(); // after the packed weights and the attention plan arena
  const take = (bytes: number): number => {
    const p = at;
    at = p + align64(bytes);
    return p;
  };
  const desc = take(64);
  const itemsPtr = take(count * 16);
  const biasPtr = take(outFp * 4);
  const xPtr = take(rows * inF * 4);
  const yPtr = take(rowsP * outFp * 4);
  const scratch = take(threads * stride);
  ensureBytes(rt, at);

  const buf = rt.memory.buffer;
  const i32 = new Int32Array(buf);
  const f32 = new Float32Array(buf);
  const d = desc / 4; // descriptor: 16 i32 words
  i32[d] = xPtr;
  i32[d + 1] = wp;
  i32[d + 2] = biasPtr;
  i32[d + 3] = yPtr;
  i32[d + 4] = rows;
  i32[d + 5] = inF;
  i32[d + 6] = outFp;
  i32[d + 7] = kc;
  for (let n = 0; n < count; n++) {
    const w = itemsPtr / 4 + n * 4; // item: 4 i32 words
    i32[w] = desc;
    i32[w + 1] = items[n * 4];
    i32[w + 2] = items[n * 4 + 1];
    i32[w + 3] = items[n * 4 + 2] | (items[n * 4 + 3] << 16);
  }
  f32.fill(0, biasPtr / 4, biasPtr / 4 + outFp);
  if (bias !== null) f32.set(bias, biasPtr / 4);
  f32.set(x, xPtr / 4);

  if (threads <= 1 || count <= 1) {
    rt.kernel.gemmItems(itemsPtr, count, scratch);
  } else {
    const maxItemFlops = (8 * rows * outFp * inF) / count; // a bound for the progress check: 4× the mean item
    try {
      if (rt.pool === null) rt.pool = new WorkerPool(rt.module, rt.memory, WASM_LAYOUT.CTL_OFFSET);
      rt.pool.ensure(threads - 1);
      rt.pool.run({ runItem: rt.kernel.gemmItem }, threads, itemsPtr, count, scratch, stride, maxItemFlops, 1);
    } catch (e) {
      if (!(e instanceof PoolError)) throw e;
      dropRuntime(rt); // as in wasm.ts: a dead or stuck worker may still hold this memory
      throw new PoolError(`${e.message}. This linear() result is lost; the next call starts a new pool`);
    }
  }
  const y0 = yPtr / 4; // Yp: [rowsP, outFp]
  if (outFp === outF) {
    y.set(f32.subarray(y0, y0 + rows * outF));
  } else {
    for (let r = 0; r < rows; r++) y.set(f32.subarray(y0 + r * outFp, y0 + r * outFp + outF), r * outF);
  }
}
