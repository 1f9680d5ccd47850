/**
 * The activations of nn.Linear's epilogue (assembly/gemm.ts applies them to a y tile while it is
 * hot), in f32x4: exact-erf GELU (HF "gelu"), the tanh form (HF "gelu_new",
 * "gelu_pytorch_tanh") and ReLU. Kinds (GEMM descriptor word ACT): 0 none, 1 gelu, 2 the tanh
 * form, 3 relu. Plain mul/add (no fused multiply-add) so the plain and relaxed builds agree bit
 * for bit.
 *
 * erf (float32, |error| ≲ 1e-7 absolute, proven on a dense grid against the float64 one in
 * src/backends/wasm/act.test.ts); coefficients from assembly/erf-fit.mjs (Chebyshev
 * interpolation in float64, then monomials, rounded to float32):
 *   |x| ≤ 1:  erf(x) = x · P(2x² − 1),             P of degree 7
 *   |x| > 1:  erfc(|x|) = e^(−x²) · R((2|x| − 5)/3),  R of degree 12 on [1, 4] (|x| clamped to 4 in R only)
 * GELU uses 1 + erf(x) directly: 2 − erfc(|x|) for x > 1 and erfc(|x|) for x < −1, so the
 * negative tail keeps its relative accuracy (no cancellation in 1 + erf).
 * The tanh form: 0.5·v·(1 + tanh(z)) = v / (1 + e^(−2z)), z = √(2/π)·(v + 0.044715·v³).
 */

/** Activation kinds (the GEMM descriptor's ACT word; src/backends/wasm/gemm.ts writes them). */
export const ACT_NONE: i32 = 0;
export const ACT_GELU: i32 = 1;
export const ACT_GELU_TANH: i32 = 2;
export const ACT_RELU: i32 = 3;

// @ts-ignore: decorator
@inline
function sp(x: f32): v128 {
  return f32x4.splat(x);
}

// @ts-ignore: decorator
@inline
function fma(a: v128, b: v128, c: f32): v128 {
  return f32x4.add(f32x4.mul(a, b), f32x4.splat(c));
}

/** e^x per lane, x clamped to [−87, 88]: 2^n · p(r), x = n·ln2 + r, |r| ≤ ln2/2, p Taylor of degree 7. */
// @ts-ignore: decorator
@inline
function vexp(x: v128): v128 {
  x = f32x4.max(f32x4.min(x, sp(88)), sp(-87));
  const n = f32x4.nearest(f32x4.mul(x, sp(1.4426950408889634)));
  let r = f32x4.sub(x, f32x4.mul(n, sp(0.693145751953125))); // ln2 high part: n·hi is exact
  r = f32x4.sub(r, f32x4.mul(n, sp(1.4286068203094172e-6))); // ln2 − hi
  let p = sp(<f32>(1.0 / 5040.0));
  p = fma(p, r, <f32>(1.0 / 720.0));
  p = fma(p, r, <f32>(1.0 / 120.0));
  p = fma(p, r, <f32>(1.0 / 24.0));
  p = fma(p, r, <f32>(1.0 / 6.0));
  p = fma(p, r, 0.5);
  p = fma(p, r, 1);
  p = fma(p, r, 1);
  const scale = i32x4.shl(i32x4.add(i32x4.trunc_sat_f32x4_s(n), i32x4.splat(127)), 23); // 2^n, n ∈ [−126, 127]
  return f32x4.mul(p, scale);
}

/** 1 + erf(x) per lane (see the file comment). */
// @ts-ignore: decorator
@inline
function onePlusErf(x: v128): v128 {
  const a = f32x4.abs(x);
  // |x| ≤ 1: 1 + x · P(t), t = 2x² − 1
  const x2 = f32x4.mul(x, x);
  const t = f32x4.sub(f32x4.add(x2, x2), sp(1));
  let p = sp(-7.552367264906934e-8);
  p = fma(p, t, 0.000001231639544130303);
  p = fma(p, t, -0.000017536915038363077);
  p = fma(p, t, 0.00021751198801212013);
  p = fma(p, t, -0.0022854856215417385);
  p = fma(p, t, 0.019852498546242714);
  p = fma(p, t, -0.1405360847711563);
  p = fma(p, t, 0.9654687643051147);
  const near = f32x4.add(sp(1), f32x4.mul(x, p));
  // |x| > 1: erfc(|x|) = e^(−x²) · R(s), s = (2·min(|x|, 4) − 5) / 3
  const c = f32x4.min(a, sp(4));
  const s = f32x4.mul(f32x4.sub(f32x4.add(c, c), sp(5)), sp(<f32>(1.0 / 3.0)));
  let q = sp(0.00001336583500233246);
  q = fma(q, s, -0.000036888912291033193);
  q = fma(q, s, 0.000056303579185623676);
  q = fma(q, s, -0.000144057790748775);
  q = fma(q, s, 0.00041298693395219743);
  q = fma(q, s, -0.0010170089080929756);
  q = fma(q, s, 0.0024024874437600374);
  q = fma(q, s, -0.005567380227148533);
  q = fma(q, s, 0.012489520013332367);
  q = fma(q, s, -0.027005717158317566);
  q = fma(q, s, 0.05611048638820648);
  q = fma(q, s, -0.11152100563049316);
  q = fma(q, s, 0.21080636978149414);
  const e = f32x4.mul(vexp(f32x4.neg(x2)), q); // erfc(|x|)
  const far = v128.bitselect(e, f32x4.sub(sp(2), e), f32x4.lt(x, sp(0)));
  return v128.bitselect(near, far, f32x4.le(a, sp(1)));
}

/** act(v) per lane for kind `act` (1 gelu, 2 tanh form, 3 relu; anything else: v). */
// @ts-ignore: decorator
@inline
export function activate4(v: v128, act: i32): v128 {
  if (act === ACT_GELU) return f32x4.mul(f32x4.mul(v, sp(0.5)), onePlusErf(f32x4.mul(v, sp(0.7071067811865476))));
  if (act === ACT_GELU_TANH) {
    const z = f32x4.mul(sp(0.7978845608028654), f32x4.add(v, f32x4.mul(sp(0.044715), f32x4.mul(v, f32x4.mul(v, v)))));
    return f32x4.div(v, f32x4.add(sp(1), vexp(f32x4.mul(z, sp(-2)))));
  }
  if (act === ACT_RELU) return f32x4.pmax(v, f32x4.splat(0)); // v < 0 ? 0 : v (NaN and −0 kept, as the js path)
  return v;
}

/**
 * act on a y tile of `rows` rows × 8 columns at yt (row stride ldy bytes) whose first column is
 * `col`; only columns < actCols change (a gated layer activates its first half only).
 */
export function activateTile(yt: usize, ldy: usize, rows: i32, act: i32, col: i32, actCols: i32): void {
  const lane = i32x4(0, 1, 2, 3);
  const m0 = i32x4.lt_s(i32x4.add(lane, i32x4.splat(col)), i32x4.splat(actCols));
  const m1 = i32x4.lt_s(i32x4.add(lane, i32x4.splat(col + 4)), i32x4.splat(actCols));
  for (let r = 0; r < rows; r++) {
    const p = yt + <usize>r * ldy;
    const v0 = v128.load(p);
    const v1 = v128.load(p, 16);
    v128.store(p, v128.bitselect(activate4(v0, act), v0, m0));
    v128.store(p, v128.bitselect(activate4(v1, act), v1, m1), 16);
  }
}

/** x[0 … n) ← act(x) in place (tests, and a pass over data already in wasm memory). */
export function activateRange(x: usize, n: i32, act: i32): void {
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const p = x + <usize>i * 4;
    v128.store(p, activate4(v128.load(p), act));
  }
  for (; i < n; i++) {
    const p = x + <usize>i * 4;
    store<f32>(p, f32x4.extract_lane(activate4(f32x4.splat(load<f32>(p)), act), 0));
  }
}
