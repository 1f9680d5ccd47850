/**
 * Rasterising a compiled plan back onto ORIGINAL positions: which part holds each allowed
 * (query, key) pair, optionally pooled into blocks for long sequences, and where each
 * visited tile lies. Everything is reconstructed from the plan arrays (full tiles and
 * partial-tile byte masks through qIndex / kIndex), never from the pattern's mask, so a
 * picture shows what the kernel will actually score.
 *
 * Names: qi / ki original positions, si / sj gathered row / column, qt / kt tile indices,
 * gr / gc raster rows / columns (a raster cell pools `bq × bk` original positions).
 */
import type { PlanPart } from "../index.js";
import { tileAllows, tileIsFull } from "./mask.js";

export interface Raster {
  /** Raster size: rows pool `blockRows` queries each, columns pool `blockCols` keys each. */
  rows: number;
  cols: number;
  blockRows: number;
  blockCols: number;
  queryLength: number;
  keyLength: number;
  /** The rectangle of original positions rasterised. */
  view: View;
  parts: number;
  /** Allowed pairs per part per cell: [parts, rows, cols]. */
  counts: Float64Array;
  /** Pairs pooled in each cell (its area in original positions): [rows, cols]. */
  area: Float64Array;
}

/** The identity-order or contiguous range of original positions a tile covers, or null if scattered. */
export function tileRange(index: Int32Array | null, s0: number, s1: number): [number, number] | null {
  if (index === null) return [s0, s1];
  const lo = index[s0];
  for (let s = s0 + 1; s < s1; s++) if (index[s] !== lo + (s - s0)) return null;
  return [lo, lo + (s1 - s0)];
}

/** A rectangle of original positions, half-open: queries [q0, q1) × keys [k0, k1). */
export interface View {
  q0: number;
  q1: number;
  k0: number;
  k1: number;
}

/** Adds the pairs of the rectangle [q0,q1)×[k0,k1) (clipped to the raster's view) to part p's counts. */
function addRect(r: Raster, p: number, q0: number, q1: number, k0: number, k1: number): void {
  const { blockRows: bq, blockCols: bk, rows, cols, view } = r;
  q0 = Math.max(q0, view.q0) - view.q0;
  q1 = Math.min(q1, view.q1) - view.q0;
  k0 = Math.max(k0, view.k0) - view.k0;
  k1 = Math.min(k1, view.k1) - view.k0;
  if (q0 >= q1 || k0 >= k1) return;
  const base = p * rows * cols; // counts: [parts, rows, cols]
  for (let gr = Math.floor(q0 / bq); gr * bq < q1; gr++) {
    const rq = Math.min(q1, (gr + 1) * bq) - Math.max(q0, gr * bq);
    for (let gc = Math.floor(k0 / bk); gc * bk < k1; gc++) {
      const rk = Math.min(k1, (gc + 1) * bk) - Math.max(k0, gc * bk);
      r.counts[base + gr * cols + gc] += rq * rk;
    }
  }
}

/**
 * Pools a head's plan into a `rows × cols` raster (at most; a cell never pools less than one
 * position). With rows = Lq and cols = Lk each cell is one pair. `view` restricts the
 * raster to a rectangle of original positions (zooming); default the whole matrix.
 */
export function rasterize(
  parts: readonly PlanPart[],
  queryLength: number,
  keyLength: number,
  maxRows = queryLength,
  maxCols = keyLength,
  view: View = { q0: 0, q1: queryLength, k0: 0, k1: keyLength },
): Raster {
  const vq = view.q1 - view.q0;
  const vk = view.k1 - view.k0;
  const blockRows = Math.max(1, Math.ceil(vq / maxRows));
  const blockCols = Math.max(1, Math.ceil(vk / maxCols));
  const rows = Math.ceil(vq / blockRows);
  const cols = Math.ceil(vk / blockCols);
  const r: Raster = {
    rows,
    cols,
    blockRows,
    blockCols,
    queryLength,
    keyLength,
    view,
    parts: parts.length,
    counts: new Float64Array(parts.length * rows * cols),
    area: new Float64Array(rows * cols),
  };
  for (let gr = 0; gr < rows; gr++) {
    const h = Math.min(vq, (gr + 1) * blockRows) - gr * blockRows;
    for (let gc = 0; gc < cols; gc++) {
      r.area[gr * cols + gc] = h * (Math.min(vk, (gc + 1) * blockCols) - gc * blockCols); // area: [rows, cols]
    }
  }
  for (let p = 0; p < parts.length; p++) {
    const part = parts[p];
    const { qIndex, kIndex, qTiles, kTiles, rowPtr, colIdx } = part;
    const base = p * rows * cols;
    for (let qt = 0; qt + 1 < qTiles.length; qt++) {
      const s0 = qTiles[qt];
      const s1 = qTiles[qt + 1];
      const qr = tileRange(qIndex, s0, s1);
      if (qr !== null && (qr[1] <= view.q0 || qr[0] >= view.q1)) continue;
      for (let e = rowPtr[qt]; e < rowPtr[qt + 1]; e++) {
        const kt = colIdx[e];
        const t0 = kTiles[kt];
        const t1 = kTiles[kt + 1];
        const full = tileIsFull(part, e);
        const kr = tileRange(kIndex, t0, t1);
        if (kr !== null && (kr[1] <= view.k0 || kr[0] >= view.k1)) continue;
        if (full && qr !== null && kr !== null) {
          addRect(r, p, qr[0], qr[1], kr[0], kr[1]);
          continue;
        }
        for (let si = s0; si < s1; si++) {
          const qi = qIndex === null ? si : qIndex[si];
          if (qi < view.q0 || qi >= view.q1) continue;
          const rowBase = base + Math.floor((qi - view.q0) / blockRows) * cols; // counts: [parts, rows, cols]
          for (let sj = t0; sj < t1; sj++) {
            const ki = kIndex === null ? sj : kIndex[sj];
            if (ki < view.k0 || ki >= view.k1) continue;
            if (!full && !tileAllows(part, e, si - s0, sj - t0)) continue;
            r.counts[rowBase + Math.floor((ki - view.k0) / blockCols)] += 1;
          }
        }
      }
    }
  }
  return r;
}

/** Per cell: the part holding the most allowed pairs (-1 = none), and the allowed fraction. */
export function dominant(r: Raster): { owner: Int16Array; fraction: Float64Array } {
  const n = r.rows * r.cols;
  const owner = new Int16Array(n).fill(-1);
  const fraction = new Float64Array(n);
  for (let c = 0; c < n; c++) {
    let best = 0;
    let total = 0;
    for (let p = 0; p < r.parts; p++) {
      const v = r.counts[p * n + c]; // counts: [parts, rows, cols]
      total += v;
      if (v > best) {
        best = v;
        owner[c] = p;
      }
    }
    fraction[c] = Math.min(1, total / r.area[c]);
  }
  return { owner, fraction };
}

export interface TileBox {
  part: number;
  full: boolean;
  /** Rectangle in original positions, half-open. */
  q0: number;
  q1: number;
  k0: number;
  k1: number;
}

/** The visited tiles that are rectangles in original positions (gathered tiles of scattered positions are left out). */
export function tileBoxes(parts: readonly PlanPart[], limit = 20000): TileBox[] {
  const out: TileBox[] = [];
  for (let p = 0; p < parts.length; p++) {
    const { qIndex, kIndex, qTiles, kTiles, rowPtr, colIdx } = parts[p];
    for (let qt = 0; qt + 1 < qTiles.length; qt++) {
      const qr = tileRange(qIndex, qTiles[qt], qTiles[qt + 1]);
      if (qr === null) continue;
      for (let e = rowPtr[qt]; e < rowPtr[qt + 1]; e++) {
        const kt = colIdx[e];
        const kr = tileRange(kIndex, kTiles[kt], kTiles[kt + 1]);
        if (kr === null) continue;
        out.push({ part: p, full: tileIsFull(parts[p], e), q0: qr[0], q1: qr[1], k0: kr[0], k1: kr[1] });
        if (out.length >= limit) return out;
      }
    }
  }
  return out;
}
