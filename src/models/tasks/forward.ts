/**
 * forward() of a model with a task head, as HF's Longformer*For* / BigBird*For* (v4.40.2,
 * eval): the inputs HF derives when they are not given, the encoder, the head.
 *   Longformer ForSequenceClassification: global attention on token 0.
 *   Longformer ForQuestionAnswering: global attention on every token before the first sep
 *     (each row must hold exactly three sep tokens: <s> question </s></s> context </s>).
 *   Longformer ForMultipleChoice: per choice, global attention after first sep + 1.
 *   BigBird ForQuestionAnswering: question_lengths = first sep + 1; token_type_ids 0 before it,
 *     1 from it on (when not given); logits − 1e6 on positions 1 … question_lengths − 1.
 *   ForMultipleChoice: inputs [B, choices, L] flattened to [B·choices, L]; logits [B, choices].
 */
import { AttentionArgumentError } from "../../errors.js";
import type { ModelConfig } from "../config.js";
import type { ForwardInputs, IntTensor } from "../inputs.js";
import type { ForwardOptions, ForwardOutput } from "../model.js";
import type { LinearOptions } from "../ops.js";
import { bigBirdQaLogits, gatherRows, type HeadWeights, linearHead, maskedLmLogits, sequenceLogits } from "./heads.js";

export interface FloatTensor<S extends number[] = number[]> {
  data: Float32Array;
  shape: S;
}

/** What HF's task models return, camel-cased (plus the encoder's states). */
export interface TaskOutput extends ForwardOutput {
  /** ForMaskedLM [B, L, vocab]; ForSequenceClassification [B, labels]; ForTokenClassification [B, L, labels]; ForMultipleChoice [B, choices]. */
  logits?: FloatTensor;
  /** ForQuestionAnswering [B, L]. */
  startLogits?: FloatTensor<[number, number]>;
  endLogits?: FloatTensor<[number, number]>;
}

/** Inputs of a task forward: [B, L] tensors, or [B, choices, L] for ForMultipleChoice. */
export interface TaskInputs {
  inputIds: { data: Int32Array; shape: number[] };
  attentionMask?: { data: Int32Array; shape: number[] };
  globalAttentionMask?: { data: Int32Array; shape: number[] };
  tokenTypeIds?: { data: Int32Array; shape: number[] };
}

export function sepId(c: ModelConfig): number {
  const s = c.raw.sep_token_id;
  return typeof s === "number" ? s : c.modelType === "longformer" ? 2 : 66;
}

/** MC: [B, C, L] tensors → [B·C, L]. */
function flattenChoices(inputs: TaskInputs): { flat: ForwardInputs; B: number; C: number } {
  const ids = inputs.inputIds;
  if (ids === null || typeof ids !== "object" || !Array.isArray(ids.shape) || ids.shape.length !== 3) {
    throw new AttentionArgumentError(
      "inputs.inputIds.shape",
      ids?.shape,
      "[batch, choices, length] for a ForMultipleChoice model",
    );
  }
  const [B, C, L] = ids.shape as [number, number, number];
  const flat: Record<string, IntTensor> = {};
  for (const [k, t] of Object.entries(inputs)) {
    if (t === undefined) continue;
    const s = (t as { shape?: unknown }).shape;
    if (!Array.isArray(s) || s.length !== 3 || s[0] !== B || s[1] !== C || s[2] !== L) {
      throw new AttentionArgumentError(`inputs.${k}.shape`, s, `[${B}, ${C}, ${L}], the shape of inputs.inputIds`);
    }
    flat[k] = { data: (t as IntTensor).data, shape: [B * C, L] };
  }
  return { flat: flat as unknown as ForwardInputs, B, C };
}

/** Longformer's automatic global attention mask for the head, or undefined. */
function longformerGlobal(kind: HeadWeights["kind"], c: ModelConfig, x: ForwardInputs): IntTensor | undefined {
  const ids = x.inputIds;
  if (ids === null || typeof ids !== "object" || !(ids.data instanceof Int32Array) || !Array.isArray(ids.shape)) {
    return undefined; // checkInputs names the problem
  }
  const [B, L] = ids.shape;
  const g = new Int32Array(B * L); // [B, L]
  if (kind === "ForSequenceClassification") {
    for (let b = 0; b < B; b++) g[b * L] = 1;
    return { data: g, shape: [B, L] };
  }
  if (kind !== "ForQuestionAnswering" && kind !== "ForMultipleChoice") return undefined;
  const sep = sepId(c);
  for (let b = 0; b < B; b++) {
    let first = -1;
    let count = 0;
    for (let i = 0; i < L; i++) {
      if (ids.data[b * L + i] === sep) {
        if (first < 0) first = i;
        count++;
      }
    }
    if (count !== 3) {
      throw new AttentionArgumentError(
        `inputs.inputIds[${b}]`,
        `${count} separator tokens (id ${sep})`,
        `exactly three (<s> question </s></s> context </s>), as HF's automatic global attention needs; or pass inputs.globalAttentionMask`,
      );
    }
    if (kind === "ForQuestionAnswering") for (let i = 0; i < first; i++) g[b * L + i] = 1;
    else for (let i = first + 2; i < L; i++) g[b * L + i] = 1; // HF: position > first sep + 1
  }
  return { data: g, shape: [B, L] };
}

/** The encoder's forward (the model's own, not an override). */
export type EncoderForward = (inputs: ForwardInputs, options: ForwardOptions) => Promise<ForwardOutput>;

export async function taskForward(
  c: ModelConfig,
  encoder: EncoderForward,
  head: HeadWeights,
  inputs: TaskInputs,
  options: ForwardOptions,
): Promise<TaskOutput> {
  const kind = head.kind;
  let x: ForwardInputs;
  let B: number;
  let C = 1;
  if (kind === "ForMultipleChoice") {
    const f = flattenChoices(inputs);
    x = f.flat;
    B = f.B;
    C = f.C;
  } else {
    x = { ...(inputs as ForwardInputs) };
    B = x.inputIds?.shape?.[0];
  }
  let qaMask: Uint8Array | null = null; // BigBird QA: [B, L] 1 where the logits get − 1e6
  if (c.modelType === "longformer" && x.globalAttentionMask === undefined) {
    const g = longformerGlobal(kind, c, x);
    if (g !== undefined) x.globalAttentionMask = g;
  } else if (c.modelType === "big_bird" && kind === "ForQuestionAnswering" && x.inputIds?.data instanceof Int32Array) {
    const [b0, L] = x.inputIds.shape;
    const sep = sepId(c);
    qaMask = new Uint8Array(b0 * L);
    const types = new Int32Array(b0 * L);
    for (let b = 0; b < b0; b++) {
      let q = 0; // torch.argmax(ids == sep) (0 when there is none) + 1
      while (q < L && x.inputIds.data[b * L + q] !== sep) q++;
      const qlen = (q === L ? 0 : q) + 1;
      for (let i = 0; i < L; i++) {
        if (i < qlen && i > 0) qaMask[b * L + i] = 1;
        types[b * L + i] = i < qlen ? 0 : 1;
      }
    }
    if (x.tokenTypeIds === undefined) x.tokenTypeIds = { data: types, shape: [b0, L] };
  }
  const enc = await encoder(x, options);
  const [rows, L] = enc.lastHiddenState.shape;
  const hs = enc.lastHiddenState.data;
  const lo: LinearOptions = {
    backend: options.backend === "reference" ? "js" : (options.backend as LinearOptions["backend"]),
    threads: options.threads,
  };
  const out: TaskOutput = { ...enc };
  if (kind === "ForMaskedLM") {
    out.logits = { data: maskedLmLogits(head, c, hs, rows * L, lo), shape: [rows, L, c.vocab] };
  } else if (kind === "ForSequenceClassification") {
    out.logits = { data: sequenceLogits(head, c, hs, rows, L, lo), shape: [rows, head.labels.length] };
  } else if (kind === "ForTokenClassification") {
    out.logits = { data: linearHead(head, hs, rows * L, lo), shape: [rows, L, head.labels.length] };
  } else if (kind === "ForMultipleChoice") {
    const pooled = enc.poolerOutput;
    if (pooled === undefined) {
      throw new AttentionArgumentError("model", "no pooler weights", "a ForMultipleChoice checkpoint with its pooler");
    }
    out.logits = { data: linearHead(head, pooled.data, rows, lo), shape: [B, C] };
  } else {
    const both =
      c.modelType === "longformer" ? linearHead(head, hs, rows * L, lo) : bigBirdQaLogits(head, c, hs, rows * L, lo);
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
    out.startLogits = { data: start, shape: [rows, L] };
    out.endLogits = { data: end, shape: [rows, L] };
  }
  return out;
}

/** MLM logits [rows.length, vocab] at flat rows (b·L + i) of the encoder output — what fill-mask needs. */
export function maskedLmAt(
  head: HeadWeights,
  c: ModelConfig,
  hs: Float32Array,
  rows: ArrayLike<number>,
  lo: LinearOptions,
): Float32Array {
  return maskedLmLogits(head, c, gatherRows(hs, rows, c.hidden), rows.length, lo);
}
