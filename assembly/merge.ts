/**
 * Merging a query tile's rows into out / lse by log-sum-exp (float64, as the JS kernel does),
 * now or later (assembly/kernel.ts merge() calls these):
 *   mergeRow    one row's (Acc, M, L, chk) state into out / lse: the only merge arithmetic.
 *   storeRow    the same state into a record instead (deferred merge: parts p ≥ 1 of a head
 *               whose parts run as separate items, src/backends/wasm/wasm-items.ts deferItems).
 *   mergeRecords  the second phase: rows [r0, r1) of one head, each row's records of parts
 *               1, 2, … merged in plan order with mergeRow, after part 0 merged in place. Each
 *               row sees the same merges in the same order as in the whole-head item, so the
 *               result is bitwise the same.
 * Records (head words 9, 10: records pointer, Lq): part p ≥ 1, row qi at
 * rec + ((p − 1) · Lq + qi) · (D + 3) · 4 bytes: Acc [D] f32, M, L, chk. A record never
 * written has L = 0 and chk = 0 (src/backends/wasm/wasm.ts clears them), and mergeRow skips it,
 * as merge() skips a tile without key tiles or a row with no allowed key.
 */
import { HEAD_D, HEAD_LQ, HEAD_LSE, HEAD_NUM_PARTS, HEAD_OUT, HEAD_RECORDS } from "./layout";
import { LN2 } from "./softmax";

/**
 * Merges one row into out / lse. row: the row's accumulator, D contiguous f32 (a tile's rows
 * unpacked row-major by assembly/rows.ts unpackAcc, or a record); m: its max (base-2 units),
 * l: its sum; chk: Bad + Σ (a − a) over the accumulator, non-zero when something overflowed
 * float32: the row is then marked (lse NaN, which survives later merges) for
 * src/backends/nonfinite.ts. The d loops run 4 at a time in f64x2: per element the same float64
 * products, sums and roundings to f32 as the scalar tail.
 */
export function mergeRow(row: usize, m: f32, lf: f32, chk: f32, qi: i32, outPtr: usize, lsePtr: usize, D: i32): void {
  const li = lsePtr + <usize>qi * 4; // lse: [Lq]
  if (chk !== 0) {
    store<f32>(li, NaN);
    return;
  }
  const l = <f64>lf;
  if (!(l > 0)) return;
  const partLse = <f64>m * LN2 + Math.log(l); // M in base-2 units
  const oRow = outPtr + <usize>qi * <usize>D * 4; // out: [Lq, D]
  const old = <f64>load<f32>(li);
  const d4 = D & ~3;
  if (old === -Infinity) {
    const inv = 1 / l;
    const iv = f64x2.splat(inv);
    let d = 0;
    for (; d < d4; d += 4) {
      const a = v128.load(row + <usize>d * 4);
      const lo = f32x4.demote_f64x2_zero(f64x2.mul(f64x2.promote_low_f32x4(a), iv));
      const hi = f32x4.demote_f64x2_zero(f64x2.mul(f64x2.promote_low_f32x4(v128.shuffle<f32>(a, a, 2, 3, 2, 3)), iv));
      v128.store(oRow + <usize>d * 4, v128.shuffle<f32>(lo, hi, 0, 1, 4, 5));
    }
    for (; d < D; d++) store<f32>(oRow + <usize>d * 4, <f32>(<f64>load<f32>(row + <usize>d * 4) * inv));
    store<f32>(li, <f32>partLse);
    return;
  }
  const mx = old > partLse ? old : partLse;
  // the larger side's weight is exp(0) = 1 exactly: one exp, the same bits as two
  const wOld = old > partLse ? 1 : Math.exp(old - mx);
  const wNew = old > partLse ? Math.exp(partLse - mx) : 1;
  const total = wOld + wNew;
  const cOld = wOld / total;
  const cNew = wNew / total / l;
  const co = f64x2.splat(cOld);
  const cn = f64x2.splat(cNew);
  let d = 0;
  for (; d < d4; d += 4) {
    const o = oRow + <usize>d * 4;
    const x = v128.load(o);
    const a = v128.load(row + <usize>d * 4);
    const xh = v128.shuffle<f32>(x, x, 2, 3, 2, 3);
    const ah = v128.shuffle<f32>(a, a, 2, 3, 2, 3);
    const lo = f64x2.add(f64x2.mul(f64x2.promote_low_f32x4(x), co), f64x2.mul(f64x2.promote_low_f32x4(a), cn));
    const hi = f64x2.add(f64x2.mul(f64x2.promote_low_f32x4(xh), co), f64x2.mul(f64x2.promote_low_f32x4(ah), cn));
    v128.store(o, v128.shuffle<f32>(f32x4.demote_f64x2_zero(lo), f32x4.demote_f64x2_zero(hi), 0, 1, 4, 5));
  }
  for (; d < D; d++) {
    const o = oRow + <usize>d * 4;
    store<f32>(o, <f32>(<f64>load<f32>(o) * cOld + <f64>load<f32>(row + <usize>d * 4) * cNew));
  }
  store<f32>(li, <f32>(mx + Math.log(total)));
}

/** Stores one row's state (row: D contiguous f32) as the record at dst: Acc [D], M, L, chk. */
export function storeRow(row: usize, m: f32, l: f32, chk: f32, dst: usize, D: i32): void {
  memory.copy(dst, row, <usize>D * 4);
  const tail = dst + <usize>D * 4;
  store<f32>(tail, m);
  store<f32>(tail, l, 4);
  store<f32>(tail, chk, 8);
}

/** Records of part p ≥ 1 of a head: [Lq][D + 3] f32 (see the file comment). */
export function partRecords(head: usize, p: i32): usize {
  const rec = <usize>load<i32>(head, HEAD_RECORDS);
  const Lq = <usize>load<i32>(head, HEAD_LQ);
  const D = <usize>load<i32>(head, HEAD_D);
  return rec + <usize>(p - 1) * Lq * (D + 3) * 4;
}

/** The merge phase: rows [r0, r1) of one head, each row's records of parts 1, 2, … in plan order. */
export function mergeRecords(head: usize, r0: i32, r1: i32): void {
  const outPtr = <usize>load<i32>(head, HEAD_OUT);
  const lsePtr = <usize>load<i32>(head, HEAD_LSE);
  const numParts = load<i32>(head, HEAD_NUM_PARTS);
  const D = load<i32>(head, HEAD_D);
  const rowBytes = <usize>(D + 3) * 4;
  for (let qi = r0; qi < r1; qi++) {
    for (let p = 1; p < numParts; p++) {
      const r = partRecords(head, p) + <usize>qi * rowBytes; // record [Lq][D + 3]: row qi
      const tail = r + <usize>D * 4;
      mergeRow(r, load<f32>(tail), load<f32>(tail, 4), load<f32>(tail, 8), qi, outPtr, lsePtr, D);
    }
  }
}
