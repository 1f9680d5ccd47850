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
import type { Linear, Ops, TaskHead } from "../architectures/types.js";
import type { ModernBertConfig } from "./config.js";
import { activateInPlace, layerNormInto } from "./ops.js";
import { loadModernBertHead, type MbHeadKind, type MbHeadWeights } from "./weights.js";

/** H(z) for `rows` rows of z [rows, hidden]. */
export function predictionHead(
  z: Float32Array,
  rows: number,
  c: ModernBertConfig,
  head: MbHeadWeights,
  ops: Ops,
): Float32Array {
  const y = ops.linear(z, rows, head.dense);
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

/** logits [n, outF] = H(z) Wᵀ + b for n rows of z [n, hidden]. */
export function headLogits(
  z: Float32Array,
  n: number,
  c: ModernBertConfig,
  head: MbHeadWeights,
  out: Linear,
  ops: Ops,
): Float32Array {
  return ops.linear(predictionHead(z, n, c, head, ops), n, out);
}

/** [B, L] 1 = real token, from the attention mask the encoder ran with (all ones without one). */
function validOf(mask: { data: Int32Array } | undefined, n: number): Uint8Array {
  const v = new Uint8Array(n).fill(1);
  if (mask !== undefined) for (let i = 0; i < n; i++) v[i] = mask.data[i] === 0 ? 0 : 1;
  return v;
}

const labelsOf = (w: MbHeadWeights, c: ModernBertConfig): string[] => {
  const n = w.classifier?.outF ?? 0;
  return c.labels.length === n ? c.labels : Array.from({ length: n }, (_, i) => `LABEL_${i}`);
};

function entry(kind: MbHeadKind, task: string): TaskHead<ModernBertConfig, MbHeadWeights> {
  return {
    task,
    load: (store, c, prefix) => loadModernBertHead(store, c, kind, prefix),
    labels: kind === "ForMaskedLM" ? undefined : labelsOf,
    run(encoded, w, c, ops, prepared) {
      const [B, L, hd] = encoded.lastHiddenState.shape;
      const last = encoded.lastHiddenState.data;
      if (kind === "ForMaskedLM") {
        const logits = headLogits(last, B * L, c, w, w.decoder as Linear, ops);
        return { logits: { data: logits, shape: [B, L, c.vocab] } };
      }
      const cls = w.classifier as Linear;
      if (kind === "ForTokenClassification") {
        return { logits: { data: headLogits(last, B * L, c, w, cls, ops), shape: [B, L, cls.outF] } };
      }
      const pooled = pool(last, B, L, hd, validOf(prepared.attentionMask, B * L), c.classifierPooling);
      return { logits: { data: headLogits(pooled, B, c, w, cls, ops), shape: [B, cls.outF] } };
    },
    runAt:
      kind === "ForMaskedLM" ? (rows, n, w, c, ops) => headLogits(rows, n, c, w, w.decoder as Linear, ops) : undefined,
  };
}

/** The task heads of the registry entry, by HF class name. */
export const MODERNBERT_HEADS = {
  ModernBertForMaskedLM: entry("ForMaskedLM", "fill-mask"),
  ModernBertForSequenceClassification: entry("ForSequenceClassification", "text-classification"),
  ModernBertForTokenClassification: entry("ForTokenClassification", "token-classification"),
};
