/**
 * ModernBERT's own operations, on row-major float32 matrices, rounded as HF's float32 eager
 * path rounds them:
 *  - rotary tables (HF ModernBertRotaryEmbedding, "default" rope type): inv_f[j] =
 *    1 / θ^(2j / D) in float32, angle = float32(inv_f[j] · p), cos / sin of that angle;
 *  - splitting the fused projection [rows, 3·H·D] into q, k, v [B, H, L, D] with RoPE applied
 *    to q and k in the "rotate_half" form: for j < D/2,
 *      out[j] = x[j]·cos_j − x[j + D/2]·sin_j,   out[j + D/2] = x[j + D/2]·cos_j + x[j]·sin_j;
 *  - LayerNorm into a separate buffer (pre-norm keeps the residual stream);
 *  - GeGLU: [a | g] = x Wiᵀ, out = act(a) · g.
 */
import { type NormOptions, splitQkvRope as splitRope } from "../../backends/dispatch.js";
import type { Activation } from "../config.js";
import { erf } from "../ops.js";

export { layerNormInto } from "../ops.js";

const f32 = Math.fround;

/** cos and sin [L, D/2] of positions 0 … L-1 for base `theta` and head size D (HF's float32 rounding). */
export function ropeTables(theta: number, D: number, L: number): { cos: Float32Array; sin: Float32Array } {
  const half = D / 2;
  const inv = new Float32Array(half);
  for (let j = 0; j < half; j++) {
    // torch: 1.0 / (base ** (arange(0, D, 2).float() / D)), all float32
    inv[j] = f32(1 / f32(theta ** f32((2 * j) / D)));
  }
  const cos = new Float32Array(L * half); // [L, D/2]
  const sin = new Float32Array(L * half);
  for (let p = 0; p < L; p++) {
    for (let j = 0; j < half; j++) {
      const a = f32(inv[j] * p); // freqs = inv_freq @ position_ids in float32
      cos[p * half + j] = Math.cos(a);
      sin[p * half + j] = Math.sin(a);
    }
  }
  return { cos, sin };
}

/**
 * qkv [B·L, 3·H·D] (HF's view [B, L, 3, H, D]: column s·H·D + h·D + d, s = 0 q, 1 k, 2 v) →
 * q, k, v [B, H, L, D], RoPE at position i (the index in the row, padding included) applied to
 * q and k. cos, sin: [≥ L, D/2]. Runs on the dispatcher's splitQkvRope (src/backends/dispatch.ts:
 * wasm SIMD on the worker pool from 32,768 elements, else the js loops of src/backends/js/rope.ts;
 * same bits); `options` as a linear layer's (backend "js" stays js).
 */
export function splitQkvRope(
  qkv: Float32Array,
  q: Float32Array,
  k: Float32Array,
  v: Float32Array,
  B: number,
  L: number,
  H: number,
  D: number,
  cos: Float32Array,
  sin: Float32Array,
  options?: NormOptions,
): void {
  splitRope(qkv, q, k, v, B, L, H, D, cos, sin, options);
}

const SQRT_HALF = Math.SQRT1_2;
const GELU_NEW_C = Math.sqrt(2 / Math.PI);

/** One activation value (float64 in, the caller rounds). */
function act1(x: number, act: Activation): number {
  if (act === "gelu") return 0.5 * x * (1 + erf(x * SQRT_HALF));
  if (act === "relu") return x > 0 ? x : 0;
  return 0.5 * x * (1 + Math.tanh(GELU_NEW_C * (x + 0.044715 * x * x * x)));
}

/** GeGLU: src [rows, 2·I] = [a | g] per row → dst [rows, I] = act(a) · g (act rounded to float32 first, as torch). */
export function geglu(src: Float32Array, dst: Float32Array, rows: number, I: number, act: Activation): void {
  for (let r = 0; r < rows; r++) {
    const s = r * 2 * I; // src: [rows, 2·I]
    const o = r * I; // dst: [rows, I]
    for (let i = 0; i < I; i++) dst[o + i] = f32(act1(src[s + i], act)) * src[s + I + i];
  }
}

/** x ← act(x) (rounded per element by the Float32Array). */
export function activateInPlace(x: Float32Array, act: Activation): void {
  for (let i = 0; i < x.length; i++) x[i] = act1(x[i], act);
}

/** x ← x + y, elementwise (the residual). */
export function addInto(x: Float32Array, y: Float32Array): void {
  for (let i = 0; i < x.length; i++) x[i] += y[i];
}
