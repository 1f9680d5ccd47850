/**
 * The ONE planning path. compile() builds a Plan (a frozen value), attention() builds one or
 * takes the caller's, explain() counts one without building it (analytic patterns never
 * materialise masks there) or accounts a given Plan. Both modes walk the same specs:
 * per (batch row, head), the pattern's part specs, built or counted by src/layout/part.ts.
 * Equal plans are shared: across heads unless the pattern is head-dependent, across batch
 * rows with the same `batchKey` (every row unless the pattern is batch-dependent).
 */

import { maxTile } from "../backends/js/tiled.js";
import { AttentionArgumentError } from "../errors.js";
import type { Dims, PartSpec, PartSummary, Pattern, Plan, PlanPart } from "../types.js";
import { bindPattern } from "./check.js";
import { planSpecs } from "./grid.js";
import { buildPart, countPart, type PartCount, partBytes } from "./part.js";

export interface PlanData {
  /** q: [B, H, Lq, D]; keys already transformed by the pattern: [B, Hkv, Lk, D]. */
  q: Float32Array;
  k: Float32Array;
  kvHeads: number;
}

export interface PlanTotals {
  allowedPairs: number;
  scoredPairs: number;
  tiles: number;
  /** Parts of batch row 0, head 0 (as a summary). */
  parts: PartSummary[];
  /** Bytes of the distinct plans' arrays. */
  planBytes: number;
  /** Scratch bytes the tiled kernel needs for the largest tiles. */
  scratchBytes: number;
}

/** Scratch bytes of the tiled kernel for tiles of tq × tk; must match TiledScratch.bytes. */
function scratchFor(tq: number, tk: number, D: number): number {
  return (2 * tq * D + 2 * tq + 3 * tk) * 4;
}

export interface PlanRequest {
  pattern: Pattern;
  dims: Dims;
  batch: number;
  data: PlanData | null;
  check?: boolean;
  /** Bytes of keys the pattern transformed to plan (lsh); explain(plan) counts them as attention() does. */
  keyBytes?: number;
}

/** Plans every (batch row, head) with `make` (build or count); equal plans are one array. */
function planRows<T extends { scoredPairs: number }>(r: PlanRequest, make: (s: PartSpec) => T): T[][] {
  const { pattern, dims, batch: B, data } = r;
  const { heads: H, queryLength: Lq, keyLength: Lk, headDim: D } = dims;
  const rows: T[][] = new Array(B * H);
  const finish = (specs: PartSpec[]): T[] => specs.map(make).filter((p) => p.scoredPairs > 0);
  const content = pattern.content;
  if (content !== undefined) {
    if (data === null) {
      throw new AttentionArgumentError(
        "pattern",
        pattern.name,
        "data to plan from: this pattern is content-dependent (it plans from q and k); pass { q, k } tensors to compile() or explain(), or call attention()",
      );
    }
    const group = H / data.kvHeads;
    for (let h = 0; h < H; h++) {
      const kvh = Math.floor(h / group);
      for (let b = 0; b < B; b++) {
        const qBlock = data.q.subarray((b * H + h) * Lq * D, (b * H + h + 1) * Lq * D); // q: [B, H, Lq, D]
        const kRow = b * data.kvHeads + kvh;
        const kBlock = data.k.subarray(kRow * Lk * D, (kRow + 1) * Lk * D); // k: [B, Hkv, Lk, D]
        rows[b * H + h] = finish(content.plan({ dims, batch: b, head: h, q: qBlock, k: kBlock }));
      }
    }
    return rows;
  }
  const bound = bindPattern(pattern, dims, { check: r.check === true });
  const cache = new Map<string, T[]>();
  for (let b = 0; b < B; b++) {
    const bKey = bound.batchKey === undefined ? "" : bound.batchKey(b);
    for (let h = 0; h < H; h++) {
      const key = `${bKey}|${pattern.headDependent ? h : 0}`;
      let parts = cache.get(key);
      if (parts === undefined) {
        parts = finish(planSpecs(bound, dims, h, b, pattern.name));
        cache.set(key, parts);
      }
      rows[b * H + h] = parts;
    }
  }
  return rows;
}

function totalsOf<T>(
  rows: T[][],
  D: number,
  info: (p: T) => {
    label: string;
    tiles: number;
    allowed: number;
    scored: number;
    bytes: number;
    tq: number;
    tk: number;
  },
): PlanTotals {
  const t: PlanTotals = { allowedPairs: 0, scoredPairs: 0, tiles: 0, parts: [], planBytes: 0, scratchBytes: 0 };
  const seen = new Set<T[]>();
  for (const parts of rows) {
    const fresh = !seen.has(parts);
    seen.add(parts);
    for (const p of parts) {
      const x = info(p);
      t.allowedPairs += x.allowed;
      t.scoredPairs += x.scored;
      t.tiles += x.tiles;
      if (fresh) {
        t.planBytes += x.bytes;
        t.scratchBytes = Math.max(t.scratchBytes, scratchFor(x.tq, x.tk, D));
      }
    }
  }
  t.parts = (rows[0] ?? []).map((p) => {
    const x = info(p);
    return { label: x.label, tiles: x.tiles, allowedPairs: x.allowed, scoredPairs: x.scored };
  });
  return t;
}

const builtInfo = (p: PlanPart) => ({
  label: p.label,
  tiles: p.colIdx.length,
  allowed: p.allowedPairs,
  scored: p.scoredPairs,
  bytes: partBytes(p),
  tq: maxTile(p.qTiles),
  tk: maxTile(p.kTiles),
});

const countInfo = (p: PartCount) => ({
  label: p.label,
  tiles: p.tiles,
  allowed: p.allowedPairs,
  scored: p.scoredPairs,
  bytes: p.bytes,
  tq: p.tqMax,
  tk: p.tkMax,
});

let plansBuilt = 0;

/** Plans built since the process started (tests: a reused plan does no planning). */
export function planBuilds(): number {
  return plansBuilt;
}

/** Builds the frozen Plan value. */
export function buildPlan(r: PlanRequest): Plan {
  const rows = planRows(r, buildPart);
  plansBuilt++;
  return planFromRows(r, rows);
}

/**
 * The frozen Plan value of rows already built (buildPlan's, or a plan's rows sent to a worker,
 * where structured cloning keeps shared rows shared); no planning.
 */
export function planFromRows(r: PlanRequest, rows: PlanPart[][]): Plan {
  const t = totalsOf(rows, r.dims.headDim, builtInfo);
  const seen = new Set<PlanPart[]>();
  for (const parts of rows) {
    if (seen.has(parts)) continue;
    seen.add(parts);
    for (const p of parts) Object.freeze(p);
    Object.freeze(parts);
  }
  const H = r.dims.heads;
  const plan: Plan = {
    kind: "sparse-attention/plan",
    pattern: r.pattern.name,
    source: r.pattern,
    dims: Object.freeze({ ...r.dims }),
    batch: r.batch,
    rows: Object.freeze(rows) as PlanPart[][],
    heads: Object.freeze(rows.slice(0, H)) as PlanPart[][],
    fromData: r.pattern.content !== undefined,
    allowedPairs: t.allowedPairs,
    scoredPairs: t.scoredPairs,
    tiles: t.tiles,
    parts: Object.freeze(t.parts.map((p) => Object.freeze(p))),
    planBytes: t.planBytes,
    scratchBytes: t.scratchBytes,
    keyBytes: r.keyBytes ?? 0,
  };
  made.add(plan);
  return Object.freeze(plan);
}

/**
 * The private brand: every Plan this module built, held weakly. A plan copied (structured
 * clone, JSON round trip, spread) or assembled by hand is not in it, so its rows, dims and
 * counts — which the kernels index memory with — are never trusted.
 */
const made = new WeakSet<object>();

/** The accounting of a plan without building it (no masks materialised where the planners count analytically). */
export function countPlan(r: PlanRequest): PlanTotals {
  if (isDensePattern(r.pattern)) return denseTotals(r.dims, r.batch);
  return totalsOf(planRows(r, countPart), r.dims.headDim, countInfo);
}

/** Tile side of dense()'s plan. */
export const DENSE_TILE = 64;

/** The patterns dense() made (registered by the factory): countPlan counts them in closed form. */
const densePatterns = new WeakSet<Pattern>();

/** Called by patterns.dense() on what it returns (not by compositions, not by masks named "dense"). */
export function registerDense(p: Pattern): void {
  densePatterns.add(p);
}

/** True for a pattern dense() returned. */
export function isDensePattern(p: Pattern): boolean {
  return densePatterns.has(p);
}

/**
 * dense()'s accounting in O(1) (counting its plan visits ⌈Lq/64⌉·⌈Lk/64⌉ tiles: 3 s at
 * n = 10^6, hours at 10^8): one part of full DENSE_TILE tiles shared by every (batch row,
 * head); its arrays are qTiles, kTiles, rowPtr (Int32, ⌈L/64⌉ + 1 each) and colIdx + maskOff
 * (Int32 per tile), as buildPart makes them. test/cli-safety.test.ts compares it with the
 * built plan. Unlike building, it does not refuse plans past the Int32 tile-entry limit:
 * explain answers what dense would cost at any length.
 */
function denseTotals(dims: Dims, B: number): PlanTotals {
  const { queryLength: Lq, keyLength: Lk, heads: H, headDim: D } = dims;
  const qT = Math.ceil(Lq / DENSE_TILE);
  const kT = Math.ceil(Lk / DENSE_TILE);
  const head = Lq * Lk;
  return {
    allowedPairs: B * H * head,
    scoredPairs: B * H * head,
    tiles: B * H * qT * kT,
    parts: [{ label: "dense", tiles: qT * kT, allowedPairs: head, scoredPairs: head }],
    planBytes: 4 * (qT + 1) + 4 * (kT + 1) + 4 * (qT + 1) + 8 * qT * kT,
    scratchBytes: scratchFor(Math.min(DENSE_TILE, Lq), Math.min(DENSE_TILE, Lk), D),
  };
}

/** The accounting a built Plan carries. */
export function planTotals(p: Plan): PlanTotals {
  return {
    allowedPairs: p.allowedPairs,
    scoredPairs: p.scoredPairs,
    tiles: p.tiles,
    parts: p.parts.map((x) => ({ ...x })),
    planBytes: p.planBytes,
    scratchBytes: p.scratchBytes,
  };
}

/** True for a Plan value from compile() (in this realm). */
export function isPlan(x: unknown): x is Plan {
  return x !== null && typeof x === "object" && made.has(x);
}

/** True for an object that claims to be a plan (has the plan's `kind`) whether or not compile() made it. */
export function looksLikePlan(x: unknown): boolean {
  return x !== null && typeof x === "object" && (x as { kind?: unknown }).kind === "sparse-attention/plan";
}

/** Throws unless `x` is a Plan made by compile(); a copied, deserialised or edited plan is named as such. */
export function checkPlan(argument: string, x: unknown): Plan {
  if (isPlan(x)) return x;
  if (looksLikePlan(x)) {
    throw new AttentionArgumentError(
      argument,
      "a plan-shaped object that compile() did not make (a copy, a JSON round trip, a spread or an edit)",
      "the Plan value compile(pattern, dims) returned in this process: only plans made by compile() are accepted, because the kernels index memory with a plan's rows; compile the pattern again instead of copying a plan",
    );
  }
  throw new AttentionArgumentError(argument, x, "a plan from compile(pattern, dims)");
}
