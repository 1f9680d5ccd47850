/**
 * `sparse-attention/models`: HuggingFace Longformer and BigBird encoders run from their
 * weights, every attention through attention() with this library's patterns. See docs/models.md.
 */

export {
  BROWSER_CACHE_NAME,
  DEFAULT_ENDPOINT,
  downloadModel,
  fetchModelFiles,
  HubError,
  type HubErrorCode,
  type HubOptions,
  type HubProgress,
  isRepoId,
  type ModelFiles,
  repoFolderName,
} from "../hub/index.js";
export { bigBirdExtras, type RandomAttention } from "./attend.js";
export {
  checkModelConfig,
  type ModelConfig,
  type ModelType,
  maxInputLength,
  parseConfig,
  SUPPORTED_MODEL_TYPES,
} from "./config.js";
export { type EncodeOptions, type EncodeOutput, Model, type TokenizerFiles } from "./encode.js";
export type { CheckedInputs, ForwardInputs, IntTensor } from "./inputs.js";
export { type LoadOptions, loadModel, type ModelSource } from "./load.js";
export type { ForwardOptions, ForwardOutput, ForwardProfile } from "./model.js";
export { activate, addLayerNorm, erf, linear } from "./ops.js";
export {
  type GenerateOptions,
  type GenerateOutput,
  loadReformer,
  parseReformerConfig,
  type ReformerConfig,
  type ReformerForwardOptions,
  type ReformerForwardOutput,
  type ReformerInputs,
  ReformerModel,
  type TextCodec,
} from "./reformer/index.js";
export { CheckpointError, halfToFloat, SafetensorsFile, type TensorFile, WeightStore } from "./safetensors.js";
export { TorchCheckpoint } from "./torch/checkpoint.js";
