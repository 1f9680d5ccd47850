/**
 * explain(): a plan's accounting without running it; the same numbers attention() reports in
 * stats. `explain(plan)` reads a compiled plan; `explain(pattern, dims)` counts the plan the
 * pattern would get WITHOUT building it: the analytic patterns (windows, dilated, global,
 * strided, fixed, BigBird, causal, dense, their unions and intersections, keyPadding) count
 * partial tiles in closed form, so no mask is materialised and the cost is O(visited tiles).
 */
import { planRequest } from "./compile.js";
import { checkPlan, countPlan, isPlan, looksLikePlan, type PlanTotals, planTotals } from "./layout/plan.js";
import type { Dims, PartSummary, Pattern, Plan, Tensor } from "./types.js";

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

function explanation(name: string, dims: Dims, B: number, t: PlanTotals, extra: number): Explanation {
  const { heads: H, queryLength: Lq, keyLength: Lk, headDim: D } = dims;
  return {
    pattern: name,
    dims: { queryLength: Lq, keyLength: Lk, heads: H, headDim: D },
    batch: B,
    parts: t.parts,
    tiles: t.tiles,
    allowedPairs: t.allowedPairs,
    scoredPairs: t.scoredPairs,
    efficiency: t.scoredPairs === 0 ? 1 : t.allowedPairs / t.scoredPairs,
    density: t.allowedPairs / B / H / Lq / Lk,
    flops: 4 * D * t.scoredPairs,
    bytes: t.planBytes + t.scratchBytes + extra,
  };
}

/** The accounting of a compiled plan, or of the plan `pattern` gets at `options` (counted, not built). */
export function explain(plan: Plan): Explanation;
export function explain(pattern: Pattern, options: ExplainOptions): Explanation;
export function explain(target: Pattern | Plan, options?: ExplainOptions): Explanation {
  if (isPlan(target) || looksLikePlan(target)) {
    const plan = checkPlan("explain(plan)", target);
    return explanation(plan.pattern, plan.dims, plan.batch, planTotals(plan), plan.keyBytes);
  }
  const { request, extraBytes } = planRequest("explain", target as Pattern, options);
  return explanation(request.pattern.name, request.dims, request.batch, countPlan(request), extraBytes);
}
