/** The Reformer language model (HF ReformerModelWithLMHead): config, weights, forward, generate. */
import { SafetensorsFile, WeightStore } from "../safetensors.js";
import { parseReformerConfig } from "./config.js";
import { ReformerModel } from "./model.js";
import { loadReformerWeights } from "./weights.js";

export { bucketFactors, parseReformerConfig, type ReformerConfig } from "./config.js";
export {
  type ReformerForwardOptions,
  type ReformerForwardOutput,
  type ReformerInputs,
  ReformerModel,
} from "./model.js";
export { loadReformerWeights, type ReformerWeights } from "./weights.js";

/** A Reformer from a parsed config.json and the safetensors bytes (one buffer per shard). */
export function reformerFromBytes(
  config: unknown,
  weights: ReadonlyArray<ArrayBuffer | Uint8Array>,
  label = "model",
): ReformerModel {
  const c = parseReformerConfig(config, `${label}: config.json`);
  const files = weights.map((w, i) => new SafetensorsFile(w, weights.length === 1 ? label : `${label}[${i}]`));
  return new ReformerModel(c, loadReformerWeights(new WeightStore(files, label), c));
}
