/**
 * compile(): a pattern planned for given sizes, as a frozen Plan VALUE that
 * attention(q, k, v, { plan }) runs with no planning and explain(plan) accounts. For models
 * (compile once per distinct pattern, reuse across layers), pictures, debugging and custom
 * kernels. Content-dependent patterns (lsh) plan from data: pass `q` and `k`.
 *
 * compile(), explain() and attention() share this module's request checking and the single
 * planner in src/layout/plan.ts.
 */
import { transformKeys } from "./backends/dispatch.js";
import { AttentionArgumentError, checkInt } from "./errors.js";
import { buildPlan, type PlanRequest } from "./layout/plan.js";
import { checkKeys } from "./options.js";
import { checkPattern } from "./pattern/algebra.js";
import type { Dims, Pattern, Plan, Tensor } from "./types.js";
import { validateInputs, validateScale } from "./validate.js";

/** The scale: the caller's, else the pattern's default, else 1/sqrt(D). */
export function resolveScale(pattern: Pattern, D: number, scale: unknown): number {
  const s = scale ?? pattern.content?.defaultScale?.(D) ?? 1 / Math.sqrt(D);
  validateScale(s);
  return s as number;
}

export interface CompileOptions {
  queryLength: number;
  keyLength?: number;
  heads?: number;
  headDim: number;
  /** Batch rows (default 1); per-row patterns (perBatch, keyPadding) need one entry per row. */
  batch?: number;
  /** For content-dependent patterns (lsh): q [B, H, Lq, D] and k [B, Hkv, Lk, D]. */
  q?: Tensor;
  k?: Tensor;
}

export interface CompileChecks {
  /** Compare every classifier's answers with its mask on the tiles it classifies (slow; for debugging and tests). */
  check?: boolean;
}

/** @deprecated the plan is now a Plan value; kept as an alias for code written against 0.1. */
export type CompiledPattern = Plan;

const DIM_KEYS = ["queryLength", "keyLength", "heads", "headDim", "batch", "q", "k"];

/** Positions are Int32 in plans and kernels. */
const MAX_LENGTH = 2 ** 31 - 1;

/** The checked planning request of compile() / explain(), and the bytes of transformed keys (lsh). */
export function planRequest(
  where: string,
  pattern: Pattern,
  options: unknown,
): { request: PlanRequest; extraBytes: number } {
  checkPattern("pattern", pattern);
  const o = checkKeys(`${where}(pattern, options)`, options, DIM_KEYS) as unknown as CompileOptions;
  const Lq = checkInt("options.queryLength", o.queryLength, 1, MAX_LENGTH);
  const Lk = checkInt("options.keyLength", o.keyLength ?? Lq, 1, MAX_LENGTH);
  const H = checkInt("options.heads", o.heads ?? 1, 1);
  const D = checkInt("options.headDim", o.headDim, 1);
  const B = checkInt("options.batch", o.batch ?? 1, 1);
  checkPairCount(B, H, Lq, Lk);
  const dims: Dims = { queryLength: Lq, keyLength: Lk, heads: H, headDim: D, batch: B };
  let data = null;
  let extraBytes = 0;
  if (o.q !== undefined || o.k !== undefined) {
    if (o.q === undefined || o.k === undefined) {
      throw new AttentionArgumentError("options.q / options.k", o.q ?? o.k, "both q and k, or neither");
    }
    const s = validateInputs(o.q, o.k, o.k);
    if (s.B !== B || s.Lq !== Lq || s.Lk !== Lk || s.H !== H || s.D !== D) {
      throw new AttentionArgumentError(
        "options.q / options.k",
        `q.shape [${o.q.shape.join(", ")}], k.shape [${o.k.shape.join(", ")}]`,
        `q of shape [${B}, ${H}, ${Lq}, ${D}] and keys of length ${Lk}, as the options say`,
      );
    }
    resolveScale(pattern, D, undefined);
    const kData = transformKeys(pattern, o.k.data, s);
    extraBytes = kData === o.k.data ? 0 : kData.byteLength;
    data = { q: o.q.data, k: kData, kvHeads: s.Hkv };
  }
  return { request: { pattern, dims, batch: B, data }, extraBytes };
}

/** Pair counts are float64 integers: exact below 2^53, so B·H·Lq·Lk must stay there. */
export function checkPairCount(B: number, H: number, Lq: number, Lk: number): void {
  const pairs = B * H * Lq * Lk;
  if (!(pairs <= Number.MAX_SAFE_INTEGER)) {
    throw new AttentionArgumentError(
      "options (batch · heads · queryLength · keyLength)",
      pairs,
      `at most 2^53 - 1 pairs so counts and densities stay exact; split the problem`,
    );
  }
}

export function compile(pattern: Pattern, options: CompileOptions, checks: CompileChecks = {}): Plan {
  const c = checkKeys("compile(pattern, options, checks)", checks, ["check"]);
  if (c.check !== undefined && typeof c.check !== "boolean") {
    throw new AttentionArgumentError("compile(…, { check })", c.check, "true or false");
  }
  const { request, extraBytes } = planRequest("compile", pattern, options);
  request.check = c.check === true;
  request.keyBytes = extraBytes;
  return buildPlan(request);
}
