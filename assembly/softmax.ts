/**
 * SIMD arithmetic of the wasm kernel (assembly/kernel.ts): multiply-add (fused in the
 * relaxed-SIMD build), a vectorised 2^x, and the online-softmax step over one key tile.
 */
// vexp2: 2^x = 2^n · 2^f, n = round(x), f = x − n ∈ [−½, ½] (exact), 2^f by a degree-5 minimax
// polynomial (relative error 7.5e-8, 2.4e-7 evaluated in float32). Scores are kept in base-2
// units (queries pre-scaled by log2 e), so softmax needs no Cody–Waite reduction.
export const LOG2E: f32 = 1.44269504088896341;
export const LN2: f64 = 0.6931471805599453;
const MAGIC: f32 = 12583039.0; // 1.5 · 2^23 + 127: adding it rounds x to n, held as n + 127 in the low mantissa bits
const EXP2_MIN: f32 = -127.0; // 2^n's biased exponent n + 127 ≥ 0; the result is 0 at n = −127 (also −∞ and NaN)

/** acc + a·b: one fused f32x4.relaxed_madd in the relaxed-SIMD build, mul + add otherwise. */
// @ts-ignore: decorator
@inline
export function madd(acc: v128, a: v128, b: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) return f32x4.relaxed_madd(a, b, acc);
  return f32x4.add(acc, f32x4.mul(a, b));
}

/** 2^x for four lanes, x ≤ 0 (scores minus their row max); −∞ and NaN lanes give exactly 0. */
// @ts-ignore: decorator
@inline
export function vexp2(x0: v128): v128 {
  const x = f32x4.pmax(f32x4.splat(EXP2_MIN), x0); // operand order: a NaN x0 yields EXP2_MIN
  const t = f32x4.add(x, f32x4.splat(MAGIC));
  const f = f32x4.sub(x, f32x4.sub(t, f32x4.splat(MAGIC)));
  let p = f32x4.splat(1.3276472e-3);
  p = madd(f32x4.splat(9.6755410e-3), p, f);
  p = madd(f32x4.splat(5.5507131e-2), p, f);
  p = madd(f32x4.splat(2.4022120e-1), p, f);
  p = madd(f32x4.splat(6.9314694e-1), p, f);
  p = madd(f32x4.splat(1.0000001), p, f);
  return f32x4.mul(p, i32x4.shl(t, 23)); // bits(t) = 0x4B400000 + n + 127; << 23 keeps (n + 127) << 23 = 2^n
}

/**
 * Online softmax over one key tile (scores in base-2 units), four rows per vector: new row
 * max, Alpha = 2^(old max − new max), St ← 2^(St − max) (0 where masked: −∞ − max and
 * −∞ − (−∞) = NaN both give 0 in vexp2), L ← L·Alpha + Σ P. Two columns per iteration so the
 * two exp chains overlap. A row with nothing allowed so far keeps max −∞ and sum 0.
 */
export function softmax(St: usize, M: usize, L: usize, Alpha: usize, cols: i32, rp: i32): void {
  const panel = <usize>cols * 32;
  const c2 = cols & ~1;
  for (let j = 0; j < rp >> 2; j++) {
    const col = St + <usize>(j >> 1) * panel + <usize>(j & 1) * 16; // 4 rows of St [rb][c][8]
    const mOld = v128.load(M + <usize>j * 16);
    // the row max in four independent chains (max does not depend on the order, up to the sign
    // of a zero max and NaN rows, which overflow marks), so pmax latency does not bound the loop
    let m0 = mOld;
    let m1 = mOld;
    let m2 = mOld;
    let m3 = mOld;
    const c4 = cols & ~3;
    let c = 0;
    for (; c < c4; c += 4) {
      const cp = col + <usize>c * 32; // St [rb][c][8]: column c of these 4 rows
      m0 = f32x4.pmax(m0, v128.load(cp, 0));
      m1 = f32x4.pmax(m1, v128.load(cp, 32));
      m2 = f32x4.pmax(m2, v128.load(cp, 64));
      m3 = f32x4.pmax(m3, v128.load(cp, 96));
    }
    for (; c < cols; c++) m0 = f32x4.pmax(m0, v128.load(col + <usize>c * 32));
    const mx = f32x4.pmax(f32x4.pmax(m0, m1), f32x4.pmax(m2, m3));
    // Alpha is exactly 1 where the row max did not move: vexp2(0) is 1 + 1e-7, and that bias
    // would compound over every key tile of a long row.
    const alpha = v128.bitselect(f32x4.splat(1), vexp2(f32x4.sub(mOld, mx)), f32x4.eq(mOld, mx));
    let sum0 = f32x4.splat(0);
    let sum1 = f32x4.splat(0);
    let sp = col;
    const spEnd = col + <usize>c2 * 32;
    for (; sp < spEnd; sp += 64) {
      const p0 = vexp2(f32x4.sub(v128.load(sp), mx));
      const p1 = vexp2(f32x4.sub(v128.load(sp, 32), mx));
      v128.store(sp, p0);
      v128.store(sp, p1, 32);
      sum0 = f32x4.add(sum0, p0);
      sum1 = f32x4.add(sum1, p1);
    }
    if (c2 < cols) {
      const p0 = vexp2(f32x4.sub(v128.load(sp), mx));
      v128.store(sp, p0);
      sum0 = f32x4.add(sum0, p0);
    }
    v128.store(M + <usize>j * 16, mx);
    v128.store(L + <usize>j * 16, f32x4.add(f32x4.mul(v128.load(L + <usize>j * 16), alpha), f32x4.add(sum0, sum1)));
    v128.store(Alpha + <usize>j * 16, alpha);
  }
}


/**
 * 1 when the n floats at ptr are all finite, else 0 (a NaN or ±∞ among them): Σ (x − x) over
 * eight lanes stays 0 unless some x is not finite. The wasm backend's fast-path check of q, k
 * and v after they are copied in (src/backends/nonfinite.ts has the rule).
 */
export function allFinite(ptr: usize, n: i32): i32 {
  let acc0 = f32x4.splat(0);
  let acc1 = f32x4.splat(0);
  const n8 = n & ~7;
  const end = ptr + <usize>n8 * 4;
  for (let p = ptr; p < end; p += 32) {
    const a = v128.load(p);
    const b = v128.load(p, 16);
    acc0 = f32x4.add(acc0, f32x4.sub(a, a));
    acc1 = f32x4.add(acc1, f32x4.sub(b, b));
  }
  let s: f32 = 0;
  for (let i = n8; i < n; i++) {
    const x = load<f32>(ptr + <usize>i * 4);
    s += x - x;
  }
  const t = f32x4.add(acc0, acc1);
  s += f32x4.extract_lane(t, 0) + f32x4.extract_lane(t, 1) + f32x4.extract_lane(t, 2) + f32x4.extract_lane(t, 3);
  return s === 0 ? 1 : 0;
}
