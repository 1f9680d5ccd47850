/**
 * config.json of a HuggingFace Reformer (model_type "reformer") → a checked configuration.
 * Every field the forward pass reads is checked; a bad value names the field, the value and
 * what is expected. Defaults are HF ReformerConfig's (v4.40).
 */
import { AttentionArgumentError } from "../../errors.js";
import type { ModelConfig } from "../architectures/types.js";

export type ReformerActivation = "relu" | "gelu" | "gelu_new" | "gelu_pytorch_tanh";
const ACTS: readonly string[] = ["relu", "gelu", "gelu_new", "gelu_pytorch_tanh"];

export interface AttentionTypeConfig {
  chunkLength: number;
  chunksBefore: number;
  chunksAfter: number;
}

/** The registry's common fields (intermediate = feed_forward_size, typeVocab 0) plus Reformer's own. */
export interface ReformerConfig extends ModelConfig {
  modelType: "reformer";
  /** "local" or "lsh" per layer. */
  attnLayers: ("local" | "lsh")[];
  layers: number;
  /** Width of ONE reversible stream (hidden_size); the final LayerNorm and the LM head see 2·hidden. */
  hidden: number;
  heads: number;
  headDim: number;
  feedForward: number;
  act: ReformerActivation;
  eps: number;
  vocab: number;
  padId: number;
  eosId: number | null;
  isDecoder: boolean;
  maxPositions: number;
  /** Axial position embeddings: the factorised shape (product = maxPositions) and per-factor widths (sum = hidden); null = a plain table. */
  axialShape: number[] | null;
  axialDims: number[] | null;
  /** Buckets per round: a number, a list of factors (HF's factorised buckets), or null (HF sets them from the length). */
  numBuckets: number | number[] | null;
  numHashes: number;
  hashSeed: number | null;
  lsh: AttentionTypeConfig;
  local: AttentionTypeConfig;
  raw: Record<string, unknown>;
}

function get(raw: Record<string, unknown>, key: string, fallback: unknown): unknown {
  return raw[key] === undefined ? fallback : raw[key];
}

function int(where: string, raw: Record<string, unknown>, key: string, min: number, fallback?: number): number {
  const v = get(raw, key, fallback);
  if (typeof v !== "number" || !Number.isSafeInteger(v) || v < min) {
    throw new AttentionArgumentError(`${where}.${key}`, v, `an integer >= ${min}`);
  }
  return v;
}

function intList(where: string, raw: Record<string, unknown>, key: string, fallback: unknown): number[] {
  const v = get(raw, key, fallback);
  if (!Array.isArray(v) || v.length === 0 || !v.every((x) => Number.isSafeInteger(x) && x >= 1)) {
    throw new AttentionArgumentError(`${where}.${key}`, v, "a non-empty list of positive integers");
  }
  return v as number[];
}

/** Checks and normalises a Reformer config.json object. */
export function parseReformerConfig(config: unknown, where = "config"): ReformerConfig {
  if (config === null || typeof config !== "object" || Array.isArray(config)) {
    throw new AttentionArgumentError(where, config, "a config.json object");
  }
  const raw = config as Record<string, unknown>;
  if (raw.model_type !== "reformer") {
    throw new AttentionArgumentError(`${where}.model_type`, raw.model_type, '"reformer"');
  }
  const attn = get(raw, "attn_layers", ["local", "lsh", "local", "lsh", "local", "lsh"]);
  if (!Array.isArray(attn) || attn.length === 0 || !attn.every((a) => a === "local" || a === "lsh")) {
    throw new AttentionArgumentError(`${where}.attn_layers`, attn, 'a non-empty list of "local" / "lsh"');
  }
  const layers = attn.length;
  const nhl = raw.num_hidden_layers;
  if (nhl !== undefined && nhl !== layers) {
    throw new AttentionArgumentError(
      `${where}.num_hidden_layers`,
      nhl,
      `${layers}, the length of attn_layers (HF builds one layer per entry)`,
    );
  }
  const hidden = int(where, raw, "hidden_size", 1, 256);
  const heads = int(where, raw, "num_attention_heads", 1, 12);
  const headDim = int(where, raw, "attention_head_size", 1, 64);
  const act = get(raw, "hidden_act", "relu");
  if (typeof act !== "string" || !ACTS.includes(act)) {
    throw new AttentionArgumentError(`${where}.hidden_act`, act, ACTS.map((a) => `"${a}"`).join(", "));
  }
  const eps = get(raw, "layer_norm_eps", 1e-12);
  if (typeof eps !== "number" || !(eps >= 0)) {
    throw new AttentionArgumentError(`${where}.layer_norm_eps`, eps, "a non-negative number");
  }
  const maxPositions = int(where, raw, "max_position_embeddings", 1, 4096);
  let axialShape: number[] | null = null;
  let axialDims: number[] | null = null;
  if (get(raw, "axial_pos_embds", true) === true) {
    axialShape = intList(where, raw, "axial_pos_shape", [64, 64]);
    axialDims = intList(where, raw, "axial_pos_embds_dim", [64, 192]);
    if (axialShape.length !== axialDims.length) {
      throw new AttentionArgumentError(
        `${where}.axial_pos_embds_dim`,
        axialDims,
        `one width per axial factor (${axialShape.length} factors in axial_pos_shape)`,
      );
    }
    const prod = axialShape.reduce((a, b) => a * b, 1);
    if (prod !== maxPositions) {
      throw new AttentionArgumentError(
        `${where}.axial_pos_shape`,
        axialShape,
        `factors whose product is max_position_embeddings ${maxPositions} (HF requires it)`,
      );
    }
    const sum = axialDims.reduce((a, b) => a + b, 0);
    if (sum !== hidden) {
      throw new AttentionArgumentError(
        `${where}.axial_pos_embds_dim`,
        axialDims,
        `widths summing to hidden_size ${hidden}`,
      );
    }
  }
  const nbRaw = get(raw, "num_buckets", null);
  let numBuckets: number | number[] | null = null;
  if (nbRaw !== null) {
    const list = Array.isArray(nbRaw) ? nbRaw : [nbRaw];
    if (list.length === 0 || !list.every((f) => Number.isSafeInteger(f) && f >= 2 && f % 2 === 0)) {
      throw new AttentionArgumentError(
        `${where}.num_buckets`,
        nbRaw,
        "an even integer >= 2, a list of them (factorised buckets), or null",
      );
    }
    numBuckets = Array.isArray(nbRaw) ? (list as number[]) : (nbRaw as number);
  }
  const seed = get(raw, "hash_seed", null);
  if (seed !== null && (typeof seed !== "number" || !Number.isSafeInteger(seed) || seed < 0)) {
    throw new AttentionArgumentError(`${where}.hash_seed`, seed, "a non-negative integer or null");
  }
  const eos = get(raw, "eos_token_id", 2);
  const vocab = int(where, raw, "vocab_size", 1, 320);
  if (eos !== null && (typeof eos !== "number" || !Number.isSafeInteger(eos) || eos < 0 || eos >= vocab)) {
    throw new AttentionArgumentError(`${where}.eos_token_id`, eos, `a token id below vocab_size ${vocab}, or null`);
  }
  const isDecoder = get(raw, "is_decoder", false);
  if (typeof isDecoder !== "boolean") {
    throw new AttentionArgumentError(`${where}.is_decoder`, isDecoder, "true or false");
  }
  const kind = (prefix: string, chunk: number): AttentionTypeConfig => ({
    chunkLength: int(where, raw, `${prefix}_attn_chunk_length`, 1, chunk),
    chunksBefore: int(where, raw, `${prefix}_num_chunks_before`, 0, 1),
    chunksAfter: int(where, raw, `${prefix}_num_chunks_after`, 0, 0),
  });
  const archs = get(raw, "architectures", []);
  const feedForward = int(where, raw, "feed_forward_size", 1, 512);
  return {
    modelType: "reformer",
    architectures: Array.isArray(archs) ? archs.filter((a): a is string => typeof a === "string") : [],
    intermediate: feedForward,
    typeVocab: 0,
    attnLayers: attn as ("local" | "lsh")[],
    layers,
    hidden,
    heads,
    headDim,
    feedForward,
    act: act as ReformerActivation,
    eps,
    vocab,
    padId: int(where, raw, "pad_token_id", 0, 0),
    eosId: eos as number | null,
    isDecoder,
    maxPositions,
    axialShape,
    axialDims,
    numBuckets,
    numHashes: int(where, raw, "num_hashes", 1, 1),
    hashSeed: seed as number | null,
    lsh: kind("lsh", 64),
    local: kind("local", 64),
    raw,
  };
}

/** HF _get_least_common_mult_chunk_len / _get_min_chunk_len over the attention types in use. */
export function chunkMultiples(c: ReformerConfig): { lcm: number; min: number } {
  const used = new Set(c.attnLayers);
  const lens: number[] = [];
  if (used.has("lsh")) lens.push(c.lsh.chunkLength);
  if (used.has("local")) lens.push(c.local.chunkLength);
  const gcd = (a: number, b: number): number => (b === 0 ? a : gcd(b, a % b));
  const lcm = lens.reduce((a, b) => (a * b) / gcd(a, b), 1);
  return { lcm, min: Math.min(...lens) };
}

/**
 * Buckets of an LSH layer as factors, for a (padded) sequence of `length`: the config's, or
 * HF's `_set_num_buckets` when num_buckets is null (2^floor(log2(2·length/chunk)), factorised
 * into two powers of two above 2·max(sqrt(max_positions / chunk), chunk)).
 */
export function bucketFactors(c: ReformerConfig, length: number): number[] {
  if (c.numBuckets !== null) return Array.isArray(c.numBuckets) ? c.numBuckets : [c.numBuckets];
  const C = c.lsh.chunkLength;
  const pow = Math.max(1, Math.floor(Math.log2(Math.max(1, 2 * Math.floor(length / C)))));
  const limit = 2 * Math.max(Math.floor(Math.sqrt(Math.floor(c.maxPositions / C))), C);
  if (2 ** pow > limit) return [2 ** Math.floor(pow / 2), 2 ** (pow - Math.floor(pow / 2))];
  return [2 ** pow];
}
