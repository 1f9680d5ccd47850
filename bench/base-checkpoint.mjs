// Random base-size Longformer weights (hidden 768, 12 heads, intermediate 3072, window 512) as a
// safetensors file in memory, for bench/models.mjs and bench/ab-backends.mjs.
export const HIDDEN = 768;
export const HEADS = 12;
export const INTER = 3072;
export const WINDOW = 512;
export const VOCAB = 1000;

/** Bytes of a safetensors file with random base-size Longformer weights (LayerNorm gains 1). */
/**
 * A base-size encoder with random weights: model "longformer" (window 512) or "bigbird"
 * (block_sparse, blocks of 64, 3 random blocks; the shapes HF's bench.py builds).
 */
export function baseCheckpoint(layers, maxPositions, model = "longformer", vocab = VOCAB) {
  if (model === "bigbird") return bigBirdCheckpoint(layers, maxPositions);
  const shapes = {
    "embeddings.word_embeddings.weight": [vocab, HIDDEN],
    "embeddings.position_embeddings.weight": [maxPositions, HIDDEN],
    "embeddings.token_type_embeddings.weight": [1, HIDDEN],
    "embeddings.LayerNorm.weight": [HIDDEN],
    "embeddings.LayerNorm.bias": [HIDDEN],
    "pooler.dense.weight": [HIDDEN, HIDDEN],
    "pooler.dense.bias": [HIDDEN],
  };
  for (let l = 0; l < layers; l++) {
    const p = `encoder.layer.${l}.`;
    for (const n of ["query", "key", "value", "query_global", "key_global", "value_global"]) {
      shapes[`${p}attention.self.${n}.weight`] = [HIDDEN, HIDDEN];
      shapes[`${p}attention.self.${n}.bias`] = [HIDDEN];
    }
    shapes[`${p}attention.output.dense.weight`] = [HIDDEN, HIDDEN];
    shapes[`${p}attention.output.dense.bias`] = [HIDDEN];
    shapes[`${p}attention.output.LayerNorm.weight`] = [HIDDEN];
    shapes[`${p}attention.output.LayerNorm.bias`] = [HIDDEN];
    shapes[`${p}intermediate.dense.weight`] = [INTER, HIDDEN];
    shapes[`${p}intermediate.dense.bias`] = [INTER];
    shapes[`${p}output.dense.weight`] = [HIDDEN, INTER];
    shapes[`${p}output.dense.bias`] = [HIDDEN];
    shapes[`${p}output.LayerNorm.weight`] = [HIDDEN];
    shapes[`${p}output.LayerNorm.bias`] = [HIDDEN];
  }
  const buf = serialise(shapes);
  const config = {
    model_type: "longformer",
    hidden_size: HIDDEN,
    num_attention_heads: HEADS,
    num_hidden_layers: layers,
    intermediate_size: INTER,
    vocab_size: vocab,
    max_position_embeddings: maxPositions,
    type_vocab_size: 1,
    pad_token_id: 1,
    layer_norm_eps: 1e-5,
    hidden_act: "gelu",
    attention_window: WINDOW,
  };
  return { config, weights: buf };
}

function bigBirdCheckpoint(layers, maxPositions) {
  const shapes = {
    "embeddings.word_embeddings.weight": [VOCAB, HIDDEN],
    "embeddings.position_embeddings.weight": [maxPositions, HIDDEN],
    "embeddings.token_type_embeddings.weight": [2, HIDDEN],
    "embeddings.LayerNorm.weight": [HIDDEN],
    "embeddings.LayerNorm.bias": [HIDDEN],
    "pooler.weight": [HIDDEN, HIDDEN],
    "pooler.bias": [HIDDEN],
  };
  for (let l = 0; l < layers; l++) {
    const p = `encoder.layer.${l}.`;
    for (const n of ["query", "key", "value"]) {
      shapes[`${p}attention.self.${n}.weight`] = [HIDDEN, HIDDEN];
      shapes[`${p}attention.self.${n}.bias`] = [HIDDEN];
    }
    shapes[`${p}attention.output.dense.weight`] = [HIDDEN, HIDDEN];
    shapes[`${p}attention.output.dense.bias`] = [HIDDEN];
    shapes[`${p}attention.output.LayerNorm.weight`] = [HIDDEN];
    shapes[`${p}attention.output.LayerNorm.bias`] = [HIDDEN];
    shapes[`${p}intermediate.dense.weight`] = [INTER, HIDDEN];
    shapes[`${p}intermediate.dense.bias`] = [INTER];
    shapes[`${p}output.dense.weight`] = [HIDDEN, INTER];
    shapes[`${p}output.dense.bias`] = [HIDDEN];
    shapes[`${p}output.LayerNorm.weight`] = [HIDDEN];
    shapes[`${p}output.LayerNorm.bias`] = [HIDDEN];
  }
  const config = {
    model_type: "big_bird",
    attention_type: "block_sparse",
    block_size: 64,
    num_random_blocks: 3,
    hidden_size: HIDDEN,
    num_attention_heads: HEADS,
    num_hidden_layers: layers,
    intermediate_size: INTER,
    vocab_size: VOCAB,
    max_position_embeddings: maxPositions,
    type_vocab_size: 2,
    pad_token_id: 0,
    layer_norm_eps: 1e-12,
    hidden_act: "gelu",
  };
  return { config, weights: serialise(shapes) };
}

/** safetensors bytes of `shapes` filled with U(-0.03, 0.03) (LayerNorm gains 1), a fixed LCG. */
function serialise(shapes) {
  return randomSafetensors(shapes, (name) => (name.endsWith("LayerNorm.weight") ? null : 0.06));
}

/**
 * safetensors bytes of `shapes` (name → shape, float32), every tensor filled from one fixed LCG
 * in header order: `scale(name, shape)` null → all ones (a norm's gain), else u · scale with u
 * uniform in [-0.5, 0.5). The benches' random checkpoints (base-checkpoint, modernbert, reformer).
 */
export function randomSafetensors(shapes, scale) {
  const header = {};
  let off = 0;
  for (const [name, shape] of Object.entries(shapes)) {
    const bytes = 4 * shape.reduce((a, b) => a * b, 1);
    header[name] = { dtype: "F32", shape, data_offsets: [off, off + bytes] };
    off += bytes;
  }
  let json = JSON.stringify(header);
  while ((8 + json.length) % 8 !== 0) json += " ";
  const buf = new Uint8Array(8 + json.length + off);
  new DataView(buf.buffer).setBigUint64(0, BigInt(json.length), true);
  buf.set(new TextEncoder().encode(json), 8);
  const data = new Float32Array(buf.buffer, 8 + json.length, off / 4);
  let s = 12345;
  for (const [name, meta] of Object.entries(header)) {
    const a = meta.data_offsets[0] / 4;
    const b = meta.data_offsets[1] / 4;
    const k = scale(name, meta.shape);
    for (let i = a; i < b; i++) {
      s = (Math.imul(s, 1664525) + 1013904223) | 0;
      data[i] = k === null ? 1 : ((s >>> 8) / 2 ** 24 - 0.5) * k;
    }
  }
  return buf;
}
