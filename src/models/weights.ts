/**
 * HF parameter names → the encoder's weights, checked against the config's shapes. Names are
 * as HF saves them, with or without the prefix of a task model (`longformer.` for
 * LongformerFor*, `bert.` for BigBirdFor*); old checkpoints' LayerNorm `gamma` / `beta` are
 * accepted for `weight` / `bias`. Weights stay views into the loaded file (no copies).
 */
import type { ModelConfig } from "./config.js";
import { CheckpointError, type WeightStore } from "./safetensors.js";

export interface Linear {
  W: Float32Array; // [outF, inF]
  b: Float32Array | null; // [outF]
  outF: number;
  inF: number;
}

export interface Norm {
  gamma: Float32Array;
  beta: Float32Array;
}

export interface LayerWeights {
  query: Linear;
  key: Linear;
  value: Linear;
  /** Longformer only: the projections of global attention. */
  queryGlobal: Linear | null;
  keyGlobal: Linear | null;
  valueGlobal: Linear | null;
  attnOut: Linear;
  attnNorm: Norm;
  inter: Linear;
  out: Linear;
  outNorm: Norm;
}

export interface EncoderWeights {
  word: Float32Array; // [vocab, hidden]
  position: Float32Array; // [maxPositions, hidden]
  tokenType: Float32Array; // [typeVocab, hidden]
  embNorm: Norm;
  layers: LayerWeights[];
  pooler: Linear | null;
  /** The prefix the names carried ("", "longformer." or "bert."). */
  prefix: string;
}

const PREFIXES: Record<string, string[]> = {
  longformer: ["", "longformer."],
  big_bird: ["", "bert."],
};

export function loadWeights(store: WeightStore, c: ModelConfig): EncoderWeights {
  const probe = "embeddings.word_embeddings.weight";
  const prefix = PREFIXES[c.modelType].find((p) => store.has(p + probe));
  if (prefix === undefined) {
    throw new CheckpointError(
      `${store.label}: missing tensor "${probe}" (also looked for ${PREFIXES[c.modelType]
        .filter((p) => p !== "")
        .map((p) => `"${p}${probe}"`)
        .join(", ")}); is this a ${c.modelType} checkpoint?`,
    );
  }
  const get = (name: string, shape: number[]): Float32Array => {
    let full = prefix + name;
    if (!store.has(full)) {
      const alt = full.replace(/LayerNorm\.weight$/, "LayerNorm.gamma").replace(/LayerNorm\.bias$/, "LayerNorm.beta");
      if (store.has(alt)) full = alt;
    }
    const t = store.get(full);
    const want = shape.join(", ");
    if (t.shape.length !== shape.length || t.shape.some((d, i) => d !== shape[i])) {
      throw new CheckpointError(
        `${store.label}: tensor "${full}" has shape [${t.shape.join(", ")}]; the config (hidden_size ${c.hidden}, intermediate_size ${c.intermediate}, vocab_size ${c.vocab}, max_position_embeddings ${c.maxPositions}) needs [${want}]`,
      );
    }
    return t.data;
  };
  const lin = (name: string, outF: number, inF: number): Linear => ({
    W: get(`${name}.weight`, [outF, inF]),
    b: get(`${name}.bias`, [outF]),
    outF,
    inF,
  });
  const norm = (name: string, n: number): Norm => ({
    gamma: get(`${name}.weight`, [n]),
    beta: get(`${name}.bias`, [n]),
  });
  const h = c.hidden;
  const layers: LayerWeights[] = [];
  for (let i = 0; i < c.layers; i++) {
    const p = `encoder.layer.${i}.`;
    const lf = c.modelType === "longformer";
    layers.push({
      query: lin(`${p}attention.self.query`, h, h),
      key: lin(`${p}attention.self.key`, h, h),
      value: lin(`${p}attention.self.value`, h, h),
      queryGlobal: lf ? lin(`${p}attention.self.query_global`, h, h) : null,
      keyGlobal: lf ? lin(`${p}attention.self.key_global`, h, h) : null,
      valueGlobal: lf ? lin(`${p}attention.self.value_global`, h, h) : null,
      attnOut: lin(`${p}attention.output.dense`, h, h),
      attnNorm: norm(`${p}attention.output.LayerNorm`, h),
      inter: lin(`${p}intermediate.dense`, c.intermediate, h),
      out: lin(`${p}output.dense`, h, c.intermediate),
      outNorm: norm(`${p}output.LayerNorm`, h),
    });
  }
  // Longformer: pooler.dense; BigBird: pooler is the Linear itself
  const poolerName = [`pooler.dense`, `pooler`].find((n) => store.has(`${prefix}${n}.weight`));
  return {
    word: get("embeddings.word_embeddings.weight", [c.vocab, h]),
    position: get("embeddings.position_embeddings.weight", [c.maxPositions, h]),
    tokenType: get("embeddings.token_type_embeddings.weight", [c.typeVocab, h]),
    embNorm: norm("embeddings.LayerNorm", h),
    layers,
    pooler: poolerName === undefined ? null : lin(poolerName, h, h),
    prefix,
  };
}
