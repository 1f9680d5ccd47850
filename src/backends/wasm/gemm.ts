/**
 * The wasm GEMM of linear() (src/backends/dispatch.ts): y[r, o] = bias[o] + Σ_i x[r, i] · W[o, i]
 * (PyTorch nn.Linear layout) on the wasm SIMD module and worker pool of the attention kernel
 * (assembly/gemm.ts). See docs/performance.md, "GEMM".
 *
 * Weights are packed once: the first call with a given W packs it into wasm memory
 * (Wp [outFp/8][inF][8]) and a WeakMap keyed by W's ArrayBuffer (then its byte offset)
 * remembers where, so a fresh subarray view of the same weights finds the same copy. Packed
 * weights live in the packed-weight region of the module's memory (WasmMemory, memory.ts),
 * below every per-call layout; a FinalizationRegistry returns a weight's bytes to a free list when its buffer is
 * collected, forgetWeight(W) does it at once, releaseGemm() drops them all. So there is at
 * most one packed copy per live weight, and no weight copy per call. Weights may be edited
 * in place (model.weights…W[i] += 5): every call first compares W with its packed copy, word
 * for word (one read of each, no hashing, no collisions), and repacks it in place at the
 * first difference, so any change is seen (docs/security.md, "Weights edited in place").
 * forgetWeight(W) frees a weight's copy at once.
 *
 * Per-call layout (bytes, from WasmMemory.callStart, after the attention plan arena): descriptor [GEMM] | items [n, GEMM_ITEM] |
 * bias [outFp] | x [rows, inF] | Yp [rowsP, outFp] | scratch [threads, stride].
 * Items are (row block × 8-column-panel range) cut from the shape alone, never from the
 * thread count, and each y element is summed in one fixed order, so results are bitwise
 * identical for any `threads`.
 *
 * Epilogue: an activation runs inside the GEMM on each finished output tile while it is in L1
 * (assembly/act.ts; on the first outF / 2 columns only when gated); a gated layer's copy-out
 * multiplies act(a) by g, so y [rows, outF / 2] leaves wasm memory once.
 */

import type { LinearActivation } from "../linear-problem.js";
import { CTL_OFFSET, GEMM, GEMM_ITEM, GEMM_ITEM_WORDS, GEMM_WORDS, MAX_BYTES } from "./layout.js";
import type { WasmMemory } from "./memory.js";
import { PoolError, WorkerPool } from "./pool.js";
import { dropRuntime, type Runtime, wasmHostReasons, wasmRuntime } from "./wasm.js";

/**
 * Features per k-chunk: a kc × 8 slice of Wp (8 KiB) and a GR-row panel of Xp (4–6 KiB) stay
 * in L1 (half of it). 256 measured above 384 and 512 on the shared machine (docs/performance.md).
 */
const KC = 256;
/** Rows per work item (rounded to the micro-kernel's rows): Xp is 128 × 256 × 4 = 128 KiB (L2). */
const MC = 128;
/** Items a call is cut into at least (columns are split when rows are few). */
const ITEM_TARGET = 16;
/** Panel indices are packed in 16 bits per item. */
const MAX_PANELS = 65535;

interface Packed {
  ptr: number;
  length: number;
  bytes: number;
  outF: number;
  inF: number;
  /** The memory owner holding the copy and its weight epoch (a released or cleared owner ignores the free). */
  mem: WasmMemory;
  epoch: number;
}

/** W.buffer → W.byteOffset → its packed copy, kept by the memory owner (WasmMemory.packed). */
function packedOf(mem: WasmMemory): WeakMap<ArrayBufferLike, Map<number, Packed>> {
  return mem.packed as WeakMap<ArrayBufferLike, Map<number, Packed>>;
}

const registry = new FinalizationRegistry<Packed>((p) => p.mem.freeWeights(p.ptr, p.bytes, p.epoch));

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
  const mem = wasmRuntime()?.mem;
  if (mem === undefined) return;
  const byOffset = packedOf(mem).get(W.buffer);
  const p = byOffset?.get(W.byteOffset);
  if (byOffset === undefined || p === undefined) return;
  byOffset.delete(W.byteOffset);
  registry.unregister(p);
  mem.freeWeights(p.ptr, p.bytes, p.epoch);
}

/** Drops every packed weight; their wasm memory is reused by later calls (releaseWasm() returns it). */
export function releaseGemm(): void {
  wasmRuntime()?.mem.clearWeights(); // later frees of the dropped copies are ignored (epoch)
}

/** Bytes of wasm memory held by packed weights now (live and freed-but-not-reused). */
export function gemmPackedBytes(): number {
  return wasmRuntime()?.mem.weightBytes() ?? 0;
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
    GEMM_WORDS * 4 +
    align64(items * GEMM_ITEM_WORDS * 4) +
    align64(outFp * 4) +
    align64(rows * inF * 4) +
    align64(rowsP * outFp * 4) +
    threads * scratchStride(gr) +
    64
  );
}

/**
 * True when the packed copy at `ptr` (Wp [outFp/8][inF][8]) holds W [outF, inF] bit for bit.
 * Compared as 32-bit words (NaN payloads and -0 included); stops at the first difference.
 */
function samePacked(rt: Runtime, ptr: number, W: Float32Array, outF: number, inF: number): boolean {
  const mem = new Int32Array(rt.memory.buffer);
  const w = new Int32Array(W.buffer, W.byteOffset, W.length);
  const full = outF >> 3; // panels of 8 real columns
  let k = ptr / 4; // walks Wp [outFp/8][inF][8] contiguously
  for (let p = 0; p < full; p++) {
    const r0 = p * 8 * inF; // W row p·8, column 0
    for (let i = 0; i < inF; i++, k += 8) {
      const c = r0 + i; // W[p·8 + l, i] = w[c + l·inF]
      if (
        mem[k] !== w[c] ||
        mem[k + 1] !== w[c + inF] ||
        mem[k + 2] !== w[c + 2 * inF] ||
        mem[k + 3] !== w[c + 3 * inF] ||
        mem[k + 4] !== w[c + 4 * inF] ||
        mem[k + 5] !== w[c + 5 * inF] ||
        mem[k + 6] !== w[c + 6 * inF] ||
        mem[k + 7] !== w[c + 7 * inF]
      ) {
        return false;
      }
    }
  }
  const lanes = outF - full * 8; // the last, partial panel
  if (lanes > 0) {
    for (let i = 0; i < inF; i++, k += 8) {
      for (let l = 0; l < lanes; l++) if (mem[k + l] !== w[(full * 8 + l) * inF + i]) return false;
    }
  }
  return true;
}

/** Writes W [outF, inF] into the packed layout Wp [outFp/8][inF][8] at `ptr` (padding columns zero). */
function packInto(rt: Runtime, ptr: number, W: Float32Array, outF: number, inF: number): void {
  const outFp = Math.ceil(outF / 8) * 8;
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
}

let repacks = 0;

/** Packed weights rewritten because W changed in place since its last use (tests). */
export function gemmRepacks(): number {
  return repacks;
}

/** The packed copy of W in wasm memory (packing it on first use): Wp [outFp/8][inF][8]. */
function packedWeight(rt: Runtime, W: Float32Array, outF: number, inF: number): number {
  const mem = rt.mem; // a released runtime took its owner, and every packed copy, with it
  const packedByW = packedOf(mem);
  let byOffset = packedByW.get(W.buffer);
  const old = byOffset?.get(W.byteOffset);
  if (old !== undefined) {
    if (old.length === W.length && old.outF === outF && old.inF === inF) {
      if (samePacked(rt, old.ptr, W, outF, inF)) return old.ptr;
      // edited in place since its last use: the same block, packed again
      repacks++;
      packInto(rt, old.ptr, W, outF, inF);
      return old.ptr;
    }
    forgetWeight(W);
  }
  const outFp = Math.ceil(outF / 8) * 8;
  const bytes = align64(outFp * inF * 4);
  const ptr = mem.allocWeights(bytes);
  packInto(rt, ptr, W, outF, inF);
  const p: Packed = { ptr, length: W.length, bytes, outF, inF, mem, epoch: mem.weightEpoch };
  if (byOffset === undefined) {
    byOffset = new Map();
    packedByW.set(W.buffer, byOffset);
  }
  byOffset.set(W.byteOffset, p);
  registry.register(W.buffer, p, p);
  return ptr;
}

/** assembly/act.ts's activation kinds. */
const ACT_KIND: Record<LinearActivation, number> = { gelu: 1, gelu_new: 2, gelu_pytorch_tanh: 2, relu: 3 };

/**
 * Runs y = act(bias + x · Wᵀ) on the wasm GEMM (wasmGemmReasons empty for this shape);
 * `threads` as given; gated: y [rows, outF / 2] = act(a) · g of each row's halves [a | g].
 */
export function linearWasm(
  x: Float32Array,
  rows: number,
  inF: number,
  W: Float32Array,
  outF: number,
  bias: Float32Array | null,
  y: Float32Array,
  threads: number,
  act: LinearActivation | null = null,
  gated = false,
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
  let at = rt.mem.callStart; // after the packed weights and the attention plan arena
  const take = (bytes: number): number => {
    const p = at;
    at = p + align64(bytes);
    return p;
  };
  const desc = take(GEMM_WORDS * 4);
  const itemsPtr = take(count * GEMM_ITEM_WORDS * 4);
  const biasPtr = take(outFp * 4);
  const xPtr = take(rows * inF * 4);
  const yPtr = take(rowsP * outFp * 4);
  const scratch = take(threads * stride);
  rt.mem.ensure(at);

  const buf = rt.memory.buffer;
  const i32 = new Int32Array(buf);
  const f32 = new Float32Array(buf);
  const d = desc / 4; // the GEMM descriptor (assembly/layout.mjs, GEMM)
  i32[d + GEMM.X] = xPtr;
  i32[d + GEMM.WP] = wp;
  i32[d + GEMM.BIAS] = biasPtr;
  i32[d + GEMM.Y] = yPtr;
  i32[d + GEMM.ROWS] = rows;
  i32[d + GEMM.IN_F] = inF;
  i32[d + GEMM.OUT_FP] = outFp;
  i32[d + GEMM.KC] = kc;
  i32[d + GEMM.ACT] = act === null ? 0 : ACT_KIND[act];
  i32[d + GEMM.ACT_COLS] = gated ? outF / 2 : outF;
  for (let n = 0; n < count; n++) {
    const w = itemsPtr / 4 + n * GEMM_ITEM_WORDS; // item n (GEMM_ITEM)
    i32[w + GEMM_ITEM.DESC] = desc;
    i32[w + GEMM_ITEM.ROW_BEGIN] = items[n * 4];
    i32[w + GEMM_ITEM.ROW_END] = items[n * 4 + 1];
    i32[w + GEMM_ITEM.PANELS] = items[n * 4 + 2] | (items[n * 4 + 3] << 16);
  }
  f32.fill(0, biasPtr / 4, biasPtr / 4 + outFp);
  if (bias !== null) f32.set(bias, biasPtr / 4);
  f32.set(x, xPtr / 4);

  if (threads <= 1 || count <= 1) {
    rt.kernel.gemmItems(itemsPtr, count, scratch);
  } else {
    const maxItemFlops = (8 * rows * outFp * inF) / count; // a bound for the progress check: 4× the mean item
    try {
      if (rt.pool === null) rt.pool = new WorkerPool(rt.module, rt.memory, CTL_OFFSET);
      rt.pool.ensure(threads - 1);
      rt.pool.run({ runItem: rt.kernel.gemmItem }, threads, itemsPtr, count, scratch, stride, maxItemFlops, 1);
    } catch (e) {
      if (!(e instanceof PoolError)) throw e;
      dropRuntime(rt); // as in wasm.ts: a dead or stuck worker may still hold this memory
      throw new PoolError(`${e.message}. This linear() result is lost; the next call starts a new pool`);
    }
  }
  const y0 = yPtr / 4; // Yp: [rowsP, outFp]
  if (gated) {
    const I = outF / 2;
    for (let r = 0; r < rows; r++) {
      const a = y0 + r * outFp; // Yp row r: [a | g], a already activated
      const o = r * I; // y: [rows, I]
      for (let i = 0; i < I; i++) y[o + i] = f32[a + i] * f32[a + I + i];
    }
  } else if (outFp === outF) {
    y.set(f32.subarray(y0, y0 + rows * outF));
  } else {
    for (let r = 0; r < rows; r++) y.set(f32.subarray(y0 + r * outFp, y0 + r * outFp + outF), r * outF);
  }
}
