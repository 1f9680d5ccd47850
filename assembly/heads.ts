/**
 * Regrouping between HF's projection layout and the attention tensors, in wasm SIMD over rows:
 *   KIND 2 (to heads):   m [B·L, H·D] (row r = b·L + i, head h in columns h·D … h·D + D − 1)
 *                        → t [B, H, L, D]
 *   KIND 3 (from heads): t [B, H, L, D] → m [B·L, H·D], rows whose valid byte is 0 set to 0
 *                        (valid [B·L] u8 at ADD; ADD = 0: every row is copied)
 * Pure copies: the bits of the js loops (src/backends/js/heads.ts). Descriptor: ROWS with X = m,
 * Q = t, ADD = valid, L, H, D (assembly/layout.mjs); items are row ranges of m.
 */
import { ROWS_ADD, ROWS_D, ROWS_H, ROWS_KIND, ROWS_L, ROWS_Q, ROWS_X } from "./layout";

/** D floats from src to dst (byte addresses). */
// @ts-ignore: decorator
@inline
function copy(src: usize, dst: usize, D: i32): void {
  const d4 = D & ~3;
  for (let d = 0; d < d4; d += 4) v128.store(dst + <usize>d * 4, v128.load(src + <usize>d * 4));
  for (let d = d4; d < D; d++) store<f32>(dst + <usize>d * 4, load<f32>(src + <usize>d * 4));
}

/** Rows [r0, r1) of m regrouped to or from t (KIND 2 or 3). */
export function headsRows(desc: usize, r0: i32, r1: i32): void {
  const toHeads = load<i32>(desc, ROWS_KIND) === 2;
  const m = <usize>load<i32>(desc, ROWS_X);
  const t = <usize>load<i32>(desc, ROWS_Q);
  const valid = <usize>load<i32>(desc, ROWS_ADD);
  const L = load<i32>(desc, ROWS_L);
  const H = load<i32>(desc, ROWS_H);
  const D = load<i32>(desc, ROWS_D);
  const HD = H * D;
  for (let r = r0; r < r1; r++) {
    const b = r / L;
    const i = r - b * L;
    const row = m + <usize>r * <usize>HD * 4; // m: [B·L, H·D]
    if (!toHeads && valid !== 0 && load<u8>(valid + <usize>r) === 0) {
      memory.fill(row, 0, <usize>HD * 4);
      continue;
    }
    for (let h = 0; h < H; h++) {
      const head = t + ((<usize>(b * H + h) * <usize>L + <usize>i) * <usize>D) * 4; // t: [B, H, L, D]
      const col = row + <usize>(h * D) * 4;
      if (toHeads) copy(col, head, D);
      else copy(head, col, D);
    }
  }
}
