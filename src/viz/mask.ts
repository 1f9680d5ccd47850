/**
 * The one place the viz code reads a plan's partial-tile masks. Everything that draws pairs
 * asks `tileAllows`; when the plan's mask encoding changes (byte masks today, bit-packed
 * words planned), only this file changes.
 */
import type { PlanPart } from "../index.js";

/**
 * Does visited tile entry `e` of `part` allow the pair at row `r`, column `c` of the tile
 * (0-based inside the tile, in the part's gathered order)? Full tiles allow every pair.
 */
export function tileAllows(part: PlanPart, e: number, r: number, c: number): boolean {
  const off = part.maskOff[e];
  if (off < 0) return true;
  const kt = part.colIdx[e];
  const cols = part.kTiles[kt + 1] - part.kTiles[kt];
  return part.maskBits[off + r * cols + c] !== 0; // mask tile: [rows, cols] bytes
}

/** True when entry `e` is a full tile (no mask to read). */
export function tileIsFull(part: PlanPart, e: number): boolean {
  return part.maskOff[e] < 0;
}
