/**
 * `sparse-attention/models`: HuggingFace Longformer and BigBird encoders run from their
 * weights, every attention through attention() with this library's patterns. See docs/models.md.
 */

export { useNativeLinear } from "../backends/dispatch.js";
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
/** PyTorch's CPU generator bit for bit (torch.manual_seed + torch.randn / torch.rand): Reformer's hash_seed rotations. */
export { type NormalFillKernel, TorchGenerator } from "../util/torch-random.js";
export type { RandomAttention } from "./attend.js";
export type { BackendsUsed } from "./backends-used.js";
export {
  type BigBirdConfig,
  checkModelConfig,
  type LongformerConfig,
  type ModelConfig,
  type ModelType,
  maxInputLength,
  parseConfig,
  SUPPORTED_MODEL_TYPES,
} from "./config.js";
export {
  type Batch,
  type BatchOptions,
  type CorpusDoc,
  type CorpusResult,
  runBatches,
  type StreamItem,
  type StreamOptions,
  streamPipeline,
} from "./corpus.js";
export {
  type EncodeOptions,
  type EncodeOutput,
  type FloatTensor,
  type LoadedHead,
  Model,
  type TaskOutput,
  type TokenizerFiles,
} from "./encode.js";
export type { ForwardInputs, IntTensor } from "./inputs.js";
export { type LoadOptions, loadModel, type ModelSource } from "./load.js";
export type { ForwardOptions, ForwardOutput, ForwardProfile } from "./model.js";
export {
  type MbEmbedOutput,
  type MbForwardOptions,
  type MbForwardOutput,
  type MbProfile,
  type ModernBertConfig,
  ModernBertModel,
  type SentencePooling,
} from "./modernbert/index.js";
export {
  type CallOptions,
  type FeatureExtractionOptions,
  type FillMaskOptions,
  type FillMaskResult,
  PIPELINE_TASKS,
  type Pipeline,
  type PipelineModel,
  type PipelineOptions,
  type PipelineTask,
  pipeline,
  type RunOptions,
  type TextClassificationOptions,
  type TokenClassificationOptions,
} from "./pipeline/pipeline.js";
export type {
  AggregationStrategy,
  ClassificationFunction,
  EntityGroup,
  LabelScore,
  Pooling,
  TokenEntity,
} from "./pipeline/postprocess.js";
export type { QaAnswer, QaOptions } from "./pipeline/qa.js";
export { type Encoded, TextTokenizer } from "./pipeline/text.js";
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
export { CheckpointError, SafetensorsFile, type TensorFile } from "./safetensors.js";
export { HEAD_KINDS, type HeadKind, TASK_HEADS } from "./tasks/heads.js";
export type { TaskInputs } from "./tasks/prepare.js";
export { TorchCheckpoint } from "./torch/checkpoint.js";
