/**
 * Packed, register-blocked GEMM for nn.Linear: y[r, o] = bias[o] + Σ_i x[r, i] · W[o, i],
 * compiled into the same module as the attention kernel (assembly/build.mjs adds this file as
 * a second entry) so the same memory and worker pool run it. No allocation, no globals.
 *
 * Layouts (f32, written by src/backends/wasm/gemm.ts):
 *   x    [rows, inF]              row-major, as the caller gave it
 *   Wp   [outFp / 8][inF][8]      W packed once per weight: 8 output columns side by side per
 *                                 input feature (pad columns zero), so two v128 loads give
 *                                 W[o..o+8, i]
 *   bias [outFp]                  zero-padded (all zero when the layer has none)
 *   Yp   [rowsP, outFp]           output, rows padded to GR, columns to 8 (host copies out; or
 *                                 the caller's resident y when rows are a multiple of GR)
 *   Xp   [GR-row panel][kl][GR]   per-thread scratch: one k-chunk of the item's rows, GR rows
 *                                 side by side per feature, so GR broadcasts sit at immediate
 *                                 offsets from one pointer
 *
 * Micro-kernel: a GR-row × 8-column block of y in 2·GR f32x4 accumulators while i runs over a
 * k-chunk: per i, 2 loads of Wp + GR broadcast loads of Xp feed 2·GR multiply-adds
 * (relaxed_madd in the relaxed-SIMD build). Loop order per item (BLIS style): k-chunk (kc
 * features, chosen by the host from inF only) → pack Xp (L2-resident) → 8-column panel
 * (its kc × 8 slice of Wp stays in L1) → GR-row panel → micro-kernel. The first chunk starts
 * the accumulators from the bias, later ones from Yp. Every y element is summed in the same
 * order whatever the item split, so results do not depend on the thread count.
 *
 * Epilogue: on the last k-chunk each finished [GR, 8] tile gets the activation ACT (assembly/act.ts;
 * 0 = none) on its columns below ACT_COLS, while it is still in L1 (bias + activation fused).
 *
 * Descriptor (16 i32 words at descPtr): xPtr, wpPtr, biasPtr, yPtr, rows, inF, outFp, kc, act, actCols.
 * Item (4 i32 words): descPtr, rowBegin, rowEnd (multiples of GR, or rowsP), panelBegin | panelEnd << 16.
 */

import {
  GEMM_BIAS,
  GEMM_ACT,
  GEMM_ACT_COLS,
  GEMM_IN_F,
  GEMM_ITEM_BYTES,
  GEMM_ITEM_DESC,
  GEMM_ITEM_PANELS,
  GEMM_ITEM_ROW_BEGIN,
  GEMM_ITEM_ROW_END,
  GEMM_KC,
  GEMM_OUT_FP,
  GEMM_ROWS,
  GEMM_WP,
  GEMM_X,
  GEMM_Y,
} from "./layout";
import { activateTile } from "./act";
import { madd } from "./softmax";

export { activateRange } from "./act";
export { rowsItem, rowsItems } from "./norm";

/** Rows per micro-kernel block (the host pads Yp and cuts items at multiples of it). */
const GR_PLAIN: i32 = 4;
const GR_RELAXED: i32 = 6;
const GR: i32 = ASC_FEATURE_RELAXED_SIMD ? GR_RELAXED : GR_PLAIN;

/** Rows per register block; the host reads it so its layout matches this build. */
export function gemmBlockRows(): i32 {
  return GR;
}

/** Runs one GEMM work item (a row range × an 8-column-panel range) with one thread's scratch. */
export function gemmItem(item: usize, scratch: usize): void {
  const desc = <usize>load<i32>(item, GEMM_ITEM_DESC);
  const r0 = load<i32>(item, GEMM_ITEM_ROW_BEGIN);
  const r1 = load<i32>(item, GEMM_ITEM_ROW_END);
  const panels = load<i32>(item, GEMM_ITEM_PANELS);
  const jp0 = panels & 0xffff;
  const jp1 = panels >>> 16;
  const xPtr = <usize>load<i32>(desc, GEMM_X);
  const wp = <usize>load<i32>(desc, GEMM_WP);
  const biasPtr = <usize>load<i32>(desc, GEMM_BIAS);
  const yPtr = <usize>load<i32>(desc, GEMM_Y);
  const rows = load<i32>(desc, GEMM_ROWS);
  const inF = load<i32>(desc, GEMM_IN_F);
  const outFp = load<i32>(desc, GEMM_OUT_FP);
  const kc = load<i32>(desc, GEMM_KC);
  const act = load<i32>(desc, GEMM_ACT);
  const actCols = load<i32>(desc, GEMM_ACT_COLS);
  const Xp = (scratch + 15) & ~(<usize>15);
  const ldy = <usize>outFp * 4; // bytes per row of Yp
  const nPanels = (r1 - r0) / GR;
  for (let k0 = 0; k0 < inF; k0 += kc) {
    const kl = min(kc, inF - k0);
    const panelBytes = <usize>kl * <usize>GR * 4; // one GR-row panel of Xp
    // pack Xp [p][k][GR] from x [rows, inF]; rows past `rows` are zero
    for (let r = r0; r < r1; r++) {
      const lane = Xp + <usize>((r - r0) / GR) * panelBytes + <usize>((r - r0) % GR) * 4;
      if (r < rows) {
        const src = xPtr + (<usize>r * <usize>inF + <usize>k0) * 4; // x: [rows, inF]
        for (let k = 0; k < kl; k++) store<f32>(lane + <usize>k * GR * 4, load<f32>(src + <usize>k * 4));
      } else {
        for (let k = 0; k < kl; k++) store<f32>(lane + <usize>k * GR * 4, 0);
      }
    }
    const first = k0 === 0;
    const last = k0 + kl >= inF && act !== 0;
    for (let jp = jp0; jp < jp1; jp++) {
      const wPanel = wp + (<usize>jp * <usize>inF + <usize>k0) * 32; // Wp: [outFp/8][inF][8]
      const bias = biasPtr + <usize>jp * 32;
      const yCol = yPtr + <usize>jp * 32;
      for (let p = 0; p < nPanels; p++) {
        const yt = yCol + <usize>(r0 + p * GR) * ldy; // Yp: [rowsP, outFp]
        micro(Xp + <usize>p * panelBytes, wPanel, kl, yt, ldy, bias, first);
        if (last && jp * 8 < actCols) activateTile(yt, ldy, GR, act, jp * 8, actCols);
      }
    }
  }
}

/** Runs `count` consecutive GEMM items (16 bytes each) on the calling thread. */
export function gemmItems(items: usize, count: i32, scratch: usize): void {
  for (let i = 0; i < count; i++) gemmItem(items + <usize>i * GEMM_ITEM_BYTES, scratch);
}

/** y tile [GR, 8] at yt (row stride ldy bytes) ← (first ? bias : tile) + Xp panel · Wp panel. */
function micro(xp: usize, wp: usize, kl: i32, yt: usize, ldy: usize, bias: usize, first: bool): void {
  // GR is a compile-time constant: the rows past it are dead code that the optimizer removes
  let a00 = v128.load(bias);
  let a01 = v128.load(bias, 16);
  let a10 = a00;
  let a11 = a01;
  let a20 = a00;
  let a21 = a01;
  let a30 = a00;
  let a31 = a01;
  let a40 = a00;
  let a41 = a01;
  let a50 = a00;
  let a51 = a01;
  if (!first) {
    a00 = v128.load(yt);
    a01 = v128.load(yt, 16);
    a10 = v128.load(yt + ldy);
    a11 = v128.load(yt + ldy, 16);
    a20 = v128.load(yt + 2 * ldy);
    a21 = v128.load(yt + 2 * ldy, 16);
    a30 = v128.load(yt + 3 * ldy);
    a31 = v128.load(yt + 3 * ldy, 16);
    if (GR > 4) {
      a40 = v128.load(yt + 4 * ldy);
      a41 = v128.load(yt + 4 * ldy, 16);
    }
    if (GR > 5) {
      a50 = v128.load(yt + 5 * ldy);
      a51 = v128.load(yt + 5 * ldy, 16);
    }
  }
  const wEnd = wp + <usize>kl * 32;
  // one i per iteration (unrolling makes V8 hoist loads and spill, see docs/performance.md)
  for (; wp < wEnd; wp += 32) {
    const w0 = v128.load(wp);
    const w1 = v128.load(wp, 16);
    let b = v128.load32_splat(xp);
    a00 = madd(a00, w0, b);
    a01 = madd(a01, w1, b);
    b = v128.load32_splat(xp, 4);
    a10 = madd(a10, w0, b);
    a11 = madd(a11, w1, b);
    b = v128.load32_splat(xp, 8);
    a20 = madd(a20, w0, b);
    a21 = madd(a21, w1, b);
    b = v128.load32_splat(xp, 12);
    a30 = madd(a30, w0, b);
    a31 = madd(a31, w1, b);
    if (GR > 4) {
      b = v128.load32_splat(xp, 16);
      a40 = madd(a40, w0, b);
      a41 = madd(a41, w1, b);
    }
    if (GR > 5) {
      b = v128.load32_splat(xp, 20);
      a50 = madd(a50, w0, b);
      a51 = madd(a51, w1, b);
    }
    xp += GR * 4;
  }
  v128.store(yt, a00);
  v128.store(yt, a01, 16);
  v128.store(yt + ldy, a10);
  v128.store(yt + ldy, a11, 16);
  v128.store(yt + 2 * ldy, a20);
  v128.store(yt + 2 * ldy, a21, 16);
  v128.store(yt + 3 * ldy, a30);
  v128.store(yt + 3 * ldy, a31, 16);
  if (GR > 4) {
    v128.store(yt + 4 * ldy, a40);
    v128.store(yt + 4 * ldy, a41, 16);
  }
  if (GR > 5) {
    v128.store(yt + 5 * ldy, a50);
    v128.store(yt + 5 * ldy, a51, 16);
  }
}
