/**
 * HF ModernBertModel (answerdotai, 2024): pre-LN layers without biases, fused Wqkv, rotary
 * position embeddings (global or local base per layer), GeGLU MLP, final norm; local layers
 * attend |q - k| <= local_attention / 2 on this library's sliding-window pattern, every
 * global_attn_every_n_layers-th layer (from 0) is dense. The math lives in ../modernbert/.
 *
 * The entry brings its own forward (the shared loop's math, plus HF's hidden_states of every
 * layer and the local / global split of the attention time) and its own model class
 * (ModernBertModel: the MLM / sequence / token heads and sentence-transformers pooling).
 * `attention` is also given, so the shared encoder loop runs it too (tested equal).
 */

import { attention as attend } from "../../attention.js";
import { dense } from "../../pattern/algebra.js";
import { slidingWindow } from "../../pattern/longformer.js";
import type { LoadedHead, Model } from "../encode.js";
import { fromHeadsBatch } from "../heads.js";
import type { CheckedInputs } from "../inputs.js";
import { type ModernBertConfig, parseModernBertConfig } from "../modernbert/config.js";
import { MODERNBERT_HEADS } from "../modernbert/heads.js";
import { mbMaxInputLength, modernBertForward, ropeFor } from "../modernbert/model.js";
import { layerNormInto, splitQkvRope } from "../modernbert/ops.js";
import type { SentencePooling } from "../modernbert/pooling.js";
import { parseSentencePooling } from "../modernbert/pooling.js";
import { loadModernBertWeights, type ModernBertWeights } from "../modernbert/weights.js";
import type { Architecture, ForwardContext, LayerAttention, ModelExtras, Ops } from "./types.js";

type ModelClass = new (
  c: ModernBertConfig,
  w: ModernBertWeights,
  tokenizer: ModelExtras["tokenizer"],
  pooling: SentencePooling | null,
  head: LoadedHead | null,
) => Model;

/**
 * ModernBertModel (../modernbert/modernbert.ts) extends Model, which imports this registry:
 * it registers itself here when its module runs (load.ts imports it), so this entry does not
 * import it and no import cycle reaches a class before it is defined.
 */
let modelClass: ModelClass | null = null;
export function registerModernBertModel(cls: ModelClass): void {
  modelClass = cls;
}

function embed(x: CheckedInputs, c: ModernBertConfig, w: ModernBertWeights): Float32Array {
  const h = c.hidden;
  const rows = x.B * x.L;
  const out = new Float32Array(rows * h); // [B·L, hidden]
  for (let r = 0; r < rows; r++) out.set(w.embeddings.subarray(x.ids[r] * h, (x.ids[r] + 1) * h), r * h); // [vocab, hidden]
  layerNormInto(out, out, rows, h, w.embNorm.gamma, w.embNorm.beta, c.eps);
  return out;
}

function attention(f: ForwardContext<ModernBertConfig, ModernBertWeights>): LayerAttention {
  const { config: c, weights, x, plans, mode, options } = f;
  const { B, L } = x;
  const H = c.heads;
  const D = c.headDim;
  const rows = B * L;
  const half = Math.floor(c.window / 2);
  const qkv = new Float32Array(rows * 3 * c.hidden); // [B·L, 3·H·D]
  const shape: [number, number, number, number] = [B, H, L, D];
  const q = { data: new Float32Array(rows * c.hidden), shape };
  const k = { data: new Float32Array(rows * c.hidden), shape };
  const v = { data: new Float32Array(rows * c.hidden), shape };
  const out = { data: new Float32Array(rows * c.hidden), shape };
  return {
    label: mode === "dense" ? "dense" : "modernbert",
    attend(layer: number, hs: Float32Array, ctx: Float32Array, ops: Ops): void {
      ops.linear(hs, rows, weights.layers[layer].wqkv, qkv);
      ops.attention(() => {
        const { cos, sin } = ropeFor(c.ropeTheta[layer], D, L);
        splitQkvRope(qkv, q.data, k.data, v.data, B, L, H, D, cos, sin);
        const plan =
          mode === "model" && !c.global[layer]
            ? plans.plan(`window:${half}`, () => plans.restrict(slidingWindow({ left: half, right: half })))
            : plans.plan("dense", () => plans.restrict(dense()));
        attend(q, k, v, { plan, backend: options.backend, threads: plans.options.threads, out });
        fromHeadsBatch(out.data, ctx, B, L, H, D, x.valid, plans.options);
      });
    },
  };
}

export const modernBert: Architecture<ModernBertConfig, ModernBertWeights> = {
  modelType: "modernbert",
  norm: "pre",
  mlp: "gated",
  globalAttention: false,
  parseConfig: (raw, where) => parseModernBertConfig(raw, where),
  maxInputLength: mbMaxInputLength,
  loadWeights: loadModernBertWeights,
  embed,
  attention,
  heads: MODERNBERT_HEADS,
  optionalFiles: ["modules.json", "1_Pooling/config.json"],
  forward: modernBertForward,
  createModel: (c, w, files) => {
    const st = files.sentenceModules;
    const pooling =
      st === undefined ? null : parseSentencePooling(st, files.poolingConfig ?? null, files.label ?? "the model");
    if (modelClass === null)
      throw new Error("internal: ModernBertModel is not registered (import sparse-attention/models)");
    return new modelClass(c, w, files.tokenizer, pooling, files.head ?? null);
  },
};
