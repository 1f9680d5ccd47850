/** The public entry: validate, plan (or take the caller's plan), pick a backend (src/backends/dispatch.ts), run. */
import { BACKEND_NAMES, defaultThreads, type Problem, runAttention, transformKeys } from "./backends/dispatch.js";
import { cleanInputs } from "./backends/nonfinite.js";
import { checkPairCount, resolveScale } from "./compile.js";
import { AttentionArgumentError, checkInt } from "./errors.js";
import { buildPlan, checkPlan } from "./layout/plan.js";
import { checkKeys } from "./options.js";
import { checkPattern, dense } from "./pattern/algebra.js";
import type { AttentionOptions, AttentionResult, Plan, Tensor } from "./types.js";
import { type Shapes, validateInputs, validateOutputs } from "./validate.js";

export { transformKeys } from "./backends/dispatch.js";
export { resolveScale } from "./compile.js";

const OPTION_KEYS = ["pattern", "plan", "scale", "backend", "threads", "out", "lse"];

/** Throws unless `plan` was compiled for these shapes; the error names both. */
function checkPlanShapes(plan: Plan, s: Shapes): void {
  const d = plan.dims;
  if (plan.batch !== s.B || d.heads !== s.H || d.queryLength !== s.Lq || d.keyLength !== s.Lk || d.headDim !== s.D) {
    throw new AttentionArgumentError(
      "options.plan",
      `a plan compiled for q [${plan.batch}, ${d.heads}, ${d.queryLength}, ${d.headDim}] and keys of length ${d.keyLength}`,
      `a plan for these tensors: q.shape [${s.B}, ${s.H}, ${s.Lq}, ${s.D}], k.shape [${s.B}, ${s.Hkv}, ${s.Lk}, ${s.D}]; compile(pattern, { batch: ${s.B}, heads: ${s.H}, queryLength: ${s.Lq}, keyLength: ${s.Lk}, headDim: ${s.D} })`,
    );
  }
}

/**
 * Attention over `q` [B, H, Lq, D], `k`, `v` [B, Hkv, Lk, D] restricted to the pairs
 * `options.pattern` allows (default dense), or running `options.plan` from compile() with no
 * planning. Returns the output [B, H, Lq, D], the log-sum-exp per row [B, H, Lq] (-Infinity
 * for a row with no allowed key, whose output is 0) and the work accounting; `options.out` /
 * `options.lse` are written and returned instead of new arrays when given. Synchronous on
 * every backend (the wasm thread pool blocks the calling thread with Atomics.wait, which Node
 * allows on its main thread).
 */
export function attention(q: Tensor, k: Tensor, v: Tensor, options: AttentionOptions = {}): AttentionResult {
  const { problem, backend } = prepare(q, k, v, options);
  return runAttention(backend, problem);
}

/**
 * Validates a call of attention() / attentionAsync() and plans it (or takes the caller's
 * plan): the problem and the backend name asked for. `extraKeys`: option names the caller
 * accepts on top of attention()'s (attentionAsync: "gpu").
 */
export function prepare(
  q: Tensor,
  k: Tensor,
  v: Tensor,
  options: AttentionOptions,
  extraKeys: readonly string[] = [],
): { problem: Problem; backend: (typeof BACKEND_NAMES)[number] } {
  const o = checkKeys("attention(q, k, v, options)", options, [...OPTION_KEYS, ...extraKeys]) as AttentionOptions;
  const shapes = validateInputs(q, k, v);
  const outputs = validateOutputs(o.out, o.lse, shapes, q, k, v);
  let plan: Plan;
  if (o.plan !== undefined) {
    checkPlan("options.plan", o.plan);
    if (o.pattern !== undefined) {
      throw new AttentionArgumentError(
        "options.pattern",
        o.pattern.name ?? o.pattern,
        "no pattern with options.plan (the plan already fixes it)",
      );
    }
    plan = o.plan;
    checkPlanShapes(plan, shapes);
  } else {
    const pattern = checkPattern("options.pattern", o.pattern ?? dense());
    checkPairCount(shapes.B, shapes.H, shapes.Lq, shapes.Lk);
    // a content pattern (LSH) plans from the data: from the cleaned inputs (non-finite -> 0;
    // the NaN rule then poisons the rows that touch them, see src/backends/nonfinite.ts)
    const c = pattern.content === undefined ? null : cleanInputs(q.data, k.data, v.data, shapes);
    const kData = c === null ? null : transformKeys(pattern, c.k, shapes);
    const data = c === null || kData === null ? null : { q: c.q, k: kData, kvHeads: shapes.Hkv };
    plan = buildPlan({
      pattern,
      dims: { queryLength: shapes.Lq, keyLength: shapes.Lk, heads: shapes.H, headDim: shapes.D, batch: shapes.B },
      batch: shapes.B,
      data,
      keyBytes: kData === null || kData === k.data ? 0 : kData.byteLength,
    });
  }
  const pattern = plan.source;
  const scale = resolveScale(pattern, shapes.D, o.scale);
  const backend = o.backend ?? "auto";
  if (!(BACKEND_NAMES as readonly string[]).includes(backend)) {
    throw new AttentionArgumentError(
      "options.backend",
      backend,
      `one of ${BACKEND_NAMES.map((b) => `"${b}"`).join(", ")}`,
    );
  }
  const threadsExplicit = o.threads !== undefined;
  const threads = threadsExplicit ? checkInt("options.threads", o.threads, 1, 256) : defaultThreads();
  return {
    problem: { q, k, v, shapes, pattern, plan, scale, threads, threadsExplicit, out: outputs.out, lse: outputs.lse },
    backend,
  };
}
