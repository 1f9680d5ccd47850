/**
 * Planning a union as disjoint parts, and an intersection on a member's own plan.
 *
 * Union: member i keeps its own planner's order and tiles but is restricted to pairs that no
 * earlier member allows, so no pair is scored twice; the kernel merges the parts by
 * log-sum-exp. A tile of member i keeps its kind (and its analytic count) when every earlier
 * member's classifier says EMPTY on the tile's bounding rectangle (original positions);
 * otherwise it becomes partial and is scanned with `own part's mask && no earlier mask`.
 * The part's own mask (its exact allowed set inside its tiles) decides, not its member's whole
 * mask: a member planned as several disjoint parts must not repeat pairs of its other parts.
 *
 * Intersection: the first member that plans itself keeps its parts; each tile is classified
 * by the other members on its bounding rectangle: EMPTY drops it, all FULL keeps it (and its
 * count), otherwise it is partial with `own mask && every other mask`. A key range
 * (keyPadding) thus costs only the tiles that straddle the boundary.
 */
import {
  type BoundPattern,
  EMPTY,
  FULL,
  PARTIAL,
  type PartSpec,
  type TileClassifier,
  type TileKind,
} from "../types.js";

/** Per tile, the [min, max] original position it covers: [numTiles, 2]. */
export function tileBounds(index: Int32Array | null, tiles: Int32Array): Int32Array {
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
 * Wraps a spec so every tile is first classified by `others` on its bounding rectangle.
 * mode "union": any non-EMPTY answer makes the tile partial (mask: own && none of others).
 * mode "intersect": any EMPTY drops it, all FULL keep it, else partial (mask: own && all others).
 */
export function restrictSpec(spec: PartSpec, others: BoundPattern[], mode: "union" | "intersect"): PartSpec {
  if (others.length === 0) return spec;
  const qb = tileBounds(spec.qIndex, spec.qTiles);
  const kb = tileBounds(spec.kIndex, spec.kTiles);
  const masks = others.map((b) => b.mask);
  const cls: TileClassifier[] = others.map((b) => b.classify);
  const m = others.length;
  const { head, batch } = spec;
  const own = spec.mask;
  const union = mode === "union";
  /** The others' verdict on tile (qt, kt): for union true = "some other may allow a pair"; for intersect EMPTY/FULL/PARTIAL. */
  const verdict = (qt: number, kt: number): TileKind => {
    const q0 = qb[qt * 2];
    const q1 = qb[qt * 2 + 1] + 1;
    const k0 = kb[kt * 2];
    const k1 = kb[kt * 2 + 1] + 1;
    let all = true;
    for (let i = 0; i < m; i++) {
      const c = cls[i](q0, q1, k0, k1, head, batch);
      if (union) {
        if (c !== EMPTY) return PARTIAL;
      } else {
        if (c === EMPTY) return EMPTY;
        if (c !== FULL) all = false;
      }
    }
    return union ? EMPTY : all ? FULL : PARTIAL;
  };
  const untouched = union ? EMPTY : FULL;
  const ownCount = spec.count;
  const out: PartSpec = {
    ...spec,
    countRow: undefined,
    mask: union
      ? (q, k, h, b) => {
          if (!own(q, k, h, b)) return false;
          for (let i = 0; i < m; i++) if (masks[i](q, k, h, b)) return false;
          return true;
        }
      : (q, k, h, b) => {
          if (!own(q, k, h, b)) return false;
          for (let i = 0; i < m; i++) if (!masks[i](q, k, h, b)) return false;
          return true;
        },
    tilesFor: (qt, visit) => {
      spec.tilesFor(qt, (kt, kind) => {
        const v = verdict(qt, kt);
        if (v === untouched) visit(kt, kind);
        else if (v === PARTIAL) visit(kt, PARTIAL);
        // intersect EMPTY: dropped
      });
    },
    count: (qt, kt) => {
      if (verdict(qt, kt) !== untouched) return -1;
      if (ownCount !== undefined) return ownCount(qt, kt);
      return -1;
    },
  };
  return out;
}
