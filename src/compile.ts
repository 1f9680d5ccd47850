/**
 * compile(): the plan a pattern gets at given sizes, per head, as the kernel will execute it
 * (the same `planAll` that attention() and explain() use). For pictures, debugging and
 * custom kernels. Content-dependent patterns (lsh) plan from data: pass `q` and `k`.
 */
import { resolveScale, transformKeys } from "./attention.js";
import { AttentionArgumentError, checkInt } from "./errors.js";
import { planAll } from "./layout/plan.js";
import { checkPattern } from "./pattern/algebra.js";
import type { Dims, Pattern, PlanPart, Tensor } from "./types.js";
import { validateInputs } from "./validate.js";

export interface CompileOptions {
  queryLength: number;
  keyLength?: number;
  heads?: number;
  headDim: number;
  /** For content-dependent patterns (lsh): q [1, H, Lq, D] and k [1, Hkv, Lk, D]. */
  q?: Tensor;
  k?: Tensor;
}

export interface CompiledPattern {
  pattern: string;
  dims: Dims;
  /** `heads[h]`: the disjoint plan parts of head `h` (batch 0), in execution order. */
  heads: PlanPart[][];
  /** Pairs allowed / score entries visited, summed over heads. */
  allowedPairs: number;
  scoredPairs: number;
}

export function compile(pattern: Pattern, options: CompileOptions): CompiledPattern {
  checkPattern("pattern", pattern);
  if (options === null || typeof options !== "object") {
    throw new AttentionArgumentError("options", options, "{ queryLength, keyLength?, heads?, headDim, q?, k? }");
  }
  const Lq = checkInt("options.queryLength", options.queryLength, 1);
  const Lk = checkInt("options.keyLength", options.keyLength ?? Lq, 1);
  const H = checkInt("options.heads", options.heads ?? 1, 1);
  const D = checkInt("options.headDim", options.headDim, 1);
  const dims: Dims = { queryLength: Lq, keyLength: Lk, heads: H, headDim: D };
  let data = null;
  if (options.q !== undefined || options.k !== undefined) {
    if (options.q === undefined || options.k === undefined) {
      throw new AttentionArgumentError("options.q / options.k", options.q ?? options.k, "both q and k, or neither");
    }
    const s = validateInputs(options.q, options.k, options.k);
    if (s.B !== 1 || s.Lq !== Lq || s.Lk !== Lk || s.H !== H || s.D !== D) {
      throw new AttentionArgumentError("options.q / options.k", options.q.shape, `q of shape [1, ${H}, ${Lq}, ${D}]`);
    }
    resolveScale(pattern, D, undefined);
    data = { q: options.q.data, k: transformKeys(pattern, options.k.data, s), kvHeads: s.Hkv };
  }
  const heads: PlanPart[][] = new Array(H);
  const totals = planAll(pattern, dims, 1, data, (_b, h, parts) => {
    heads[h] = parts;
  });
  return { pattern: pattern.name, dims, heads, allowedPairs: totals.allowedPairs, scoredPairs: totals.scoredPairs };
}
