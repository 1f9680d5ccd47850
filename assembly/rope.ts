/**
 * ModernBERT's split of the fused projection with rotary embeddings, in wasm SIMD over rows:
 * qkv [B·L, 3·H·D] (HF's view [B, L, 3, H, D]) → q, k, v [B, H, L, D], RoPE at position i (the
 * index in the sequence) on q and k in the rotate_half form, for j < D/2:
 *   out[j] = x[j]·c − x[j + D/2]·s,   out[j + D/2] = x[j + D/2]·c + x[j]·s
 * each product rounded to float32, then a float32 add or subtract: the bits of the js loops in
 * src/backends/js/rope.ts (a float64 sum of two float32 values, rounded once, equals the float32
 * sum). Descriptor: ROWS with KIND = 1 (assembly/layout.mjs); items are row ranges of qkv.
 */
import {
  ROWS_COS,
  ROWS_D,
  ROWS_H,
  ROWS_K,
  ROWS_L,
  ROWS_Q,
  ROWS_SIN,
  ROWS_V,
  ROWS_X,
} from "./layout";

/** x [half] | x [half] at src → out at dst, rotated by cos, sin [half] (all byte addresses). */
// @ts-ignore: decorator
@inline
function rotate(src: usize, dst: usize, cs: usize, sn: usize, half: i32): void {
  const hb = <usize>half * 4;
  const h4 = half & ~3;
  for (let j = 0; j < h4; j += 4) {
    const p = <usize>j * 4;
    const c = v128.load(cs + p);
    const s = v128.load(sn + p);
    const x1 = v128.load(src + p);
    const x2 = v128.load(src + hb + p);
    v128.store(dst + p, f32x4.sub(f32x4.mul(x1, c), f32x4.mul(x2, s)));
    v128.store(dst + hb + p, f32x4.add(f32x4.mul(x2, c), f32x4.mul(x1, s)));
  }
  for (let j = h4; j < half; j++) {
    const p = <usize>j * 4;
    const c = load<f32>(cs + p);
    const s = load<f32>(sn + p);
    const x1 = load<f32>(src + p);
    const x2 = load<f32>(src + hb + p);
    store<f32>(dst + p, x1 * c - x2 * s);
    store<f32>(dst + hb + p, x2 * c + x1 * s);
  }
}

/** Rows [r0, r1) of qkv (row r = b·L + i) split into q, k, v with RoPE on q and k. */
export function ropeRows(desc: usize, r0: i32, r1: i32): void {
  const qkv = <usize>load<i32>(desc, ROWS_X);
  const q = <usize>load<i32>(desc, ROWS_Q);
  const k = <usize>load<i32>(desc, ROWS_K);
  const v = <usize>load<i32>(desc, ROWS_V);
  const cos = <usize>load<i32>(desc, ROWS_COS);
  const sin = <usize>load<i32>(desc, ROWS_SIN);
  const L = load<i32>(desc, ROWS_L);
  const H = load<i32>(desc, ROWS_H);
  const D = load<i32>(desc, ROWS_D);
  const half = D >> 1;
  const HD = H * D;
  const d4 = D & ~3;
  for (let r = r0; r < r1; r++) {
    const b = r / L;
    const i = r - b * L;
    const src = qkv + <usize>r * 3 * <usize>HD * 4; // qkv: [B·L, 3·H·D]
    const cs = cos + <usize>i * <usize>half * 4; // cos, sin: [L, D/2]
    const sn = sin + <usize>i * <usize>half * 4;
    for (let h = 0; h < H; h++) {
      const dst = ((<usize>(b * H + h) * <usize>L + <usize>i) * <usize>D) * 4; // q, k, v: [B, H, L, D]
      const sq = src + <usize>(h * D) * 4;
      rotate(sq, q + dst, cs, sn, half);
      rotate(sq + <usize>HD * 4, k + dst, cs, sn, half);
      const sv = sq + <usize>(2 * HD) * 4;
      const dv = v + dst;
      for (let d = 0; d < d4; d += 4) v128.store(dv + <usize>d * 4, v128.load(sv + <usize>d * 4));
      for (let d = d4; d < D; d++) store<f32>(dv + <usize>d * 4, load<f32>(sv + <usize>d * 4));
    }
  }
}
