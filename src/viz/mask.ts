/**
 * The one place the viz code reads a plan's partial-tile masks. Everything that draws pairs
 * asks `tileAllows`; it reads the plan's bit-packed masks through the library's one reader of
 * the public plan format (src/plan-mask.ts), not through the planner's internals.
 */
import type { PlanPart } from "../index.js";
import { tileAllows as partAllows } from "../plan-mask.js";

/**
 * Does visited tile entry `e` of `part` allow the pair at row `r`, column `c` of the tile
 * (0-based inside the tile, in the part's gathered order)? Full tiles allow every pair.
 */
export function tileAllows(part: PlanPart, e: number, r: number, c: number): boolean {
  if (part.maskOff[e] < 0) return true;
  const kt = part.colIdx[e];
  return partAllows(part, e, r, c, part.kTiles[kt + 1] - part.kTiles[kt]); // mask tile: [rows, cols] bits
}

/** True when entry `e` is a full tile (no mask to read). */
export function tileIsFull(part: PlanPart, e: number): boolean {
  return part.maskOff[e] < 0;
}
