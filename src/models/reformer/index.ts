/** The Reformer language model (HF ReformerModelWithLMHead): config, weights, forward, generate, text. */
export { bucketFactors, parseReformerConfig, type ReformerConfig } from "./config.js";
export type { GenerateOptions, GenerateOutput } from "./generate.js";
export { loadReformer } from "./load.js";
export {
  type ReformerForwardOptions,
  type ReformerForwardOutput,
  type ReformerInputs,
  ReformerModel,
} from "./model.js";
export type { TextCodec } from "./text.js";
export { loadReformerWeights, type ReformerWeights } from "./weights.js";
