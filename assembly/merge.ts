/**
 * Merging a query tile's rows into out / lse by log-sum-exp (float64, as the JS kernel does),
 * now or later (assembly/kernel.ts merge() calls these):
 *   mergeRow    one row's (Acc, M, L, chk) state into out / lse: the only merge arithmetic.
 *   storeRow    the same state into a record instead (deferred merge: parts p ≥ 1 of a head
 *               whose parts run as separate items, src/kernels/wasm-items.ts deferItems).
 *   mergeRecords  the second phase: rows [r0, r1) of one head, each row's records of parts
 *               1, 2, … merged in plan order with mergeRow, after part 0 merged in place. Each
 *               row sees the same merges in the same order as in the whole-head item, so the
 *               result is bitwise the same.
 * Records (head words 9, 10: records pointer, Lq): part p ≥ 1, row qi at
 * rec + ((p − 1) · Lq + qi) · (D + 3) · 4 bytes: Acc [D] f32, M, L, chk. A record never
 * written has L = 0 and chk = 0 (src/kernels/wasm.ts clears them), and mergeRow skips it,
 * as merge() skips a tile without key tiles or a row with no allowed key.
 */
import { LN2 } from "./softmax";

/**
 * Merges one row into out / lse. lane: the row's accumulator, `step` bytes between its d
 * values (32 in AccT [rb][d][8], 4 in a record); m: its max (base-2 units), l: its sum;
 * chk: Bad + Σ (a − a) over the accumulator, non-zero when something overflowed float32: the
 * row is then marked (lse NaN, which survives later merges) for src/kernels/nonfinite.ts.
 */
export function mergeRow(lane: usize, step: usize, m: f32, lf: f32, chk: f32, qi: i32, outPtr: usize, lsePtr: usize, D: i32): void {
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
  if (old === -Infinity) {
    const inv = 1 / l;
    for (let d = 0; d < D; d++) store<f32>(oRow + <usize>d * 4, <f32>(<f64>load<f32>(lane + <usize>d * step) * inv));
    store<f32>(li, <f32>partLse);
    return;
  }
  const mx = old > partLse ? old : partLse;
  const wOld = Math.exp(old - mx);
  const wNew = Math.exp(partLse - mx);
  const total = wOld + wNew;
  const cOld = wOld / total;
  const cNew = wNew / total / l;
  for (let d = 0; d < D; d++) {
    const o = oRow + <usize>d * 4;
    store<f32>(o, <f32>(<f64>load<f32>(o) * cOld + <f64>load<f32>(lane + <usize>d * step) * cNew));
  }
  store<f32>(li, <f32>(mx + Math.log(total)));
}

/** Stores one row's state (lane: AccT [rb][d][8], stride 32 bytes) as the record at dst: Acc [D], M, L, chk. */
export function storeRow(lane: usize, m: f32, l: f32, chk: f32, dst: usize, D: i32): void {
  for (let d = 0; d < D; d++) store<f32>(dst + <usize>d * 4, load<f32>(lane + <usize>d * 32));
  const tail = dst + <usize>D * 4;
  store<f32>(tail, m);
  store<f32>(tail, l, 4);
  store<f32>(tail, chk, 8);
}

/** Records of part p ≥ 1 of a head: [Lq][D + 3] f32 (see the file comment). */
export function partRecords(head: usize, p: i32): usize {
  const rec = <usize>load<i32>(head, 36);
  const Lq = <usize>load<i32>(head, 40);
  const D = <usize>load<i32>(head, 28);
  return rec + <usize>(p - 1) * Lq * (D + 3) * 4;
}

/** The merge phase: rows [r0, r1) of one head, each row's records of parts 1, 2, … in plan order. */
export function mergeRecords(head: usize, r0: i32, r1: i32): void {
  const outPtr = <usize>load<i32>(head, 12);
  const lsePtr = <usize>load<i32>(head, 16);
  const numParts = load<i32>(head, 24);
  const D = load<i32>(head, 28);
  const rowBytes = <usize>(D + 3) * 4;
  for (let qi = r0; qi < r1; qi++) {
    for (let p = 1; p < numParts; p++) {
      const r = partRecords(head, p) + <usize>qi * rowBytes; // record [Lq][D + 3]: row qi
      const tail = r + <usize>D * 4;
      mergeRow(r, 4, load<f32>(tail), load<f32>(tail, 4), load<f32>(tail, 8), qi, outPtr, lsePtr, D);
    }
  }
}
