/** The public entry: validate, pick a backend (src/backends.ts), run. */
import { BACKEND_NAMES, defaultThreads, type Problem, selectBackend } from "./backends.js";
import { AttentionArgumentError, checkInt } from "./errors.js";
import { checkPattern, dense } from "./pattern/algebra.js";
import type { AttentionOptions, AttentionResult, Pattern, Tensor } from "./types.js";
import { validateInputs, validateScale } from "./validate.js";

export { transformKeys } from "./backends.js";

export function resolveScale(pattern: Pattern, D: number, scale: unknown): number {
  const s = scale ?? pattern.content?.defaultScale?.(D) ?? 1 / Math.sqrt(D);
  validateScale(s);
  return s as number;
}

/**
 * Attention over `q` [B, H, Lq, D], `k`, `v` [B, Hkv, Lk, D] restricted to the pairs
 * `options.pattern` allows (default dense). Returns the output [B, H, Lq, D], the
 * log-sum-exp per row [B, H, Lq] (-Infinity for a row with no allowed key, whose output is 0)
 * and the work accounting. Synchronous on every backend (the wasm thread pool blocks the
 * calling thread with Atomics.wait, which Node allows on its main thread).
 */
export function attention(q: Tensor, k: Tensor, v: Tensor, options: AttentionOptions = {}): AttentionResult {
  const { problem, backend } = prepare(q, k, v, options);
  return selectBackend(backend, problem).run(problem);
}

/** Validates a call of attention() / attentionAsync(): the problem and the backend name asked for. */
export function prepare(
  q: Tensor,
  k: Tensor,
  v: Tensor,
  options: AttentionOptions,
): { problem: Problem; backend: (typeof BACKEND_NAMES)[number] } {
  if (options === null || typeof options !== "object") {
    throw new AttentionArgumentError("options", options, "an object { pattern?, scale?, backend?, threads? }");
  }
  const shapes = validateInputs(q, k, v);
  const pattern = checkPattern("options.pattern", options.pattern ?? dense());
  const scale = resolveScale(pattern, shapes.D, options.scale);
  const backend = options.backend ?? "auto";
  if (!(BACKEND_NAMES as readonly string[]).includes(backend)) {
    throw new AttentionArgumentError(
      "options.backend",
      backend,
      `one of ${BACKEND_NAMES.map((b) => `"${b}"`).join(", ")}`,
    );
  }
  const threadsExplicit = options.threads !== undefined;
  const threads = threadsExplicit ? checkInt("options.threads", options.threads, 1, 256) : defaultThreads();
  return { problem: { q, k, v, shapes, pattern, scale, threads, threadsExplicit }, backend };
}
