/**
 * HF ModernBERT parameter names → weights, checked against the config's shapes. Names as HF
 * saves them: `model.` + backbone for the task models (ForMaskedLM, ForSequenceClassification,
 * ForTokenClassification), no prefix for a bare ModernBertModel (sentence-transformers'
 * embedding models). Linear weights are [out, in]; LayerNorms have a bias only when
 * norm_bias is true. Layer 0 has no attn_norm (HF: nn.Identity, the embedding norm precedes
 * it). The MLM decoder weight is tied to the token embeddings unless the file stores its own
 * `decoder.weight`. Weights stay views into the loaded file.
 */
import { CheckpointError, type WeightStore } from "../safetensors.js";
import type { Linear } from "../weights.js";
import type { ModernBertConfig } from "./config.js";

export interface MbNorm {
  gamma: Float32Array;
  /** Zeros when the checkpoint has no LayerNorm bias (norm_bias false). */
  beta: Float32Array;
}

/** Field names as the architecture registry's EncoderLayerWeights (attnOut, attnNorm, inter, out, mlpNorm) + wqkv. */
export interface MbLayerWeights {
  /** attn_norm; null in layer 0 (identity). */
  attnNorm: MbNorm | null;
  /** attn.Wqkv, fused q | k | v: [3·hidden, hidden], rows head-major within each of q, k, v. */
  wqkv: Linear;
  /** attn.Wo [hidden, hidden]. */
  attnOut: Linear;
  mlpNorm: MbNorm;
  /** mlp.Wi, GeGLU: [2·intermediate, hidden]; rows 0 … I-1 the GELU input, I … 2I-1 the gate. */
  inter: Linear;
  /** mlp.Wo [hidden, intermediate]. */
  out: Linear;
}

export interface MbHeadWeights {
  /** The prediction head: dense → act → norm. */
  dense: Linear;
  norm: MbNorm;
  /** MLM: the decoder [vocab, hidden] (tied to the embeddings) and its bias; classifiers: classifier. */
  decoder: Linear | null;
  classifier: Linear | null;
}

export interface ModernBertWeights {
  embeddings: Float32Array; // [vocab, hidden]
  embNorm: MbNorm;
  layers: MbLayerWeights[];
  finalNorm: MbNorm;
  /** ModernBERT has no pooler (the heads pool). */
  pooler: null;
  prefix: string;
}

export type MbHeadKind = "ForMaskedLM" | "ForSequenceClassification" | "ForTokenClassification";

/**
 * A task model's head: `head.dense` / `head.norm` (the prediction head), then the MLM decoder
 * (weight tied to the embeddings `<prefix>embeddings.tok_embeddings.weight` unless the file has
 * `decoder.weight`; `decoder.bias` when decoder_bias) or `classifier` (weight and bias).
 */
export function loadModernBertHead(
  store: WeightStore,
  c: ModernBertConfig,
  kind: MbHeadKind,
  prefix: string,
): MbHeadWeights {
  const h = c.hidden;
  const get = (full: string, shape: number[]): Float32Array => {
    const t = store.get(full);
    if (t.shape.length !== shape.length || t.shape.some((d, i) => d !== shape[i])) {
      throw new CheckpointError(
        `${store.label}: tensor "${full}" has shape [${t.shape.join(", ")}]; the config (hidden_size ${c.hidden}, vocab_size ${c.vocab}) needs [${shape.join(", ")}]`,
      );
    }
    return t.data;
  };
  const lin = (name: string, outF: number, bias: boolean): Linear => ({
    W: get(`${name}.weight`, [outF, h]),
    b: bias ? get(`${name}.bias`, [outF]) : null,
    outF,
    inF: h,
  });
  const dense = lin("head.dense", h, c.classifierBias);
  const norm = {
    gamma: get("head.norm.weight", [h]),
    beta: c.normBias ? get("head.norm.bias", [h]) : new Float32Array(h),
  };
  if (kind === "ForMaskedLM") {
    const decoder: Linear = {
      W: store.has("decoder.weight")
        ? get("decoder.weight", [c.vocab, h])
        : get(`${prefix}embeddings.tok_embeddings.weight`, [c.vocab, h]), // tied to the embeddings
      b: c.decoderBias ? get("decoder.bias", [c.vocab]) : null,
      outF: c.vocab,
      inF: h,
    };
    return { dense, norm, decoder, classifier: null };
  }
  if (!store.has("classifier.weight")) {
    throw new CheckpointError(
      `${store.label}: missing tensor "classifier.weight" (a ModernBert${kind} checkpoint has one)`,
    );
  }
  const n = store.get("classifier.weight").shape[0];
  if (c.labels.length > 0 && n !== c.labels.length) {
    throw new CheckpointError(
      `${store.label}: classifier.weight has ${n} rows but config.id2label names ${c.labels.length} labels`,
    );
  }
  return { dense, norm, decoder: null, classifier: lin("classifier", n, true) };
}

export function loadModernBertWeights(store: WeightStore, c: ModernBertConfig): ModernBertWeights {
  const probe = "embeddings.tok_embeddings.weight";
  const prefix = ["model.", ""].find((p) => store.has(p + probe));
  if (prefix === undefined) {
    throw new CheckpointError(
      `${store.label}: missing tensor "model.${probe}" (or "${probe}" for a bare ModernBertModel); is this a ModernBERT checkpoint?`,
    );
  }
  const get = (full: string, shape: number[]): Float32Array => {
    const t = store.get(full);
    if (t.shape.length !== shape.length || t.shape.some((d, i) => d !== shape[i])) {
      throw new CheckpointError(
        `${store.label}: tensor "${full}" has shape [${t.shape.join(", ")}]; the config (hidden_size ${c.hidden}, intermediate_size ${c.intermediate}, vocab_size ${c.vocab}) needs [${shape.join(", ")}]`,
      );
    }
    return t.data;
  };
  const biasOf = (full: string, n: number, present: boolean): Float32Array | null => {
    if (!present) return null;
    return get(`${full}.bias`, [n]);
  };
  const lin = (full: string, outF: number, inF: number, bias: boolean): Linear => ({
    W: get(`${full}.weight`, [outF, inF]),
    b: biasOf(full, outF, bias),
    outF,
    inF,
  });
  const norm = (full: string, n: number): MbNorm => ({
    gamma: get(`${full}.weight`, [n]),
    beta: c.normBias ? get(`${full}.bias`, [n]) : new Float32Array(n),
  });
  const h = c.hidden;
  const p = prefix;
  const layers: MbLayerWeights[] = [];
  for (let i = 0; i < c.layers; i++) {
    const l = `${p}layers.${i}.`;
    layers.push({
      attnNorm: i === 0 ? null : norm(`${l}attn_norm`, h),
      wqkv: lin(`${l}attn.Wqkv`, 3 * h, h, c.attentionBias),
      attnOut: lin(`${l}attn.Wo`, h, h, c.attentionBias),
      mlpNorm: norm(`${l}mlp_norm`, h),
      inter: lin(`${l}mlp.Wi`, 2 * c.intermediate, h, c.mlpBias),
      out: lin(`${l}mlp.Wo`, h, c.intermediate, c.mlpBias),
    });
  }
  const embeddings = get(`${p}${probe}`, [c.vocab, h]);
  return {
    embeddings,
    embNorm: norm(`${p}embeddings.norm`, h),
    layers,
    finalNorm: norm(`${p}final_norm`, h),
    pooler: null,
    prefix,
  };
}
