/**
 * ModernBERT's task heads on top of last_hidden_state (HF v4.48, eval):
 *   prediction head H(z) = LN_head(act(z Wdenseᵀ [+ b]))
 *   ForMaskedLM:              logits = H(last) Eᵀ + decoder.bias        (decoder tied to the embeddings)
 *   ForSequenceClassification: pooled = last[:, 0] ("cls") or Σ mask·last / Σ mask ("mean");
 *                              logits = H(pooled) Wcᵀ + bc
 *   ForTokenClassification:    logits = H(last) Wcᵀ + bc
 * and sentence embeddings: CLS or masked-mean pooling of last_hidden_state, optionally
 * L2-normalised (sentence-transformers' Pooling and Normalize modules).
 */
import { AttentionArgumentError } from "../../errors.js";
import { type LinearOptions, linear } from "../ops.js";
import type { ModernBertConfig } from "./config.js";
import { activateInPlace, layerNormInto } from "./ops.js";
import type { MbHeadWeights } from "./weights.js";

/** H(z) for `rows` rows of z [rows, hidden]. */
export function predictionHead(
  z: Float32Array,
  rows: number,
  c: ModernBertConfig,
  head: MbHeadWeights,
  lo: LinearOptions,
): Float32Array {
  const d = head.dense;
  const y = linear(z, rows, d.inF, d.W, d.outF, d.b, undefined, lo);
  activateInPlace(y, c.classifierAct);
  layerNormInto(y, y, rows, c.hidden, head.norm.gamma, head.norm.beta, c.eps);
  return y;
}

/**
 * The rows [B·L] of `last` [B, L, hidden] listed in `rows` (all when undefined), gathered into
 * one [n, hidden] matrix.
 */
export function gatherRows(last: Float32Array, hidden: number, rows: ArrayLike<number>): Float32Array {
  const out = new Float32Array(rows.length * hidden);
  for (let i = 0; i < rows.length; i++) out.set(last.subarray(rows[i] * hidden, (rows[i] + 1) * hidden), i * hidden);
  return out;
}

/**
 * Pools last [B, L, hidden] to [B, hidden]: "cls" takes token 0 of each row, "mean" averages
 * the rows' real tokens (mask 1), as HF's ModernBertForSequenceClassification and
 * sentence-transformers' Pooling (pooling_mode_cls_token / pooling_mode_mean_tokens). Mean
 * sums in float64.
 */
export function pool(
  last: Float32Array,
  B: number,
  L: number,
  hidden: number,
  valid: Uint8Array,
  mode: "cls" | "mean",
): Float32Array {
  const out = new Float32Array(B * hidden); // [B, hidden]
  if (mode === "cls") {
    for (let b = 0; b < B; b++) out.set(last.subarray(b * L * hidden, (b * L + 1) * hidden), b * hidden);
    return out;
  }
  const acc = new Float64Array(hidden);
  for (let b = 0; b < B; b++) {
    acc.fill(0);
    let n = 0;
    for (let i = 0; i < L; i++) {
      if (valid[b * L + i] === 0) continue;
      n++;
      const o = (b * L + i) * hidden; // last: [B, L, hidden]
      for (let d = 0; d < hidden; d++) acc[d] += last[o + d];
    }
    for (let d = 0; d < hidden; d++) out[b * hidden + d] = n === 0 ? 0 : acc[d] / n;
  }
  return out;
}

/** Rows of m [rows, n] scaled to unit L2 norm (sentence-transformers' Normalize: x / max(‖x‖, 1e-12)). */
export function l2Normalize(m: Float32Array, rows: number, n: number): void {
  for (let r = 0; r < rows; r++) {
    let s = 0;
    for (let d = 0; d < n; d++) s += m[r * n + d] ** 2;
    const inv = 1 / Math.max(Math.sqrt(s), 1e-12);
    for (let d = 0; d < n; d++) m[r * n + d] *= inv;
  }
}

/** The head weights a task needs, or an error naming what the checkpoint lacks. */
export function requireHead(
  head: MbHeadWeights | null,
  part: "decoder" | "classifier",
  task: string,
  architecture: string,
): MbHeadWeights & { decoder: NonNullable<MbHeadWeights["decoder"]> } & {
  classifier: NonNullable<MbHeadWeights["classifier"]>;
} {
  if (head === null || head[part] === null) {
    throw new AttentionArgumentError(
      `model (${task})`,
      architecture || "a ModernBERT checkpoint",
      part === "decoder"
        ? "a ModernBertForMaskedLM checkpoint (head.* and decoder.bias tensors)"
        : "a ModernBertForSequenceClassification or ModernBertForTokenClassification checkpoint (head.* and classifier.* tensors)",
    );
  }
  return head as ReturnType<typeof requireHead>;
}

/** logits [n, outF] = H(z) Wᵀ + b for n rows of z [n, hidden]. */
export function headLogits(
  z: Float32Array,
  n: number,
  c: ModernBertConfig,
  head: MbHeadWeights,
  out: NonNullable<MbHeadWeights["decoder"]>,
  lo: LinearOptions,
): Float32Array {
  const hz = predictionHead(z, n, c, head, lo);
  return linear(hz, n, out.inF, out.W, out.outF, out.b, undefined, lo);
}
