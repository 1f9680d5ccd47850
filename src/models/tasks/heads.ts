/**
 * Task heads of HF's Longformer*For* and BigBird*For* models (v4.40.2, eval): their weights,
 * read by HF name and checked against the config, and their forward on the encoder's output.
 *   ForMaskedLM            Longformer decoder(LN(gelu(dense(h)))) + bias; BigBird the same with
 *                          config.hidden_act (cls.predictions.*). Decoder tied to the word embeddings
 *                          when the checkpoint stores it once (tie_word_embeddings, HF's default).
 *   ForSequenceClassification  out_proj(act(dense(h[:, 0]))), act tanh (Longformer) / hidden_act (BigBird)
 *   ForTokenClassification classifier(h)
 *   ForQuestionAnswering   Longformer qa_outputs(h); BigBird qa_outputs(LN(h + W2·act(W1·h + b1) + b2))
 *   ForMultipleChoice      classifier(pooler_output) per flattened choice
 * Every missing tensor is named in one error.
 */
import { AttentionArgumentError } from "../../errors.js";
import type { ModelConfig } from "../config.js";
import { activate, addLayerNorm, type LinearOptions, linear } from "../ops.js";
import { CheckpointError, type WeightStore } from "../safetensors.js";
import type { Linear, Norm } from "../weights.js";

export const HEAD_KINDS = [
  "ForMaskedLM",
  "ForSequenceClassification",
  "ForTokenClassification",
  "ForQuestionAnswering",
  "ForMultipleChoice",
] as const;
export type HeadKind = (typeof HEAD_KINDS)[number];

/** Pipeline task names (transformers.js / HF) and the head each needs. */
export const TASK_HEADS: Record<string, HeadKind | null> = {
  "feature-extraction": null,
  "fill-mask": "ForMaskedLM",
  "text-classification": "ForSequenceClassification",
  "sentiment-analysis": "ForSequenceClassification",
  "token-classification": "ForTokenClassification",
  ner: "ForTokenClassification",
  "question-answering": "ForQuestionAnswering",
  "multiple-choice": "ForMultipleChoice",
};

/**
 * The head `task` names: a pipeline task ("question-answering"), an HF head ("ForQuestionAnswering",
 * or the whole class "LongformerForQuestionAnswering"), or "none" / "feature-extraction" (encoder only).
 * Undefined: config.architectures[0]'s head, if it names one.
 */
export function headOf(task: string | undefined, config: ModelConfig): HeadKind | null {
  if (task === undefined) {
    const arch = config.raw.architectures;
    const first = Array.isArray(arch) && typeof arch[0] === "string" ? arch[0] : "";
    return HEAD_KINDS.find((k) => first.endsWith(k)) ?? null;
  }
  if (typeof task !== "string") throw new AttentionArgumentError("options.task", task, taskForm());
  if (task === "none" || task === "base") return null;
  if (task in TASK_HEADS) return TASK_HEADS[task];
  const k = HEAD_KINDS.find((h) => task === h || task.endsWith(h));
  if (k === undefined) throw new AttentionArgumentError("options.task", task, taskForm());
  return k;
}

function taskForm(): string {
  return `a task (${Object.keys(TASK_HEADS)
    .map((t) => `"${t}"`)
    .join(", ")}), a head (${HEAD_KINDS.map((h) => `"${h}"`).join(", ")}) or "none"`;
}

export interface HeadWeights {
  kind: HeadKind;
  /** ForMaskedLM: dense, norm, decoder [vocab, hidden] + bias. */
  dense?: Linear;
  norm?: Norm;
  decoder?: Linear;
  /** Classification heads: the output layer (out_proj / classifier / qa_outputs). */
  out?: Linear;
  /** BigBird QA: intermediate and output dense. */
  inter?: Linear;
  /** Labels: id2label[i] or LABEL_i. */
  labels: string[];
}

/** The head's tensors, every missing one named in one CheckpointError. */
export function loadHead(store: WeightStore, c: ModelConfig, kind: HeadKind, word: Float32Array): HeadWeights {
  const missing: string[] = [];
  const h = c.hidden;
  const tensor = (name: string, shape: number[] | null): Float32Array | null => {
    if (!store.has(name)) {
      missing.push(name);
      return null;
    }
    const t = store.get(name);
    if (shape !== null && (t.shape.length !== shape.length || t.shape.some((d, i) => d !== shape[i]))) {
      throw new CheckpointError(
        `${store.label}: tensor "${name}" has shape [${t.shape.join(", ")}]; the ${kind} head needs [${shape.join(", ")}] (hidden_size ${h})`,
      );
    }
    return t.data;
  };
  /** A Linear whose output size is read from the weight (labels) or given. */
  const lin = (name: string, outF: number | null, inF: number): Linear => {
    const wName = `${name}.weight`;
    const o = outF ?? (store.has(wName) ? store.get(wName).shape[0] : 0);
    const W = tensor(wName, [o, inF]);
    const b = tensor(`${name}.bias`, [o]);
    return { W: W ?? new Float32Array(0), b, outF: o, inF };
  };
  const norm = (name: string): Norm => ({
    gamma: tensor(`${name}.weight`, [h]) ?? new Float32Array(0),
    beta: tensor(`${name}.bias`, [h]) ?? new Float32Array(0),
  });
  const lf = c.modelType === "longformer";
  const w: HeadWeights = { kind, labels: [] };
  if (kind === "ForMaskedLM") {
    const p = lf ? "lm_head." : "cls.predictions.";
    w.dense = lin(lf ? `${p}dense` : `${p}transform.dense`, h, h);
    w.norm = norm(lf ? `${p}layer_norm` : `${p}transform.LayerNorm`);
    const decName = `${p}decoder.weight`;
    const tie = c.raw.tie_word_embeddings !== false;
    const dec = store.has(decName) || !tie ? tensor(decName, [c.vocab, h]) : word;
    const biasName = store.has(`${p}decoder.bias`) ? `${p}decoder.bias` : `${p}bias`;
    w.decoder = { W: dec ?? new Float32Array(0), b: tensor(biasName, [c.vocab]), outF: c.vocab, inF: h };
  } else if (kind === "ForSequenceClassification") {
    w.dense = lin("classifier.dense", h, h);
    w.out = lin("classifier.out_proj", null, h);
  } else if (kind === "ForTokenClassification" || kind === "ForMultipleChoice") {
    w.out = lin("classifier", kind === "ForMultipleChoice" ? 1 : null, h);
  } else if (lf) {
    w.out = lin("qa_outputs", 2, h);
  } else {
    w.inter = lin("qa_classifier.intermediate.dense", c.intermediate, h);
    w.dense = lin("qa_classifier.output.dense", h, c.intermediate);
    w.norm = norm("qa_classifier.output.LayerNorm");
    w.out = lin("qa_classifier.qa_outputs", 2, h);
  }
  if (missing.length > 0) {
    throw new CheckpointError(
      `${store.label}: the ${kind} head needs ${missing.length === 1 ? "tensor" : "tensors"} ${missing
        .map((m) => `"${m}"`)
        .join(", ")}, missing from the checkpoint (load it with { task: "none" } for the encoder alone)`,
    );
  }
  const n = kind === "ForSequenceClassification" || kind === "ForTokenClassification" ? (w.out as Linear).outF : 0;
  const id2label = (c.raw.id2label ?? {}) as Record<string, unknown>;
  w.labels = Array.from({ length: n }, (_, i) => {
    const v = id2label[String(i)];
    return typeof v === "string" ? v : `LABEL_${i}`;
  });
  return w;
}

/** Rows `rows` of hs [.., hidden] gathered into [rows.length, hidden]. */
export function gatherRows(hs: Float32Array, rows: ArrayLike<number>, h: number): Float32Array {
  const out = new Float32Array(rows.length * h);
  for (let j = 0; j < rows.length; j++) out.set(hs.subarray(rows[j] * h, (rows[j] + 1) * h), j * h);
  return out;
}

/** MLM logits [n, vocab] of n hidden rows [n, hidden]. */
export function maskedLmLogits(
  w: HeadWeights,
  c: ModelConfig,
  x: Float32Array,
  n: number,
  lo: LinearOptions,
): Float32Array {
  const dense = w.dense as Linear;
  const t = linear(x, n, dense.inF, dense.W, dense.outF, dense.b, undefined, lo);
  activate(t, c.modelType === "longformer" ? "gelu" : c.act);
  const nm = w.norm as Norm;
  addLayerNorm(t, null, n, c.hidden, nm.gamma, nm.beta, c.eps);
  const d = w.decoder as Linear;
  return linear(t, n, d.inF, d.W, d.outF, d.b, undefined, lo);
}

/** Sequence classification logits [B, labels] from the first token of each row of hs [B·L, hidden]. */
export function sequenceLogits(
  w: HeadWeights,
  c: ModelConfig,
  hs: Float32Array,
  B: number,
  L: number,
  lo: LinearOptions,
): Float32Array {
  const first = gatherRows(
    hs,
    Array.from({ length: B }, (_, b) => b * L),
    c.hidden,
  ); // [B, hidden] token 0 of each row
  const dense = w.dense as Linear;
  const t = linear(first, B, dense.inF, dense.W, dense.outF, dense.b, undefined, lo);
  if (c.modelType === "longformer") for (let i = 0; i < t.length; i++) t[i] = Math.tanh(t[i]);
  else activate(t, c.act);
  const o = w.out as Linear;
  return linear(t, B, o.inF, o.W, o.outF, o.b, undefined, lo);
}

/** A plain linear head over n rows: token classification [n, labels], QA [n, 2], MC [n, 1]. */
export function linearHead(w: HeadWeights, x: Float32Array, n: number, lo: LinearOptions): Float32Array {
  const o = w.out as Linear;
  return linear(x, n, o.inF, o.W, o.outF, o.b, undefined, lo);
}

/** BigBird QA head: qa_outputs(LN(h + dense(act(inter(h))))) over n rows → [n, 2]. */
export function bigBirdQaLogits(
  w: HeadWeights,
  c: ModelConfig,
  x: Float32Array,
  n: number,
  lo: LinearOptions,
): Float32Array {
  const inter = w.inter as Linear;
  const t = linear(x, n, inter.inF, inter.W, inter.outF, inter.b, undefined, lo);
  activate(t, c.act);
  const d = w.dense as Linear;
  const y = linear(t, n, d.inF, d.W, d.outF, d.b, undefined, lo);
  const nm = w.norm as Norm;
  addLayerNorm(y, x, n, c.hidden, nm.gamma, nm.beta, c.eps); // y ← LN(y + x)
  return linearHead(w, y, n, lo);
}
