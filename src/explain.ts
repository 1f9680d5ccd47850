/** explain(): the plan's accounting without running it; the same numbers attention() reports in stats. */

import { resolveScale, transformKeys } from "./attention.js";
import { AttentionArgumentError, checkInt } from "./errors.js";
import { type PartSummary, planAll } from "./layout/plan.js";
import { checkPattern } from "./pattern/algebra.js";
import type { Dims, Pattern, Tensor } from "./types.js";
import { validateInputs } from "./validate.js";

export interface ExplainOptions {
  queryLength: number;
  keyLength?: number;
  heads?: number;
  headDim: number;
  batch?: number;
  /** Content-dependent patterns (lsh) plan from data: pass the tensors attention() would get. */
  q?: Tensor;
  k?: Tensor;
}

export interface Explanation {
  pattern: string;
  dims: Dims;
  batch: number;
  parts: PartSummary[];
  tiles: number;
  allowedPairs: number;
  scoredPairs: number;
  /** allowedPairs / scoredPairs (1 = no wasted score entries). */
  efficiency: number;
  /** allowedPairs / (B·H·Lq·Lk). */
  density: number;
  flops: number;
  bytes: number;
}

export function explain(pattern: Pattern, options: ExplainOptions): Explanation {
  checkPattern("pattern", pattern);
  if (options === null || typeof options !== "object") {
    throw new AttentionArgumentError("options", options, "{ queryLength, keyLength?, heads?, headDim, batch? }");
  }
  const Lq = checkInt("options.queryLength", options.queryLength, 1);
  const Lk = checkInt("options.keyLength", options.keyLength ?? Lq, 1);
  const H = checkInt("options.heads", options.heads ?? 1, 1);
  const D = checkInt("options.headDim", options.headDim, 1);
  const B = checkInt("options.batch", options.batch ?? 1, 1);
  const dims: Dims = { queryLength: Lq, keyLength: Lk, heads: H, headDim: D };
  let data = null;
  let extra = 0;
  if (options.q !== undefined && options.k !== undefined) {
    const s = validateInputs(options.q, options.k, options.k);
    if (s.Lq !== Lq || s.Lk !== Lk || s.H !== H || s.D !== D || s.B !== B) {
      throw new AttentionArgumentError(
        "options.q / options.k",
        options.q.shape,
        `shapes matching [${B}, ${H}, ${Lq}, ${D}]`,
      );
    }
    resolveScale(pattern, D, undefined);
    const kData = transformKeys(pattern, options.k.data, s);
    extra = kData === options.k.data ? 0 : kData.byteLength;
    data = { q: options.q.data, k: kData, kvHeads: s.Hkv };
  }
  const t = planAll(pattern, dims, B, data, null);
  return {
    pattern: pattern.name,
    dims,
    batch: B,
    parts: t.parts,
    tiles: t.tiles,
    allowedPairs: t.allowedPairs,
    scoredPairs: t.scoredPairs,
    efficiency: t.scoredPairs === 0 ? 1 : t.allowedPairs / t.scoredPairs,
    density: t.allowedPairs / (B * H * Lq * Lk),
    flops: 4 * D * t.scoredPairs,
    bytes: t.planBytes + t.scratchBytes + extra,
  };
}
