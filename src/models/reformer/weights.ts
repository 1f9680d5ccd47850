/**
 * HF parameter names of ReformerModelWithLMHead (`reformer.…`, `lm_head.…`) or of a bare
 * ReformerModel (no prefix, no LM head) → the model's weights, each checked against the
 * config's shape. Weights stay views into the loaded file.
 */

import type { EncoderLayerWeights, EncoderWeights, Linear, Norm } from "../architectures/types.js";
import { CheckpointError, type WeightStore } from "../safetensors.js";
import type { ReformerConfig } from "./config.js";

export type RLinear = Linear;
export type RNorm = Norm;

/** The shared loop's field names (attnOut, attnNorm, inter, out, mlpNorm) plus Reformer's projections. */
export interface ReformerLayerWeights extends EncoderLayerWeights {
  kind: "local" | "lsh";
  attnNorm: Norm;
  /** Local layers: query, key, value; LSH layers: queryKey (shared) and value. */
  query: RLinear | null;
  key: RLinear | null;
  queryKey: RLinear | null;
  value: RLinear;
  /** Attention output projection (no bias), [hidden, heads·headDim]. */
  attnOut: RLinear;
  /** The feed-forward's LayerNorm, [feed_forward_size, hidden] in and [hidden, feed_forward_size] out. */
  mlpNorm: RNorm;
  inter: RLinear;
  out: RLinear;
}

export interface ReformerWeights extends EncoderWeights<ReformerLayerWeights> {
  word: Float32Array; // [vocab, hidden]
  /** Axial: one table per factor k, [axialShape[k], axialDims[k]] row-major; plain: one [maxPositions, hidden]. */
  position: Float32Array[];
  layers: ReformerLayerWeights[];
  finalNorm: Norm; // [2·hidden]
  pooler: null;
  /** LM head on the 2·hidden output, null for a bare ReformerModel. */
  lmHead: RLinear | null;
  prefix: string;
}

export function loadReformerWeights(store: WeightStore, c: ReformerConfig): ReformerWeights {
  const probe = "embeddings.word_embeddings.weight";
  const prefix = ["reformer.", ""].find((p) => store.has(p + probe));
  if (prefix === undefined) {
    throw new CheckpointError(`${store.label}: missing tensor "reformer.${probe}" (nor "${probe}")`);
  }
  const tensor = (name: string, shape: number[]): Float32Array => {
    const t = store.get(prefix + name);
    const want = shape.reduce((a, b) => a * b, 1);
    if (t.data.length !== want || t.shape.reduce((a, b) => a * b, 1) !== want) {
      throw new CheckpointError(
        `${store.label}: tensor "${prefix}${name}" has shape [${t.shape.join(", ")}], the config needs [${shape.join(", ")}]`,
      );
    }
    return t.data;
  };
  const h = c.hidden;
  const HD = c.heads * c.headDim;
  const lin = (name: string, outF: number, inF: number, bias: boolean): RLinear => ({
    W: tensor(`${name}.weight`, [outF, inF]),
    b: bias ? tensor(`${name}.bias`, [outF]) : null,
    outF,
    inF,
  });
  const norm = (name: string, n: number): RNorm => ({
    gamma: tensor(`${name}.weight`, [n]),
    beta: tensor(`${name}.bias`, [n]),
  });
  const position: Float32Array[] = [];
  if (c.axialShape !== null && c.axialDims !== null) {
    const shape = c.axialShape;
    c.axialDims.forEach((d, k) => {
      // HF stores weights.k with shape [1, …, axialShape[k], …, 1, d] (the factor in dimension k)
      const full = shape.map((s, j) => (j === k ? s : 1));
      position.push(tensor(`embeddings.position_embeddings.weights.${k}`, [...full, d]));
    });
  } else {
    position.push(tensor("embeddings.position_embeddings.embedding.weight", [c.maxPositions, h]));
  }
  const layers = c.attnLayers.map((kind, i): ReformerLayerWeights => {
    const p = `encoder.layers.${i}`;
    const sa = `${p}.attention.self_attention`;
    return {
      kind,
      attnNorm: norm(`${p}.attention.layer_norm`, h),
      query: kind === "local" ? lin(`${sa}.query`, HD, h, false) : null,
      key: kind === "local" ? lin(`${sa}.key`, HD, h, false) : null,
      queryKey: kind === "lsh" ? lin(`${sa}.query_key`, HD, h, false) : null,
      value: lin(`${sa}.value`, HD, h, false),
      attnOut: lin(`${p}.attention.output.dense`, h, HD, false),
      mlpNorm: norm(`${p}.feed_forward.layer_norm`, h),
      inter: lin(`${p}.feed_forward.dense.dense`, c.feedForward, h, true),
      out: lin(`${p}.feed_forward.output.dense`, h, c.feedForward, true),
    };
  });
  let lmHead: RLinear | null = null;
  if (prefix === "reformer." && store.has("lm_head.decoder.weight")) {
    const biasName = store.has("lm_head.bias") ? "lm_head.bias" : "lm_head.decoder.bias";
    const W = store.get("lm_head.decoder.weight").data;
    if (W.length !== c.vocab * 2 * h) {
      throw new CheckpointError(`${store.label}: "lm_head.decoder.weight" must be [${c.vocab}, ${2 * h}]`);
    }
    const b = store.has(biasName) ? store.get(biasName).data : new Float32Array(c.vocab);
    if (b.length !== c.vocab) throw new CheckpointError(`${store.label}: "${biasName}" must be [${c.vocab}]`);
    lmHead = { W, b, outF: c.vocab, inF: 2 * h };
  }
  return {
    word: tensor("embeddings.word_embeddings.weight", [c.vocab, h]),
    position,
    layers,
    finalNorm: norm("encoder.layer_norm", 2 * h),
    lmHead,
    pooler: null,
    prefix,
  };
}
