/**
 * Per-sequence patterns: the allowed set may differ between the rows of a batch.
 *   perBatch([p0, p1, …])   row b follows pattern p_b (each distinct pattern object is bound
 *                            and planned once; rows with the same object share its plan)
 *   keyPadding(lengths)     row b allows keys k < lengths[b] (padded batches); a key range,
 *                            planned and counted without masks: in intersect() it only drops
 *                            or cuts the tiles that reach past the length
 * Both compose with union / intersect, e.g. a padded Longformer batch with per-row globals:
 *   intersect(perBatch(rows.map((g) => longformer({ window, global: g }))), keyPadding(lens))
 */
import { AttentionArgumentError, checkInt } from "../errors.js";
import { bindPattern } from "../layout/check.js";
import { planSpecs } from "../layout/grid.js";
import { uniformTiles } from "../layout/part.js";
import { type BindOptions, type BoundPattern, type Dims, EMPTY, FULL, PARTIAL, type Pattern } from "../types.js";
import { checkComposable } from "./algebra.js";

function checkRows(where: string, dims: Dims, count: number): void {
  const B = dims.batch ?? 1;
  if (count !== B) {
    throw new AttentionArgumentError(
      where,
      `${count} rows`,
      `one per batch row: ${B} (the batch: q's first dimension, dims.batch of compile/explain, --batch on the CLI)`,
    );
  }
}

/** Row b of the batch follows `rows[b]`. */
export function perBatch(rows: readonly Pattern[]): Pattern {
  const where = "patterns.perBatch(rows)";
  if (!Array.isArray(rows)) throw new AttentionArgumentError(where, rows, "an array of patterns, one per batch row");
  const list = checkComposable("perBatch", rows);
  const distinct: Pattern[] = [];
  const index = list.map((p) => {
    let i = distinct.indexOf(p);
    if (i < 0) i = distinct.push(p) - 1;
    return i;
  });
  return {
    name: `perBatch([${list.map((p) => p.name).join(", ")}])`,
    headDependent: distinct.some((p) => p.headDependent),
    children: distinct,
    bind(dims: Dims, options?: BindOptions): BoundPattern {
      checkRows(where, dims, list.length);
      const bs = distinct.map((p) => bindPattern(p, dims, options));
      const of = (b: number): BoundPattern => bs[index[b]];
      return {
        mask: (q, k, h, b = 0) => of(b).mask(q, k, h, b),
        classify: (q0, q1, k0, k1, h, b = 0) => of(b).classify(q0, q1, k0, k1, h, b),
        tile: Math.min(...bs.map((x) => x.tile ?? 64)),
        batchKey: (b) => {
          const x = of(b);
          return x.batchKey === undefined ? `p${index[b]}` : `p${index[b]}:${x.batchKey(b)}`;
        },
        plan: (head, b) => planSpecs(of(b), dims, head, b, distinct[index[b]].name),
      };
    },
  };
}

/** Row b allows only keys k < lengths[b] (every query row; combine with other patterns by intersect). */
export function keyPadding(lengths: readonly number[] | Int32Array): Pattern {
  const where = "patterns.keyPadding(lengths)";
  const isList = Array.isArray(lengths) || (ArrayBuffer.isView(lengths) && !(lengths instanceof DataView));
  if (!isList) throw new AttentionArgumentError(where, lengths, "an array of key lengths, one per batch row");
  const lens = Int32Array.from(Array.from(lengths as ArrayLike<unknown>), (x, i) =>
    checkInt(`${where}[${i}]`, x, 0, 2 ** 31 - 1),
  );
  return {
    name: `keyPadding([${Array.from(lens).join(", ")}])`,
    headDependent: false,
    children: [],
    bind(dims: Dims): BoundPattern {
      checkRows(where, dims, lens.length);
      for (let b = 0; b < lens.length; b++) {
        if (lens[b] > dims.keyLength) {
          throw new AttentionArgumentError(`${where}[${b}]`, lens[b], `a length <= the key length ${dims.keyLength}`);
        }
      }
      const qTiles = uniformTiles(dims.queryLength, 64);
      const kTiles = uniformTiles(dims.keyLength, 64);
      return {
        mask: (_q, k, _h, b = 0) => k < lens[b],
        classify: (_q0, _q1, k0, k1, _h, b = 0) => (k1 <= lens[b] ? FULL : k0 >= lens[b] ? EMPTY : PARTIAL),
        wide: true,
        batchKey: (b) => `L${lens[b]}`,
        plan: (head, b) => {
          const len = lens[b];
          const mask = (_q: number, k: number): boolean => k < len;
          return [
            {
              label: `keys < ${len}`,
              head,
              batch: b,
              qIndex: null,
              kIndex: null,
              qTiles,
              kTiles,
              mask,
              tilesFor: (_qt, visit) => {
                for (let kt = 0; kt + 1 < kTiles.length && kTiles[kt] < len; kt++) {
                  visit(kt, kTiles[kt + 1] <= len ? FULL : PARTIAL);
                }
              },
              count: (qt, kt) => (qTiles[qt + 1] - qTiles[qt]) * (len - kTiles[kt]),
            },
          ];
        },
      };
    },
  };
}
