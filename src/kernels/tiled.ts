/**
 * The tiled kernel (FlashAttention-style online softmax) executing a plan for one
 * (batch, head). Working memory is one query tile's state: O(Tq·D + Tq·Tk), never [Lq, Lk].
 * Each part's rows are merged into the output by log-sum-exp, so parts (and LSH rounds)
 * combine exactly. Plain loops over typed arrays with precomputed offsets; no closures.
 */
import type { PlanPart } from "../types.js";

const NEG_INF = Number.NEGATIVE_INFINITY;

/** Scratch buffers for one worker; grown on demand, reused across heads. */
export class TiledScratch {
  qt = new Float32Array(0); // [Tq, D] pre-scaled gathered queries
  acc = new Float32Array(0); // [Tq, D] un-normalised output
  s = new Float32Array(0); // [Tq, Tk] scores of one tile
  m = new Float32Array(0); // [Tq] running max
  l = new Float32Array(0); // [Tq] running sum
  ensure(tq: number, tk: number, D: number): void {
    if (this.qt.length < tq * D) {
      this.qt = new Float32Array(tq * D);
      this.acc = new Float32Array(tq * D);
      this.m = new Float32Array(tq);
      this.l = new Float32Array(tq);
    }
    if (this.s.length < tq * tk) this.s = new Float32Array(tq * tk);
  }
  get bytes(): number {
    return (this.qt.length + this.acc.length + this.s.length + this.m.length + this.l.length) * 4;
  }
}

/** Largest tile extent along a boundary array. */
export function maxTile(tiles: Int32Array): number {
  let best = 0;
  for (let t = 0; t + 1 < tiles.length; t++) best = Math.max(best, tiles[t + 1] - tiles[t]);
  return best;
}

export interface HeadTask {
  q: Float32Array; // [B, H, Lq, D]
  k: Float32Array; // keys, [.., Lk, D] block at kBase
  v: Float32Array; // values, [.., Lk, D] block at vBase
  qBase: number; // offset of this head's [Lq, D] block in q (and in out)
  kBase: number;
  vBase: number;
  lseBase: number; // offset of this head's [Lq] block in lse
  D: number;
  scale: number;
  out: Float32Array; // [B, H, Lq, D], zero-initialised
  lse: Float32Array; // [B, H, Lq], -Infinity-initialised
}

/** Runs every part of a head's plan, merging each part's rows into out / lse. */
export function runHead(task: HeadTask, parts: PlanPart[], scratch: TiledScratch): void {
  for (let p = 0; p < parts.length; p++) runPart(task, parts[p], scratch);
}

function runPart(task: HeadTask, part: PlanPart, sc: TiledScratch): void {
  const { q, k, v, qBase, kBase, vBase, lseBase, D, scale, out, lse } = task;
  const { qIndex, kIndex, qTiles, kTiles, rowPtr, colIdx, maskOff, maskBits } = part;
  const tqMax = maxTile(qTiles);
  const tkMax = maxTile(kTiles);
  sc.ensure(tqMax, tkMax, D);
  const Q = sc.qt;
  const A = sc.acc;
  const S = sc.s;
  const M = sc.m;
  const L = sc.l;
  const hasSelf = part.selfScore !== undefined;
  const selfScore = part.selfScore ?? 0;
  const numQT = qTiles.length - 1;
  for (let qt = 0; qt < numQT; qt++) {
    const e0 = rowPtr[qt];
    const e1 = rowPtr[qt + 1];
    if (e0 === e1) continue;
    const s0 = qTiles[qt];
    const rows = qTiles[qt + 1] - s0;
    // gather and pre-scale this tile's queries: Q [rows, D]
    for (let r = 0; r < rows; r++) {
      const qi = qIndex === null ? s0 + r : qIndex[s0 + r];
      const src = qBase + qi * D; // q: [Lq, D] block of this head
      const dst = r * D;
      for (let d = 0; d < D; d++) Q[dst + d] = q[src + d] * scale;
      M[r] = NEG_INF;
      L[r] = 0;
    }
    A.fill(0, 0, rows * D);
    for (let e = e0; e < e1; e++) {
      const kt = colIdx[e];
      const t0 = kTiles[kt];
      const cols = kTiles[kt + 1] - t0;
      const mOff = maskOff[e];
      // scores S [rows, cols]
      for (let r = 0; r < rows; r++) {
        const qOff = r * D;
        const sRow = r * cols;
        const bRow = mOff + r * cols; // partial mask: [rows, cols]
        for (let c = 0; c < cols; c++) {
          if (mOff >= 0 && maskBits[bRow + c] === 0) {
            S[sRow + c] = NEG_INF;
            continue;
          }
          const ki = kIndex === null ? t0 + c : kIndex[t0 + c];
          const kOff = kBase + ki * D; // k: [Lk, D] block
          let dot = 0;
          let d = 0;
          for (; d + 3 < D; d += 4) {
            dot +=
              Q[qOff + d] * k[kOff + d] +
              Q[qOff + d + 1] * k[kOff + d + 1] +
              Q[qOff + d + 2] * k[kOff + d + 2] +
              Q[qOff + d + 3] * k[kOff + d + 3];
          }
          for (; d < D; d++) dot += Q[qOff + d] * k[kOff + d];
          S[sRow + c] = dot;
        }
      }
      if (hasSelf) {
        for (let r = 0; r < rows; r++) {
          const qi = qIndex === null ? s0 + r : qIndex[s0 + r];
          for (let c = 0; c < cols; c++) {
            const ki = kIndex === null ? t0 + c : kIndex[t0 + c];
            if (ki === qi && S[r * cols + c] !== NEG_INF) S[r * cols + c] = selfScore;
          }
        }
      }
      // online softmax update per row
      for (let r = 0; r < rows; r++) {
        const sRow = r * cols;
        let mx = M[r];
        for (let c = 0; c < cols; c++) if (S[sRow + c] > mx) mx = S[sRow + c];
        if (mx === NEG_INF) continue; // nothing allowed yet in this row
        const alpha = Math.exp(M[r] - mx); // 0 when M[r] = -inf
        const aOff = r * D;
        if (alpha !== 1) for (let d = 0; d < D; d++) A[aOff + d] *= alpha;
        let l = L[r] * alpha;
        for (let c = 0; c < cols; c++) {
          const sv = S[sRow + c];
          if (sv === NEG_INF) continue;
          const pr = Math.exp(sv - mx);
          l += pr;
          const ki = kIndex === null ? t0 + c : kIndex[t0 + c];
          const vOff = vBase + ki * D; // v: [Lk, D] block
          let d = 0;
          for (; d + 3 < D; d += 4) {
            A[aOff + d] += pr * v[vOff + d];
            A[aOff + d + 1] += pr * v[vOff + d + 1];
            A[aOff + d + 2] += pr * v[vOff + d + 2];
            A[aOff + d + 3] += pr * v[vOff + d + 3];
          }
          for (; d < D; d++) A[aOff + d] += pr * v[vOff + d];
        }
        M[r] = mx;
        L[r] = l;
      }
    }
    // merge this tile's rows into out / lse by log-sum-exp
    for (let r = 0; r < rows; r++) {
      if (!(L[r] > 0)) continue;
      const qi = qIndex === null ? s0 + r : qIndex[s0 + r];
      const partLse = M[r] + Math.log(L[r]);
      const li = lseBase + qi; // lse: [Lq] block of this head
      const oOff = qBase + qi * D; // out: [Lq, D] block of this head
      const aOff = r * D;
      const old = lse[li];
      if (old === NEG_INF) {
        const inv = 1 / L[r];
        for (let d = 0; d < D; d++) out[oOff + d] = A[aOff + d] * inv;
        lse[li] = partLse;
        continue;
      }
      const mx = old > partLse ? old : partLse;
      const wOld = Math.exp(old - mx);
      const wNew = Math.exp(partLse - mx);
      const total = wOld + wNew;
      const cOld = wOld / total;
      const cNew = wNew / total / L[r];
      for (let d = 0; d < D; d++) out[oOff + d] = out[oOff + d] * cOld + A[aOff + d] * cNew;
      lse[li] = mx + Math.log(total);
    }
  }
}
