/**
 * A checkpoint → the encoder weights of its architecture, each tensor checked against the
 * shape the config implies (names and shapes: src/models/architectures/, read through
 * architectures/reader.ts).
 */
import { architectureOf } from "./architectures/index.js";
import type { EncoderWeights, ModelConfig } from "./architectures/types.js";
import type { WeightStore } from "./safetensors.js";

export type { EncoderLayerWeights, EncoderWeights, Linear, Norm } from "./architectures/types.js";

/** The encoder weights of `c`'s architecture. */
export function loadWeights(store: WeightStore, c: ModelConfig): EncoderWeights {
  return architectureOf(c.modelType).loadWeights(store, c);
}
