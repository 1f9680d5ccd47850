/**
 * Row-blocked building blocks of the Reformer forward: LayerNorm out of place, embeddings
 * (axial or plain positions), projections straight into the attention layout [B, H, L, D],
 * and linear layers run over blocks of rows so the GEMM's per-call buffers stay small at
 * long lengths. Shapes are named in each function; sums in float64.
 */
import { type LinearOptions, layerNormInto, linear } from "../ops.js";
import type { ReformerConfig } from "./config.js";
import type { ReformerWeights, RLinear, RNorm } from "./weights.js";

/** Rows per linear() call: keeps the wasm GEMM's per-call copy of x and y at a few MiB. */
export const ROW_BLOCK = 4096;

/** dst[r] = LayerNorm(src[r]) for rows r; src, dst: [rows, n] (may be the same array). */
export function layerNorm(
  src: Float32Array,
  dst: Float32Array,
  rows: number,
  n: number,
  norm: RNorm,
  eps: number,
): void {
  layerNormInto(src, dst, rows, n, norm.gamma, norm.beta, eps);
}

/** The position embedding of position p into out[o .. o + hidden). */
export function positionInto(c: ReformerConfig, w: ReformerWeights, p: number, out: Float32Array, o: number): void {
  if (c.axialShape === null || c.axialDims === null) {
    out.set(w.position[0].subarray(p * c.hidden, (p + 1) * c.hidden), o); // [maxPositions, hidden]
    return;
  }
  // p = Σ_k a_k · stride_k (row-major over axialShape); factor k contributes weights.k[a_k]
  let rest = p;
  let stride = c.maxPositions;
  let col = o;
  for (let k = 0; k < c.axialShape.length; k++) {
    stride /= c.axialShape[k];
    const a = Math.floor(rest / stride);
    rest -= a * stride;
    const d = c.axialDims[k];
    out.set(w.position[k].subarray(a * d, (a + 1) * d), col); // weights.k: [axialShape[k], d]
    col += d;
  }
}

/** word[id] + position(p0 + i) for ids [rows] → out [rows, hidden]. */
export function embed(
  c: ReformerConfig,
  w: ReformerWeights,
  ids: Int32Array,
  B: number,
  L: number,
  p0: number,
  out: Float32Array,
): void {
  const h = c.hidden;
  const pos = new Float32Array(h);
  for (let i = 0; i < L; i++) {
    positionInto(c, w, p0 + i, pos, 0);
    for (let b = 0; b < B; b++) {
      const r = b * L + i; // ids: [B, L]
      const wo = ids[r] * h; // word: [vocab, hidden]
      const o = r * h; // out: [B·L, hidden]
      for (let d = 0; d < h; d++) out[o + d] = w.word[wo + d] + pos[d];
    }
  }
}

/** y [rows, outF] = linear(x [rows, inF]) in blocks of ROW_BLOCK rows. */
export function linearRows(x: Float32Array, rows: number, lin: RLinear, y: Float32Array, lo: LinearOptions): void {
  const { inF, outF } = lin;
  for (let r0 = 0; r0 < rows; r0 += ROW_BLOCK) {
    const n = Math.min(ROW_BLOCK, rows - r0);
    linear(
      x.subarray(r0 * inF, (r0 + n) * inF),
      n,
      inF,
      lin.W,
      outF,
      lin.b,
      y.subarray(r0 * outF, (r0 + n) * outF),
      lo,
    );
  }
}

/**
 * Head h's projection of rows [r0, r0 + n) of batch row b: x [n, hidden] (those rows) times
 * the rows h·D … h·D + D - 1 of W [H·D, hidden], into out [B, H, L, D] at (b, h, r0).
 */
export function projectHeads(
  x: Float32Array,
  n: number,
  lin: RLinear,
  H: number,
  D: number,
  out: Float32Array,
  b: number,
  L: number,
  r0: number,
  lo: LinearOptions,
): void {
  const inF = lin.inF;
  for (let h = 0; h < H; h++) {
    const Wh = lin.W.subarray(h * D * inF, (h + 1) * D * inF); // W: [H·D, inF] rows of head h
    const o = ((b * H + h) * L + r0) * D; // out: [B, H, L, D]
    linear(x, n, inF, Wh, D, null, out.subarray(o, o + n * D), lo);
  }
}

/** ctx [n, H·D] ← rows [r0, r0 + n) of batch row b of t [B, H, L, D] (HF's merge of heads). */
export function gatherHeads(
  t: Float32Array,
  b: number,
  H: number,
  L: number,
  D: number,
  r0: number,
  n: number,
  ctx: Float32Array,
): void {
  const HD = H * D;
  for (let h = 0; h < H; h++) {
    for (let i = 0; i < n; i++) {
      const s = ((b * H + h) * L + r0 + i) * D; // t: [B, H, L, D]
      const o = i * HD + h * D; // ctx: [n, H·D]
      for (let d = 0; d < D; d++) ctx[o + d] = t[s + d];
    }
  }
}

/** x ← act(x) for Reformer's activations. */
export { activate } from "../ops.js";
