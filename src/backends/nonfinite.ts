/**
 * The NaN rule and float32 overflow for the tiled kernels (js and wasm), see
 * docs/semantics.md "NaN, infinity and overflow":
 *
 * - A NaN or ±infinity in q, k or v makes NaN the whole output row and the lse of every row
 *   whose allowed pairs touch it (q row i touches it when row i has any allowed key; key j's
 *   k or v row touches it when (i, j) is allowed). Other rows are unaffected, bit for bit.
 * - A score (or accumulator) that overflows float32 from finite inputs gives the oracle's
 *   float64 answer: the kernel marks the row (lse NaN) and the row is recomputed in float64.
 *
 * Fast path: one scan of the inputs (a running sum of x − x, which is 0 unless some x is NaN
 * or ±∞) and one scan of lse for markers; nothing else runs when both are clean. Slow path:
 * the kernel runs on copies with non-finite entries replaced by 0, then finishHead() poisons
 * the rows that touch them (walking the plan's tiles that hold a bad key or a bad query) and
 * recomputes the marked rows in float64 from the plan.
 */
import type { PlanPart } from "../types.js";
import type { Shapes } from "../validate.js";
import type { HeadTask } from "./js/tiled.js";

/** True when every entry is finite (no NaN, no ±∞). */
export function allFinite(a: Float32Array): boolean {
  let s0 = 0;
  let s1 = 0;
  let s2 = 0;
  let s3 = 0;
  const n4 = a.length & ~3;
  for (let i = 0; i < n4; i += 4) {
    const x0 = a[i];
    const x1 = a[i + 1];
    const x2 = a[i + 2];
    const x3 = a[i + 3];
    s0 += x0 - x0;
    s1 += x1 - x1;
    s2 += x2 - x2;
    s3 += x3 - x3;
  }
  for (let i = n4; i < a.length; i++) s0 += a[i] - a[i];
  return s0 + s1 + s2 + s3 === 0;
}

/** Which rows hold a non-finite entry: qBad [B, H, Lq], kvBad [B, Hkv, Lk] (k's or v's row). */
export interface NonFinite {
  qBad: Uint8Array;
  kvBad: Uint8Array;
}

/** Inputs for the tiled kernels: the caller's arrays when finite, else cleaned copies (non-finite → 0) and the flags. */
export interface CleanInputs {
  q: Float32Array;
  k: Float32Array;
  v: Float32Array;
  bad: NonFinite | null;
}

/** Copies `a` with non-finite entries replaced by 0, flagging each [rows, D] row that held one. */
function clean(a: Float32Array, D: number, flags: Uint8Array): Float32Array {
  if (allFinite(a)) return a;
  const out = new Float32Array(a.length);
  for (let i = 0; i < a.length; i++) {
    const x = a[i];
    if (x - x === 0) out[i] = x;
    else flags[Math.floor(i / D)] = 1; // a: [rows, D]
  }
  return out;
}

export function cleanInputs(q: Float32Array, k: Float32Array, v: Float32Array, s: Shapes): CleanInputs {
  if (allFinite(q) && allFinite(k) && allFinite(v)) return { q, k, v, bad: null };
  const qBad = new Uint8Array(s.B * s.H * s.Lq);
  const kvBad = new Uint8Array(s.B * s.Hkv * s.Lk);
  return { q: clean(q, s.D, qBad), k: clean(k, s.D, kvBad), v: clean(v, s.D, kvBad), bad: { qBad, kvBad } };
}

/** Whether (slot row r, column c) of a tile is allowed: full tiles (mOff < 0) allow all, partial ones read the bit mask. */
function allowed(part: PlanPart, mOff: number, r: number, c: number, cols: number): boolean {
  if (mOff < 0) return true;
  const i = r * cols + c; // bit index in the tile's [rows, cols] mask at word mOff
  return ((part.maskWords[mOff + (i >>> 5)] >>> (i & 31)) & 1) === 1;
}

/**
 * Rows of one head that touch a non-finite input through an allowed pair, marked in `out`
 * ([Lq], 1 = poisoned). qBad / kvBad are this head's [Lq] / [Lk] slices.
 */
function poisonedRows(parts: PlanPart[], qBad: Uint8Array, kvBad: Uint8Array, out: Uint8Array): void {
  for (const part of parts) {
    const { qIndex, kIndex, qTiles, kTiles, rowPtr, colIdx, maskOff } = part;
    const numKT = kTiles.length - 1;
    const ktBad = new Uint8Array(numKT); // key tiles holding a bad key
    for (let kt = 0; kt < numKT; kt++) {
      for (let s = kTiles[kt]; s < kTiles[kt + 1]; s++) {
        if (kvBad[kIndex === null ? s : kIndex[s]] !== 0) {
          ktBad[kt] = 1;
          break;
        }
      }
    }
    const numQT = qTiles.length - 1;
    for (let qt = 0; qt < numQT; qt++) {
      const s0 = qTiles[qt];
      const rows = qTiles[qt + 1] - s0;
      let qtBad = false;
      for (let r = 0; r < rows && !qtBad; r++) qtBad = qBad[qIndex === null ? s0 + r : qIndex[s0 + r]] !== 0;
      for (let e = rowPtr[qt]; e < rowPtr[qt + 1]; e++) {
        const kt = colIdx[e];
        if (ktBad[kt] === 0 && !qtBad) continue;
        const t0 = kTiles[kt];
        const cols = kTiles[kt + 1] - t0;
        const mOff = maskOff[e];
        for (let r = 0; r < rows; r++) {
          const row = qIndex === null ? s0 + r : qIndex[s0 + r];
          if (out[row] !== 0) continue;
          const rowBad = qBad[row] !== 0;
          for (let c = 0; c < cols; c++) {
            if (!allowed(part, mOff, r, c, cols)) continue;
            if (rowBad || kvBad[kIndex === null ? t0 + c : kIndex[t0 + c]] !== 0) {
              out[row] = 1;
              break;
            }
          }
        }
      }
    }
  }
}

/**
 * Recomputes the marked rows of one head in float64 from the plan (every part, every slot
 * of the row, in any order: one softmax over the multiset of its allowed pairs, which is what
 * merging the parts by log-sum-exp computes). Reads the (cleaned) inputs of `task`.
 */
function recomputeRows(task: HeadTask, parts: PlanPart[], marked: Uint8Array, count: number): void {
  const { q, k, v, qBase, kBase, vBase, lseBase, D, scale, out, lse } = task;
  const slotOf = new Int32Array(marked.length).fill(-1); // row → state index
  let n = 0;
  for (let i = 0; i < marked.length; i++) if (marked[i] !== 0) slotOf[i] = n++;
  const M = new Float64Array(count).fill(Number.NEGATIVE_INFINITY);
  const L = new Float64Array(count);
  const A = new Float64Array(count * D); // [count, D]
  for (const part of parts) {
    const { qIndex, kIndex, qTiles, kTiles, rowPtr, colIdx, maskOff } = part;
    const hasSelf = part.selfScore !== undefined;
    const numQT = qTiles.length - 1;
    for (let qt = 0; qt < numQT; qt++) {
      const s0 = qTiles[qt];
      const rows = qTiles[qt + 1] - s0;
      for (let r = 0; r < rows; r++) {
        const row = qIndex === null ? s0 + r : qIndex[s0 + r];
        const st = slotOf[row];
        if (st < 0) continue;
        const qOff = qBase + row * D; // q: [Lq, D] block of this head
        const aOff = st * D;
        for (let e = rowPtr[qt]; e < rowPtr[qt + 1]; e++) {
          const kt = colIdx[e];
          const t0 = kTiles[kt];
          const cols = kTiles[kt + 1] - t0;
          const mOff = maskOff[e];
          for (let c = 0; c < cols; c++) {
            if (!allowed(part, mOff, r, c, cols)) continue;
            const key = kIndex === null ? t0 + c : kIndex[t0 + c];
            let s: number;
            if (hasSelf && key === row) s = part.selfScore as number;
            else {
              const kOff = kBase + key * D; // k: [Lk, D] block
              let dot = 0;
              for (let d = 0; d < D; d++) dot += q[qOff + d] * k[kOff + d];
              s = dot * scale;
            }
            if (s > M[st]) {
              const alpha = M[st] === Number.NEGATIVE_INFINITY ? 0 : Math.exp(M[st] - s);
              L[st] *= alpha;
              for (let d = 0; d < D; d++) A[aOff + d] *= alpha;
              M[st] = s;
            }
            const p = Math.exp(s - M[st]);
            L[st] += p;
            const vOff = vBase + key * D; // v: [Lk, D] block
            for (let d = 0; d < D; d++) A[aOff + d] += p * v[vOff + d];
          }
        }
      }
    }
  }
  for (let row = 0; row < marked.length; row++) {
    const st = slotOf[row];
    if (st < 0) continue;
    const oOff = qBase + row * D; // out: [Lq, D] block of this head
    if (!(L[st] > 0)) {
      out.fill(0, oOff, oOff + D);
      lse[lseBase + row] = Number.NEGATIVE_INFINITY;
      continue;
    }
    for (let d = 0; d < D; d++) out[oOff + d] = A[st * D + d] / L[st];
    lse[lseBase + row] = M[st] + Math.log(L[st]);
  }
}

/**
 * After a tiled kernel ran one head on cleaned inputs: poisons the rows that touch a
 * non-finite input (`qBad` [Lq], `kvBad` [Lk] of this head, or null when all were finite)
 * and recomputes in float64 the rows the kernel marked (lse NaN: a float32 overflow).
 * Cost: O(Lq) when nothing is bad or marked.
 */
export function finishHead(
  task: HeadTask,
  parts: PlanPart[],
  Lq: number,
  qBad: Uint8Array | null,
  kvBad: Uint8Array | null,
): void {
  const { out, lse, lseBase, qBase, D } = task;
  let poison: Uint8Array | null = null;
  if (qBad !== null && kvBad !== null) {
    poison = new Uint8Array(Lq);
    poisonedRows(parts, qBad, kvBad, poison);
  }
  let marked: Uint8Array | null = null;
  let count = 0;
  for (let i = 0; i < Lq; i++) {
    const x = lse[lseBase + i]; // lse: [Lq] block of this head
    if (!Number.isNaN(x) || (poison !== null && poison[i] !== 0)) continue;
    if (marked === null) marked = new Uint8Array(Lq);
    marked[i] = 1;
    count++;
  }
  if (marked !== null) recomputeRows(task, parts, marked, count);
  if (poison === null) return;
  for (let i = 0; i < Lq; i++) {
    if (poison[i] === 0) continue;
    out.fill(Number.NaN, qBase + i * D, qBase + (i + 1) * D); // out: [Lq, D] block of this head
    lse[lseBase + i] = Number.NaN;
  }
}

/** True when some lse entry is NaN: a kernel marked a row for the float64 path. */
export function hasMarks(lse: Float32Array): boolean {
  for (let i = 0; i < lse.length; i++) if (Number.isNaN(lse[i])) return true;
  return false;
}

/** The tensors and result of one call, for finishAll: q [B, H, Lq, D], k, v [B, Hkv, Lk, D] (cleaned), out, lse. */
export interface FinishProblem extends Shapes {
  q: Float32Array;
  k: Float32Array;
  v: Float32Array;
  scale: number;
  out: Float32Array;
  lse: Float32Array;
}

/** finishHead for every (batch, head) of a call: the NaN rule and the float64 path for marked rows. */
export function finishAll(p: FinishProblem, rows: readonly PlanPart[][], bad: NonFinite | null | undefined): void {
  const { B, H, Hkv, Lq, Lk, D } = p;
  const group = H / Hkv;
  const task: HeadTask = {
    q: p.q,
    k: p.k,
    v: p.v,
    qBase: 0,
    kBase: 0,
    vBase: 0,
    lseBase: 0,
    D,
    scale: p.scale,
    out: p.out,
    lse: p.lse,
  };
  for (let b = 0; b < B; b++) {
    for (let h = 0; h < H; h++) {
      const row = b * H + h;
      const kvRow = b * Hkv + Math.floor(h / group);
      task.qBase = row * Lq * D; // q, out: [B, H, Lq, D]
      task.kBase = kvRow * Lk * D; // k, v: [B, Hkv, Lk, D]
      task.vBase = task.kBase;
      task.lseBase = row * Lq; // lse: [B, H, Lq]; qBad likewise
      const qBad = bad ? bad.qBad.subarray(row * Lq, (row + 1) * Lq) : null;
      const kvBad = bad ? bad.kvBad.subarray(kvRow * Lk, (kvRow + 1) * Lk) : null; // kvBad: [B, Hkv, Lk]
      finishHead(task, rows[row], Lq, qBad, kvBad);
    }
  }
}
