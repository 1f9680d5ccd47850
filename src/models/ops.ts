/**
 * The non-attention operations of an encoder layer, on row-major float32 matrices:
 * linear (nn.Linear: the ONE import of the GEMM, switch here), LayerNorm with the residual
 * added, and the activations (exact erf GELU, gelu_new's tanh form, ReLU). Sums in float64.
 */

import { type LinearOptions, linear as linearImpl } from "../backends/dispatch.js";
import type { Activation } from "./architectures/fields.js";

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

// erf on [0, ERF_MAX] by cubic Hermite interpolation of a table (values and exact
// derivatives 2/sqrt(pi)·exp(-x²)); interpolation error below 1e-10, erf(x) = 1 beyond.
const ERF_STEP = 1 / 128;
const ERF_MAX = 6;
const ERF_N = ERF_MAX / ERF_STEP + 1;
const TWO_OVER_SQRT_PI = 2 / Math.sqrt(Math.PI);
const ERF_F = new Float64Array(ERF_N);
const ERF_D = new Float64Array(ERF_N);
for (let t = 0; t < ERF_N; t++) {
  const x = t * ERF_STEP;
  // erf(x) = 2/sqrt(pi) · exp(-x²) · Σ_n 2^n x^(2n+1) / (1·3·…·(2n+1)): positive terms, stable
  let term = x;
  let s = x;
  for (let n = 1; n < 400 && term > 1e-18 * s; n++) {
    term *= (2 * x * x) / (2 * n + 1);
    s += term;
  }
  ERF_F[t] = Math.min(1, TWO_OVER_SQRT_PI * Math.exp(-x * x) * s);
  ERF_D[t] = TWO_OVER_SQRT_PI * Math.exp(-x * x);
}

/** The error function, to about 1e-10 absolute. */
export function erf(x: number): number {
  const a = Math.abs(x);
  if (!(a < ERF_MAX)) return Number.isNaN(x) ? Number.NaN : Math.sign(x);
  const u = a / ERF_STEP;
  const t = Math.floor(u);
  const s = u - t;
  const s2 = s * s;
  const s3 = s2 * s;
  const v =
    (2 * s3 - 3 * s2 + 1) * ERF_F[t] +
    (s3 - 2 * s2 + s) * ERF_STEP * ERF_D[t] +
    (-2 * s3 + 3 * s2) * ERF_F[t + 1] +
    (s3 - s2) * ERF_STEP * ERF_D[t + 1];
  return x < 0 ? -v : v;
}

const SQRT_HALF = Math.SQRT1_2;
const GELU_NEW_C = Math.sqrt(2 / Math.PI);

/** x ← act(x), elementwise. */
export function activate(x: Float32Array, act: Activation): void {
  const n = x.length;
  if (act === "gelu") {
    for (let i = 0; i < n; i++) {
      const v = x[i];
      x[i] = 0.5 * v * (1 + erf(v * SQRT_HALF));
    }
  } else if (act === "gelu_new" || act === "gelu_pytorch_tanh") {
    for (let i = 0; i < n; i++) {
      const v = x[i];
      x[i] = 0.5 * v * (1 + Math.tanh(GELU_NEW_C * (v + 0.044715 * v * v * v)));
    }
  } else {
    for (let i = 0; i < n; i++) if (x[i] < 0) x[i] = 0;
  }
}

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
