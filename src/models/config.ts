/**
 * config.json → a checked, normalised model configuration. Only the fields the encoder needs
 * are read; every one is checked and a bad value names the field, the value and what is
 * expected. The hub module uses SUPPORTED_MODEL_TYPES and checkModelConfig before downloading
 * weights.
 */
import { AttentionArgumentError } from "../errors.js";

export const SUPPORTED_MODEL_TYPES = ["longformer", "big_bird"] as const;
export type ModelType = (typeof SUPPORTED_MODEL_TYPES)[number];
export const SUPPORTED_ACTIVATIONS = ["gelu", "gelu_new", "gelu_pytorch_tanh", "relu"] as const;
export type Activation = (typeof SUPPORTED_ACTIVATIONS)[number];

export interface ModelConfig {
  modelType: ModelType;
  hidden: number;
  heads: number;
  headDim: number;
  layers: number;
  intermediate: number;
  vocab: number;
  maxPositions: number;
  typeVocab: number;
  padId: number;
  eps: number;
  act: Activation;
  /** Longformer: HF attention_window per layer (the WHOLE window; one-sided = half). */
  attentionWindow: number[];
  /** BigBird: "block_sparse" or "original_full". */
  attentionType: "block_sparse" | "original_full";
  blockSize: number;
  randomBlocks: number;
  /** BigBird: embeddings multiplied by sqrt(hidden). */
  rescaleEmbeddings: boolean;
  /** The config.json as given. */
  raw: Record<string, unknown>;
}

function field(where: string, raw: Record<string, unknown>, key: string, fallback?: unknown): unknown {
  const v = raw[key] ?? fallback;
  if (v === undefined) throw new AttentionArgumentError(`${where}.${key}`, v, "a value (the field is required)");
  return v;
}

function int(where: string, raw: Record<string, unknown>, key: string, min: number, fallback?: number): number {
  const v = field(where, raw, key, fallback);
  if (typeof v !== "number" || !Number.isSafeInteger(v) || v < min) {
    throw new AttentionArgumentError(`${where}.${key}`, v, `an integer >= ${min}`);
  }
  return v;
}

/**
 * Throws unless `config` is a config.json object whose model_type this library runs; the
 * error lists the supported types. Returns the model type.
 */
export function checkModelConfig(config: unknown, where = "config"): ModelType {
  if (config === null || typeof config !== "object" || Array.isArray(config)) {
    throw new AttentionArgumentError(where, config, "a config.json object with a model_type");
  }
  const t = (config as Record<string, unknown>).model_type;
  if (!(SUPPORTED_MODEL_TYPES as readonly unknown[]).includes(t)) {
    throw new AttentionArgumentError(
      `${where}.model_type`,
      t,
      `one of ${SUPPORTED_MODEL_TYPES.map((s) => `"${s}"`).join(", ")} (other architectures are not supported)`,
    );
  }
  return t as ModelType;
}

/** Checks and normalises a config.json object. */
export function parseConfig(config: unknown, where = "config"): ModelConfig {
  const modelType = checkModelConfig(config, where);
  const raw = config as Record<string, unknown>;
  const hidden = int(where, raw, "hidden_size", 1);
  const heads = int(where, raw, "num_attention_heads", 1);
  if (hidden % heads !== 0) {
    throw new AttentionArgumentError(
      `${where}.num_attention_heads`,
      heads,
      `a divisor of hidden_size ${hidden} (head size = hidden_size / heads)`,
    );
  }
  const layers = int(where, raw, "num_hidden_layers", 1);
  const act = field(where, raw, "hidden_act", modelType === "big_bird" ? "gelu_new" : "gelu");
  if (!(SUPPORTED_ACTIVATIONS as readonly unknown[]).includes(act)) {
    throw new AttentionArgumentError(
      `${where}.hidden_act`,
      act,
      `one of ${SUPPORTED_ACTIVATIONS.map((s) => `"${s}"`).join(", ")}`,
    );
  }
  const eps = field(where, raw, "layer_norm_eps", 1e-12);
  if (typeof eps !== "number" || !(eps >= 0)) {
    throw new AttentionArgumentError(`${where}.layer_norm_eps`, eps, "a non-negative number");
  }
  let attentionWindow: number[] = [];
  let attentionType: ModelConfig["attentionType"] = "original_full";
  let blockSize = 0;
  let randomBlocks = 0;
  if (modelType === "longformer") {
    const w = field(where, raw, "attention_window");
    const list = Array.isArray(w) ? w : Array.from({ length: layers }, () => w);
    if (list.length !== layers) {
      throw new AttentionArgumentError(
        `${where}.attention_window`,
        w,
        `one window per layer (${layers} layers) or a single number`,
      );
    }
    attentionWindow = list.map((x, i) => {
      if (typeof x !== "number" || !Number.isSafeInteger(x) || x <= 0 || x % 2 !== 0) {
        throw new AttentionArgumentError(
          `${where}.attention_window[${i}]`,
          x,
          "a positive even integer (HF's whole window; one-sided = half)",
        );
      }
      return x;
    });
  } else {
    const at = field(where, raw, "attention_type", "block_sparse");
    if (at !== "block_sparse" && at !== "original_full") {
      throw new AttentionArgumentError(`${where}.attention_type`, at, `"block_sparse" or "original_full"`);
    }
    attentionType = at;
    blockSize = int(where, raw, "block_size", 1, 64);
    randomBlocks = int(where, raw, "num_random_blocks", 0, 3);
  }
  const maxPositions = int(where, raw, "max_position_embeddings", 1);
  const padId = int(where, raw, "pad_token_id", 0, modelType === "longformer" ? 1 : 0);
  return {
    modelType,
    hidden,
    heads,
    headDim: hidden / heads,
    layers,
    intermediate: int(where, raw, "intermediate_size", 1),
    vocab: int(where, raw, "vocab_size", 1),
    maxPositions,
    typeVocab: int(where, raw, "type_vocab_size", 1, 2),
    padId,
    eps,
    act: act as Activation,
    attentionWindow,
    attentionType,
    blockSize,
    randomBlocks,
    rescaleEmbeddings: raw.rescale_embeddings === true,
    raw,
  };
}

/** Longest input (tokens per row) the position table allows, and why. */
export function maxInputLength(c: ModelConfig): { limit: number; why: string } {
  if (c.modelType === "longformer") {
    // positions are pad_id + 1 + count of real tokens: the last real token of L gets pad_id + L
    return {
      limit: c.maxPositions - c.padId - 1,
      why: `max_position_embeddings ${c.maxPositions} minus pad_token_id + 1 (Longformer positions start at pad_token_id + 1)`,
    };
  }
  if (c.attentionType === "block_sparse") {
    return {
      limit: Math.floor(c.maxPositions / c.blockSize) * c.blockSize,
      why: `max_position_embeddings ${c.maxPositions}, after padding to a multiple of block_size ${c.blockSize}`,
    };
  }
  return { limit: c.maxPositions, why: `max_position_embeddings ${c.maxPositions}` };
}
