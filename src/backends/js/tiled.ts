/**
 * The tiled kernel (FlashAttention-style online softmax) executing a plan for one
 * (batch, head). Working memory is one query tile's state: O(Tq·D + Tk), never [Lq, Lk].
 * Each part's rows are merged into the output by log-sum-exp, so parts (and LSH rounds)
 * combine exactly. Plain loops over typed arrays with precomputed offsets; no closures.
 */
import type { PlanPart } from "../../types.js";
import { expNeg } from "./fastexp.js";

const NEG_INF = Number.NEGATIVE_INFINITY;

/** Scratch buffers for one worker; grown on demand, reused across heads. */
export class TiledScratch {
  qt = new Float32Array(0); // [Tq, D] pre-scaled gathered queries
  acc = new Float32Array(0); // [Tq, D] un-normalised output
  s = new Float32Array(0); // [Tk] scores of one row of a tile
  ki = new Int32Array(0); // [Tk] original key positions of a key tile
  ko = new Int32Array(0); // [Tk] row offsets of those keys
  m = new Float32Array(0); // [Tq] running max
  l = new Float32Array(0); // [Tq] running sum
  ensure(tq: number, tk: number, D: number): void {
    if (this.qt.length < tq * D) {
      this.qt = new Float32Array(tq * D);
      this.acc = new Float32Array(tq * D);
      this.m = new Float32Array(tq);
      this.l = new Float32Array(tq);
    }
    if (this.s.length < tk) {
      this.s = new Float32Array(tk);
      this.ki = new Int32Array(tk);
      this.ko = new Int32Array(tk);
    }
  }
  get bytes(): number {
    return (this.qt.length + this.acc.length + this.m.length + this.l.length + 3 * this.s.length) * 4;
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
export function runHead(task: HeadTask, parts: readonly PlanPart[], scratch: TiledScratch): void {
  for (let p = 0; p < parts.length; p++) runPart(task, parts[p], scratch);
}

function runPart(task: HeadTask, part: PlanPart, sc: TiledScratch): void {
  const { q, k, v, qBase, kBase, vBase, lseBase, D, scale, out, lse } = task;
  const { qIndex, kIndex, qTiles, kTiles, rowPtr, colIdx, maskOff, maskWords } = part;
  const tqMax = maxTile(qTiles);
  const tkMax = maxTile(kTiles);
  sc.ensure(tqMax, tkMax, D);
  const Q = sc.qt;
  const A = sc.acc;
  const S = sc.s; // one row of scores / probabilities: [cols]
  const M = sc.m;
  const L = sc.l;
  const KI = sc.ki; // [cols] original key positions of the current key tile
  const KO = sc.ko; // [cols] offsets of those keys' rows in k (and v)
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
      for (let c = 0; c < cols; c++) {
        const ki = kIndex === null ? t0 + c : kIndex[t0 + c];
        KI[c] = ki;
        KO[c] = ki * D; // k, v: [Lk, D] block, offset added below
      }
      for (let r = 0; r < rows; r++) {
        const qOff = r * D; // Q, A: [rows, D]
        // scores of row r, four keys at a time (one Q load feeds four products)
        let c = 0;
        for (; c + 3 < cols; c += 4) {
          const o0 = kBase + KO[c];
          const o1 = kBase + KO[c + 1];
          const o2 = kBase + KO[c + 2];
          const o3 = kBase + KO[c + 3];
          let a0 = 0;
          let a1 = 0;
          let a2 = 0;
          let a3 = 0;
          for (let d = 0; d < D; d++) {
            const x = Q[qOff + d];
            a0 += x * k[o0 + d];
            a1 += x * k[o1 + d];
            a2 += x * k[o2 + d];
            a3 += x * k[o3 + d];
          }
          S[c] = a0;
          S[c + 1] = a1;
          S[c + 2] = a2;
          S[c + 3] = a3;
        }
        for (; c < cols; c++) {
          const o = kBase + KO[c];
          let a = 0;
          for (let d = 0; d < D; d++) a += Q[qOff + d] * k[o + d];
          S[c] = a;
        }
        // a score that overflowed float32 (finite inputs: see nonfinite.ts) is ±∞ or NaN here;
        // Σ (s − s) is 0 unless one is. The row's sum becomes NaN (and stays NaN over later
        // tiles), so the merge marks the row for the float64 path.
        let chk = 0;
        for (let j = 0; j < cols; j++) chk += S[j] - S[j];
        if (chk !== 0) {
          L[r] = Number.NaN;
          continue;
        }
        if (mOff >= 0) {
          const bRow = r * cols; // partial mask: [rows, cols] bits, bit i at word mOff + (i >>> 5), bit i & 31
          for (let j = 0; j < cols; j++) {
            const i = bRow + j;
            if (((maskWords[mOff + (i >>> 5)] >>> (i & 31)) & 1) === 0) S[j] = NEG_INF;
          }
        }
        if (hasSelf) {
          const qi = qIndex === null ? s0 + r : qIndex[s0 + r];
          for (let j = 0; j < cols; j++) if (KI[j] === qi && S[j] !== NEG_INF) S[j] = selfScore;
        }
        // online softmax update of row r
        let mx = M[r];
        for (let j = 0; j < cols; j++) if (S[j] > mx) mx = S[j];
        if (mx === NEG_INF) continue; // nothing allowed yet in this row
        const alpha = M[r] === NEG_INF ? 0 : Math.exp(M[r] - mx);
        if (alpha !== 1) for (let d = 0; d < D; d++) A[qOff + d] *= alpha;
        let l = L[r] * alpha;
        for (let j = 0; j < cols; j++) {
          const p = expNeg(S[j] - mx);
          S[j] = p;
          l += p;
        }
        M[r] = mx;
        L[r] = l;
        // P·V, four keys at a time (one A load/store per four products)
        c = 0;
        for (; c + 3 < cols; c += 4) {
          const p0 = S[c];
          const p1 = S[c + 1];
          const p2 = S[c + 2];
          const p3 = S[c + 3];
          const o0 = vBase + KO[c];
          const o1 = vBase + KO[c + 1];
          const o2 = vBase + KO[c + 2];
          const o3 = vBase + KO[c + 3];
          for (let d = 0; d < D; d++) {
            A[qOff + d] += p0 * v[o0 + d] + p1 * v[o1 + d] + p2 * v[o2 + d] + p3 * v[o3 + d];
          }
        }
        for (; c < cols; c++) {
          const p = S[c];
          if (p === 0) continue;
          const o = vBase + KO[c];
          for (let d = 0; d < D; d++) A[qOff + d] += p * v[o + d];
        }
      }
    }
    // merge this tile's rows into out / lse by log-sum-exp
    for (let r = 0; r < rows; r++) {
      const aOff = r * D; // A: [rows, D]
      let chk = L[r] - L[r]; // NaN: a score overflowed
      for (let d = 0; d < D; d++) chk += A[aOff + d] - A[aOff + d]; // an overflowed accumulator
      if (chk !== 0) {
        lse[lseBase + (qIndex === null ? s0 + r : qIndex[s0 + r])] = Number.NaN; // mark: float64 path
        continue;
      }
      if (!(L[r] > 0)) continue;
      const qi = qIndex === null ? s0 + r : qIndex[s0 + r];
      const partLse = M[r] + Math.log(L[r]);
      const li = lseBase + qi; // lse: [Lq] block of this head
      const oOff = qBase + qi * D; // out: [Lq, D] block of this head
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
