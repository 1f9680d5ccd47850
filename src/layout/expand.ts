/**
 * The debugging view of a plan: expands one head's parts back to a dense [Lq, Lk] count of
 * how many parts allow each pair (full tiles plus the 1 bits of partial-tile masks, mapped
 * through qIndex / kIndex to original positions). A correct plan of a pattern gives 1 exactly
 * on the pattern's allowed set and 0 elsewhere. O(Lq·Lk) memory: for inspection and tests only.
 */
import type { PlanPart } from "../types.js";
import { tileAllows } from "./part.js";

export function expandParts(parts: readonly PlanPart[], Lq: number, Lk: number): Uint8Array {
  const count = new Uint8Array(Lq * Lk); // [Lq, Lk]
  for (const p of parts) {
    const numQT = p.qTiles.length - 1;
    for (let qt = 0; qt < numQT; qt++) {
      const s0 = p.qTiles[qt];
      const s1 = p.qTiles[qt + 1];
      for (let e = p.rowPtr[qt]; e < p.rowPtr[qt + 1]; e++) {
        const kt = p.colIdx[e];
        const t0 = p.kTiles[kt];
        const t1 = p.kTiles[kt + 1];
        const cols = t1 - t0;
        for (let si = s0; si < s1; si++) {
          const qi = p.qIndex === null ? si : p.qIndex[si];
          for (let sj = t0; sj < t1; sj++) {
            if (!tileAllows(p, e, si - s0, sj - t0, cols)) continue;
            const ki = p.kIndex === null ? sj : p.kIndex[sj];
            const c = qi * Lk + ki; // count: [Lq, Lk]
            if (count[c] < 255) count[c]++;
          }
        }
      }
    }
  }
  return count;
}
