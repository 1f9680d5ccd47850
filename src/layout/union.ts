/**
 * Planning a union as disjoint parts. Member i keeps its own planner's order and tiles but
 * is restricted to pairs that no earlier member allows, so no pair is scored twice; the
 * kernel merges the parts by log-sum-exp. A full tile of member i stays full only when
 * every earlier member's classifier says EMPTY on the tile's bounding rectangle (in
 * original positions); otherwise it becomes partial and its mask is evaluated once here.
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
import { buildPart } from "./part.js";

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

export function restrictPart(part: PlanPart, own: BoundPattern, earlier: BoundPattern[], head: number): PlanPart {
  const qb = tileBounds(part.qIndex, part.qTiles);
  const kb = tileBounds(part.kIndex, part.kTiles);
  const ownMask = own.mask;
  const masks = earlier.map((b) => b.mask);
  const cls = earlier.map((b) => b.classify);
  const m = masks.length;
  return buildPart({
    label: part.label,
    head,
    qIndex: part.qIndex,
    kIndex: part.kIndex,
    qTiles: part.qTiles,
    kTiles: part.kTiles,
    selfScore: part.selfScore,
    mask: (q, k, h) => {
      if (!ownMask(q, k, h)) return false;
      for (let i = 0; i < m; i++) if (masks[i](q, k, h)) return false;
      return true;
    },
    tilesFor: (qt, visit) => {
      for (let e = part.rowPtr[qt]; e < part.rowPtr[qt + 1]; e++) {
        const kt = part.colIdx[e];
        let kind: TileKind = part.maskOff[e] < 0 ? FULL : PARTIAL;
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
        visit(kt, kind);
      }
    },
  });
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
