/**
 * Band planning. Rows and columns of a part are cut into S matching segments of a gathered
 * order; inside segment s, the row at offset mq (from the segment's start) may see the column
 * at offset mk iff `lo <= mq - mk <= hi`. Many seed patterns are such bands:
 *   sliding window       one segment, identity order, lo = -right, hi = left
 *   dilated window       one segment per residue class mod d, lo = -right, hi = left
 *   strided A(2)         one segment per residue class mod l, lo = t0, hi = +Infinity
 *   block-diagonal       one segment per block, identity order, lo = 0, hi = +Infinity
 * Tiles never straddle a segment, and only the band's key tiles are enumerated per query
 * tile, so planning costs O(visited tiles), not O(numQTiles · numKTiles).
 *
 * Names: si/sj gathered positions, mq/mk offsets inside a segment, qt/kt tile indices.
 */
import { EMPTY, FULL, type MaskFn, PARTIAL, type PartSpec, type TileClassifier, type TileKind } from "../types.js";
import { segmentedTiles } from "./part.js";

export interface BandSpec {
  label: string;
  head: number;
  batch: number;
  qIndex: Int32Array | null; // gathered row -> original query position
  kIndex: Int32Array | null; // gathered column -> original key position
  qSegs: Int32Array; // [S + 1] segment starts in gathered row order; qSegs[S] = rows
  kSegs: Int32Array; // [S + 1] segment starts in gathered column order; kSegs[S] = columns
  lo: number; // may be -Infinity
  hi: number; // may be +Infinity
  /** Per segment s, the band is lo - shift[s] <= mq - mk <= hi - shift[s] (alignment of Lq != Lk); default 0. */
  shift?: Int32Array;
  tile: number;
  /** The part's exact allowed set on original positions (must equal the band); used in partial tiles. */
  mask: MaskFn;
}

/**
 * A square tile for a band `width` entries wide: the largest power of two <= width / 16, in
 * [8, 64]. A band scores about width + 2·tile entries per row, so this keeps the work
 * efficiency near 0.94 or better while the tiles stay large enough for the kernels (on the
 * wasm kernel at n = 65,536, a 513-wide window ran 10% faster with tile 32 than with 16).
 */
export function bandTile(width: number): number {
  let t = 8;
  while (t < 64 && t * 2 * 16 <= width) t *= 2;
  return t;
}

/**
 * Positions 0..n-1 ordered by residue mod d: [r = 0: 0, d, 2d, …][r = 1: 1, 1 + d, …]…, for the
 * first S residues; with `start`, segment s holds residue (start + s) mod d.
 */
export function residueOrder(n: number, d: number, S: number, start = 0): { index: Int32Array; segs: Int32Array } {
  const index = new Int32Array(n);
  const segs = new Int32Array(S + 1);
  let si = 0;
  for (let s = 0; s < S; s++) {
    segs[s] = si;
    for (let p = (start + s) % d; p < n; p += d) index[si++] = p;
  }
  segs[S] = si;
  return { index, segs };
}

/** Segment starts of consecutive blocks of `block` positions over 0..n-1, padded with empty segments up to S. */
export function blockSegs(n: number, block: number, S: number): Int32Array {
  const segs = new Int32Array(S + 1);
  for (let s = 0; s <= S; s++) segs[s] = Math.min(n, s * block);
  return segs;
}

/** Classifier of `lo <= q - k <= hi` on an original-position rectangle [q0, q1) × [k0, k1). */
export function diffClassifier(lo: number, hi: number): TileClassifier {
  return (q0, q1, k0, k1) => {
    const dmin = q0 - (k1 - 1);
    const dmax = q1 - 1 - k0;
    if (dmax < lo || dmin > hi) return EMPTY;
    if (dmin >= lo && dmax <= hi) return FULL;
    return PARTIAL;
  };
}

/** Pairs with l <= mq - mk <= u in rows [a, b) × columns [c, e) (offsets in a segment). */
function rectCount(a: number, b: number, c: number, e: number, l: number, u: number): number {
  let n = 0;
  for (let mq = a; mq < b; mq++) {
    const from = Math.max(c, mq - u);
    const to = Math.min(e - 1, mq - l);
    if (to >= from) n += to - from + 1;
  }
  return n;
}

export function bandPart(spec: BandSpec): PartSpec {
  const { qSegs, kSegs, lo, hi, tile } = spec;
  const shift = spec.shift;
  const S = qSegs.length - 1;
  const qTiles = segmentedTiles(qSegs, tile);
  const kTiles = segmentedTiles(kSegs, tile);
  const kFirst = new Int32Array(S); // first key tile of each segment
  let t = 0;
  for (let s = 0; s < S; s++) {
    kFirst[s] = t;
    t += Math.ceil((kSegs[s + 1] - kSegs[s]) / tile);
  }
  const numQT = qTiles.length - 1;
  const qtSeg = new Int32Array(numQT); // query tile -> segment
  let s = 0;
  for (let qt = 0; qt < numQT; qt++) {
    while (qSegs[s + 1] <= qTiles[qt]) s++;
    qtSeg[qt] = s;
  }
  return {
    label: spec.label,
    head: spec.head,
    batch: spec.batch,
    qIndex: spec.qIndex,
    kIndex: spec.kIndex,
    qTiles,
    kTiles,
    mask: spec.mask,
    // pairs lo <= mq - mk <= hi in rows [a, b) × columns [c, e) of a segment, one row at a time
    count: (qt, kt) => {
      const seg = qtSeg[qt];
      const sh = shift === undefined ? 0 : shift[seg];
      const a = qTiles[qt] - qSegs[seg];
      const b = qTiles[qt + 1] - qSegs[seg];
      return rectCount(a, b, kTiles[kt] - kSegs[seg], kTiles[kt + 1] - kSegs[seg], lo - sh, hi - sh);
    },
    // a whole query tile: the interior full tiles in closed form, the edge tiles one by one
    countRow: (qt, acc) => {
      const seg = qtSeg[qt];
      const sh = shift === undefined ? 0 : shift[seg];
      const l = lo - sh;
      const u = hi - sh;
      const a = qTiles[qt] - qSegs[seg];
      const b = qTiles[qt + 1] - qSegs[seg];
      const rows = b - a;
      const kLen = kSegs[seg + 1] - kSegs[seg];
      const mLo = Math.max(0, a - u);
      const mHi = Math.min(kLen - 1, b - 1 - l);
      if (mLo > mHi || rows === 0) return;
      const T0 = Math.floor(mLo / tile);
      const T1 = Math.floor(mHi / tile);
      const lastWhole = Math.floor(kLen / tile) - 1; // last tile of full width
      // full tiles c = tt·tile of full width: c >= b - 1 - u and c + tile - 1 <= a - l
      const F0 = Math.max(T0, Math.ceil((b - 1 - u) / tile));
      const F1 = Math.min(T1, lastWhole, Math.floor((a - l - tile + 1) / tile));
      const edge = (tt: number): void => {
        const c = tt * tile;
        const e = Math.min(c + tile, kLen);
        const area = rows * (e - c);
        const n = rectCount(a, b, c, e, l, u);
        if (n === 0) return;
        acc[0] += 1;
        acc[1] += n;
        acc[2] += area;
        if (n !== area) acc[3] += Math.ceil(area / 32);
      };
      if (F0 > F1) {
        for (let tt = T0; tt <= T1; tt++) edge(tt);
        return;
      }
      for (let tt = T0; tt < F0; tt++) edge(tt);
      const full = F1 - F0 + 1;
      acc[0] += full;
      acc[1] += full * rows * tile;
      acc[2] += full * rows * tile;
      for (let tt = F1 + 1; tt <= T1; tt++) edge(tt);
    },
    tilesFor: (qt, visit) => {
      const seg = qtSeg[qt];
      const sh = shift === undefined ? 0 : shift[seg];
      const lo = spec.lo - sh;
      const hi = spec.hi - sh;
      const a = qTiles[qt] - qSegs[seg]; // first row offset in the segment
      const b = qTiles[qt + 1] - qSegs[seg]; // one past the last
      const kLen = kSegs[seg + 1] - kSegs[seg];
      const mLo = Math.max(0, a - hi);
      const mHi = Math.min(kLen - 1, b - 1 - lo);
      if (mLo > mHi) return;
      const t1 = Math.floor(mHi / tile);
      for (let tt = Math.floor(mLo / tile); tt <= t1; tt++) {
        const c = tt * tile;
        const e = Math.min(c + tile, kLen);
        const dmin = a - (e - 1);
        const dmax = b - 1 - c;
        let kind: TileKind = PARTIAL;
        if (dmax < lo || dmin > hi) kind = EMPTY;
        else if (dmin >= lo && dmax <= hi) kind = FULL;
        if (kind !== EMPTY) visit(kFirst[seg] + tt, kind);
      }
    },
  };
}
