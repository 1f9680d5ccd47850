/** One validated call of attention() / attentionAsync(), and what every attention op shares. */
import type { PlanTotals } from "../layout/plan.js";
import { availableCores, nodeWorkerCtor } from "../platform.js";
import type { AttentionStats, Dims, Pattern, Plan, Tensor } from "../types.js";
import type { Shapes } from "../validate.js";
import type { GpuContext } from "./webgpu/device.js";

/** One validated call of attention(). */
export interface Problem {
  q: Tensor;
  k: Tensor;
  v: Tensor;
  shapes: Shapes;
  pattern: Pattern;
  /** The compiled plan (built by attention() or given by the caller); backends never plan. */
  plan: Plan;
  scale: number;
  /** Threads the caller asked for (or the default), and whether they asked explicitly. */
  threads: number;
  threadsExplicit: boolean;
  /** options.out / options.lse, checked: the caller's buffers the result is written into (null: new arrays). */
  out: Tensor | null;
  lse: Float32Array | null;
  /**
   * The GPU attentionAsync() found for this call, or why it has none (a reason); undefined
   * in a synchronous call (attention()), which cannot await a GPU.
   */
  gpu?: GpuContext | string;
}

/** The result tensor of `p`: options.out itself (its data holds the result by now), or a new tensor over `data`. */
export function resultTensor(p: Problem, data: Float32Array): Tensor {
  const s = p.shapes;
  return p.out ?? { data, shape: [s.B, s.H, s.Lq, s.D] };
}

/** Cores available to this process in Node, else 1: the browser path is single-threaded. */
export function defaultThreads(): number {
  return nodeWorkerCtor() === null ? 1 : availableCores();
}

/** Applies a content pattern's key transform per (batch, kv head); returns k unchanged otherwise. */
export function transformKeys(pattern: Pattern, k: Float32Array, s: Shapes): Float32Array {
  const tf = pattern.content?.transformKeys;
  if (tf === undefined) return k;
  const out = new Float32Array(k.length);
  const block = s.Lk * s.D;
  for (let r = 0; r < s.B * s.Hkv; r++) {
    out.set(tf(k.subarray(r * block, (r + 1) * block), s.Lk, s.D), r * block); // k: [B, Hkv, Lk, D]
  }
  return out;
}

export function toStats(
  t: PlanTotals,
  D: number,
  extraBytes: number,
  backend: string,
  threads: number,
  backendBytes = 0,
): AttentionStats {
  return {
    allowedPairs: t.allowedPairs,
    scoredPairs: t.scoredPairs,
    flops: 4 * D * t.scoredPairs,
    bytes: t.planBytes + t.scratchBytes + extraBytes,
    backendBytes,
    parts: t.parts.length,
    tiles: t.tiles,
    backend,
    threads,
  };
}

export function dimsOf(s: Shapes): Dims {
  return { queryLength: s.Lq, keyLength: s.Lk, heads: s.H, headDim: s.D };
}

/**
 * Threads a problem runs on: the request (or default) capped to the cores available, so
 * `threads: 256` on 2 cores starts one worker, not 255. Returns the request too when capped.
 */
export function effectiveThreads(p: Problem): { threads: number; requested?: number } {
  const cores = availableCores();
  return p.threads > cores ? { threads: cores, requested: p.threads } : { threads: p.threads };
}
