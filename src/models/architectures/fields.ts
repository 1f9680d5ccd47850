/**
 * Reading config.json fields: each read is checked, and a bad value names the field
 * (`config.hidden_size`), the value and what is expected. Shared by every architecture's
 * parseConfig; `bertFields` reads the fields the BERT family (Longformer, BigBird) names alike.
 */
import { AttentionArgumentError } from "../../errors.js";
import type { ModelConfig } from "./types.js";

export const SUPPORTED_ACTIVATIONS = ["gelu", "gelu_new", "gelu_pytorch_tanh", "relu"] as const;
export type Activation = (typeof SUPPORTED_ACTIVATIONS)[number];

/** raw[key], else `fallback`; an error when both are missing. */
export function field(where: string, raw: Record<string, unknown>, key: string, fallback?: unknown): unknown {
  const v = raw[key] ?? fallback;
  if (v === undefined) throw new AttentionArgumentError(`${where}.${key}`, v, "a value (the field is required)");
  return v;
}

/**
 * The largest value this library accepts for a size field of config.json, checked before
 * anything is allocated from it (a `num_hidden_layers: 1e9` must not build a billion-entry
 * array). Far above every published checkpoint (the largest have ~128 layers, hidden 16,384,
 * vocabularies of 256k) and small enough that no config alone can exhaust memory. Every
 * architecture reading these names through `int()` gets the bound.
 */
export const CONFIG_LIMITS: Readonly<Record<string, number>> = {
  num_hidden_layers: 1024,
  num_attention_heads: 1024,
  hidden_size: 65_536,
  intermediate_size: 262_144,
  vocab_size: 4_194_304,
  max_position_embeddings: 16_777_216,
  type_vocab_size: 1024,
  attention_window: 16_777_216,
  block_size: 65_536,
  num_random_blocks: 1024,
  pad_token_id: 4_194_304,
  // other architectures' size fields (ModernBERT, Reformer)
  local_attention: 16_777_216,
  global_attn_every_n_layers: 1024,
  attention_head_size: 65_536,
  feed_forward_size: 262_144,
  num_buckets: 65_536,
  lsh_attn_chunk_length: 16_777_216,
  local_attn_chunk_length: 16_777_216,
  num_hashes: 1024,
};

/** An integer field >= min (and <= its CONFIG_LIMITS bound, or `max`). */
export function int(
  where: string,
  raw: Record<string, unknown>,
  key: string,
  min: number,
  fallback?: number,
  max: number = CONFIG_LIMITS[key] ?? Number.MAX_SAFE_INTEGER,
): number {
  const v = field(where, raw, key, fallback);
  if (typeof v !== "number" || !Number.isSafeInteger(v) || v < min || v > max) {
    const range =
      max === Number.MAX_SAFE_INTEGER
        ? `an integer >= ${min}`
        : `an integer in [${min}, ${max}] (${max} is this library's bound on ${key}, checked before anything is allocated from it)`;
    throw new AttentionArgumentError(`${where}.${key}`, v, range);
  }
  return v;
}

/** A non-negative number field (epsilons). */
export function nonNegative(where: string, raw: Record<string, unknown>, key: string, fallback?: number): number {
  const v = field(where, raw, key, fallback);
  if (typeof v !== "number" || !(v >= 0)) {
    throw new AttentionArgumentError(`${where}.${key}`, v, "a non-negative number");
  }
  return v;
}

/** An activation name this library computes. */
export function activation(where: string, raw: Record<string, unknown>, key: string, fallback: Activation): Activation {
  const act = field(where, raw, key, fallback);
  if (!(SUPPORTED_ACTIVATIONS as readonly unknown[]).includes(act)) {
    throw new AttentionArgumentError(
      `${where}.${key}`,
      act,
      `one of ${SUPPORTED_ACTIVATIONS.map((s) => `"${s}"`).join(", ")}`,
    );
  }
  return act as Activation;
}

/** hidden_size / num_attention_heads, checked to divide. */
export function headShape(
  where: string,
  raw: Record<string, unknown>,
): { hidden: number; heads: number; headDim: number } {
  const hidden = int(where, raw, "hidden_size", 1);
  const heads = int(where, raw, "num_attention_heads", 1);
  if (hidden % heads !== 0) {
    throw new AttentionArgumentError(
      `${where}.num_attention_heads`,
      heads,
      `a divisor of hidden_size ${hidden} (head size = hidden_size / heads)`,
    );
  }
  return { hidden, heads, headDim: hidden / heads };
}

/** config.architectures (HF class names, e.g. ["LongformerForMaskedLM"]); [] when absent. */
export function architectures(where: string, raw: Record<string, unknown>): string[] {
  const a = raw.architectures;
  if (a === undefined || a === null) return [];
  if (!Array.isArray(a) || !a.every((s) => typeof s === "string")) {
    throw new AttentionArgumentError(`${where}.architectures`, a, 'a list of HF class names, e.g. ["LongformerModel"]');
  }
  return [...a];
}

/**
 * The fields of the BERT family's config.json (hidden_size, num_attention_heads,
 * num_hidden_layers, hidden_act, layer_norm_eps, max_position_embeddings, pad_token_id,
 * intermediate_size, vocab_size, type_vocab_size) with the architecture's defaults.
 */
export function bertFields(
  modelType: string,
  raw: Record<string, unknown>,
  where: string,
  defaults: { act: Activation; padId: number; sepId: number },
): ModelConfig {
  const { hidden, heads, headDim } = headShape(where, raw);
  const layers = int(where, raw, "num_hidden_layers", 1);
  const act = activation(where, raw, "hidden_act", defaults.act);
  const eps = nonNegative(where, raw, "layer_norm_eps", 1e-12);
  const maxPositions = int(where, raw, "max_position_embeddings", 1);
  const vocab = int(where, raw, "vocab_size", 1);
  const padId = int(where, raw, "pad_token_id", 0, defaults.padId);
  if (padId >= vocab) {
    // the pad id is a token id: the embedding table has vocab_size rows
    throw new AttentionArgumentError(`${where}.pad_token_id`, padId, `a token id below vocab_size ${vocab}`);
  }
  return {
    modelType,
    architectures: architectures(where, raw),
    hidden,
    heads,
    headDim,
    layers,
    intermediate: int(where, raw, "intermediate_size", 1),
    vocab,
    maxPositions,
    typeVocab: int(where, raw, "type_vocab_size", 1, 2),
    padId,
    sepId: int(where, raw, "sep_token_id", 0, defaults.sepId),
    eps,
    act,
    raw,
  };
}
