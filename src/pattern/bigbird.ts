/**
 * BigBird: Zaheer et al., "Big Bird: Transformers for Longer Sequences" (NeurIPS 2020), §2 and
 * App. D; the ITC layout as in HuggingFace's BigBirdBlockSparseAttention.
 * Positions are cut into blocks of b tokens; nb = ceil(n / b) blocks (the last one may be short).
 * With qb = floor(q / b) and kb = floor(k / b), key k is allowed for query q iff
 *   qb ∈ {0, nb-1}                    (global query blocks see every key), or
 *   kb ∈ {0, nb-1}                    (global key blocks are seen by every query), or
 *   |qb - kb| <= 1                    (sliding window of three blocks), or
 *   kb ∈ R[h][qb - 1]                 (random key blocks of query block qb in head h, 1 <= qb <= nb-2).
 * R is drawn per head from a seeded generator (`{ randomBlocks, seed }`), each row from the
 * blocks not already in it (not 0, nb-1, qb-1, qb, qb+1), without repetition; a row with fewer
 * candidates than randomBlocks takes them all. Or the caller passes `randomTable[h][qb-1][r]`
 * (as HF draws it: rand_attn of shape (heads, nb-2, r)); the allowed SET is then used, so a
 * table entry that repeats a block of the row adds nothing (HF counts such a block twice).
 * n not a multiple of b: the last block is short; this equals HF run on input padded to a
 * multiple of b with the padding masked (HF itself requires multiples). Optional `global`
 * positions add ETC-style symmetric global tokens (a union with globalTokens).
 * Self-attention only: queryLength must equal keyLength.
 *
 * Planning at true cost: tiles are the blocks; every visited tile is full (set semantics,
 * deduplicated), so scoredPairs = allowedPairs.
 */
import { AttentionArgumentError, checkInt } from "../errors.js";
import { blockSegs } from "../layout/bands.js";
import { segmentedTiles, uniformTiles } from "../layout/part.js";
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
import { Rng } from "../util/rng.js";
import { type Align, alignOffset, checkAlign, union } from "./algebra.js";
import { globalTokens, listText } from "./longformer.js";

export interface BigBirdOptions {
  /** Block length b (HF block_size, default there 64). */
  blockSize: number;
  /** Random key blocks per query block (HF num_random_blocks); default 3. Not with randomTable. */
  randomBlocks?: number;
  /** Seed of the per-head draw; default 0. */
  seed?: number;
  /** The random blocks, randomTable[h][qb - 1][r] for query blocks 1 ..= nb-2 (HF's rand_attn). */
  randomTable?: ArrayLike<ArrayLike<ArrayLike<number>>>;
  /** Extra global token positions (ETC), symmetric as in globalTokens. */
  global?: readonly number[] | Int32Array;
  /** queryLength < keyLength: the queries are the last rows of the layout ("bottom-right", default) or the first ("top-left"). */
  align?: Align;
}

/** Draws one head's table [nb, R] (row qb; -1 = none) from the blocks not in the row. */
function drawHead(nb: number, R: number, seed: number, head: number): Int32Array {
  const table = new Int32Array(nb * R).fill(-1); // [nb, R]
  const rng = new Rng((seed + Math.imul(head + 1, 0x9e3779b1)) | 0);
  const cand = new Int32Array(nb);
  for (let qb = 1; qb + 1 < nb; qb++) {
    let m = 0;
    const inRow = (x: number): boolean => x === 0 || x === nb - 1 || (x >= qb - 1 && x <= qb + 1);
    const available = nb - 2 - (qb - 1 >= 1 ? 1 : 0) - 1 - (qb + 1 <= nb - 2 ? 1 : 0);
    const take = Math.min(R, available);
    if (take <= 0) continue;
    if (available <= 4 * take) {
      for (let x = 1; x + 1 < nb; x++) if (!inRow(x)) cand[m++] = x;
      for (let r = 0; r < take; r++) {
        const pick = r + rng.int(m - r); // partial Fisher-Yates
        const t = cand[pick];
        cand[pick] = cand[r];
        cand[r] = t;
        table[qb * R + r] = t;
      }
      continue;
    }
    for (let r = 0; r < take; ) {
      const x = 1 + rng.int(nb - 2);
      if (inRow(x)) continue;
      let dup = false;
      for (let s = 0; s < r; s++) if (table[qb * R + s] === x) dup = true;
      if (dup) continue;
      table[qb * R + r++] = x;
    }
  }
  return table;
}

/** Validates a caller's table against nb and heads; returns per-head [nb, R] tables. */
function tableFromCaller(
  t: ArrayLike<ArrayLike<ArrayLike<number>>>,
  nb: number,
  heads: number,
  R: number,
): Int32Array[] {
  const where = "patterns.bigBird({ randomTable })";
  if (t.length !== heads) {
    throw new AttentionArgumentError(
      where,
      t,
      `one table per head: ${heads} entries of [nb - 2 = ${nb - 2}][${R}] blocks`,
    );
  }
  const out: Int32Array[] = [];
  for (let h = 0; h < heads; h++) {
    const rows = t[h];
    if (rows === null || typeof rows !== "object" || rows.length !== Math.max(0, nb - 2)) {
      throw new AttentionArgumentError(
        `${where}[${h}]`,
        rows,
        `${Math.max(0, nb - 2)} rows (query blocks 1 ..= nb-2, nb = ${nb})`,
      );
    }
    const table = new Int32Array(nb * R).fill(-1); // [nb, R]
    for (let i = 0; i < rows.length; i++) {
      const row = rows[i];
      if (row === null || typeof row !== "object" || row.length !== R) {
        throw new AttentionArgumentError(`${where}[${h}][${i}]`, row, `${R} block indices`);
      }
      for (let r = 0; r < R; r++) table[(i + 1) * R + r] = checkInt(`${where}[${h}][${i}][${r}]`, row[r], 0, nb - 1);
    }
    out.push(table);
  }
  return out;
}

/** BigBird ITC block-sparse attention (global first/last blocks, 3-block window, random blocks). */
export function bigBird(options: BigBirdOptions): Pattern {
  const where = "patterns.bigBird";
  checkKeys(`${where}(options)`, options, ["blockSize", "randomBlocks", "seed", "randomTable", "global", "align"]);
  const align = checkAlign(where, options.align);
  const b = checkInt(`${where}({ blockSize })`, options.blockSize, 1);
  const caller = options.randomTable;
  if (caller !== undefined && (caller === null || typeof caller !== "object")) {
    throw new AttentionArgumentError(
      `${where}({ randomTable })`,
      caller,
      "an array [heads][nb - 2][randomBlocks] of block indices",
    );
  }
  if (caller !== undefined && options.seed !== undefined) {
    throw new AttentionArgumentError(
      `${where}({ seed })`,
      options.seed,
      "no seed with randomTable (the table fixes the blocks)",
    );
  }
  const tableR = caller !== undefined && caller.length > 0 && caller[0].length > 0 ? caller[0][0].length : undefined;
  const R =
    options.randomBlocks === undefined
      ? (tableR ?? 3)
      : checkInt(`${where}({ randomBlocks })`, options.randomBlocks, 0, tableR ?? Number.MAX_SAFE_INTEGER);
  if (tableR !== undefined && R !== tableR) {
    throw new AttentionArgumentError(`${where}({ randomBlocks })`, R, `${tableR}, the table's row length (or omit it)`);
  }
  const seed = caller === undefined ? checkInt(`${where}({ seed })`, options.seed ?? 0, 0, 2 ** 32 - 1) : 0;
  const name = `bigBird(blockSize=${b}, randomBlocks=${R}${caller ? ", randomTable" : `, seed=${seed}`}${align === "top-left" ? ", align=top-left" : ""})`;
  const core: Pattern = {
    name,
    headDependent: R > 0,
    children: [],
    bind(dims: Dims): BoundPattern {
      if (dims.queryLength > dims.keyLength) {
        throw new AttentionArgumentError(
          `${where}: queryLength`,
          dims.queryLength,
          `at most keyLength ${dims.keyLength}: BigBird's ITC layout is self-attention on one sequence of keyLength; fewer queries are its last rows ("bottom-right", default) or first rows ("top-left")`,
        );
      }
      const n = dims.keyLength;
      const off = alignOffset(align, dims); // query q is row q + off of the square layout
      const nb = Math.ceil(n / b);
      const given = caller === undefined ? null : tableFromCaller(caller, nb, dims.heads, R);
      const cache = new Map<number, Int32Array>();
      const tableOf = (h: number): Int32Array => {
        let t = given === null ? cache.get(h) : given[h];
        if (t === undefined) {
          t = drawHead(nb, R, seed, h);
          cache.set(h, t);
        }
        return t;
      };
      const blockAllowed = (qb: number, kb: number, h: number): boolean => {
        if (qb === 0 || qb === nb - 1 || kb === 0 || kb === nb - 1) return true;
        if (kb >= qb - 1 && kb <= qb + 1) return true;
        const t = tableOf(h);
        for (let r = 0; r < R; r++) if (t[qb * R + r] === kb) return true; // table: [nb, R]
        return false;
      };
      const mask: MaskFn = (q, k, h) => blockAllowed(Math.floor((q + off) / b), Math.floor(k / b), h);
      const classify: TileClassifier = (q0, q1, k0, k1, h) => {
        const qa = Math.floor((q0 + off) / b);
        const qz = Math.floor((q1 - 1 + off) / b);
        const ka = Math.floor(k0 / b);
        const kz = Math.floor((k1 - 1) / b);
        if ((qz - qa + 1) * (kz - ka + 1) > 64) return PARTIAL;
        let any = false;
        let all = true;
        for (let qb = qa; qb <= qz; qb++) {
          for (let kb = ka; kb <= kz; kb++) {
            if (blockAllowed(qb, kb, h)) any = true;
            else all = false;
          }
        }
        return all ? FULL : any ? PARTIAL : EMPTY;
      };
      const tiles = uniformTiles(n, b);
      const qTiles = segmentedTiles(blockSegs(dims.queryLength, b, nb, off), b); // query tiles = the blocks of rows q + off
      const plan = (head: number, batch: number): PartSpec[] => {
        const t = tableOf(head);
        const stamp = new Int32Array(nb).fill(-1); // last query block that visited key block kb
        const part: PartSpec = {
          label: `blocks of ${b}: global, window, random`,
          head,
          batch,
          qIndex: null,
          kIndex: null,
          qTiles,
          kTiles: tiles,
          mask,
          tilesFor: (qt, visit) => {
            const qb = Math.floor((qTiles[qt] + off) / b);
            if (qb === 0 || qb === nb - 1) {
              for (let kb = 0; kb < nb; kb++) visit(kb, FULL);
              return;
            }
            const add = (kb: number): void => {
              if (kb < 0 || kb >= nb || stamp[kb] === qb) return;
              stamp[kb] = qb;
              visit(kb, FULL);
            };
            add(0);
            add(nb - 1);
            add(qb - 1);
            add(qb);
            add(qb + 1);
            for (let r = 0; r < R; r++) add(t[qb * R + r]);
          },
        };
        return [part];
      };
      return { mask, classify, tile: b, plan };
    },
  };
  if (options.global === undefined) return core;
  const u = union(globalTokens(options.global, { align }), core);
  const g = `, global=${listText(options.global)}`;
  return { ...u, name: name.replace(/\)$/, `${g})`) };
}
