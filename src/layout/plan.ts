/**
 * Compiling a pattern for given sizes into per-(batch, head) plans, and the accounting that
 * attention() reports in stats and explain() reports without running: allowed pairs, scored
 * pairs, FLOPs, bytes of working memory.
 */
import { AttentionArgumentError } from "../errors.js";
import { maxTile } from "../kernels/tiled.js";
import type { Dims, Pattern, PlanPart } from "../types.js";
import { planHead } from "./grid.js";
import { partBytes } from "./part.js";

export interface PlanData {
  /** q: [B, H, Lq, D]; keys already transformed by the pattern: [B, Hkv, Lk, D]. */
  q: Float32Array;
  k: Float32Array;
  kvHeads: number;
}

export interface PartSummary {
  label: string;
  tiles: number;
  allowedPairs: number;
  scoredPairs: number;
}

export interface PlanTotals {
  allowedPairs: number;
  scoredPairs: number;
  tiles: number;
  /** Parts of the first head's plan (as a summary). */
  parts: PartSummary[];
  /** Largest plan held at once, in bytes. */
  planBytes: number;
  /** Scratch bytes the tiled kernel needs for the largest tiles. */
  scratchBytes: number;
}

export function scratchBytes(parts: PlanPart[], D: number): number {
  let best = 0;
  for (const p of parts) {
    const tq = maxTile(p.qTiles);
    const tk = maxTile(p.kTiles);
    best = Math.max(best, (2 * tq * D + 2 * tq + 3 * tk) * 4); // must match TiledScratch.bytes
  }
  return best;
}

function summarize(parts: PlanPart[]): PartSummary[] {
  return parts.map((p) => ({
    label: p.label,
    tiles: p.colIdx.length,
    allowedPairs: p.allowedPairs,
    scoredPairs: p.scoredPairs,
  }));
}

/**
 * Plans every (batch, head) and calls `visit` with each plan, heads outer so a head's plan is
 * built once and shared by the batch (content-dependent patterns plan each pair from data).
 */
export function planAll(
  pattern: Pattern,
  dims: Dims,
  batch: number,
  data: PlanData | null,
  visit: ((b: number, h: number, parts: PlanPart[]) => void) | null,
): PlanTotals {
  const totals: PlanTotals = { allowedPairs: 0, scoredPairs: 0, tiles: 0, parts: [], planBytes: 0, scratchBytes: 0 };
  const add = (b: number, h: number, parts: PlanPart[], count: number): void => {
    for (const p of parts) {
      totals.allowedPairs += p.allowedPairs * count;
      totals.scoredPairs += p.scoredPairs * count;
      totals.tiles += p.colIdx.length * count;
    }
    if (b === 0 && h === 0) totals.parts = summarize(parts);
    totals.planBytes = Math.max(
      totals.planBytes,
      parts.reduce((s, p) => s + partBytes(p), 0),
    );
    totals.scratchBytes = Math.max(totals.scratchBytes, scratchBytes(parts, dims.headDim));
  };
  const { heads: H, queryLength: Lq, keyLength: Lk, headDim: D } = dims;
  const content = pattern.content;
  if (content !== undefined) {
    if (data === null) {
      throw new AttentionArgumentError(
        "explain(pattern)",
        pattern.name,
        "a pattern whose plan does not depend on the data; for a content-dependent pattern (lsh) pass { q, k } tensors to explain() or call attention()",
      );
    }
    const group = H / data.kvHeads;
    for (let h = 0; h < H; h++) {
      const kvh = Math.floor(h / group);
      for (let b = 0; b < batch; b++) {
        const qBlock = data.q.subarray((b * H + h) * Lq * D, (b * H + h + 1) * Lq * D); // q: [B, H, Lq, D]
        const kRow = b * data.kvHeads + kvh;
        const kBlock = data.k.subarray(kRow * Lk * D, (kRow + 1) * Lk * D); // k: [B, Hkv, Lk, D]
        const parts = content.plan({ dims, batch: b, head: h, q: qBlock, k: kBlock });
        add(b, h, parts, 1);
        if (visit) visit(b, h, parts);
      }
    }
    return totals;
  }
  const bound = pattern.bind(dims);
  let shared: PlanPart[] | null = null;
  for (let h = 0; h < H; h++) {
    let parts: PlanPart[];
    if (pattern.headDependent || shared === null) {
      parts = planHead(bound, dims, h);
      if (!pattern.headDependent) shared = parts;
    } else {
      parts = shared;
    }
    if (visit === null) {
      add(0, h, parts, batch);
      continue;
    }
    for (let b = 0; b < batch; b++) {
      add(b, h, parts, 1);
      visit(b, h, parts);
    }
  }
  return totals;
}
