/**
 * ModernBERT's config.json → a checked, normalised configuration. Defaults are HF's
 * ModernBertConfig (transformers v4.48): a field the file omits takes HF's value, so a
 * config.json saved by any version reads the same. Every field read is checked; a bad value
 * names the field, the value and what is expected.
 *
 * Layer kinds: layer i is global (dense attention, global_rope_theta) when
 * i % global_attn_every_n_layers == 0, else local (|q - k| <= local_attention / 2 with
 * integer division, local_rope_theta). transformers 5.x writes the same facts as
 * `layer_types` ("full_attention" / "sliding_attention") and `rope_parameters`
 * ({ full_attention: { rope_theta }, sliding_attention: { rope_theta } }); both are read.
 */
import { AttentionArgumentError } from "../../errors.js";
import { type Activation, SUPPORTED_ACTIVATIONS } from "../config.js";

/** Fills the architecture registry's ModelConfig fields (typeVocab 0: no token types) and ModernBERT's own. */
export interface ModernBertConfig {
  modelType: "modernbert";
  /** config.architectures (HF class names); [] when absent. */
  architectures: string[];
  /** No token type embeddings. */
  typeVocab: 0;
  hidden: number;
  heads: number;
  headDim: number;
  layers: number;
  /** GeGLU width: Wi is [2·intermediate, hidden]. */
  intermediate: number;
  vocab: number;
  maxPositions: number;
  padId: number;
  eps: number;
  normBias: boolean;
  attentionBias: boolean;
  mlpBias: boolean;
  classifierBias: boolean;
  decoderBias: boolean;
  act: Activation;
  classifierAct: Activation;
  /** Per layer: true = global (dense) attention. */
  global: boolean[];
  /** HF local_attention: the WHOLE window; keys |q - k| <= floor(window / 2) are seen. */
  window: number;
  /** Per layer: the RoPE base. */
  ropeTheta: number[];
  classifierPooling: "cls" | "mean";
  /** config.architectures[0] (e.g. "ModernBertForMaskedLM"), "" when absent. */
  architecture: string;
  /** id2label in index order (num_labels entries), when the config has labels. */
  labels: string[];
  /** Special ids the config names (cls / sep / mask are tokenizer facts; mask is not in config.json). */
  clsId?: number;
  sepId?: number;
  raw: Record<string, unknown>;
}

const DEFAULTS = {
  vocab_size: 50368,
  hidden_size: 768,
  intermediate_size: 1152,
  num_hidden_layers: 22,
  num_attention_heads: 12,
  hidden_activation: "gelu",
  max_position_embeddings: 8192,
  norm_eps: 1e-5,
  norm_bias: false,
  pad_token_id: 50283,
  global_rope_theta: 160000,
  attention_bias: false,
  global_attn_every_n_layers: 3,
  local_attention: 128,
  local_rope_theta: 10000,
  mlp_bias: false,
  decoder_bias: true,
  classifier_pooling: "cls",
  classifier_bias: false,
  classifier_activation: "gelu",
} as const;

type Raw = Record<string, unknown>;

function get(raw: Raw, key: keyof typeof DEFAULTS): unknown {
  const v = raw[key];
  return v === undefined || v === null ? DEFAULTS[key] : v;
}

function int(where: string, raw: Raw, key: keyof typeof DEFAULTS, min: number): number {
  const v = get(raw, key);
  if (typeof v !== "number" || !Number.isSafeInteger(v) || v < min) {
    throw new AttentionArgumentError(`${where}.${key}`, v, `an integer >= ${min}`);
  }
  return v;
}

function bool(where: string, raw: Raw, key: keyof typeof DEFAULTS): boolean {
  const v = get(raw, key);
  if (typeof v !== "boolean") throw new AttentionArgumentError(`${where}.${key}`, v, "true or false");
  return v;
}

function positive(where: string, key: string, v: unknown): number {
  if (typeof v !== "number" || !Number.isFinite(v) || v <= 0) {
    throw new AttentionArgumentError(`${where}.${key}`, v, "a positive number");
  }
  return v;
}

function activation(where: string, raw: Raw, key: "hidden_activation" | "classifier_activation"): Activation {
  const v = get(raw, key);
  if (!(SUPPORTED_ACTIVATIONS as readonly unknown[]).includes(v)) {
    throw new AttentionArgumentError(
      `${where}.${key}`,
      v,
      `one of ${SUPPORTED_ACTIVATIONS.map((s) => `"${s}"`).join(", ")}`,
    );
  }
  return v as Activation;
}

/** The rope_theta of one kind in transformers 5.x's rope_parameters, if given. */
function ropeParameter(where: string, raw: Raw, kind: "full_attention" | "sliding_attention"): number | undefined {
  const rp = raw.rope_parameters;
  if (rp === undefined || rp === null) return undefined;
  if (typeof rp !== "object" || Array.isArray(rp)) {
    throw new AttentionArgumentError(`${where}.rope_parameters`, rp, "an object { full_attention, sliding_attention }");
  }
  const p = (rp as Raw)[kind];
  if (p === undefined || p === null) return undefined;
  const o = p as Raw;
  if (o.rope_type !== undefined && o.rope_type !== "default") {
    throw new AttentionArgumentError(
      `${where}.rope_parameters.${kind}.rope_type`,
      o.rope_type,
      `"default" (scaled RoPE variants are not supported)`,
    );
  }
  return o.rope_theta === undefined ? undefined : positive(where, `rope_parameters.${kind}.rope_theta`, o.rope_theta);
}

export function parseModernBertConfig(config: unknown, where = "config"): ModernBertConfig {
  if (config === null || typeof config !== "object" || Array.isArray(config)) {
    throw new AttentionArgumentError(where, config, "a config.json object");
  }
  const raw = config as Raw;
  if (raw.model_type !== "modernbert") {
    throw new AttentionArgumentError(`${where}.model_type`, raw.model_type, `"modernbert"`);
  }
  const hidden = int(where, raw, "hidden_size", 1);
  const heads = int(where, raw, "num_attention_heads", 1);
  if (hidden % heads !== 0) {
    throw new AttentionArgumentError(
      `${where}.num_attention_heads`,
      heads,
      `a divisor of hidden_size ${hidden} (head size = hidden_size / heads)`,
    );
  }
  const headDim = hidden / heads;
  if (headDim % 2 !== 0) {
    throw new AttentionArgumentError(
      `${where}.num_attention_heads`,
      heads,
      `a count giving an even head size (RoPE rotates pairs); hidden_size ${hidden} / ${heads} = ${headDim}`,
    );
  }
  const layers = int(where, raw, "num_hidden_layers", 1);
  const every = int(where, raw, "global_attn_every_n_layers", 1);
  const window = int(where, raw, "local_attention", 0);
  const eps = get(raw, "norm_eps");
  if (typeof eps !== "number" || !(eps >= 0)) {
    throw new AttentionArgumentError(`${where}.norm_eps`, eps, "a non-negative number");
  }
  if (raw.rope_scaling !== undefined && raw.rope_scaling !== null) {
    throw new AttentionArgumentError(
      `${where}.rope_scaling`,
      raw.rope_scaling,
      "null (scaled RoPE variants are not supported)",
    );
  }
  let global = Array.from({ length: layers }, (_, i) => i % every === 0);
  const lt = raw.layer_types;
  if (lt !== undefined && lt !== null) {
    if (
      !Array.isArray(lt) ||
      lt.length !== layers ||
      !lt.every((t) => t === "full_attention" || t === "sliding_attention")
    ) {
      throw new AttentionArgumentError(
        `${where}.layer_types`,
        lt,
        `${layers} entries (one per layer), each "full_attention" or "sliding_attention"`,
      );
    }
    global = lt.map((t) => t === "full_attention");
  }
  const gTheta =
    ropeParameter(where, raw, "full_attention") ?? positive(where, "global_rope_theta", get(raw, "global_rope_theta"));
  // HF: local_rope_theta None → local layers use the global theta
  const lRaw = raw.local_rope_theta === null ? gTheta : get(raw, "local_rope_theta");
  const lTheta = ropeParameter(where, raw, "sliding_attention") ?? positive(where, "local_rope_theta", lRaw);
  const pooling = get(raw, "classifier_pooling");
  if (pooling !== "cls" && pooling !== "mean") {
    throw new AttentionArgumentError(`${where}.classifier_pooling`, pooling, `"cls" or "mean"`);
  }
  const arch = Array.isArray(raw.architectures) && typeof raw.architectures[0] === "string" ? raw.architectures[0] : "";
  return {
    modelType: "modernbert",
    architectures: Array.isArray(raw.architectures) ? raw.architectures.filter((a) => typeof a === "string") : [],
    typeVocab: 0,
    hidden,
    heads,
    headDim,
    layers,
    intermediate: int(where, raw, "intermediate_size", 1),
    vocab: int(where, raw, "vocab_size", 1),
    maxPositions: int(where, raw, "max_position_embeddings", 1),
    padId: int(where, raw, "pad_token_id", 0),
    eps,
    normBias: bool(where, raw, "norm_bias"),
    attentionBias: bool(where, raw, "attention_bias"),
    mlpBias: bool(where, raw, "mlp_bias"),
    classifierBias: bool(where, raw, "classifier_bias"),
    decoderBias: bool(where, raw, "decoder_bias"),
    act: activation(where, raw, "hidden_activation"),
    classifierAct: activation(where, raw, "classifier_activation"),
    global,
    window,
    ropeTheta: global.map((g) => (g ? gTheta : lTheta)),
    classifierPooling: pooling,
    architecture: arch,
    labels: labelsOf(where, raw),
    clsId: optionalId(raw.cls_token_id ?? raw.bos_token_id),
    sepId: optionalId(raw.sep_token_id ?? raw.eos_token_id),
    raw,
  };
}

function optionalId(v: unknown): number | undefined {
  return typeof v === "number" && Number.isSafeInteger(v) && v >= 0 ? v : undefined;
}

/** id2label as a list (index = class id); num_labels generic names when only the count is given. */
function labelsOf(where: string, raw: Raw): string[] {
  const m = raw.id2label;
  if (m !== undefined && m !== null) {
    if (typeof m !== "object" || Array.isArray(m)) {
      throw new AttentionArgumentError(`${where}.id2label`, m, `an object { "0": "LABEL_0", … }`);
    }
    const entries = Object.entries(m as Raw);
    const out: string[] = new Array(entries.length);
    for (const [k, v] of entries) {
      const i = Number(k);
      if (!Number.isSafeInteger(i) || i < 0 || i >= entries.length || typeof v !== "string") {
        throw new AttentionArgumentError(
          `${where}.id2label.${k}`,
          v,
          `class ids 0 … ${entries.length - 1}, names as strings`,
        );
      }
      out[i] = v;
    }
    return out;
  }
  const n = raw.num_labels;
  if (typeof n === "number" && Number.isSafeInteger(n) && n > 0)
    return Array.from({ length: n }, (_, i) => `LABEL_${i}`);
  return [];
}
