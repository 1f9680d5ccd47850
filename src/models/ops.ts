/**
 * The non-attention operations of an encoder layer, on row-major float32 matrices:
 * linear (nn.Linear: the ONE import of the GEMM, switch here), LayerNorm with the residual
 * added, and the activations (exact erf GELU, gelu_new's tanh form, ReLU). Sums in float64.
 */

import { type LinearOptions, linear as linearImpl } from "../backends/dispatch.js";

export type { LinearOptions };
/** nn.Linear on the WebAssembly SIMD GEMM and the worker pool (src/backends/dispatch.ts picks the op: wasm GEMM, else js). */
export const linear = linearImpl;

/** x ← LayerNorm(x + add) row by row; x, add: [rows, n]; gamma, beta: [n]. `add` may be null. */
export function addLayerNorm(
  x: Float32Array,
  add: Float32Array | null,
  rows: number,
  n: number,
  gamma: Float32Array,
  beta: Float32Array,
  eps: number,
): void {
  for (let r = 0; r < rows; r++) {
    const o = r * n; // x, add: [rows, n]
    let sum = 0;
    if (add !== null) {
      for (let i = 0; i < n; i++) {
        const v = x[o + i] + add[o + i];
        x[o + i] = v;
        sum += v;
      }
    } else {
      for (let i = 0; i < n; i++) sum += x[o + i];
    }
    const mean = sum / n;
    let sq = 0;
    for (let i = 0; i < n; i++) {
      const d = x[o + i] - mean;
      sq += d * d;
    }
    const inv = 1 / Math.sqrt(sq / n + eps);
    for (let i = 0; i < n; i++) x[o + i] = (x[o + i] - mean) * inv * gamma[i] + beta[i];
  }
}

// the activations live with linear()'s epilogue (the js op applies them; the wasm GEMM fuses its own)
export { activate, erf } from "../backends/js/activation.js";

/** dst ← LayerNorm(src) row by row (pre-norm models keep the residual stream; dst may be src); src, dst: [rows, n]; gamma, beta: [n]. Sums in float64. */
export function layerNormInto(
  src: Float32Array,
  dst: Float32Array,
  rows: number,
  n: number,
  gamma: Float32Array,
  beta: Float32Array,
  eps: number,
): void {
  for (let r = 0; r < rows; r++) {
    const o = r * n; // [rows, n]
    let sum = 0;
    for (let i = 0; i < n; i++) sum += src[o + i];
    const mean = sum / n;
    let sq = 0;
    for (let i = 0; i < n; i++) {
      const d = src[o + i] - mean;
      sq += d * d;
    }
    const inv = 1 / Math.sqrt(sq / n + eps);
    for (let i = 0; i < n; i++) dst[o + i] = (src[o + i] - mean) * inv * gamma[i] + beta[i];
  }
}
