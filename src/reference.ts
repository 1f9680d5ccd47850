/**
 * referenceAttention(q, k, v, options): the float64 oracle with attention()'s arguments and
 * result. Every score is computed (the [Lq, Lk] matrix of each head, accumulated in float64)
 * and the pattern is read only as its mask function, never as a plan; what it returns is what
 * attention() returns (out [B, H, Lq, D], lse [B, H, Lq], stats). The kernel itself, on flat
 * arrays, is src/backends/reference/reference.ts.
 */
import { attention } from "./attention.js";
import { AttentionArgumentError } from "./errors.js";
import type { AttentionOptions, AttentionResult, Tensor } from "./types.js";

/** attention()'s options less the choice of backend and threads (the oracle runs alone, on one thread). */
export type ReferenceOptions = Omit<AttentionOptions, "backend" | "threads">;

export function referenceAttention(q: Tensor, k: Tensor, v: Tensor, options: ReferenceOptions = {}): AttentionResult {
  if (options === null || typeof options !== "object") return attention(q, k, v, options as AttentionOptions); // its error
  for (const key of ["backend", "threads"] as const) {
    if (key in options) {
      throw new AttentionArgumentError(
        `options.${key}`,
        (options as AttentionOptions)[key],
        `no ${key}: referenceAttention always runs the float64 reference kernel (call attention() to choose a backend)`,
      );
    }
  }
  return attention(q, k, v, { ...options, backend: "reference" });
}
