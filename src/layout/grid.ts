/** The generic planner: one part, identity order, a uniform tile grid classified analytically. */
import { type BoundPattern, type Dims, EMPTY, type PlanPart } from "../types.js";
import { buildPart, uniformTiles } from "./part.js";

export const DEFAULT_TILE = 64;

export function gridPart(bound: BoundPattern, dims: Dims, head: number, label = "grid"): PlanPart {
  const tile = bound.tile ?? DEFAULT_TILE;
  const qTiles = uniformTiles(dims.queryLength, tile);
  const kTiles = uniformTiles(dims.keyLength, tile);
  const numKT = kTiles.length - 1;
  const classify = bound.classify;
  return buildPart({
    label,
    head,
    qIndex: null,
    kIndex: null,
    qTiles,
    kTiles,
    mask: bound.mask,
    tilesFor: (qt, visit) => {
      const q0 = qTiles[qt];
      const q1 = qTiles[qt + 1];
      for (let kt = 0; kt < numKT; kt++) {
        const kind = classify(q0, q1, kTiles[kt], kTiles[kt + 1], head);
        if (kind !== EMPTY) visit(kt, kind);
      }
    },
  });
}

/** The plan for one head: the pattern's own planner, or the grid. */
export function planHead(bound: BoundPattern, dims: Dims, head: number): PlanPart[] {
  return bound.plan ? bound.plan(head) : [gridPart(bound, dims, head)];
}
