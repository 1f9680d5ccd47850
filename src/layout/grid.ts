/** The generic planner: one part, identity order, a uniform tile grid classified analytically. */
import { type BoundPattern, type Dims, EMPTY, type PartSpec } from "../types.js";
import { uniformTiles } from "./part.js";

export const DEFAULT_TILE = 64;

export function gridSpec(bound: BoundPattern, dims: Dims, head: number, batch: number, label = "grid"): PartSpec {
  const tile = bound.tile ?? DEFAULT_TILE;
  const qTiles = uniformTiles(dims.queryLength, tile);
  const kTiles = uniformTiles(dims.keyLength, tile);
  const numKT = kTiles.length - 1;
  const classify = bound.classify;
  const count = bound.count;
  return {
    label,
    head,
    batch,
    qIndex: null,
    kIndex: null,
    qTiles,
    kTiles,
    mask: bound.mask,
    count:
      count === undefined
        ? undefined
        : (qt, kt) => count(qTiles[qt], qTiles[qt + 1], kTiles[kt], kTiles[kt + 1], head, batch),
    tilesFor: (qt, visit) => {
      const q0 = qTiles[qt];
      const q1 = qTiles[qt + 1];
      for (let kt = 0; kt < numKT; kt++) {
        const kind = classify(q0, q1, kTiles[kt], kTiles[kt + 1], head, batch);
        if (kind !== EMPTY) visit(kt, kind);
      }
    },
  };
}

/** The part specs of one (head, batch row): the pattern's own planner, or the grid. */
export function planSpecs(bound: BoundPattern, dims: Dims, head: number, batch: number, label?: string): PartSpec[] {
  return bound.plan ? bound.plan(head, batch) : [gridSpec(bound, dims, head, batch, label)];
}
