/**
 * What Longformer and BigBird share with BERT: word + position + token-type embeddings and
 * their LayerNorm, the post-LN layer's weight names (encoder.layer.i.attention.self.query …),
 * separate q / k / v projections, and dense attention over the real tokens (BigBird's
 * original_full and every model's `attention: "dense"` baseline).
 */

import type { Tensor } from "../../types.js";
import type { AttentionPlans } from "../attend.js";
import { denseLayer } from "../attend.js";
import type { CheckedInputs } from "../inputs.js";
import { addLayerNorm } from "../ops.js";
import type { WeightStore } from "../safetensors.js";
import { WeightReader } from "./reader.js";
import type { EncoderLayerWeights, EncoderWeights, Linear, ModelConfig, Norm, Ops } from "./types.js";

export interface BertLayerWeights extends EncoderLayerWeights {
  query: Linear;
  key: Linear;
  value: Linear;
}

export interface BertWeights<LW extends BertLayerWeights = BertLayerWeights> extends EncoderWeights<LW> {
  word: Float32Array; // [vocab, hidden]
  position: Float32Array; // [maxPositions, hidden]
  tokenType: Float32Array; // [typeVocab, hidden]
  embNorm: Norm;
}

/**
 * The BERT-family weights of `c` under one of `prefixes`; `extra(reader, layerPrefix)` reads
 * an architecture's further per-layer weights (Longformer's global projections).
 */
export function loadBertWeights<X extends object>(
  store: WeightStore,
  c: ModelConfig,
  prefixes: readonly string[],
  extra: (r: WeightReader, p: string) => X,
): BertWeights<BertLayerWeights & X> {
  const r = new WeightReader(
    store,
    prefixes,
    "embeddings.word_embeddings.weight",
    c.modelType,
    `hidden_size ${c.hidden}, intermediate_size ${c.intermediate}, vocab_size ${c.vocab}, max_position_embeddings ${c.maxPositions}`,
  );
  const h = c.hidden;
  const layers: Array<BertLayerWeights & X> = [];
  for (let i = 0; i < c.layers; i++) {
    const p = `encoder.layer.${i}.`;
    layers.push({
      query: r.linear(`${p}attention.self.query`, h, h),
      key: r.linear(`${p}attention.self.key`, h, h),
      value: r.linear(`${p}attention.self.value`, h, h),
      ...extra(r, p),
      attnOut: r.linear(`${p}attention.output.dense`, h, h),
      attnNorm: r.norm(`${p}attention.output.LayerNorm`, h),
      inter: r.linear(`${p}intermediate.dense`, c.intermediate, h),
      out: r.linear(`${p}output.dense`, h, c.intermediate),
      mlpNorm: r.norm(`${p}output.LayerNorm`, h),
    });
  }
  // Longformer: pooler.dense; BigBird: pooler is the Linear itself
  const poolerName = [`pooler.dense`, `pooler`].find((n) => r.has(`${n}.weight`));
  return {
    word: r.get("embeddings.word_embeddings.weight", [c.vocab, h]),
    position: r.get("embeddings.position_embeddings.weight", [c.maxPositions, h]),
    tokenType: r.get("embeddings.token_type_embeddings.weight", [c.typeVocab, h]),
    embNorm: r.norm("embeddings.LayerNorm", h),
    layers,
    finalNorm: null,
    pooler: poolerName === undefined ? null : r.linear(poolerName, h, h),
    prefix: r.prefix,
  };
}

/**
 * word·scale + token type + position embeddings, then LayerNorm. positions: [B·L] position
 * id of each token (null: 0 … L-1 in every row).
 */
export function bertEmbed(
  x: CheckedInputs,
  c: ModelConfig,
  w: BertWeights,
  positions: Int32Array | null,
  scale: number,
): Float32Array {
  const h = c.hidden;
  const { B, L } = x;
  const out = new Float32Array(B * L * h); // [B·L, hidden]
  const { word, tokenType, position } = w; // tables: [n, hidden]
  const { ids, types } = x;
  for (let b = 0; b < B; b++) {
    for (let i = 0; i < L; i++) {
      const r = b * L + i; // [B, L]
      const wo = ids[r] * h; // the rows of this token in each table
      const po = (positions === null ? i : positions[r]) * h;
      const to = (types === null ? 0 : types[r]) * h;
      const o = r * h;
      if (scale === 1) {
        for (let d = 0; d < h; d++) out[o + d] = word[wo + d] + tokenType[to + d] + position[po + d];
      } else {
        for (let d = 0; d < h; d++) out[o + d] = word[wo + d] * scale + tokenType[to + d] + position[po + d];
      }
    }
  }
  addLayerNorm(out, null, B * L, h, w.embNorm.gamma, w.embNorm.beta, c.eps); // on the wasm pool from 16,384 elements
  return out;
}

/**
 * q, k, v of one forward as tensors [B, H, L, D] in the forward's reused buffers
 * (AttentionPlans.scratch "q", "k", "v"), filled per layer by `project`. Each projection goes
 * through one staging buffer [B·L, H·D] and is regrouped to heads at once, so a layer holds no
 * [B·L, H·D] projection of its own: the stage is the layer's context buffer, which attention
 * writes only after all three are regrouped (144 MiB less for a base model at 16,384 tokens).
 */
export class Projections {
  q: Tensor;
  k: Tensor;
  v: Tensor;

  constructor(readonly plans: AttentionPlans) {
    const empty: Tensor = { data: new Float32Array(0), shape: [0, 0, 0, 0] };
    this.q = this.k = this.v = empty;
  }

  /**
   * Projects `hs` through `w`'s query, key and value into this.q, this.k, this.v [B, H, L, D],
   * through `stage` [B·L, H·D] (overwritten; the layer's ctx before attention writes it).
   */
  project(hs: Float32Array, w: BertLayerWeights, ops: Ops, stage: Float32Array): void {
    const { plans } = this;
    const rows = plans.B * plans.L;
    ops.linear(hs, rows, w.query, stage);
    this.q = ops.attention(() => plans.heads("q", stage)); // the regroup is attention's layout work
    ops.linear(hs, rows, w.key, stage);
    this.k = ops.attention(() => plans.heads("k", stage));
    ops.linear(hs, rows, w.value, stage);
    this.v = ops.attention(() => plans.heads("v", stage));
  }

  /** Dense self-attention over the real tokens of each row into ctx. */
  dense(ctx: Float32Array, ops: Ops): void {
    ops.attention(() => denseLayer(this.q, this.k, this.v, ctx, this.plans));
  }
}
