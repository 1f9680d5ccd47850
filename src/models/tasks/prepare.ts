/**
 * The inputs HF's task models derive when they are not given (v4.40.2, eval):
 *   Longformer ForSequenceClassification: global attention on token 0.
 *   Longformer ForQuestionAnswering: global attention on every token before the first sep
 *     (each row must hold exactly three sep tokens: <s> question </s></s> context </s>).
 *   Longformer ForMultipleChoice: per choice, global attention after first sep + 1.
 *   BigBird ForQuestionAnswering: question_lengths = first sep + 1; logits − 1e6 on positions
 *     1 … question_lengths − 1 (heads.ts applies it; token types there too).
 *   ForMultipleChoice: inputs [B, choices, L] flattened to [B·choices, L].
 */
import { AttentionArgumentError } from "../../errors.js";
import type { ModelConfig } from "../architectures/types.js";
import type { IntTensor } from "../inputs.js";

/** Inputs of a task forward: [B, L] tensors, or [B, choices, L] for ForMultipleChoice. */
export interface TaskInputs {
  inputIds: { data: Int32Array; shape: number[] };
  attentionMask?: { data: Int32Array; shape: number[] };
  globalAttentionMask?: { data: Int32Array; shape: number[] };
  tokenTypeIds?: { data: Int32Array; shape: number[] };
}

export function sepId(c: ModelConfig): number {
  if (c.sepId === undefined) {
    throw new AttentionArgumentError(
      "config.sep_token_id",
      c.raw.sep_token_id,
      "the separator token id this task needs",
    );
  }
  return c.sepId; // sep_token_id, else the architecture's default (Longformer 2, BigBird 66)
}

/** MC: [B, C, L] tensors → [B·C, L]. */
export function prepareMultipleChoice(inputs: TaskInputs): TaskInputs {
  const ids = inputs?.inputIds;
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
  return flat as unknown as TaskInputs;
}

/** Longformer's automatic global attention mask for `kind`, added when none is given. */
export function prepareLongformer(kind: string, c: ModelConfig, x: TaskInputs): TaskInputs {
  if (x.globalAttentionMask !== undefined) return x;
  const ids = x.inputIds;
  if (ids === null || typeof ids !== "object" || !(ids.data instanceof Int32Array) || !Array.isArray(ids.shape)) {
    return x; // checkInputs names the problem
  }
  const [B, L] = ids.shape;
  const g = new Int32Array(B * L); // [B, L]
  if (kind === "ForSequenceClassification") {
    for (let b = 0; b < B; b++) g[b * L] = 1;
    return { ...x, globalAttentionMask: { data: g, shape: [B, L] } };
  }
  if (kind !== "ForQuestionAnswering" && kind !== "ForMultipleChoice") return x;
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
  return { ...x, globalAttentionMask: { data: g, shape: [B, L] } };
}

/** BigBird QA: [B, L] 1 on positions 1 … question_lengths − 1, question_lengths = argmax(ids == sep) + 1. */
export function bigBirdQuestionMask(ids: { data: Int32Array; shape: number[] }, c: ModelConfig): Uint8Array {
  const [B, L] = ids.shape;
  const sep = sepId(c);
  const mask = new Uint8Array(B * L);
  for (let b = 0; b < B; b++) {
    let q = 0; // torch.argmax(ids == sep): the first sep, 0 when there is none
    while (q < L && ids.data[b * L + q] !== sep) q++;
    const qlen = (q === L ? 0 : q) + 1;
    for (let i = 1; i < qlen; i++) mask[b * L + i] = 1;
  }
  return mask;
}
