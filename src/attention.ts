/** The public entry: validate, plan, pick a backend, run. */
import { AttentionArgumentError } from "./errors.js";
import { referenceAttention } from "./kernels/reference.js";
import { type HeadTask, runHead, TiledScratch } from "./kernels/tiled.js";
import { type PlanData, type PlanTotals, planAll } from "./layout/plan.js";
import { checkPattern, dense } from "./pattern/algebra.js";
import type { AttentionOptions, AttentionResult, AttentionStats, Dims, Pattern, Tensor } from "./types.js";
import { type Shapes, validateInputs, validateScale } from "./validate.js";

const BACKENDS = ["auto", "js", "reference"] as const;

export function resolveScale(pattern: Pattern, D: number, scale: unknown): number {
  const s = scale ?? pattern.content?.defaultScale?.(D) ?? 1 / Math.sqrt(D);
  validateScale(s);
  return s as number;
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

function toStats(t: PlanTotals, D: number, extraBytes: number, backend: string): AttentionStats {
  return {
    allowedPairs: t.allowedPairs,
    scoredPairs: t.scoredPairs,
    flops: 4 * D * t.scoredPairs,
    bytes: t.planBytes + t.scratchBytes + extraBytes,
    parts: t.parts.length,
    tiles: t.tiles,
    backend,
  };
}

/**
 * Attention over `q` [B, H, Lq, D], `k`, `v` [B, Hkv, Lk, D] restricted to the pairs
 * `options.pattern` allows (default dense). Returns the output [B, H, Lq, D], the
 * log-sum-exp per row [B, H, Lq] (-Infinity for a row with no allowed key, whose output is 0)
 * and the work accounting.
 */
export function attention(q: Tensor, k: Tensor, v: Tensor, options: AttentionOptions = {}): AttentionResult {
  if (options === null || typeof options !== "object") {
    throw new AttentionArgumentError("options", options, "an object { pattern?, scale?, backend? }");
  }
  const s = validateInputs(q, k, v);
  const pattern = checkPattern("options.pattern", options.pattern ?? dense());
  const scale = resolveScale(pattern, s.D, options.scale);
  const backend = options.backend ?? "auto";
  if (!BACKENDS.includes(backend)) {
    throw new AttentionArgumentError("options.backend", backend, `one of ${BACKENDS.map((b) => `"${b}"`).join(", ")}`);
  }
  const dims: Dims = { queryLength: s.Lq, keyLength: s.Lk, heads: s.H, headDim: s.D };
  const kData = transformKeys(pattern, k.data, s);
  const extra = kData === k.data ? 0 : kData.byteLength;
  const data: PlanData = { q: q.data, k: kData, kvHeads: s.Hkv };

  if (backend === "reference") {
    if (pattern.content !== undefined) {
      throw new AttentionArgumentError(
        "options.backend",
        backend,
        `"js" or "auto" for the content-dependent pattern ${pattern.name} (the reference kernel takes a fixed mask)`,
      );
    }
    const bound = pattern.bind(dims);
    const r = referenceAttention({ q: q.data, k: kData, v: v.data, ...s, scale, mask: bound.mask });
    const totals = planAll(pattern, dims, s.B, data, null);
    const stats = toStats(totals, s.D, 8 * s.Lk, "reference");
    stats.scoredPairs = s.B * s.H * s.Lq * s.Lk;
    stats.flops = 4 * s.D * stats.scoredPairs;
    return { out: { data: r.out, shape: [s.B, s.H, s.Lq, s.D] }, lse: r.lse, stats };
  }

  const out = new Float32Array(s.B * s.H * s.Lq * s.D);
  const lse = new Float32Array(s.B * s.H * s.Lq).fill(Number.NEGATIVE_INFINITY);
  const scratch = new TiledScratch();
  const group = s.H / s.Hkv;
  const task: HeadTask = {
    q: q.data,
    k: kData,
    v: v.data,
    qBase: 0,
    kBase: 0,
    vBase: 0,
    lseBase: 0,
    D: s.D,
    scale,
    out,
    lse,
  };
  const totals = planAll(pattern, dims, s.B, data, (b, h, parts) => {
    const kvRow = b * s.Hkv + Math.floor(h / group);
    task.qBase = (b * s.H + h) * s.Lq * s.D; // q, out: [B, H, Lq, D]
    task.kBase = kvRow * s.Lk * s.D; // k, v: [B, Hkv, Lk, D]
    task.vBase = task.kBase;
    task.lseBase = (b * s.H + h) * s.Lq; // lse: [B, H, Lq]
    runHead(task, parts, scratch);
  });
  return { out: { data: out, shape: [s.B, s.H, s.Lq, s.D] }, lse, stats: toStats(totals, s.D, extra, "js") };
}
