/**
 * LayerNorm over rows in wasm SIMD, with the residual add of a post-LN encoder:
 *   ADD ≠ 0:  x ← x + add (stored), then x ← LN(x)          (post-LN: x ← LN(x + y))
 *   ADD = 0:  x ← LN(x)                                      (pre-LN's LN into a copy)
 * per row of n features: mean and variance summed in float64 (f64x2, two passes: the mean, then
 * Σ (x − mean)², so large offsets and constant rows stay exact), and
 * out = (x − mean) · inv · gamma + beta in float64, rounded once to float32: the js path's
 * arithmetic (src/backends/js/norm.ts), summed in four lanes instead of one.
 *
 * Descriptor (ROWS in assembly/layout.mjs): x [rows, n] (in place), add [rows, n] or 0,
 * gamma [n], beta [n], n, eps (f32). Item (4 words): descriptor, first row, row after the last.
 */
import {
  ROWS_ADD,
  ROWS_BETA,
  ROWS_EPS,
  ROWS_GAMMA,
  ROWS_ITEM_BYTES,
  ROWS_ITEM_DESC,
  ROWS_ITEM_ROW_BEGIN,
  ROWS_ITEM_ROW_END,
  ROWS_KIND,
  ROWS_N,
  ROWS_X,
} from "./layout";
import { headsRows } from "./heads";
import { ropeRows } from "./rope";

// @ts-ignore: decorator
@inline
function lo64(v: v128): v128 {
  return f64x2.promote_low_f32x4(v);
}

// @ts-ignore: decorator
@inline
function hi64(v: v128): v128 {
  return f64x2.promote_low_f32x4(v128.shuffle<f32>(v, v, 2, 3, 0, 1));
}

/** One row: x [n] ← LN(x (+ add)). */
function normRow(x: usize, add: usize, n: i32, gamma: usize, beta: usize, eps: f64): void {
  const n4 = n & ~3;
  let s0 = f64x2.splat(0);
  let s1 = s0;
  let tail: f64 = 0;
  if (add !== 0) {
    for (let i = 0; i < n4; i += 4) {
      const p = <usize>i * 4;
      const v = f32x4.add(v128.load(x + p), v128.load(add + p));
      v128.store(x + p, v);
      s0 = f64x2.add(s0, lo64(v));
      s1 = f64x2.add(s1, hi64(v));
    }
    for (let i = n4; i < n; i++) {
      const p = <usize>i * 4;
      const v = load<f32>(x + p) + load<f32>(add + p);
      store<f32>(x + p, v);
      tail += <f64>v;
    }
  } else {
    for (let i = 0; i < n4; i += 4) {
      const v = v128.load(x + <usize>i * 4);
      s0 = f64x2.add(s0, lo64(v));
      s1 = f64x2.add(s1, hi64(v));
    }
    for (let i = n4; i < n; i++) tail += <f64>load<f32>(x + <usize>i * 4);
  }
  const s = f64x2.add(s0, s1);
  const mean = (f64x2.extract_lane(s, 0) + f64x2.extract_lane(s, 1) + tail) / <f64>n;
  const m = f64x2.splat(mean);
  s0 = f64x2.splat(0);
  s1 = s0;
  tail = 0;
  for (let i = 0; i < n4; i += 4) {
    const v = v128.load(x + <usize>i * 4);
    const d0 = f64x2.sub(lo64(v), m);
    const d1 = f64x2.sub(hi64(v), m);
    s0 = f64x2.add(s0, f64x2.mul(d0, d0));
    s1 = f64x2.add(s1, f64x2.mul(d1, d1));
  }
  for (let i = n4; i < n; i++) {
    const d = <f64>load<f32>(x + <usize>i * 4) - mean;
    tail += d * d;
  }
  const q = f64x2.add(s0, s1);
  const sq = f64x2.extract_lane(q, 0) + f64x2.extract_lane(q, 1) + tail;
  const inv = 1 / Math.sqrt(sq / <f64>n + eps);
  const iv = f64x2.splat(inv);
  for (let i = 0; i < n4; i += 4) {
    const p = <usize>i * 4;
    const v = v128.load(x + p);
    const g = v128.load(gamma + p);
    const b = v128.load(beta + p);
    // (x − mean) · inv · gamma + beta, in float64 per lane, one rounding to float32
    const o0 = f64x2.add(f64x2.mul(f64x2.mul(f64x2.sub(lo64(v), m), iv), lo64(g)), lo64(b));
    const o1 = f64x2.add(f64x2.mul(f64x2.mul(f64x2.sub(hi64(v), m), iv), hi64(g)), hi64(b));
    v128.store(x + p, v128.shuffle<f32>(f32x4.demote_f64x2_zero(o0), f32x4.demote_f64x2_zero(o1), 0, 1, 4, 5));
  }
  for (let i = n4; i < n; i++) {
    const p = <usize>i * 4;
    const v = ((<f64>load<f32>(x + p) - mean) * inv) * <f64>load<f32>(gamma + p) + <f64>load<f32>(beta + p);
    store<f32>(x + p, <f32>v);
  }
}

/** Runs one row item (the pool's entry 2): LayerNorm, or split + RoPE when the descriptor's KIND is 1. */
export function rowsItem(item: usize, scratch: usize): void {
  const desc = <usize>load<i32>(item, ROWS_ITEM_DESC);
  const r0 = load<i32>(item, ROWS_ITEM_ROW_BEGIN);
  const r1 = load<i32>(item, ROWS_ITEM_ROW_END);
  const kind = load<i32>(desc, ROWS_KIND);
  if (kind === 1) {
    ropeRows(desc, r0, r1); // split + RoPE (assembly/rope.ts)
    return;
  }
  if (kind >= 2) {
    headsRows(desc, r0, r1); // regrouping to or from heads (assembly/heads.ts)
    return;
  }
  const x = <usize>load<i32>(desc, ROWS_X);
  const add = <usize>load<i32>(desc, ROWS_ADD);
  const gamma = <usize>load<i32>(desc, ROWS_GAMMA);
  const beta = <usize>load<i32>(desc, ROWS_BETA);
  const n = load<i32>(desc, ROWS_N);
  const eps = <f64>load<f32>(desc, ROWS_EPS);
  const rowBytes = <usize>n * 4; // x, add: [rows, n]
  for (let r = r0; r < r1; r++) {
    normRow(x + <usize>r * rowBytes, add === 0 ? 0 : add + <usize>r * rowBytes, n, gamma, beta, eps);
  }
}

/** Runs `count` consecutive row items on the calling thread. */
export function rowsItems(items: usize, count: i32, scratch: usize): void {
  for (let i = 0; i < count; i++) rowsItem(items + <usize>i * ROWS_ITEM_BYTES, scratch);
}
