/**
 * The wasm GEMM of linear(): y[r, o] = bias[o] + Σ_i x[r, i] · W[o, i]
 * (PyTorch nn.Linear layout) on the wasm SIMD module and worker pool of the attention kernel
 * (assembly/gemm.ts). See docs/performance.md, "GEMM".
 *
 * Weights are held once, by the caller: every call packs W [outF, inF] into its own layout
 * (Wp [outFp/8][inF][8]) and nothing outlives the call. Packing reads W once and writes the
 * panel once, the same memory traffic as checking a cached copy against W word for word (which
 * an edit-in-place-safe cache must do on every call), so a cache would double the weights'
 * memory for no speed: a 12-layer base model holds 425 MB of projection weights. Any edit
 * of W in place (model.weights…W[i] += 5, a -0 for a +0) is seen by the next call
 * (docs/security.md, "Weights edited in place").
 *
 * Per-call layout (bytes, from WasmMemory.callStart, after the attention plan arena): descriptors [2][GEMM] | items [n, GEMM_ITEM] |
 * bias [outFp] | Wp [outFp/8][inF][8] | scratch [threads, stride] | x [rows, inF] | Yp [rows, outFp].
 * x and y are read and written in place, their slots untouched, when they are resident views
 * of this memory (WasmMemory.allocResident: a model's activations kept across calls).
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

/** Why the wasm GEMM cannot run this shape here (empty when it can). */
export function wasmGemmReasons(rows: number, inF: number, outF: number, threads: number): string[] {
  const reasons = wasmHostReasons(threads);
  if (reasons.length > 0) return reasons;
  const outFp = Math.ceil(outF / 8) * 8;
  if (outFp / 8 > MAX_PANELS) reasons.push(`outF ${outF} exceeds ${MAX_PANELS * 8}`);
  const need = layoutBytes(rows, inF, outF, threads, blockRows());
  if (need > MAX_BYTES) reasons.push(`this linear needs ${need} bytes of WebAssembly memory, above the 4 GiB limit`);
  return reasons;
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

/** Per-call bytes (descriptors, items, bias, Wp, scratch, x, Yp) above the plan arena. */
function layoutBytes(rows: number, inF: number, outF: number, threads: number, gr: number): number {
  const outFp = Math.ceil(outF / 8) * 8;
  const rowsP = Math.ceil(rows / gr) * gr;
  const items = (Math.ceil(rowsP / itemRows(gr)) + 1) * ITEM_TARGET; // the row blocks and a tail tile
  return (
    2 * align64(GEMM_WORDS * 4) +
    align64(items * GEMM_ITEM_WORDS * 4) +
    align64(outFp * 4) +
    align64(outFp * inF * 4) +
    align64(rows * inF * 4) +
    align64(rowsP * outFp * 4) +
    threads * scratchStride(gr) +
    64
  );
}

/**
 * Writes W [outF, inF] into the packed layout Wp [outFp/8][inF][8] at `ptr` (padding columns
 * zero). Walks Wp contiguously, panel by panel: per input feature i, the 8 columns of the
 * panel are 8 reads of W at stride inF and one contiguous write (≈ 5 ms for 768 × 3,072).
 */
function packInto(rt: Runtime, ptr: number, W: Float32Array, outF: number, inF: number): void {
  const f32 = new Float32Array(rt.memory.buffer);
  const full = outF >> 3; // panels of 8 real columns
  let k = ptr / 4; // walks Wp [outFp/8][inF][8]
  for (let p = 0; p < full; p++) {
    const r0 = p * 8 * inF; // W row p·8, column 0
    for (let i = 0; i < inF; i++, k += 8) {
      const c = r0 + i; // W[p·8 + l, i] = W[c + l·inF]
      f32[k] = W[c];
      f32[k + 1] = W[c + inF];
      f32[k + 2] = W[c + 2 * inF];
      f32[k + 3] = W[c + 3 * inF];
      f32[k + 4] = W[c + 4 * inF];
      f32[k + 5] = W[c + 5 * inF];
      f32[k + 6] = W[c + 6 * inF];
      f32[k + 7] = W[c + 7 * inF];
    }
  }
  const lanes = outF - full * 8; // the last, partial panel: its missing columns are zero
  if (lanes > 0) {
    for (let i = 0; i < inF; i++, k += 8) {
      for (let l = 0; l < 8; l++) f32[k + l] = l < lanes ? W[(full * 8 + l) * inF + i] : 0;
    }
  }
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
  const outFp = Math.ceil(outF / 8) * 8;
  const rowsP = Math.ceil(rows / gr) * gr;
  const panels = outFp / 8;
  const mc = itemRows(gr);
  const kc = Math.ceil(inF / Math.ceil(inF / KC)); // equal chunks of at most KC
  // x and y in place when they are resident in this memory (WasmMemory.allocResident): y when
  // it needs no column padding and no gate. The kernel writes whole GR-row tiles, so in place
  // the rows past the last multiple of GR (fewer than GR) run as a second part into a tile of
  // this call's own memory and are copied over: the caller's neighbouring memory is never written.
  const xResident = rt.mem.residentPtr(x);
  const yResident = !gated && outFp === outF ? rt.mem.residentPtr(y) : -1;
  const mainRows = yResident >= 0 ? rows - (rows % gr) : rows;
  const tailRows = rows - mainRows;
  const mainRowsP = Math.ceil(mainRows / gr) * gr;

  // items: row blocks of mc rows × column splits, from the shape only
  const rowBlocks = Math.ceil(rowsP / mc);
  const splits = Math.max(1, Math.min(panels, Math.ceil(ITEM_TARGET / rowBlocks)));
  const per = Math.ceil(panels / splits);
  const items: number[] = []; // [part, r0, r1, jp0, jp1]; part 0: the main rows, 1: the tail tile
  for (let r0 = 0; r0 < mainRowsP; r0 += mc) {
    for (let jp0 = 0; jp0 < panels; jp0 += per) {
      items.push(0, r0, Math.min(mainRowsP, r0 + mc), jp0, Math.min(panels, jp0 + per));
    }
  }
  if (tailRows > 0) {
    for (let jp0 = 0; jp0 < panels; jp0 += per) items.push(1, 0, gr, jp0, Math.min(panels, jp0 + per));
  }
  const count = items.length / 5;
  const stride = scratchStride(gr);
  let at = rt.mem.callStart; // after the resident buffers and the attention plan arena
  const take = (bytes: number): number => {
    const p = at;
    at = p + align64(bytes);
    return p;
  };
  const descs = [take(GEMM_WORDS * 4), take(GEMM_WORDS * 4)]; // the main rows, the tail tile
  const itemsPtr = take(count * GEMM_ITEM_WORDS * 4);
  const biasPtr = take(outFp * 4);
  const wp = take(outFp * inF * 4);
  const scratch = take(threads * stride);
  // x and Yp last: a resident array's slot here is never touched (no copy, no resident pages)
  const xAt = take(rows * inF * 4);
  const yAt = take(rowsP * outFp * 4);
  rt.mem.ensure(at);
  const xPtr = xResident >= 0 ? xResident : xAt;
  const yPtr = yResident >= 0 ? yResident : yAt;

  const buf = rt.memory.buffer;
  const i32 = new Int32Array(buf);
  const f32 = new Float32Array(buf);
  const parts = [
    { x: xPtr, y: yPtr, rows: mainRows },
    { x: xPtr + mainRows * inF * 4, y: yAt, rows: tailRows }, // x rows mainRows …; Yp tile [GR, outFp]
  ];
  for (let k = 0; k < 2; k++) {
    const d = descs[k] / 4; // a GEMM descriptor (assembly/layout.mjs, GEMM)
    i32[d + GEMM.X] = parts[k].x;
    i32[d + GEMM.WP] = wp;
    i32[d + GEMM.BIAS] = biasPtr;
    i32[d + GEMM.Y] = parts[k].y;
    i32[d + GEMM.ROWS] = parts[k].rows;
    i32[d + GEMM.IN_F] = inF;
    i32[d + GEMM.OUT_FP] = outFp;
    i32[d + GEMM.KC] = kc;
    i32[d + GEMM.ACT] = act === null ? 0 : ACT_KIND[act];
    i32[d + GEMM.ACT_COLS] = gated ? outF / 2 : outF;
  }
  for (let n = 0; n < count; n++) {
    const w = itemsPtr / 4 + n * GEMM_ITEM_WORDS; // item n (GEMM_ITEM)
    i32[w + GEMM_ITEM.DESC] = descs[items[n * 5]];
    i32[w + GEMM_ITEM.ROW_BEGIN] = items[n * 5 + 1];
    i32[w + GEMM_ITEM.ROW_END] = items[n * 5 + 2];
    i32[w + GEMM_ITEM.PANELS] = items[n * 5 + 3] | (items[n * 5 + 4] << 16);
  }
  f32.fill(0, biasPtr / 4, biasPtr / 4 + outFp);
  if (bias !== null) f32.set(bias, biasPtr / 4);
  packInto(rt, wp, W, outF, inF);
  if (xResident < 0) f32.set(x, xPtr / 4);

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
  if (yResident >= 0) {
    // written in place, but for the tail tile: its real rows into y's last rows
    if (tailRows > 0) y.set(f32.subarray(yAt / 4, yAt / 4 + tailRows * outF), mainRows * outF);
  } else if (gated) {
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
