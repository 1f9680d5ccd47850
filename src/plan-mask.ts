/**
 * The one reader of a compiled plan's partial-tile masks (the public PlanPart format, see
 * src/types.ts): tile entry `e` of a part is full when `maskOff[e] < 0`; otherwise its mask is
 * rows × cols bits, row-major, starting at word `maskOff[e]` of `maskWords`, pair (r, c) at bit
 * index i = r·cols + c, i.e. bit (i & 31) of word maskOff[e] + (i >>> 5). The planner
 * (src/layout/) and the pictures (src/viz/) both read masks through this file.
 */
import type { PlanPart } from "./types.js";

/** Is local pair (r, c) of entry `e`'s tile allowed? (full tiles: always). `cols` is the tile's width. For readers outside hot loops. */
export function tileAllows(part: PlanPart, e: number, r: number, c: number, cols: number): boolean {
  const off = part.maskOff[e];
  if (off < 0) return true;
  const i = r * cols + c; // bit index in the tile's [rows, cols] mask
  return ((part.maskWords[off + (i >>> 5)] >>> (i & 31)) & 1) === 1;
}
