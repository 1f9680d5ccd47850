/** Test fixtures: a safetensors writer and small random Longformer / BigBird checkpoints. */
import { Rng } from "../src/util/rng.js";

export interface RawTensor {
  dtype: string;
  shape: number[];
  bytes: Uint8Array;
}

export function f32(shape: number[], data: Float32Array): RawTensor {
  return { dtype: "F32", shape, bytes: new Uint8Array(data.buffer, data.byteOffset, data.byteLength) };
}

/** Bytes of a safetensors file holding `tensors` in insertion order (header padded to 8 bytes). */
export function writeSafetensors(
  tensors: Record<string, RawTensor>,
  headerPatch?: (h: Record<string, unknown>) => void,
): Uint8Array {
  const header: Record<string, unknown> = { __metadata__: { format: "pt" } };
  let off = 0;
  for (const [name, t] of Object.entries(tensors)) {
    header[name] = { dtype: t.dtype, shape: t.shape, data_offsets: [off, off + t.bytes.byteLength] };
    off += t.bytes.byteLength;
  }
  headerPatch?.(header);
  let json = JSON.stringify(header);
  while ((8 + json.length) % 8 !== 0) json += " ";
  const hb = new TextEncoder().encode(json);
  const out = new Uint8Array(8 + hb.length + off);
  new DataView(out.buffer).setBigUint64(0, BigInt(hb.length), true);
  out.set(hb, 8);
  let at = 8 + hb.length;
  for (const t of Object.values(tensors)) {
    out.set(t.bytes, at);
    at += t.bytes.byteLength;
  }
  return out;
}

export interface TinyOptions {
  modelType: "longformer" | "big_bird";
  layers?: number;
  hidden?: number;
  heads?: number;
  intermediate?: number;
  vocab?: number;
  maxPositions?: number;
  attentionWindow?: number | number[];
  attentionType?: "block_sparse" | "original_full";
  blockSize?: number;
  randomBlocks?: number;
  seed?: number;
  /** Name prefix of task models ("longformer." / "bert."). */
  prefix?: string;
  /** Weight scale (default 0.2: large enough that attention patterns matter). */
  scale?: number;
}

export function tinyConfig(o: TinyOptions): Record<string, unknown> {
  const base = {
    model_type: o.modelType,
    hidden_size: o.hidden ?? 32,
    num_attention_heads: o.heads ?? 4,
    num_hidden_layers: o.layers ?? 2,
    intermediate_size: o.intermediate ?? 64,
    vocab_size: o.vocab ?? 100,
    max_position_embeddings: o.maxPositions ?? 600,
    type_vocab_size: 2,
    layer_norm_eps: 1e-12,
  };
  return o.modelType === "longformer"
    ? { ...base, pad_token_id: 1, hidden_act: "gelu", attention_window: o.attentionWindow ?? [8, 16] }
    : {
        ...base,
        pad_token_id: 0,
        hidden_act: "gelu_new",
        attention_type: o.attentionType ?? "block_sparse",
        block_size: o.blockSize ?? 8,
        num_random_blocks: o.randomBlocks ?? 2,
      };
}

/** A random checkpoint for tinyConfig(o): { config, weights } ready for loadModel. */
export function tinyCheckpoint(o: TinyOptions): { config: Record<string, unknown>; weights: Uint8Array } {
  const config = tinyConfig(o);
  const h = config.hidden_size as number;
  const I = config.intermediate_size as number;
  const rng = new Rng(o.seed ?? 1);
  const s = o.scale ?? 0.2;
  const p = o.prefix ?? "";
  const t: Record<string, RawTensor> = {};
  const rand = (name: string, shape: number[], mean = 0) => {
    const n = shape.reduce((a, b) => a * b, 1);
    const d = new Float32Array(n);
    for (let i = 0; i < n; i++) d[i] = mean + s * (2 * rng.next() - 1);
    t[p + name] = f32(shape, d);
  };
  rand("embeddings.word_embeddings.weight", [config.vocab_size as number, h]);
  rand("embeddings.position_embeddings.weight", [config.max_position_embeddings as number, h]);
  rand("embeddings.token_type_embeddings.weight", [2, h]);
  rand("embeddings.LayerNorm.weight", [h], 1);
  rand("embeddings.LayerNorm.bias", [h]);
  const projections =
    o.modelType === "longformer"
      ? ["query", "key", "value", "query_global", "key_global", "value_global"]
      : ["query", "key", "value"];
  for (let l = 0; l < (config.num_hidden_layers as number); l++) {
    const q = `encoder.layer.${l}.`;
    for (const name of projections) {
      rand(`${q}attention.self.${name}.weight`, [h, h]);
      rand(`${q}attention.self.${name}.bias`, [h]);
    }
    rand(`${q}attention.output.dense.weight`, [h, h]);
    rand(`${q}attention.output.dense.bias`, [h]);
    rand(`${q}attention.output.LayerNorm.weight`, [h], 1);
    rand(`${q}attention.output.LayerNorm.bias`, [h]);
    rand(`${q}intermediate.dense.weight`, [I, h]);
    rand(`${q}intermediate.dense.bias`, [I]);
    rand(`${q}output.dense.weight`, [h, I]);
    rand(`${q}output.dense.bias`, [h]);
    rand(`${q}output.LayerNorm.weight`, [h], 1);
    rand(`${q}output.LayerNorm.bias`, [h]);
  }
  const pooler = o.modelType === "longformer" ? "pooler.dense" : "pooler";
  rand(`${pooler}.weight`, [h, h]);
  rand(`${pooler}.bias`, [h]);
  return { config, weights: writeSafetensors(t) };
}

/** Random ids in [lo, vocab) of shape [B, L]. */
export function randomIds(
  B: number,
  L: number,
  vocab: number,
  seed: number,
  lo = 5,
): { data: Int32Array; shape: [number, number] } {
  const rng = new Rng(seed);
  const data = new Int32Array(B * L);
  for (let i = 0; i < data.length; i++) data[i] = lo + rng.int(vocab - lo);
  return { data, shape: [B, L] };
}
