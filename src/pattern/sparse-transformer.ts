/**
 * Sparse Transformer: Child, Gray, Radford, Sutskever, "Generating Long Sequences with Sparse
 * Transformers" (2019), §4.2 and §4.3. Causal, as in the paper; i = query position, j = key
 * position (original order, 0-based, j <= i on raw positions), l = stride / block, c = summary.
 *   strided({ stride: l })   A(1) = { j : i - W <= j <= i }            W = l ("paper": l+1 keys, default)
 *                                                                     W = l-1 ("code": l keys, as the
 *                                                                     OpenAI blocksparse code)
 *                            A(2) = { j <= i : (i - j) mod l = 0 }
 *   fixed({ block: l, summary: c })
 *                            A(1) = { j <= i : floor(j/l) = floor(i/l) }
 *                            A(2) = { j <= i : j mod l >= l - c }      (the last c positions of every block)
 * Default: every head sees A(1) ∪ A(2). `factorized: true`: A(1) and A(2) go to different heads,
 * head h sees A(1) when h is even and A(2) when h is odd (the paper's §4.3 "different heads" form).
 *
 * Planning at true cost:
 *   strided A(1)          a causal band of W+1 keys, small tiles
 *   strided A(2) \ A(1)   view positions as (ceil(n/l) × l) and transpose: each residue class mod l
 *                         is a contiguous segment, inside which the set is a shifted causal band
 *   fixed A(1)            block-diagonal causal: one band per block
 *   fixed A(2) \ A(1)     summary columns gathered into a compact key set; a query tile lies in one
 *                         block, a key tile is one block's summary: every tile is full
 */
import { AttentionArgumentError, checkInt } from "../errors.js";
import { bandPart, bandTile, blockSegs, residueOrder, residueShift } from "../layout/bands.js";
import { segmentedTiles } from "../layout/part.js";
import { checkKeys } from "../options.js";
import {
  type BoundPattern,
  type Dims,
  EMPTY,
  FULL,
  type MaskFn,
  PARTIAL,
  type PartSpec,
  type Pattern,
  type TileClassifier,
  type TileKind,
} from "../types.js";
import { type Align, alignOffset, checkAlign } from "./algebra.js";

function checkFlag(where: string, v: unknown): boolean {
  if (v === undefined) return false;
  if (typeof v !== "boolean") throw new AttentionArgumentError(where, v, "true or false");
  return v;
}

/** The pattern's mask: A(1) ∪ A(2), or with `factorized` A(1) on even heads and A(2) on odd heads. */
function headSets(factorized: boolean, a1: MaskFn, a2: MaskFn): MaskFn {
  return (i, j, h) => {
    const set = setOf(factorized, h);
    if (set === 1) return a1(i, j, h);
    if (set === 2) return a2(i, j, h);
    return a1(i, j, h) || a2(i, j, h);
  };
}

/** Which set head h sees: 0 = A(1) ∪ A(2), 1 = A(1) only, 2 = A(2) only. */
function setOf(factorized: boolean, h: number): 0 | 1 | 2 {
  if (!factorized) return 0;
  return h % 2 === 0 ? 1 : 2;
}

export interface StridedOptions {
  stride: number;
  /** "paper" (default): A(1) holds l+1 keys i-l..i; "code": l keys i-l+1..i. */
  window?: "paper" | "code";
  /** A(1) on even heads, A(2) on odd heads. */
  factorized?: boolean;
  /** Lq != Lk: query i sits at key position i + Lk - Lq ("bottom-right", default) or i ("top-left"). */
  align?: Align;
}

const alignName = (a: Align): string => (a === "top-left" ? ", align=top-left" : "");

/** The strided pattern: the previous W+1 positions plus every l-th earlier position. */
export function strided(options: StridedOptions): Pattern {
  const where = "patterns.strided";
  const o = checkKeys(`${where}(options)`, options, ["stride", "window", "factorized", "align"]);
  const align = checkAlign(where, o.align);
  const l = checkInt(`${where}({ stride })`, o.stride, 1);
  const variant = o.window ?? "paper";
  if (variant !== "paper" && variant !== "code") {
    throw new AttentionArgumentError(
      `${where}({ window })`,
      variant,
      '"paper" (l+1 keys in A(1), default) or "code" (l keys)',
    );
  }
  const factorized = checkFlag(`${where}({ factorized })`, o.factorized);
  const W = variant === "paper" ? l : l - 1; // A(1) = i-W ..= i
  const t0 = Math.floor(W / l) + 1; // A(2) \ A(1): i - j = t·l with t >= t0
  return {
    name: `strided(stride=${l}${variant === "code" ? ", window=code" : ""}${factorized ? ", factorized=true" : ""}${alignName(align)})`,
    headDependent: factorized,
    children: [],
    bind(dims: Dims): BoundPattern {
      const { queryLength: Lq, keyLength: Lk } = dims;
      const off = alignOffset(align, dims); // query i sits at key position i + off
      const a1: MaskFn = (i, j) => j <= i + off && i + off - j <= W;
      const a2: MaskFn = (i, j) => j <= i + off && (i + off - j) % l === 0;
      const a2only: MaskFn = (i, j) => i + off - j >= t0 * l && (i + off - j) % l === 0;
      const mask = headSets(factorized, a1, a2);
      const classify: TileClassifier = (q0, q1, k0, k1, h) => {
        const set = setOf(factorized, h);
        const dmin = q0 + off - (k1 - 1);
        const dmax = q1 - 1 + off - k0;
        if (dmax < 0) return EMPTY;
        const lo = Math.max(dmin, 0);
        const hasMultiple = Math.ceil(lo / l) * l <= dmax;
        if (set === 2) {
          if (!hasMultiple) return EMPTY;
          return dmin === dmax && dmin >= 0 ? FULL : PARTIAL;
        }
        if (dmin >= 0 && dmax <= W) return FULL;
        if (set === 1) return dmin > W ? EMPTY : PARTIAL;
        return dmin > W && !hasMultiple ? EMPTY : PARTIAL;
      };
      const bandT = bandTile(W + 1);
      const S = Math.min(l, Math.max(Lq, Lk));
      const segLen = Math.ceil(Math.max(Lq, Lk) / l);
      const plan = (head: number, batch: number): PartSpec[] => {
        const set = setOf(factorized, head);
        const parts: PartSpec[] = [];
        if (set !== 2) {
          parts.push(
            bandPart({
              label: `A(1): causal band of ${W + 1}`,
              head,
              batch,
              qIndex: null,
              kIndex: null,
              qSegs: Int32Array.of(0, Lq),
              kSegs: Int32Array.of(0, Lk),
              lo: -off,
              hi: W - off,
              tile: bandT,
              mask: a1,
            }),
          );
        }
        if (set !== 1) {
          const rs = residueShift(S, l, off);
          const qo = residueOrder(Lq, l, S);
          const ko = residueOrder(Lk, l, S, rs.start);
          parts.push(
            bandPart({
              label: set === 2 ? `A(2): residues mod ${l}` : `A(2) \\ A(1): residues mod ${l}`,
              head,
              batch,
              qIndex: qo.index,
              kIndex: ko.index,
              qSegs: qo.segs,
              kSegs: ko.segs,
              lo: set === 2 ? 0 : t0,
              hi: Number.POSITIVE_INFINITY,
              shift: rs.shift,
              tile: bandTile(segLen),
              mask: set === 2 ? a2 : a2only,
            }),
          );
        }
        return parts;
      };
      return { mask, classify, tile: bandT, plan };
    },
  };
}

export interface FixedOptions {
  /** Block length l. */
  block: number;
  /** Summary width c (1 <= c <= l): the last c positions of each block. */
  summary: number;
  /** A(1) on even heads, A(2) on odd heads. */
  factorized?: boolean;
  /** Lq != Lk: "bottom-right" (default) or "top-left", as in strided. */
  align?: Align;
}

/** Largest query tile of the gathered summary part (a tile never straddles a block). */
const SUMMARY_QUERY_TILE = 128;

/** The fixed pattern: causal within the block plus the last `summary` positions of every block. */
export function fixed(options: FixedOptions): Pattern {
  const where = "patterns.fixed";
  const o = checkKeys(`${where}(options)`, options, ["block", "summary", "factorized", "align"]);
  const align = checkAlign(where, o.align);
  const l = checkInt(`${where}({ block })`, o.block, 1);
  const c = checkInt(`${where}({ summary })`, o.summary, 1, l);
  const factorized = checkFlag(`${where}({ factorized })`, o.factorized);
  return {
    name: `fixed(block=${l}, summary=${c}${factorized ? ", factorized=true" : ""}${alignName(align)})`,
    headDependent: factorized,
    children: [],
    bind(dims: Dims): BoundPattern {
      const { queryLength: Lq, keyLength: Lk } = dims;
      const off = alignOffset(align, dims); // query i sits at key position i + off
      const a1: MaskFn = (i, j) => j <= i + off && Math.floor(j / l) === Math.floor((i + off) / l);
      const a2: MaskFn = (i, j) => j <= i + off && j % l >= l - c;
      const a2only: MaskFn = (i, j) => Math.floor(j / l) < Math.floor((i + off) / l) && j % l >= l - c;
      const mask = headSets(factorized, a1, a2);
      const classify: TileClassifier = (qa, qz, k0, k1, h) => {
        const q0 = qa + off;
        const q1 = qz + off;
        const set = setOf(factorized, h);
        if (k0 > q1 - 1) return EMPTY;
        const causalFull = k1 - 1 <= q0;
        const kb = Math.floor(k0 / l);
        const oneKeyBlock = kb === Math.floor((k1 - 1) / l);
        const allSummary = oneKeyBlock && k0 % l >= l - c;
        const noSummary = oneKeyBlock && (k1 - 1) % l < l - c;
        const qb0 = Math.floor(q0 / l);
        const sameBlock = oneKeyBlock && qb0 === kb && Math.floor((q1 - 1) / l) === kb;
        const a1Empty = oneKeyBlock && kb < qb0;
        const k1Full = causalFull && sameBlock;
        const k2Full = causalFull && allSummary;
        if (set === 1) return a1Empty ? EMPTY : k1Full ? FULL : PARTIAL;
        if (set === 2) return noSummary ? EMPTY : k2Full ? FULL : PARTIAL;
        if (k1Full || k2Full) return FULL;
        return a1Empty && noSummary ? EMPTY : PARTIAL;
      };
      const bandT = bandTile(l);
      const S = Math.max(1, Math.ceil(Math.max(Lq + off, Lk) / l));
      const qBlocks = blockSegs(Lq, l, S, off); // query block s: rows whose key position is in block s
      const blockShift = new Int32Array(S); // i + off - j = shift[s] + mq - mk inside block s
      for (let s = 0; s < S; s++) blockShift[s] = qBlocks[s] + off - s * l;
      // Summary columns of every key block, gathered: kIndex [blocks · c], one key tile per block.
      const kList: number[] = [];
      const kBounds: number[] = [0];
      for (let b = 0; b * l < Lk; b++) {
        for (let j = b * l + l - c; j < Math.min((b + 1) * l, Lk); j++) kList.push(j);
        if (kList.length > kBounds[kBounds.length - 1]) kBounds.push(kList.length);
      }
      const kIndex = Int32Array.from(kList);
      const kTiles = Int32Array.from(kBounds); // tile t = summary of key block t (only the last block may lack one)
      const numKT = kTiles.length - 1;
      const qTiles = segmentedTiles(qBlocks, Math.min(l, SUMMARY_QUERY_TILE));
      const plan = (head: number, batch: number): PartSpec[] => {
        const set = setOf(factorized, head);
        const parts: PartSpec[] = [];
        if (set !== 2) {
          parts.push(
            bandPart({
              label: `A(1): causal blocks of ${l}`,
              head,
              batch,
              qIndex: null,
              kIndex: null,
              qSegs: qBlocks,
              kSegs: blockSegs(Lk, l, S),
              lo: 0,
              hi: Number.POSITIVE_INFINITY,
              shift: blockShift,
              tile: bandT,
              mask: a1,
            }),
          );
        }
        if (set !== 1 && numKT > 0) {
          parts.push({
            label:
              set === 2 ? `A(2): summaries (last ${c} of each block)` : `A(2) \\ A(1): summaries of earlier blocks`,
            head,
            batch,
            qIndex: null,
            kIndex,
            qTiles,
            kTiles,
            mask: set === 2 ? a2 : a2only,
            tilesFor: (qt, visit) => {
              const qb = Math.floor((qTiles[qt] + off) / l); // the query tile's block
              const last = Math.min(qb, numKT - 1);
              for (let kt = 0; kt <= last; kt++) {
                const kind: TileKind = kt < qb ? FULL : PARTIAL;
                if (kind === FULL || set === 2) visit(kt, kind);
              }
            },
          });
        }
        return parts;
      };
      return { mask, classify, tile: bandT, plan };
    },
  };
}
