/**
 * HF LongformerModel: BERT embeddings with RoBERTa's position ids, post-LN layers whose
 * attention is a sliding window per layer (attention_window[layer] is the WHOLE window) plus
 * per-row global tokens with their own query_global / key_global / value_global projections.
 */
import { AttentionArgumentError } from "../../errors.js";
import { longformerGlobalKeys, longformerGlobalRows, longformerLocal } from "../attend.js";
import type { CheckedInputs } from "../inputs.js";
import type { WeightStore } from "../safetensors.js";
import { familyHeads } from "../tasks/heads.js";
import { type BertLayerWeights, type BertWeights, bertEmbed, loadBertWeights, Projections } from "./bert.js";
import { bertFields, CONFIG_LIMITS, field } from "./fields.js";
import type { Architecture, ForwardContext, LayerAttention, Linear, ModelConfig, Ops } from "./types.js";

export interface LongformerConfig extends ModelConfig {
  /** HF attention_window per layer (the WHOLE window; one-sided = half). */
  attentionWindow: number[];
}

export interface LongformerLayerWeights extends BertLayerWeights {
  queryGlobal: Linear;
  keyGlobal: Linear;
  valueGlobal: Linear;
}

export type LongformerWeights = BertWeights<LongformerLayerWeights>;

function parseConfig(raw: Record<string, unknown>, where: string): LongformerConfig {
  const base = bertFields("longformer", raw, where, { act: "gelu", padId: 1, sepId: 2 });
  const w = field(where, raw, "attention_window");
  const list = Array.isArray(w) ? w : Array.from({ length: base.layers }, () => w);
  if (list.length !== base.layers) {
    throw new AttentionArgumentError(
      `${where}.attention_window`,
      w,
      `one window per layer (${base.layers} layers) or a single number`,
    );
  }
  const maxWindow = CONFIG_LIMITS.attention_window;
  const attentionWindow = list.map((x, i) => {
    if (typeof x !== "number" || !Number.isSafeInteger(x) || x <= 0 || x % 2 !== 0 || x > maxWindow) {
      throw new AttentionArgumentError(
        `${where}.attention_window[${i}]`,
        x,
        `a positive even integer up to ${maxWindow} (HF's whole window; one-sided = half)`,
      );
    }
    return x;
  });
  // positions are pad_token_id + 1 + the count of real tokens: at least one token must fit
  if (base.padId + 1 >= base.maxPositions) {
    throw new AttentionArgumentError(
      `${where}.pad_token_id`,
      base.padId,
      `a value below max_position_embeddings ${base.maxPositions} - 1 (Longformer positions start at pad_token_id + 1, so no input would fit)`,
    );
  }
  return { ...base, attentionWindow };
}

/** HF create_position_ids_from_input_ids: pad id + running count of non-pad tokens; pad tokens get pad id. */
function positionIds(x: CheckedInputs, padId: number): Int32Array {
  const { B, L } = x;
  const pos = new Int32Array(B * L); // [B, L]
  for (let b = 0; b < B; b++) {
    let count = 0; // real (non-pad id) tokens so far
    for (let i = 0; i < L; i++) {
      const r = b * L + i;
      pos[r] = x.ids[r] !== padId ? padId + ++count : padId;
    }
  }
  return pos;
}

/** Row b's global positions (ascending). */
function globalIndices(global: Uint8Array | null, b: number, L: number): Int32Array {
  if (global === null) return new Int32Array(0);
  const row = global.subarray(b * L, (b + 1) * L); // [B, L] row b
  let n = 0;
  for (let i = 0; i < L; i++) n += row[i];
  const out = new Int32Array(n);
  n = 0;
  for (let i = 0; i < L; i++) if (row[i] === 1) out[n++] = i;
  return out;
}

function attention(f: ForwardContext<LongformerConfig, LongformerWeights>): LayerAttention {
  const { config: c, weights, x, plans, mode } = f;
  const { B, L } = x;
  const h = c.hidden;
  const qkv = new Projections(plans);
  const globals = Array.from({ length: B }, (_, b) => globalIndices(x.global, b, L));
  const options = plans.options;
  return {
    label: mode === "dense" ? "dense" : "longformer",
    attend(layer: number, hs: Float32Array, ctx: Float32Array, ops: Ops): void {
      const w = weights.layers[layer];
      qkv.project(hs, w, ops, ctx);
      if (mode === "dense") {
        qkv.dense(ctx, ops);
        return;
      }
      ops.attention(() => longformerLocal(qkv.q, qkv.k, qkv.v, ctx, c.attentionWindow[layer] / 2, globals, plans));
      // key_global and value_global of every row in one product each when every row has a
      // global token (the usual case): staged in the local attention's output buffer and its
      // q buffer, regrouped into its k and v buffers, all four dead once longformerLocal has run.
      // Otherwise row by row, for the rows that have one.
      const batched = globals.every((g) => g.length > 0);
      const kStage = plans.scratch("out", B * L * h); // [B·L, hidden]
      const vStage = plans.scratch("q", B * L * h);
      if (batched) {
        ops.linear(hs, B * L, w.keyGlobal, kStage);
        ops.linear(hs, B * L, w.valueGlobal, vStage);
      }
      // query_global of every global token of the batch in one product: xg [ΣG, hidden]
      const total = globals.reduce((t, g) => t + g.length, 0);
      const xg = new Float32Array(total * h);
      for (let b = 0, j = 0; b < B; b++) {
        for (const i of globals[b]) xg.set(hs.subarray((b * L + i) * h, (b * L + i + 1) * h), j++ * h);
      }
      const qgAll = total > 0 ? ops.linear(xg, total, w.queryGlobal) : xg; // [ΣG, hidden]
      for (let b = 0, j0 = 0; b < B; b++) {
        const g = globals[b];
        if (g.length === 0) continue;
        const r0 = b * L;
        const valid = x.valid.subarray(r0, r0 + L);
        const kg = batched
          ? kStage
          : ops.linear(hs.subarray(r0 * h, (r0 + L) * h), L, w.keyGlobal, kStage.subarray(0, L * h));
        const kr0 = batched ? r0 : 0; // this row's first row in kg
        const kt = ops.attention(() => longformerGlobalKeys(kg, kr0, b, valid, plans, "k"));
        const vg = batched
          ? vStage
          : ops.linear(hs.subarray(r0 * h, (r0 + L) * h), L, w.valueGlobal, vStage.subarray(0, L * h));
        const vt = ops.attention(() => longformerGlobalKeys(vg, kr0, b, valid, plans, "v"));
        const qg = qgAll.subarray(j0 * h, (j0 + g.length) * h); // [G, hidden] this row's global queries
        j0 += g.length;
        ops.attention(() =>
          longformerGlobalRows({
            qg,
            kt,
            vt,
            out: ctx,
            r0,
            L,
            H: c.heads,
            D: c.headDim,
            globals: g,
            valid,
            options,
          }),
        );
      }
    },
  };
}

export const longformer: Architecture<LongformerConfig, LongformerWeights> = {
  modelType: "longformer",
  norm: "post",
  mlp: "act",
  globalAttention: true,
  parseConfig,
  maxInputLength: (c) => ({
    // positions are pad_id + 1 + count of real tokens: the last real token of L gets pad_id + L
    limit: c.maxPositions - c.padId - 1,
    why: `max_position_embeddings ${c.maxPositions} minus pad_token_id + 1 (Longformer positions start at pad_token_id + 1)`,
  }),
  loadWeights: (store: WeightStore, c) =>
    loadBertWeights(store, c, ["", "longformer."], (r, p) => ({
      queryGlobal: r.linear(`${p}attention.self.query_global`, c.hidden, c.hidden),
      keyGlobal: r.linear(`${p}attention.self.key_global`, c.hidden, c.hidden),
      valueGlobal: r.linear(`${p}attention.self.value_global`, c.hidden, c.hidden),
    })),
  embed: (x, c, w) => bertEmbed(x, c, w, positionIds(x, c.padId), 1),
  attention,
  heads: familyHeads("longformer"),
};
