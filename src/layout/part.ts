/**
 * Building plan parts: the ONE place a part spec (src/types.ts PartSpec) becomes a plan part
 * or, for explain(), only its counts. A planner says which key tiles each query tile visits
 * (full or partial); partial tiles are counted analytically when the spec can (`count`),
 * otherwise scanned with the part's mask; their masks are stored BIT-PACKED (one bit per
 * pair, each tile starting on a 32-bit word). Partial tiles that turn out full are upgraded,
 * ones that turn out empty dropped, so building and counting give the same numbers.
 */
import { AttentionArgumentError } from "../errors.js";
import { FULL, PARTIAL, type PartSpec, type PlanPart, type TileKind } from "../types.js";

/** Largest count a plan's Int32 offsets hold (tile entries, mask words, positions). */
export const INT32_LIMIT = 2 ** 31 - 1;

/** Uniform tile boundaries 0, t, 2t, ..., n. */
export function uniformTiles(n: number, tile: number): Int32Array {
  const count = Math.ceil(n / tile);
  const b = new Int32Array(count + 1);
  for (let t = 0; t <= count; t++) b[t] = Math.min(n, t * tile);
  return b;
}

/** Tile boundaries that never straddle the segment starts in `segStarts` (ascending, ending at n). */
export function segmentedTiles(segStarts: ArrayLike<number>, tile: number): Int32Array {
  let count = 1;
  for (let s = 0; s + 1 < segStarts.length; s++) count += Math.ceil((segStarts[s + 1] - segStarts[s]) / tile);
  const out = new Int32Array(count);
  out[0] = segStarts[0];
  let n = 1;
  for (let s = 0; s + 1 < segStarts.length; s++) {
    const a = segStarts[s];
    const b = segStarts[s + 1];
    for (let x = a + tile; x < b; x += tile) out[n++] = x;
    if (b > a) out[n++] = b;
  }
  return out;
}

/**
 * Throws a clear error when a plan's Int32 offsets would wrap: `count` entries of `what` do
 * not fit (partial-mask word offsets, tile entries). Exported for the boundary test.
 */
export function checkInt32Count(what: string, count: number): void {
  if (count > INT32_LIMIT) {
    throw new AttentionArgumentError(
      `plan ${what}`,
      count,
      `at most ${INT32_LIMIT} (the plan's Int32 offsets); split the problem (fewer heads or batch rows per call, shorter sequences) or give the pattern an analytic classifier (tileKind) so fewer tiles are partial`,
    );
  }
}

class GrowableI32 {
  data = new Int32Array(64);
  length = 0;
  push(x: number): void {
    if (this.length === this.data.length) {
      checkInt32Count("tile entries", this.length + 1);
      const next = new Int32Array(this.data.length * 2);
      next.set(this.data);
      this.data = next;
    }
    this.data[this.length++] = x;
  }
  take(): Int32Array {
    return this.data.slice(0, this.length);
  }
}

class GrowableU32 {
  data = new Uint32Array(1024);
  length = 0;
  /** Reserves `extra` zeroed words at the end; returns their offset. */
  reserve(extra: number): number {
    checkInt32Count("mask words", this.length + extra);
    if (this.length + extra > this.data.length) {
      let cap = this.data.length * 2;
      while (cap < this.length + extra) cap *= 2;
      const next = new Uint32Array(cap);
      next.set(this.data.subarray(0, this.length));
      this.data = next;
    }
    this.data.fill(0, this.length, this.length + extra);
    return this.length;
  }
  take(): Uint32Array {
    return this.data.slice(0, this.length);
  }
}

/** Counts of a part built in counting mode (explain): what the built part would hold. */
export interface PartCount {
  label: string;
  tiles: number;
  allowedPairs: number;
  scoredPairs: number;
  /** Bytes the built part's arrays would occupy (partBytes). */
  bytes: number;
  tqMax: number;
  tkMax: number;
}

/** Words of a partial tile's bit mask. */
export function maskWordsOf(rows: number, cols: number): number {
  return Math.ceil((rows * cols) / 32);
}

export { tileAllows } from "../plan-mask.js";

let builtParts = 0;

/** Parts built (not counted) since the process started: tests use it to prove a reused plan does no planning. */
export function partsBuilt(): number {
  return builtParts;
}

function maxTileOf(tiles: Int32Array): number {
  let best = 0;
  for (let t = 0; t + 1 < tiles.length; t++) best = Math.max(best, tiles[t + 1] - tiles[t]);
  return best;
}

function checkMaskResult(spec: PartSpec, ok: unknown, qi: number, ki: number): never {
  throw new AttentionArgumentError(
    `mask function at (q=${qi}, k=${ki}, h=${spec.head}, b=${spec.batch})`,
    ok,
    "true or false (a boolean; 1, 0, strings or undefined are not accepted)",
  );
}

/** Builds a part (masks materialised). */
export function buildPart(spec: PartSpec): PlanPart {
  return run(spec, true) as PlanPart;
}

/** Counts a part without materialising anything. */
export function countPart(spec: PartSpec): PartCount {
  return run(spec, false) as PartCount;
}

/** Scans a tile with the part's mask, counting allowed pairs (and setting bits from word `off` when `m` is given). */
function scanTile(spec: PartSpec, qt: number, kt: number, m: Uint32Array | null, off: number): number {
  const { qIndex, kIndex, qTiles, kTiles, mask, head, batch } = spec;
  const s0 = qTiles[qt];
  const s1 = qTiles[qt + 1];
  const t0 = kTiles[kt];
  const t1 = kTiles[kt + 1];
  const cols = t1 - t0;
  let n = 0;
  scannedTiles++;
  for (let si = s0; si < s1; si++) {
    const qi = qIndex === null ? si : qIndex[si];
    const rowBit = (si - s0) * cols; // bits: [rows, cols] row-major, one bit per pair
    for (let sj = t0; sj < t1; sj++) {
      const ki = kIndex === null ? sj : kIndex[sj];
      const ok = mask(qi, ki, head, batch);
      if (ok === true) {
        n++;
        if (m !== null) {
          const i = rowBit + (sj - t0);
          m[off + (i >>> 5)] |= 1 << (i & 31);
        }
      } else if (ok !== false) checkMaskResult(spec, ok, qi, ki);
    }
  }
  return n;
}

let scannedTiles = 0;

/** Partial tiles scanned with a mask function since the process started (tests: explain of analytic patterns scans none). */
export function tilesScanned(): number {
  return scannedTiles;
}

/** Counting mode: accumulates straight from the planner's visits (no per-tile arrays). */
function countOnly(spec: PartSpec): PartCount {
  const { qIndex, kIndex, qTiles, kTiles } = spec;
  const numQT = qTiles.length - 1;
  const count = spec.count;
  let nnz = 0;
  let nWords = 0;
  let allowed = 0;
  let scored = 0;
  let qt = 0;
  let rows = 0;
  const visit = (kt: number, kind: TileKind): void => {
    const cols = kTiles[kt + 1] - kTiles[kt];
    const area = rows * cols;
    if (area === 0) return;
    let n = area;
    if (kind === PARTIAL) {
      n = count !== undefined ? count(qt, kt) : -1;
      if (n < 0) n = scanTile(spec, qt, kt, null, 0);
      if (n === 0) return;
      if (n !== area) nWords += maskWordsOf(rows, cols);
    } else if (kind !== FULL) return;
    nnz++;
    allowed += n;
    scored += area;
  };
  const countRow = spec.countRow;
  const acc = new Float64Array(4); // [tiles, allowed, scored, maskWords] of rows counted whole
  for (qt = 0; qt < numQT; qt++) {
    if (countRow?.(qt, acc)) continue;
    rows = qTiles[qt + 1] - qTiles[qt];
    spec.tilesFor(qt, visit);
  }
  nnz += acc[0];
  allowed += acc[1];
  scored += acc[2];
  nWords += acc[3];
  checkInt32Count("tile entries", nnz);
  checkInt32Count("mask words", nWords);
  let bytes = qTiles.byteLength + kTiles.byteLength + 4 * (numQT + 1) + 8 * nnz + 4 * nWords;
  if (qIndex) bytes += qIndex.byteLength;
  if (kIndex) bytes += kIndex.byteLength;
  return {
    label: spec.label,
    tiles: nnz,
    allowedPairs: allowed,
    scoredPairs: scored,
    bytes,
    tqMax: maxTileOf(qTiles),
    tkMax: maxTileOf(kTiles),
  };
}

function run(spec: PartSpec, build: boolean): PlanPart | PartCount {
  if (!build) return countOnly(spec);
  const { qIndex, kIndex, qTiles, kTiles } = spec;
  const numQT = qTiles.length - 1;
  const rowPtr = build ? new Int32Array(numQT + 1) : null;
  const colIdx = build ? new GrowableI32() : null;
  const maskOff = build ? new GrowableI32() : null;
  const words = build ? new GrowableU32() : null;
  let allowed = 0;
  let scored = 0;
  const pending: number[] = [];
  const pendingKind: number[] = [];
  const visit = (kt: number, kind: TileKind): void => {
    pending.push(kt);
    pendingKind.push(kind);
  };
  const count = spec.count;
  for (let qt = 0; qt < numQT; qt++) {
    pending.length = 0;
    pendingKind.length = 0;
    spec.tilesFor(qt, visit);
    const s0 = qTiles[qt];
    const s1 = qTiles[qt + 1];
    const rows = s1 - s0;
    for (let e = 0; e < pending.length; e++) {
      const kt = pending[e];
      const kind = pendingKind[e];
      const t0 = kTiles[kt];
      const t1 = kTiles[kt + 1];
      const cols = t1 - t0;
      const area = rows * cols;
      if (area === 0 || (kind !== FULL && kind !== PARTIAL)) continue;
      let n = area;
      let off = -1;
      if (kind === PARTIAL) {
        n = !build && count !== undefined ? count(qt, kt) : -1;
        if (n < 0) {
          if (build) off = words!.reserve(maskWordsOf(rows, cols));
          n = scanTile(spec, qt, kt, build ? words!.data : null, off);
        }
        if (n === 0) {
          if (build) words!.length = off; // drop the empty tile's words
          continue;
        }
        if (n === area) {
          if (build) words!.length = off; // full after all: no mask
          off = -1;
        } else if (build) {
          words!.length = off + maskWordsOf(rows, cols);
        }
      }
      allowed += n;
      scored += area;
      if (build) {
        colIdx!.push(kt);
        maskOff!.push(off);
      }
    }
    if (rowPtr !== null) rowPtr[qt + 1] = colIdx!.length;
  }
  builtParts++;
  const part: PlanPart = {
    label: spec.label,
    qIndex,
    kIndex,
    qTiles,
    kTiles,
    rowPtr: rowPtr!,
    colIdx: colIdx!.take(),
    maskOff: maskOff!.take(),
    maskWords: words!.take(),
    allowedPairs: allowed,
    scoredPairs: scored,
  };
  if (spec.selfScore !== undefined) part.selfScore = spec.selfScore;
  return part;
}

/** Bytes a part's arrays occupy. */
export function partBytes(p: PlanPart): number {
  let b = p.qTiles.byteLength + p.kTiles.byteLength + p.rowPtr.byteLength;
  b += p.colIdx.byteLength + p.maskOff.byteLength + p.maskWords.byteLength;
  if (p.qIndex) b += p.qIndex.byteLength;
  if (p.kIndex) b += p.kIndex.byteLength;
  return b;
}
