/**
 * Task heads of HF's Longformer*For* and BigBird*For* models (v4.40.2, eval), as the registry's
 * TaskHead entries (architectures/longformer.ts and bigbird.ts list them by HF class name):
 *   ForMaskedLM            Longformer decoder(LN(gelu(dense(h)))) + bias; BigBird the same with
 *                          config.hidden_act (cls.predictions.*). Decoder tied to the word embeddings
 *                          when the checkpoint stores it once (tie_word_embeddings, HF's default).
 *   ForSequenceClassification  out_proj(act(dense(h[:, 0]))), act tanh (Longformer) / hidden_act (BigBird)
 *   ForTokenClassification classifier(h)
 *   ForQuestionAnswering   Longformer qa_outputs(h); BigBird qa_outputs(LN(h + W2·act(W1·h + b1) + b2))
 *   ForMultipleChoice      classifier(pooler_output) per flattened choice
 * Every missing tensor is named in one error. The inputs HF derives: ./prepare.ts.
 */
import { AttentionArgumentError } from "../../errors.js";
import type { ForwardOutput, Linear, ModelConfig, Norm, Ops, TaskHead, TaskOutputs } from "../architectures/types.js";
import { activate, addLayerNorm } from "../ops.js";
import { CheckpointError, type WeightStore } from "../safetensors.js";
import { bigBirdQuestionMask, prepareLongformer, prepareMultipleChoice, type TaskInputs } from "./prepare.js";

export const HEAD_KINDS = [
  "ForMaskedLM",
  "ForSequenceClassification",
  "ForTokenClassification",
  "ForQuestionAnswering",
  "ForMultipleChoice",
] as const;
export type HeadKind = (typeof HEAD_KINDS)[number];

/** Pipeline task names (transformers.js / HF) and the head each needs (null: the encoder alone). */
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

const HEAD_TASK: Record<HeadKind, string> = {
  ForMaskedLM: "fill-mask",
  ForSequenceClassification: "text-classification",
  ForTokenClassification: "token-classification",
  ForQuestionAnswering: "question-answering",
  ForMultipleChoice: "multiple-choice",
};

export interface HeadWeights {
  kind: HeadKind;
  /** ForMaskedLM: dense, norm, decoder [vocab, hidden] + bias. BigBird QA: dense = output.dense. */
  dense?: Linear;
  norm?: Norm;
  decoder?: Linear;
  /** The output layer (out_proj / classifier / qa_outputs). */
  out?: Linear;
  /** BigBird QA: intermediate dense. */
  inter?: Linear;
  /** Labels: id2label[i] or LABEL_i. */
  labels: string[];
}

type Family = "longformer" | "big_bird";

/** The head's tensors; every missing one named in one CheckpointError. */
function loadHead(store: WeightStore, c: ModelConfig, kind: HeadKind, family: Family, prefix: string): HeadWeights {
  const missing: string[] = [];
  const h = c.hidden;
  const tensor = (name: string, shape: number[]): Float32Array => {
    if (!store.has(name)) {
      missing.push(name);
      return new Float32Array(0);
    }
    const t = store.get(name);
    if (t.shape.length !== shape.length || t.shape.some((d, i) => d !== shape[i])) {
      throw new CheckpointError(
        `${store.label}: tensor "${name}" has shape [${t.shape.join(", ")}]; the ${kind} head needs [${shape.join(", ")}] (hidden_size ${h})`,
      );
    }
    return t.data;
  };
  /** A Linear whose output size is given, or read from the weight (labels). */
  const lin = (name: string, outF: number | null, inF: number): Linear => {
    const wName = `${name}.weight`;
    const o = outF ?? (store.has(wName) ? store.get(wName).shape[0] : 0);
    return { W: tensor(wName, [o, inF]), b: tensor(`${name}.bias`, [o]), outF: o, inF };
  };
  const norm = (name: string): Norm => ({ gamma: tensor(`${name}.weight`, [h]), beta: tensor(`${name}.bias`, [h]) });
  const lf = family === "longformer";
  const w: HeadWeights = { kind, labels: [] };
  if (kind === "ForMaskedLM") {
    const p = lf ? "lm_head." : "cls.predictions.";
    w.dense = lin(lf ? `${p}dense` : `${p}transform.dense`, h, h);
    w.norm = norm(lf ? `${p}layer_norm` : `${p}transform.LayerNorm`);
    const decName = `${p}decoder.weight`;
    const tied = c.raw.tie_word_embeddings !== false && !store.has(decName);
    const dec = tensor(tied ? `${prefix}embeddings.word_embeddings.weight` : decName, [c.vocab, h]);
    const biasName = store.has(`${p}decoder.bias`) ? `${p}decoder.bias` : `${p}bias`;
    w.decoder = { W: dec, b: tensor(biasName, [c.vocab]), outF: c.vocab, inF: h };
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
function maskedLmLogits(
  w: HeadWeights,
  c: ModelConfig,
  fam: Family,
  x: Float32Array,
  n: number,
  ops: Ops,
): Float32Array {
  const t = ops.linear(x, n, w.dense as Linear);
  activate(t, fam === "longformer" ? "gelu" : c.act);
  const nm = w.norm as Norm;
  addLayerNorm(t, null, n, c.hidden, nm.gamma, nm.beta, c.eps);
  return ops.linear(t, n, w.decoder as Linear);
}

/** Sequence classification logits [B, labels] from token 0 of each row of hs [B·L, hidden]. */
function sequenceLogits(w: HeadWeights, c: ModelConfig, fam: Family, hs: Float32Array, B: number, L: number, ops: Ops) {
  const first = gatherRows(
    hs,
    Array.from({ length: B }, (_, b) => b * L),
    c.hidden,
  ); // [B, hidden] token 0 of each row
  const t = ops.linear(first, B, w.dense as Linear);
  if (fam === "longformer") for (let i = 0; i < t.length; i++) t[i] = Math.tanh(t[i]);
  else activate(t, c.act);
  return ops.linear(t, B, w.out as Linear);
}

/** BigBird QA head: qa_outputs(LN(h + dense(act(inter(h))))) over n rows → [n, 2]. */
function bigBirdQaLogits(w: HeadWeights, c: ModelConfig, x: Float32Array, n: number, ops: Ops): Float32Array {
  const t = ops.linear(x, n, w.inter as Linear);
  activate(t, c.act);
  const y = ops.linear(t, n, w.dense as Linear);
  const nm = w.norm as Norm;
  addLayerNorm(y, x, n, c.hidden, nm.gamma, nm.beta, c.eps); // y ← LN(y + x)
  return ops.linear(y, n, w.out as Linear);
}

function head(kind: HeadKind, fam: Family): TaskHead<ModelConfig, HeadWeights> {
  const entry: TaskHead<ModelConfig, HeadWeights> = {
    task: HEAD_TASK[kind],
    load: (store, c, prefix) => loadHead(store, c, kind, fam, prefix),
    labels: (w) => w.labels,
    prepare: (inputs: TaskInputs, c) => {
      if (kind === "ForMultipleChoice") inputs = prepareMultipleChoice(inputs);
      return fam === "longformer" ? prepareLongformer(kind, c, inputs) : inputs;
    },
    run: (enc: ForwardOutput, w, c, ops, prepared, given): TaskOutputs => {
      const [rows, L] = enc.lastHiddenState.shape;
      const hs = enc.lastHiddenState.data;
      if (kind === "ForMaskedLM") {
        return { logits: { data: maskedLmLogits(w, c, fam, hs, rows * L, ops), shape: [rows, L, c.vocab] } };
      }
      if (kind === "ForSequenceClassification") {
        return { logits: { data: sequenceLogits(w, c, fam, hs, rows, L, ops), shape: [rows, w.labels.length] } };
      }
      if (kind === "ForTokenClassification") {
        return { logits: { data: ops.linear(hs, rows * L, w.out as Linear), shape: [rows, L, w.labels.length] } };
      }
      if (kind === "ForMultipleChoice") {
        const pooled = enc.poolerOutput;
        if (pooled === undefined) {
          throw new AttentionArgumentError(
            "model",
            "no pooler weights",
            "a ForMultipleChoice checkpoint with its pooler",
          );
        }
        const [B, C] = (given as TaskInputs).inputIds.shape;
        return { logits: { data: ops.linear(pooled.data, rows, w.out as Linear), shape: [B, C] } };
      }
      const both =
        fam === "longformer" ? ops.linear(hs, rows * L, w.out as Linear) : bigBirdQaLogits(w, c, hs, rows * L, ops);
      const qaMask = fam === "big_bird" ? bigBirdQuestionMask(prepared.inputIds, c) : null; // [B, L] 1: − 1e6
      const start = new Float32Array(rows * L);
      const end = new Float32Array(rows * L);
      for (let r = 0; r < rows * L; r++) {
        start[r] = both[2 * r]; // both: [rows·L, 2] (start, end)
        end[r] = both[2 * r + 1];
        if (qaMask?.[r]) {
          start[r] = Math.fround(start[r] - 1e6); // HF: logits − mask·1e6 in float32
          end[r] = Math.fround(end[r] - 1e6);
        }
      }
      return { startLogits: { data: start, shape: [rows, L] }, endLogits: { data: end, shape: [rows, L] } };
    },
  };
  if (kind === "ForMaskedLM") entry.runAt = (x, n, w, c, ops) => maskedLmLogits(w, c, fam, x, n, ops);
  if (kind === "ForQuestionAnswering" && fam === "big_bird") {
    entry.prepare = (inputs, c) => bigBirdQaInputs(inputs, c);
  }
  return entry;
}

/** BigBird QA: token_type_ids 0 before question_lengths, 1 from it on, when not given (HF). */
function bigBirdQaInputs(inputs: TaskInputs, c: ModelConfig): TaskInputs {
  if (inputs.tokenTypeIds !== undefined || !(inputs.inputIds?.data instanceof Int32Array)) return inputs;
  const mask = bigBirdQuestionMask(inputs.inputIds, c);
  const [B, L] = inputs.inputIds.shape;
  const types = new Int32Array(B * L);
  for (let b = 0; b < B; b++) {
    let q = 1; // positions 1 … question_lengths − 1 are masked; types 1 from question_lengths on
    while (q < L && mask[b * L + q] === 1) q++;
    types.fill(1, b * L + q, (b + 1) * L);
  }
  return { ...inputs, tokenTypeIds: { data: types, shape: [B, L] } };
}

/** The registry's heads of a family, by HF class name. */
export function familyHeads(fam: Family): Record<string, TaskHead<ModelConfig, HeadWeights>> {
  const cls = fam === "longformer" ? "Longformer" : "BigBird";
  return Object.fromEntries(HEAD_KINDS.map((k) => [`${cls}${k}`, head(k, fam)]));
}
