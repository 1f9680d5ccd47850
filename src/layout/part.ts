/**
 * Building plan parts. A planner says which key tiles each query tile visits (full or
 * partial); this module evaluates the part's mask inside partial tiles only, stores those
 * masks as bytes, upgrades partial tiles that turn out full, drops ones that turn out empty,
 * and counts allowed and scored pairs.
 */
import { FULL, type MaskFn, PARTIAL, type PlanPart, type TileKind } from "../types.js";

export interface PartSpec {
  label: string;
  head: number;
  qIndex: Int32Array | null; // gathered row -> original query position
  kIndex: Int32Array | null; // gathered column -> original key position
  qTiles: Int32Array; // [numQTiles + 1]
  kTiles: Int32Array; // [numKTiles + 1]
  /** The part's allowed set, original positions. Evaluated only inside partial tiles. */
  mask: MaskFn;
  /** Calls visit(kt, kind) for each key tile query tile `qt` may need (any order, no repeats). */
  tilesFor: (qt: number, visit: (kt: number, kind: TileKind) => void) => void;
  selfScore?: number;
}

/** Uniform tile boundaries 0, t, 2t, ..., n. */
export function uniformTiles(n: number, tile: number): Int32Array {
  const count = Math.ceil(n / tile);
  const b = new Int32Array(count + 1);
  for (let t = 0; t <= count; t++) b[t] = Math.min(n, t * tile);
  return b;
}

/** Tile boundaries that never straddle the segment starts in `segStarts` (ascending, ending at n). */
export function segmentedTiles(segStarts: ArrayLike<number>, tile: number): Int32Array {
  const out: number[] = [segStarts[0]];
  for (let s = 0; s + 1 < segStarts.length; s++) {
    const a = segStarts[s];
    const b = segStarts[s + 1];
    for (let x = a + tile; x < b; x += tile) out.push(x);
    if (b > a) out.push(b);
  }
  return Int32Array.from(out);
}

class GrowableI32 {
  data = new Int32Array(64);
  length = 0;
  push(x: number): void {
    if (this.length === this.data.length) {
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

class GrowableU8 {
  data = new Uint8Array(4096);
  length = 0;
  reserve(extra: number): void {
    if (this.length + extra <= this.data.length) return;
    let cap = this.data.length * 2;
    while (cap < this.length + extra) cap *= 2;
    const next = new Uint8Array(cap);
    next.set(this.data.subarray(0, this.length));
    this.data = next;
  }
  take(): Uint8Array {
    return this.data.slice(0, this.length);
  }
}

export function buildPart(spec: PartSpec): PlanPart {
  const { qIndex, kIndex, qTiles, kTiles, mask, head } = spec;
  const numQT = qTiles.length - 1;
  const rowPtr = new Int32Array(numQT + 1);
  const colIdx = new GrowableI32();
  const maskOff = new GrowableI32();
  const bits = new GrowableU8();
  let allowed = 0;
  let scored = 0;
  const pending: number[] = [];
  const pendingKind: number[] = [];
  const visit = (kt: number, kind: TileKind): void => {
    pending.push(kt);
    pendingKind.push(kind);
  };
  for (let qt = 0; qt < numQT; qt++) {
    pending.length = 0;
    pendingKind.length = 0;
    spec.tilesFor(qt, visit);
    const s0 = qTiles[qt];
    const s1 = qTiles[qt + 1];
    const rows = s1 - s0;
    for (let e = 0; e < pending.length; e++) {
      const kt = pending[e];
      const t0 = kTiles[kt];
      const t1 = kTiles[kt + 1];
      const cols = t1 - t0;
      if (rows === 0 || cols === 0) continue;
      if (pendingKind[e] === FULL) {
        colIdx.push(kt);
        maskOff.push(-1);
        allowed += rows * cols;
        scored += rows * cols;
        continue;
      }
      if (pendingKind[e] !== PARTIAL) continue;
      bits.reserve(rows * cols);
      const off = bits.length;
      const m = bits.data;
      let count = 0;
      for (let si = s0; si < s1; si++) {
        const qi = qIndex === null ? si : qIndex[si];
        const rowOff = off + (si - s0) * cols; // mask tile: [rows, cols]
        for (let sj = t0; sj < t1; sj++) {
          const ki = kIndex === null ? sj : kIndex[sj];
          const ok = mask(qi, ki, head) ? 1 : 0;
          m[rowOff + (sj - t0)] = ok;
          count += ok;
        }
      }
      if (count === 0) continue;
      colIdx.push(kt);
      if (count === rows * cols) {
        maskOff.push(-1);
      } else {
        maskOff.push(off);
        bits.length += rows * cols;
      }
      allowed += count;
      scored += rows * cols;
    }
    rowPtr[qt + 1] = colIdx.length;
  }
  const part: PlanPart = {
    label: spec.label,
    qIndex,
    kIndex,
    qTiles,
    kTiles,
    rowPtr,
    colIdx: colIdx.take(),
    maskOff: maskOff.take(),
    maskBits: bits.take(),
    allowedPairs: allowed,
    scoredPairs: scored,
  };
  if (spec.selfScore !== undefined) part.selfScore = spec.selfScore;
  return part;
}

/** Bytes a part's arrays occupy. */
export function partBytes(p: PlanPart): number {
  let b = p.qTiles.byteLength + p.kTiles.byteLength + p.rowPtr.byteLength;
  b += p.colIdx.byteLength + p.maskOff.byteLength + p.maskBits.byteLength;
  if (p.qIndex) b += p.qIndex.byteLength;
  if (p.kIndex) b += p.kIndex.byteLength;
  return b;
}

/** The parts that visit at least one tile. */
export function nonEmpty(parts: PlanPart[]): PlanPart[] {
  return parts.filter((p) => p.scoredPairs > 0);
}
