/**
 * The activations of linear()'s epilogue in plain TypeScript (the js and native ops apply them
 * after their matrix product; the wasm GEMM applies them in its own epilogue, assembly/act.ts):
 * exact-erf GELU (HF "gelu"), the tanh form ("gelu_new", "gelu_pytorch_tanh") and ReLU, in
 * float64 before the float32 store; and the gated form act(a) · g of a GeGLU layer.
 */
import type { LinearActivation, LinearProblem } from "../linear-problem.js";

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
export function activate(x: Float32Array, act: LinearActivation): void {
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

/** Gated: y [rows, I] ← act(a) · g where full [rows, 2·I] holds [a | g] per row (act null: a · g). */
export function gateInto(
  full: Float32Array,
  y: Float32Array,
  rows: number,
  I: number,
  act: LinearActivation | null,
): void {
  for (let r = 0; r < rows; r++) y.set(full.subarray(r * 2 * I, r * 2 * I + I), r * I); // a: [rows, I]
  if (act !== null) activate(y, act);
  for (let r = 0; r < rows; r++) {
    const g = r * 2 * I + I; // full: [rows, 2·I], gate half
    const o = r * I; // y: [rows, I]
    for (let i = 0; i < I; i++) y[o + i] *= full[g + i];
  }
}

/** Runs a plain matrix product `run(into)` of problem p and applies p's epilogue (activation, gate) in TypeScript. */
export function withEpilogue(p: LinearProblem, run: (into: Float32Array) => void): void {
  if (!p.gated) {
    run(p.y);
    if (p.act !== null) activate(p.y, p.act);
    return;
  }
  const full = new Float32Array(p.rows * p.outF); // [rows, 2·I]
  run(full);
  gateInto(full, p.y, p.rows, p.outF / 2, p.act);
}
