/**
 * Longformer: Beltagy, Peters, Cohan, "Longformer: The Long-Document Transformer" (2020), §3.1.
 * Exact index sets, q = query position, k = key position (original order, 0-based):
 *   slidingWindow({ left, right })            q - left <= k <= q + right
 *       (FlashAttention's inclusive window convention; a causal window is right = 0)
 *   dilatedWindow({ left, right, dilation d }) (q - k) mod d = 0  and  -right·d <= q - k <= left·d
 *       (left / right count dilated steps; d may differ per head)
 *   globalTokens(G)                           q ∈ G  or  k ∈ G   (symmetric global attention)
 *   longformer({ window w, dilation d, global G }) = globalTokens(G) ∪ dilatedWindow({ w, w, d })
 * `w` is the ONE-sided width: HuggingFace's `attention_window` = 2·w, allenai's = w.
 *
 * Planning at true cost: a window is a band (src/layout/bands.ts) with tiles sized to its
 * width; a dilated window is a band after permuting positions by residue mod d; global tokens
 * are two gathered parts (global rows × all keys, other rows × global keys), all tiles full.
 * In a union the later member's part is restricted to pairs no earlier member allows.
 */
import { AttentionArgumentError, checkInt } from "../errors.js";
import { bandPart, bandTile, diffClassifier, residueOrder, residueShift } from "../layout/bands.js";
import { uniformTiles } from "../layout/part.js";
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
} from "../types.js";
import { type Align, alignOffset, checkAlign, union } from "./algebra.js";

function checkTile(where: string, tile: unknown): number | undefined {
  if (tile === undefined) return undefined;
  return checkInt(where, tile, 1, 4096);
}

export interface SlidingWindowOptions {
  /** Keys before the query (q - left <= k). */
  left: number;
  /** Keys after the query (k <= q + right); 0 for a causal window. */
  right: number;
  /** Square tile of the band; default chosen from the width (see bandTile). */
  tile?: number;
  /** Lq != Lk: "bottom-right" (default, as causal(): query q sits at key position q + Lk - Lq) or "top-left" (at q). */
  align?: Align;
}

const alignName = (a: Align): string => (a === "top-left" ? ", align=top-left" : "");
const tileName = (t: number | undefined): string => (t === undefined ? "" : `, tile=${t}`);
/** A list of indices written whole (a label is the call that rebuilds the pattern: nothing elided). */
export const listText = (xs: ArrayLike<number>): string => `[${Array.from(xs).join(", ")}]`;

/** Every query q sees keys q - left ..= q + right (q shifted by Lk - Lq when aligned bottom-right). */
export function slidingWindow(options: SlidingWindowOptions): Pattern {
  const o = checkKeys("patterns.slidingWindow(options)", options, ["left", "right", "tile", "align"]);
  const left = checkInt("patterns.slidingWindow({ left })", o.left, 0);
  const right = checkInt("patterns.slidingWindow({ right })", o.right, 0);
  const tileOpt = checkTile("patterns.slidingWindow({ tile })", o.tile);
  const align = checkAlign("patterns.slidingWindow", o.align);
  return {
    name: `slidingWindow(left=${left}, right=${right}${tileName(tileOpt)}${alignName(align)})`,
    headDependent: false,
    children: [],
    bind(dims: Dims): BoundPattern {
      const off = alignOffset(align, dims);
      const mask: MaskFn = (q, k) => k >= q + off - left && k <= q + off + right;
      const tile = tileOpt ?? bandTile(left + right + 1);
      const qSegs = Int32Array.of(0, dims.queryLength);
      const kSegs = Int32Array.of(0, dims.keyLength);
      return {
        mask,
        classify: diffClassifier(-right - off, left - off),
        tile,
        plan: (head, batch) => [
          bandPart({
            label: "window",
            head,
            batch,
            qIndex: null,
            kIndex: null,
            qSegs,
            kSegs,
            lo: -right - off,
            hi: left - off,
            tile,
            mask,
          }),
        ],
      };
    },
  };
}

export interface DilatedWindowOptions {
  /** Dilated steps before the query: keys q - left·d, …, q - d. */
  left: number;
  /** Dilated steps after the query: keys q + d, …, q + right·d. */
  right: number;
  /** The gap d between attended keys: one number, or one per head (then heads must match). */
  dilation: number | readonly number[];
  tile?: number;
  /** Lq != Lk: "bottom-right" (default) or "top-left", as in slidingWindow. */
  align?: Align;
}

/** Every query q sees keys q + t·d for -left <= t <= right (d per head when `dilation` is an array). */
export function dilatedWindow(options: DilatedWindowOptions): Pattern {
  const where = "patterns.dilatedWindow";
  const o = checkKeys(`${where}(options)`, options, ["left", "right", "dilation", "tile", "align"]);
  const align = checkAlign(where, o.align);
  const left = checkInt(`${where}({ left })`, o.left, 0);
  const right = checkInt(`${where}({ right })`, o.right, 0);
  const tileOpt = checkTile(`${where}({ tile })`, o.tile);
  const perHead = Array.isArray(o.dilation);
  const dils: number[] = perHead
    ? (o.dilation as unknown[]).map((d, i) => checkInt(`${where}({ dilation[${i}] })`, d, 1))
    : [checkInt(`${where}({ dilation })`, o.dilation, 1)];
  if (dils.length === 0)
    throw new AttentionArgumentError(`${where}({ dilation })`, o.dilation, "a positive integer or one per head");
  return {
    name: `dilatedWindow(left=${left}, right=${right}, dilation=${perHead ? `[${dils.join(", ")}]` : dils[0]}${tileName(tileOpt)}${alignName(align)})`,
    headDependent: perHead,
    children: [],
    bind(dims: Dims): BoundPattern {
      if (perHead && dils.length !== dims.heads) {
        throw new AttentionArgumentError(
          `${where}({ dilation })`,
          dils,
          `one dilation per head: ${dims.heads} entries for ${dims.heads} heads (or a single number)`,
        );
      }
      const dOf = perHead ? (h: number) => dils[h] : () => dils[0];
      const off = alignOffset(align, dims);
      const mask: MaskFn = (q, k, h) => {
        const d = dOf(h);
        const diff = q + off - k;
        return diff % d === 0 && diff >= -right * d && diff <= left * d;
      };
      const classify: TileClassifier = (q0, q1, k0, k1, h) => {
        const d = dOf(h);
        const lo = Math.max(q0 + off - (k1 - 1), -right * d);
        const hi = Math.min(q1 - 1 + off - k0, left * d);
        if (lo > hi || Math.ceil(lo / d) * d > hi) return EMPTY;
        if (d === 1) return diffClassifier(-right - off, left - off)(q0, q1, k0, k1, h);
        return q1 - q0 === 1 && k1 - k0 === 1 ? FULL : PARTIAL;
      };
      const tile = tileOpt ?? bandTile(left + right + 1);
      const { queryLength: Lq, keyLength: Lk } = dims;
      const plan = (head: number, batch: number): PartSpec[] => {
        const d = dOf(head);
        const S = Math.min(d, Math.max(Lq, Lk));
        const rs = residueShift(S, d, off);
        const qo = d === 1 ? { index: null, segs: Int32Array.of(0, Lq) } : residueOrder(Lq, d, S);
        const ko = d === 1 ? { index: null, segs: Int32Array.of(0, Lk) } : residueOrder(Lk, d, S, rs.start);
        return [
          bandPart({
            label: d === 1 ? "window" : `dilated window (residues mod ${d})`,
            head,
            batch,
            qIndex: qo.index,
            kIndex: ko.index,
            qSegs: qo.segs,
            kSegs: ko.segs,
            lo: -right,
            hi: left,
            shift: d === 1 ? Int32Array.of(off) : rs.shift,
            tile,
            mask,
          }),
        ];
      };
      return { mask, classify, tile, plan };
    },
  };
}

/** Validated, sorted, duplicate-free global indices. */
function checkIndices(where: string, indices: unknown): Int32Array {
  const isList = Array.isArray(indices) || (ArrayBuffer.isView(indices) && !(indices instanceof DataView));
  if (!isList) throw new AttentionArgumentError(where, indices, "an array of distinct non-negative integer positions");
  const list = Array.from(indices as ArrayLike<unknown>);
  list.forEach((g, i) => {
    checkInt(`${where}[${i}]`, g, 0, 2 ** 31 - 1);
  });
  const sorted = Int32Array.from(list as number[]).sort();
  for (let i = 1; i < sorted.length; i++) {
    if (sorted[i] === sorted[i - 1]) {
      throw new AttentionArgumentError(where, list, `distinct positions; ${sorted[i]} appears more than once`);
    }
  }
  return sorted;
}

/** Number of entries of the sorted `g` in [a, b). */
function countIn(g: Int32Array, a: number, b: number): number {
  const lower = (x: number): number => {
    let lo = 0;
    let hi = g.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (g[mid] < x) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
  return b <= a ? 0 : lower(b) - lower(a);
}

export interface GlobalTokensOptions {
  /** Lq != Lk: positions are key positions; query q sits at q + Lk - Lq ("bottom-right", default) or at q ("top-left"). */
  align?: Align;
}

/** Symmetric global attention: the query at position g ∈ G sees every key, every query sees key g ∈ G. */
export function globalTokens(indices: readonly number[] | Int32Array, options: GlobalTokensOptions = {}): Pattern {
  const where = "patterns.globalTokens(indices)";
  const g = checkIndices(where, indices);
  const o = checkKeys("patterns.globalTokens(indices, options)", options, ["align"]);
  const align = checkAlign("patterns.globalTokens", o.align);
  return {
    name: `globalTokens(${listText(g)}${alignName(align)})`,
    headDependent: false,
    children: [],
    bind(dims: Dims): BoundPattern {
      const { queryLength: Lq, keyLength: Lk } = dims;
      const off = alignOffset(align, dims);
      const limit = Math.max(Lq + off, Lk);
      if (g.length > 0 && g[g.length - 1] >= limit) {
        throw new AttentionArgumentError(
          where,
          Array.from(g),
          `positions below the sequence length ${limit} (queryLength ${Lq}, keyLength ${Lk}); ${g[g.length - 1]} is out of range`,
        );
      }
      const gq = Int32Array.from(Array.from(g, (x) => x - off).filter((x) => x >= 0 && x < Lq)); // global rows (query positions)
      const gk = Int32Array.from(g.filter((x) => x < Lk)); // global columns
      const isQ = new Uint8Array(Lq); // [Lq] 1 = global query
      const isK = new Uint8Array(Lk); // [Lk] 1 = global key
      for (const x of gq) isQ[x] = 1;
      for (const x of gk) isK[x] = 1;
      const mask: MaskFn = (q, k) => isQ[q] === 1 || isK[k] === 1;
      const classify: TileClassifier = (q0, q1, k0, k1) => {
        const inQ = countIn(gq, q0, Math.min(q1, Lq));
        const inK = countIn(gk, k0, Math.min(k1, Lk));
        if (inQ === q1 - q0 || inK === k1 - k0) return FULL;
        return inQ === 0 && inK === 0 ? EMPTY : PARTIAL;
      };
      const others = new Int32Array(Lq - gq.length); // non-global rows, ascending
      let n = 0;
      for (let q = 0; q < Lq; q++) if (isQ[q] === 0) others[n++] = q;
      const plan = (head: number, batch: number): PartSpec[] => {
        const rowsTiles = uniformTiles(gq.length, 64);
        const allKeys = uniformTiles(Lk, 64);
        const otherTiles = uniformTiles(others.length, 64);
        const globalCols = uniformTiles(gk.length, 64);
        const parts: PartSpec[] = [];
        if (gq.length > 0) {
          parts.push({
            label: "global rows × all keys",
            head,
            batch,
            qIndex: gq,
            kIndex: null,
            qTiles: rowsTiles,
            kTiles: allKeys,
            mask,
            tilesFor: (_qt, visit) => {
              for (let kt = 0; kt + 1 < allKeys.length; kt++) visit(kt, FULL);
            },
          });
        }
        if (gk.length > 0 && others.length > 0) {
          parts.push({
            label: "other rows × global keys",
            head,
            batch,
            qIndex: others,
            kIndex: gk,
            qTiles: otherTiles,
            kTiles: globalCols,
            mask,
            tilesFor: (_qt, visit) => {
              for (let kt = 0; kt + 1 < globalCols.length; kt++) visit(kt, FULL);
            },
          });
        }
        return parts;
      };
      return { mask, classify, tile: 64, plan };
    },
  };
}

export interface LongformerOptions {
  /** ONE-sided window w: query q sees q - w·d ..= q + w·d. HuggingFace attention_window = 2·w. */
  window: number;
  /** Dilation d (default 1), or one per head. */
  dilation?: number | readonly number[];
  /** Positions with symmetric global attention (default none). */
  global?: readonly number[] | Int32Array;
  /** Lq != Lk: "bottom-right" (default) or "top-left", for the window and the global positions. */
  align?: Align;
}

/** Longformer attention: a (dilated) sliding window of one-sided width `window` plus global tokens. */
export function longformer(options: LongformerOptions): Pattern {
  const o = checkKeys("patterns.longformer(options)", options, ["window", "dilation", "global", "align"]);
  const w = checkInt("patterns.longformer({ window }) (one-sided width)", o.window, 0);
  const align = checkAlign("patterns.longformer", o.align);
  const dilation = o.dilation ?? 1;
  const win =
    dilation === 1
      ? slidingWindow({ left: w, right: w, align })
      : dilatedWindow({ left: w, right: w, dilation: dilation as number | number[], align });
  const global = o.global === undefined ? null : globalTokens(o.global as number[], { align });
  if (global === null) return win;
  const u = union(global, win);
  return {
    name: `longformer(window=${w}${dilation === 1 ? "" : `, dilation=${JSON.stringify(dilation)}`}, global=${listText(o.global as readonly number[])}${alignName(align)})`,
    headDependent: u.headDependent,
    children: u.children,
    op: "union",
    bind: (dims, opts) => u.bind(dims, opts),
  };
}
