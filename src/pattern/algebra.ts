/**
 * The pattern algebra (after PyTorch FlexAttention's mask_mod, or_masks, and_masks):
 * a pattern is a mask function plus an analytic tile classifier, bound to sizes on use.
 * Seed families (Longformer, Sparse Transformer, BigBird, LSH) are factories on top.
 * Per-sequence patterns (perBatch, keyPadding) are in ./batch.ts.
 */
import { AttentionArgumentError, checkInt, describe } from "../errors.js";
import { bindPattern } from "../layout/check.js";
import { gridSpec, planSpecs } from "../layout/grid.js";
import { countPart, uniformTiles } from "../layout/part.js";
import { DENSE_TILE, registerDense } from "../layout/plan.js";
import { restrictSpec } from "../layout/union.js";
import { checkKeys } from "../options.js";
import {
  type BindOptions,
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

/** Every query attends every key. */
export function dense(): Pattern {
  const p: Pattern = {
    name: "dense",
    headDependent: false,
    children: [],
    bind(dims: Dims): BoundPattern {
      const qTiles = uniformTiles(dims.queryLength, DENSE_TILE);
      const kTiles = uniformTiles(dims.keyLength, DENSE_TILE);
      const numKT = kTiles.length - 1;
      const Lk = dims.keyLength;
      return {
        mask: () => true,
        classify: () => FULL,
        wide: true,
        plan: (head, batch) => [
          {
            label: "dense",
            head,
            batch,
            qIndex: null,
            kIndex: null,
            qTiles,
            kTiles,
            mask: () => true,
            tilesFor: (_qt, visit) => {
              for (let kt = 0; kt < numKT; kt++) visit(kt, FULL);
            },
            // explain: a row of full tiles in closed form ([tiles, allowed, scored, maskWords])
            countRow: (qt, acc) => {
              const rows = qTiles[qt + 1] - qTiles[qt];
              acc[0] += numKT;
              acc[1] += rows * Lk;
              acc[2] += rows * Lk;
              return true;
            },
          },
        ],
      };
    },
  };
  registerDense(p); // explain() counts it in closed form
  return p;
}

export type Align = "top-left" | "bottom-right";
export type CausalAlign = Align;

/** Validates an `align` option (default "bottom-right"). */
export function checkAlign(where: string, align: unknown): Align {
  const a = align ?? "bottom-right";
  if (a !== "top-left" && a !== "bottom-right") {
    throw new AttentionArgumentError(`${where}({ align })`, a, '"top-left" or "bottom-right" (default)');
  }
  return a;
}

/** The offset added to a query position to align it with the keys: Lk - Lq for "bottom-right", 0 for "top-left". */
export function alignOffset(align: Align, dims: Dims): number {
  return align === "top-left" ? 0 : dims.keyLength - dims.queryLength;
}

/**
 * Causal masking. `"bottom-right"` (default; FlashAttention >= 2.1) keeps `k <= q + Lk - Lq`,
 * so the last query sees every key: what decoding with a KV cache needs. `"top-left"`
 * (PyTorch SDPA's is_causal) keeps `k <= q`. They agree when Lq == Lk.
 */
export function causal(options: { align?: CausalAlign } = {}): Pattern {
  const o = checkKeys("patterns.causal(options)", options, ["align"]);
  const align = checkAlign("patterns.causal", o.align);
  return {
    name: align === "top-left" ? "causal(align=top-left)" : "causal()", // parses back (labels round-trip)
    headDependent: false,
    children: [],
    bind(dims: Dims): BoundPattern {
      const off = alignOffset(align, dims);
      return {
        mask: (q, k) => k <= q + off,
        classify: (q0, q1, k0, k1) => {
          if (k1 - 1 <= q0 + off) return FULL;
          if (k0 > q1 - 1 + off) return EMPTY;
          return PARTIAL;
        },
        count: (q0, q1, k0, k1) => {
          let n = 0;
          for (let q = q0; q < q1; q++) n += Math.max(0, Math.min(k1, q + off + 1) - k0); // keys k0 ..= min(k1 - 1, q + off)
          return n;
        },
      };
    },
  };
}

export interface MaskOptions {
  /** Analytic classifier for a query-tile × key-tile rectangle. Without it tiles are scanned. */
  tileKind?: TileClassifier;
  /** Name shown in pictures and explain(). */
  name?: string;
  /** Square tile of the grid the mask is planned on (default 64): e.g. the block size of a block-sparse mask. */
  tile?: number;
  /** Set true when the mask uses `h`. Default true (safe). */
  headDependent?: boolean;
  /** Set true when the mask uses `b` (the batch row). Default: the function declares a 4th parameter. */
  batchDependent?: boolean;
  /**
   * Without `tileKind` every pair is evaluated at planning time (Lq·Lk calls per plan): refused
   * above this many pairs. Default 2^26 (n ≈ 8192). Raise it, or better give `tileKind`.
   */
  scanLimit?: number;
}

export const DEFAULT_SCAN_LIMIT = 2 ** 26;

/**
 * A user mask `(q, k, h, b) => boolean` on original positions (`b` the batch row). Without
 * `tileKind`, every tile is treated as partial and scanned once at planning time: O(Lq·Lk)
 * calls, refused above `scanLimit` pairs.
 */
export function mask(fn: MaskFn, options: MaskOptions = {}): Pattern {
  if (typeof fn !== "function") {
    throw new AttentionArgumentError("patterns.mask(fn)", fn, "a function (q, k, h, b) => boolean");
  }
  const o = checkKeys("patterns.mask(fn, options)", options, [
    "tileKind",
    "name",
    "tile",
    "headDependent",
    "batchDependent",
    "scanLimit",
  ]) as MaskOptions;
  if (o.tileKind !== undefined && typeof o.tileKind !== "function") {
    throw new AttentionArgumentError(
      "patterns.mask(fn, { tileKind })",
      o.tileKind,
      "a function (q0, q1, k0, k1, h, b) => 0 | 1 | 2 (empty | partial | full), or omit it",
    );
  }
  for (const key of ["headDependent", "batchDependent"] as const) {
    if (o[key] !== undefined && typeof o[key] !== "boolean") {
      throw new AttentionArgumentError(`patterns.mask(fn, { ${key} })`, o[key], "true or false");
    }
  }
  const scanLimit = o.scanLimit ?? DEFAULT_SCAN_LIMIT;
  if (typeof scanLimit !== "number" || !(scanLimit >= 0)) {
    throw new AttentionArgumentError("patterns.mask(fn, { scanLimit })", scanLimit, "a number of pairs >= 0");
  }
  const name = o.name ?? "mask";
  const tile = o.tile === undefined ? undefined : checkInt("patterns.mask(fn, { tile })", o.tile, 1, 4096);
  const tk = o.tileKind;
  const classify: TileClassifier =
    tk === undefined
      ? () => PARTIAL
      : (q0, q1, k0, k1, h, b) => {
          const c = tk(q0, q1, k0, k1, h, b);
          if (c === 0 || c === 1 || c === 2) return c;
          throw new AttentionArgumentError(
            `patterns.mask: tileKind(q0=${q0}, q1=${q1}, k0=${k0}, k1=${k1}, h=${h}, b=${b})`,
            c,
            "0 (EMPTY), 1 (PARTIAL) or 2 (FULL)",
          );
        };
  const checked: MaskFn = (q, k, h, b) => {
    const r = fn(q, k, h, b);
    if (r === true || r === false) return r;
    throw new AttentionArgumentError(
      `patterns.mask: mask(q=${q}, k=${k}, h=${h}, b=${b})`,
      r,
      "true or false (a boolean; 1, 0, strings or undefined are not accepted)",
    );
  };
  const batchDependent = o.batchDependent ?? fn.length >= 4;
  return {
    name,
    headDependent: o.headDependent ?? true,
    children: [],
    bind(dims: Dims): BoundPattern {
      const pairs = dims.queryLength * dims.keyLength;
      if (tk === undefined && pairs > scanLimit) {
        throw new AttentionArgumentError(
          `patterns.mask(${name})`,
          `${dims.queryLength} × ${dims.keyLength} = ${pairs} pairs to scan`,
          `a classifier: give { tileKind: (q0, q1, k0, k1, h, b) => 0 | 1 | 2 } so planning skips empty and full tiles, or raise { scanLimit } (now ${scanLimit}) to scan every pair (Lq·Lk mask calls per plan)`,
        );
      }
      const bound: BoundPattern = { mask: checked, classify };
      if (tile !== undefined) bound.tile = tile;
      if (batchDependent) bound.batchKey = (b) => String(b);
      return bound;
    },
  };
}

export function checkComposable(what: string, members: unknown[]): Pattern[] {
  if (members.length === 0) {
    throw new AttentionArgumentError(`patterns.${what}()`, members, "at least one pattern");
  }
  members.forEach((p, i) => {
    if (p === null || typeof p !== "object" || typeof (p as Pattern).bind !== "function") {
      throw new AttentionArgumentError(`patterns.${what}(…) argument ${i}`, p, "a pattern from patterns.*");
    }
    if ((p as Pattern).content !== undefined) {
      throw new AttentionArgumentError(
        `patterns.${what}(…) argument ${i}`,
        (p as Pattern).name,
        "a pattern whose allowed set does not depend on the data; content-dependent patterns (lsh) do not compose — use them alone",
      );
    }
  });
  return members as Pattern[];
}

/** batchKey of a composite: the members' keys joined (absent when no member depends on the row). */
export function joinBatchKeys(bs: BoundPattern[]): ((b: number) => string) | undefined {
  const keyed = bs.filter((x) => x.batchKey !== undefined);
  if (keyed.length === 0) return undefined;
  return (b) => keyed.map((x) => x.batchKey!(b)).join(",");
}

function bindMembers(members: readonly Pattern[], dims: Dims, options?: BindOptions): BoundPattern[] {
  return members.map((m) => bindPattern(m, dims, options));
}

/** Pairs allowed by ANY member. Planned as disjoint parts merged by log-sum-exp when members plan themselves. */
export function union(...members: Pattern[]): Pattern {
  checkComposable("union", members);
  if (members.length === 1) return members[0];
  return {
    name: `union(${members.map((m) => m.name).join(", ")})`,
    headDependent: members.some((m) => m.headDependent),
    children: members,
    op: "union",
    bind(dims: Dims, options?: BindOptions): BoundPattern {
      const bs = bindMembers(members, dims, options);
      const masks = bs.map((b) => b.mask);
      const cls = bs.map((b) => b.classify);
      const n = bs.length;
      const bound: BoundPattern = {
        mask: (q, k, h, b) => {
          for (let i = 0; i < n; i++) if (masks[i](q, k, h, b)) return true;
          return false;
        },
        classify: (q0, q1, k0, k1, h, b) => {
          let any = false;
          for (let i = 0; i < n; i++) {
            const c = cls[i](q0, q1, k0, k1, h, b);
            if (c === FULL) return FULL;
            if (c === PARTIAL) any = true;
          }
          return any ? PARTIAL : EMPTY;
        },
        tile: Math.min(...bs.map((b) => b.tile ?? 64)),
      };
      const key = joinBatchKeys(bs);
      if (key !== undefined) bound.batchKey = key;
      if (bs.some((b) => b.plan !== undefined)) {
        const gridded = bs.some((b) => b.plan === undefined);
        bound.plan = (head, batch) => {
          const specs: PartSpec[] = [];
          for (let i = 0; i < n; i++) {
            for (const s of planSpecs(bs[i], dims, head, batch, members[i].name)) {
              specs.push(restrictSpec(s, bs.slice(0, i), "union"));
            }
          }
          if (!gridded) return specs;
          // members planned on the generic grid (user masks) can make the disjoint parts score
          // more than dense; then the union runs as one grid part instead (never above dense)
          let scored = 0;
          for (const s of specs) scored += countPart(s).scoredPairs;
          if (scored <= dims.queryLength * dims.keyLength) return specs;
          return [gridSpec({ ...bound, plan: undefined }, dims, head, batch, "union (one grid)")];
        };
      }
      return bound;
    },
  };
}

/** Pairs allowed by EVERY member. Planned on a member's own plan (or one tile grid), the others classifying its tiles. */
export function intersect(...members: Pattern[]): Pattern {
  checkComposable("intersect", members);
  if (members.length === 1) return members[0];
  return {
    name: `intersect(${members.map((m) => m.name).join(", ")})`,
    headDependent: members.some((m) => m.headDependent),
    children: members,
    op: "intersect",
    bind(dims: Dims, options?: BindOptions): BoundPattern {
      const bs = bindMembers(members, dims, options);
      const masks = bs.map((b) => b.mask);
      const cls = bs.map((b) => b.classify);
      const n = bs.length;
      const bound: BoundPattern = {
        mask: (q, k, h, b) => {
          for (let i = 0; i < n; i++) if (!masks[i](q, k, h, b)) return false;
          return true;
        },
        classify: (q0, q1, k0, k1, h, b): TileKind => {
          let all = true;
          for (let i = 0; i < n; i++) {
            const c = cls[i](q0, q1, k0, k1, h, b);
            if (c === EMPTY) return EMPTY;
            if (c !== FULL) all = false;
          }
          return all ? FULL : PARTIAL;
        },
        tile: Math.min(...bs.map((b) => b.tile ?? 64)),
      };
      const key = joinBatchKeys(bs);
      if (key !== undefined) bound.batchKey = key;
      let base = bs.findIndex((b) => b.plan !== undefined && b.wide !== true);
      if (base < 0) base = bs.findIndex((b) => b.plan !== undefined);
      if (base >= 0) {
        const others = bs.filter((_, i) => i !== base);
        bound.plan = (head, batch) => bs[base].plan!(head, batch).map((s) => restrictSpec(s, others, "intersect"));
      }
      return bound;
    },
  };
}

/** Throws a clear error unless `p` is a pattern. */
export function checkPattern(argument: string, p: unknown): Pattern {
  if (p === null || typeof p !== "object" || typeof (p as Pattern).bind !== "function") {
    throw new AttentionArgumentError(
      argument,
      p,
      `a pattern from patterns.* (e.g. patterns.causal()), not ${describe(p)}`,
    );
  }
  return p as Pattern;
}
