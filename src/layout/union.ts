/**
 * Planning a union as disjoint parts. Member i keeps its own planner's order and tiles but
 * is restricted to pairs that no earlier member allows, so no pair is scored twice; the
 * kernel merges the parts by log-sum-exp. A full tile of member i stays full only when
 * every earlier member's classifier says EMPTY on the tile's bounding rectangle (in
 * original positions); otherwise it becomes partial: the part's own allowed pairs (its full
 * tiles and mask bits, not its member's whole mask) are kept where no earlier mask allows them.
 */
import {
  type BoundPattern,
  type Dims,
  EMPTY,
  FULL,
  PARTIAL,
  type Pattern,
  type PlanPart,
  type TileKind,
} from "../types.js";
import { gridPart } from "./grid.js";

/** Per tile, the [min, max] original position it covers: [numTiles, 2]. */
function tileBounds(index: Int32Array | null, tiles: Int32Array): Int32Array {
  const nt = tiles.length - 1;
  const out = new Int32Array(nt * 2);
  for (let t = 0; t < nt; t++) {
    let lo = Number.MAX_SAFE_INTEGER;
    let hi = -1;
    if (index === null) {
      lo = tiles[t];
      hi = tiles[t + 1] - 1;
    } else {
      for (let s = tiles[t]; s < tiles[t + 1]; s++) {
        const x = index[s];
        if (x < lo) lo = x;
        if (x > hi) hi = x;
      }
    }
    out[t * 2] = lo;
    out[t * 2 + 1] = hi;
  }
  return out;
}

/**
 * Restricts a part to the pairs it allows (its full tiles and the 1s of its partial masks)
 * that no earlier member allows. The part's own tiles decide what it allows, not its member's
 * whole mask: a member planned as several disjoint parts (e.g. a band plus a permuted stride)
 * has partial tiles that overlap pairs of its other parts, which must stay out.
 */
export function restrictPart(part: PlanPart, _own: BoundPattern, earlier: BoundPattern[], head: number): PlanPart {
  const qb = tileBounds(part.qIndex, part.qTiles);
  const kb = tileBounds(part.kIndex, part.kTiles);
  const masks = earlier.map((b) => b.mask);
  const cls = earlier.map((b) => b.classify);
  const m = masks.length;
  const { qIndex, kIndex, qTiles, kTiles } = part;
  const numQT = qTiles.length - 1;
  const rowPtr = new Int32Array(numQT + 1);
  const colIdx: number[] = [];
  const maskOff: number[] = [];
  let bits = new Uint8Array(4096);
  let used = 0;
  let allowed = 0;
  let scored = 0;
  for (let qt = 0; qt < numQT; qt++) {
    const s0 = qTiles[qt];
    const s1 = qTiles[qt + 1];
    const rows = s1 - s0;
    for (let e = part.rowPtr[qt]; e < part.rowPtr[qt + 1]; e++) {
      const kt = part.colIdx[e];
      const t0 = kTiles[kt];
      const t1 = kTiles[kt + 1];
      const cols = t1 - t0;
      const area = rows * cols;
      const srcOff = part.maskOff[e];
      let kind: TileKind = srcOff < 0 ? FULL : PARTIAL;
      if (kind === FULL) {
        const q0 = qb[qt * 2];
        const q1 = qb[qt * 2 + 1] + 1;
        const k0 = kb[kt * 2];
        const k1 = kb[kt * 2 + 1] + 1;
        for (let i = 0; i < m; i++) {
          if (cls[i](q0, q1, k0, k1, head) !== EMPTY) {
            kind = PARTIAL;
            break;
          }
        }
      }
      if (kind === FULL) {
        colIdx.push(kt);
        maskOff.push(-1);
        allowed += area;
        scored += area;
        continue;
      }
      if (used + area > bits.length) {
        let cap = bits.length * 2;
        while (cap < used + area) cap *= 2;
        const next = new Uint8Array(cap);
        next.set(bits.subarray(0, used));
        bits = next;
      }
      let count = 0;
      for (let si = s0; si < s1; si++) {
        const qi = qIndex === null ? si : qIndex[si];
        const rowOff = (si - s0) * cols; // tile masks: [rows, cols]
        for (let sj = t0; sj < t1; sj++) {
          let ok = srcOff < 0 || part.maskBits[srcOff + rowOff + (sj - t0)] === 1;
          if (ok) {
            const ki = kIndex === null ? sj : kIndex[sj];
            for (let i = 0; i < m; i++) {
              if (masks[i](qi, ki, head)) {
                ok = false;
                break;
              }
            }
          }
          bits[used + rowOff + (sj - t0)] = ok ? 1 : 0;
          if (ok) count++;
        }
      }
      if (count === 0) continue;
      colIdx.push(kt);
      if (count === area) {
        maskOff.push(-1);
      } else {
        maskOff.push(used);
        used += area;
      }
      allowed += count;
      scored += area;
    }
    rowPtr[qt + 1] = colIdx.length;
  }
  const out: PlanPart = {
    label: part.label,
    qIndex,
    kIndex,
    qTiles,
    kTiles,
    rowPtr,
    colIdx: Int32Array.from(colIdx),
    maskOff: Int32Array.from(maskOff),
    maskBits: bits.slice(0, used),
    allowedPairs: allowed,
    scoredPairs: scored,
  };
  if (part.selfScore !== undefined) out.selfScore = part.selfScore;
  return out;
}

export function planUnion(bs: BoundPattern[], members: readonly Pattern[], dims: Dims, head: number): PlanPart[] {
  const parts: PlanPart[] = [];
  for (let i = 0; i < bs.length; i++) {
    const own = bs[i].plan ? bs[i].plan!(head) : [gridPart(bs[i], dims, head, members[i].name)];
    for (const p of own) {
      const restricted = i === 0 ? p : restrictPart(p, bs[i], bs.slice(0, i), head);
      if (restricted.scoredPairs > 0) parts.push(restricted);
    }
  }
  return parts;
}
