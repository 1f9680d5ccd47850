/**
 * HF BigBirdModel: BERT embeddings (× sqrt(hidden) with rescale_embeddings), post-LN layers
 * whose attention is block-sparse (window + global + random blocks) on inputs padded to a
 * multiple of block_size, or dense (original_full, and HF's fallback for short inputs).
 */
import { AttentionArgumentError, checkInt } from "../../errors.js";
import { bigBirdLayer, type RandomAttention } from "../attend.js";
import type { CheckedInputs } from "../inputs.js";
import { familyHeads } from "../tasks/heads.js";
import { type BertWeights, bertEmbed, loadBertWeights, Projections } from "./bert.js";
import { bertFields, field, int } from "./fields.js";
import type { Architecture, ForwardContext, LayerAttention, ModelConfig, Ops } from "./types.js";

export interface BigBirdConfig extends ModelConfig {
  /** "block_sparse" or "original_full". */
  attentionType: "block_sparse" | "original_full";
  blockSize: number;
  randomBlocks: number;
  /** Embeddings multiplied by sqrt(hidden). */
  rescaleEmbeddings: boolean;
}

function parseConfig(raw: Record<string, unknown>, where: string): BigBirdConfig {
  const base = bertFields("big_bird", raw, where, { act: "gelu_new", padId: 0, sepId: 66 });
  const at = field(where, raw, "attention_type", "block_sparse");
  if (at !== "block_sparse" && at !== "original_full") {
    throw new AttentionArgumentError(`${where}.attention_type`, at, `"block_sparse" or "original_full"`);
  }
  const blockSize = int(where, raw, "block_size", 1, 64);
  if (at === "block_sparse" && blockSize > base.maxPositions) {
    // block_sparse pads inputs to a multiple of block_size: not one block fits the positions
    throw new AttentionArgumentError(
      `${where}.block_size`,
      blockSize,
      `at most max_position_embeddings ${base.maxPositions} (block_sparse pads inputs to a multiple of block_size, so no input would fit)`,
    );
  }
  return {
    ...base,
    attentionType: at,
    blockSize,
    randomBlocks: int(where, raw, "num_random_blocks", 0, 3),
    rescaleEmbeddings: raw.rescale_embeddings === true,
  };
}

/** The attention a BigBird input of `length` tokens runs with (HF's fallback to full attention). */
export function bigBirdAttentionKind(c: BigBirdConfig, length: number): "block_sparse" | "original_full" {
  if (c.attentionType !== "block_sparse") return "original_full";
  // HF BigBirdModel.forward: block_sparse needs seq_length > (5 + 2·num_random_blocks)·block_size
  return length <= (5 + 2 * c.randomBlocks) * c.blockSize ? "original_full" : "block_sparse";
}

/** HF _pad_to_block_size: pad id, mask 0, token type 0 up to a multiple of the block size. */
function padToBlock(x: CheckedInputs, b: number, padId: number): CheckedInputs {
  const L = Math.ceil(x.L / b) * b;
  if (L === x.L) return x;
  const { B } = x;
  const ids = new Int32Array(B * L).fill(padId); // [B, L]
  const valid = new Uint8Array(B * L);
  const types = x.types === null ? null : new Int32Array(B * L);
  for (let r = 0; r < B; r++) {
    ids.set(x.ids.subarray(r * x.L, (r + 1) * x.L), r * L);
    valid.set(x.valid.subarray(r * x.L, (r + 1) * x.L), r * L);
    types?.set((x.types as Int32Array).subarray(r * x.L, (r + 1) * x.L), r * L);
  }
  return { B, L, ids, valid, global: null, types };
}

/** Per layer: the random blocks of an input with nb blocks. */
function randomPlan(
  c: BigBirdConfig,
  ra: RandomAttention | undefined,
  nb: number,
): (layer: number) => { table: Int32Array; key: string } | { seed: number } {
  const R = c.randomBlocks;
  const size = c.heads * (nb - 2) * R;
  if (ra === undefined || ra === "hf-eval") {
    const zeros = new Int32Array(size); // HF eval mode: rand_attn is all zeros
    return () => ({ table: zeros, key: "hf-eval" }); // one plan for every layer
  }
  if (Array.isArray(ra)) {
    if (ra.length !== c.layers) {
      throw new AttentionArgumentError(
        "options.randomAttention",
        ra,
        `one Int32Array [heads, nb - 2, R] per layer: ${c.layers} tables`,
      );
    }
    ra.forEach((t, l) => {
      if (!(t instanceof Int32Array) || t.length !== size) {
        throw new AttentionArgumentError(
          `options.randomAttention[${l}]`,
          t,
          `an Int32Array of shape [${c.heads}, ${nb - 2}, ${R}] (${size} values; nb = ${nb} blocks of ${c.blockSize} after padding)`,
        );
      }
      for (let i = 0; i < size; i++) {
        if (t[i] < 0 || t[i] >= nb) {
          throw new AttentionArgumentError(`options.randomAttention[${l}][${i}]`, t[i], `a block index in [0, ${nb})`);
        }
      }
    });
    return (layer) => ({ table: ra[layer], key: `layer${ra.indexOf(ra[layer])}` });
  }
  if (ra !== null && typeof ra === "object" && "seed" in ra) {
    const seed = checkInt("options.randomAttention.seed", ra.seed, 0, 2 ** 32 - 1 - c.layers);
    return (layer) => ({ seed: seed + layer }); // each layer its own draw
  }
  throw new AttentionArgumentError(
    "options.randomAttention",
    ra,
    `"hf-eval", { seed }, or one Int32Array [heads, nb - 2, R] per layer`,
  );
}

function attention(f: ForwardContext<BigBirdConfig, BertWeights>): LayerAttention {
  const { config: c, weights, x, plans, mode } = f;
  const kind = mode === "dense" ? "dense" : bigBirdAttentionKind(c, x.L);
  const random = kind === "block_sparse" ? randomPlan(c, f.options.randomAttention, x.L / c.blockSize) : null;
  const qkv = new Projections(plans);
  return {
    label: kind,
    attend(layer: number, hs: Float32Array, ctx: Float32Array, ops: Ops): void {
      qkv.project(hs, weights.layers[layer], ops, ctx);
      if (random === null) {
        qkv.dense(ctx, ops);
        return;
      }
      const rnd = random(layer);
      ops.attention(() => bigBirdLayer(qkv.q, qkv.k, qkv.v, ctx, c.blockSize, c.randomBlocks, rnd, plans));
    },
  };
}

export const bigBird: Architecture<BigBirdConfig, BertWeights> = {
  modelType: "big_bird",
  norm: "post",
  mlp: "act",
  globalAttention: false,
  parseConfig,
  maxInputLength: (c) =>
    c.attentionType === "block_sparse"
      ? {
          limit: Math.floor(c.maxPositions / c.blockSize) * c.blockSize,
          why: `max_position_embeddings ${c.maxPositions}, after padding to a multiple of block_size ${c.blockSize}`,
        }
      : { limit: c.maxPositions, why: `max_position_embeddings ${c.maxPositions}` },
  loadWeights: (store, c) => loadBertWeights(store, c, ["", "bert."], () => ({})),
  // block_sparse pads (the block layout depends on the padded length); the fallback and dense do not
  pad: (x, c, mode) =>
    mode === "model" && bigBirdAttentionKind(c, x.L) === "block_sparse" ? padToBlock(x, c.blockSize, c.padId) : x,
  embed: (x, c, w) => bertEmbed(x, c, w, null, c.rescaleEmbeddings ? Math.sqrt(c.hidden) : 1),
  attention,
  heads: familyHeads("big_bird"),
};
