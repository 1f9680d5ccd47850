/** Checking forward()'s inputs: shapes, id ranges, lengths; every error names argument, value and limit. */
import { AttentionArgumentError, describe } from "../errors.js";
import type { Architecture, ModelConfig } from "./architectures/types.js";

export interface IntTensor {
  data: Int32Array;
  shape: [number, number];
}

export interface ForwardInputs {
  inputIds: IntTensor;
  attentionMask?: IntTensor;
  globalAttentionMask?: IntTensor;
  tokenTypeIds?: IntTensor;
}

export interface CheckedInputs {
  B: number;
  L: number;
  ids: Int32Array;
  /** [B, L] 1 = real token. */
  valid: Uint8Array;
  /** [B, L] 1 = global token (Longformer; real tokens only). */
  global: Uint8Array | null;
  types: Int32Array | null;
}

function tensor(where: string, t: unknown, B?: number, L?: number): IntTensor {
  const form =
    B === undefined ? "{ data: Int32Array, shape: [batch, length] }" : `{ data: Int32Array, shape: [${B}, ${L}] }`;
  if (t === null || typeof t !== "object") throw new AttentionArgumentError(where, t, form);
  const { data, shape } = t as { data?: unknown; shape?: unknown };
  if (!(data instanceof Int32Array)) throw new AttentionArgumentError(`${where}.data`, data, "an Int32Array");
  if (
    !Array.isArray(shape) ||
    shape.length !== 2 ||
    !shape.every((d) => Number.isSafeInteger(d) && d >= 1) ||
    (B !== undefined && (shape[0] !== B || shape[1] !== L))
  ) {
    throw new AttentionArgumentError(
      `${where}.shape`,
      shape,
      B === undefined ? "[batch, length], positive integers" : `[${B}, ${L}], the shape of inputs.inputIds`,
    );
  }
  if (data.length !== shape[0] * shape[1]) {
    throw new AttentionArgumentError(
      `${where}.data`,
      data,
      `${shape[0] * shape[1]} values (shape [${shape.join(", ")}]), got ${data.length}`,
    );
  }
  return t as IntTensor;
}

function range(where: string, data: Int32Array, lo: number, hi: number, what: string): void {
  for (let i = 0; i < data.length; i++) {
    if (data[i] < lo || data[i] >= hi) {
      throw new AttentionArgumentError(`${where}.data[${i}]`, data[i], `${what}: an integer in [${lo}, ${hi})`);
    }
  }
}

/** The architecture facts the checks need. */
type InputRules = Pick<Architecture, "globalAttention" | "maxInputLength">;

export function checkInputs(inputs: unknown, c: ModelConfig, arch: InputRules): CheckedInputs {
  if (inputs === null || typeof inputs !== "object") {
    throw new AttentionArgumentError(
      "inputs",
      inputs,
      "{ inputIds, attentionMask?, globalAttentionMask?, tokenTypeIds? }, each { data: Int32Array, shape: [B, L] }",
    );
  }
  const i = inputs as Record<string, unknown>;
  const ids = tensor("inputs.inputIds", i.inputIds);
  const [B, L] = ids.shape;
  range("inputs.inputIds", ids.data, 0, c.vocab, `a token id below vocab_size ${c.vocab}`);
  const { limit, why } = arch.maxInputLength(c);
  if (L > limit) {
    throw new AttentionArgumentError("inputs.inputIds.shape[1]", L, `a length <= ${limit} (${why})`);
  }
  const valid = new Uint8Array(B * L).fill(1); // [B, L]
  if (i.attentionMask !== undefined) {
    const m = tensor("inputs.attentionMask", i.attentionMask, B, L);
    range("inputs.attentionMask", m.data, 0, 2, "1 (token) or 0 (padding)");
    for (let t = 0; t < B * L; t++) valid[t] = m.data[t];
  }
  let global: Uint8Array | null = null;
  if (i.globalAttentionMask !== undefined) {
    if (!arch.globalAttention) {
      throw new AttentionArgumentError(
        "inputs.globalAttentionMask",
        describe(i.globalAttentionMask),
        "no global attention mask: only Longformer has per-token global attention (BigBird's global blocks are fixed)",
      );
    }
    const g = tensor("inputs.globalAttentionMask", i.globalAttentionMask, B, L);
    range("inputs.globalAttentionMask", g.data, 0, 2, "1 (global) or 0 (local)");
    global = new Uint8Array(B * L);
    for (let t = 0; t < B * L; t++) global[t] = g.data[t] & valid[t]; // HF: attention_mask · (global + 1)
  }
  let types: Int32Array | null = null;
  if (i.tokenTypeIds !== undefined) {
    const t = tensor("inputs.tokenTypeIds", i.tokenTypeIds, B, L);
    range("inputs.tokenTypeIds", t.data, 0, c.typeVocab, `a token type below type_vocab_size ${c.typeVocab}`);
    types = t.data;
  }
  for (const k of Object.keys(i)) {
    if (!["inputIds", "attentionMask", "globalAttentionMask", "tokenTypeIds"].includes(k)) {
      throw new AttentionArgumentError(
        `inputs.${k}`,
        describe(i[k]),
        "no such input; inputs are inputIds, attentionMask, globalAttentionMask, tokenTypeIds",
      );
    }
  }
  return { B, L, ids: ids.data, valid, global, types };
}
