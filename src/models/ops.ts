/**
 * The non-attention operations of an encoder layer, on row-major float32 matrices:
 * linear (nn.Linear: the ONE import of the GEMM, switch here), LayerNorm with the residual
 * added, and the activations (exact erf GELU, gelu_new's tanh form, ReLU). Sums in float64.
 */

import { type LinearOptions, layerNorm, linear as linearImpl, type NormOptions } from "../backends/dispatch.js";

export { releaseWorkBuffer, workBuffer } from "../backends/dispatch.js";

export type { LinearOptions, NormOptions };
/** nn.Linear on the WebAssembly SIMD GEMM and the worker pool (src/backends/dispatch.ts picks the op: wasm GEMM, else js). */
export const linear = linearImpl;

/**
 * x ← LayerNorm(x + add) row by row; x, add: [rows, n]; gamma, beta: [n]. `add` may be null.
 * Sums in float64; on the wasm pool from 16,384 elements (src/backends/dispatch.ts layerNorm;
 * `options` as linear()'s: backend "js" keeps it in TypeScript).
 */
export function addLayerNorm(
  x: Float32Array,
  add: Float32Array | null,
  rows: number,
  n: number,
  gamma: Float32Array,
  beta: Float32Array,
  eps: number,
  options?: NormOptions,
): void {
  layerNorm(x, add, rows, n, gamma, beta, eps, x, options);
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
  options?: NormOptions,
): void {
  layerNorm(src, null, rows, n, gamma, beta, eps, dst, options);
}
