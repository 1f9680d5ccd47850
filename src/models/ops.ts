/**
 * The non-attention operations of an encoder layer, on row-major float32 matrices:
 * linear (nn.Linear: the ONE import of the GEMM, switch here), LayerNorm with the residual
 * added, and the activations (exact erf GELU, gelu_new's tanh form, ReLU). Sums in float64.
 */

import {
  type LinearOptions,
  layerNorm,
  linear as linearImpl,
  type NormOptions,
  releaseWorkBuffer,
  workBuffer,
} from "../backends/dispatch.js";

/**
 * The work buffers of one forward (the dispatcher's workBuffer: kept in wasm memory, where the
 * wasm ops read and write them in place, when `backend` lets wasm run), given back together by
 * release(); the forward calls it in a `finally`, so an error gives them back too.
 */
export class WorkBuffers {
  private readonly owned: Float32Array[] = [];

  constructor(private readonly backend?: string) {}

  /** A buffer of n floats (contents unspecified), live until release(). */
  take(n: number): Float32Array {
    const a = workBuffer(n, this.backend);
    this.owned.push(a);
    return a;
  }

  release(): void {
    for (const a of this.owned) releaseWorkBuffer(a);
    this.owned.length = 0;
  }
}

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
