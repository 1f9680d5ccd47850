/**
 * config.json → a checked, normalised model configuration, by the architecture its
 * model_type names (src/models/architectures/). Only the fields the model needs are read;
 * every one is checked and a bad value names the field, the value and what is expected. The
 * Hub loader runs parseConfig (the whole check) on config.json before downloading weights.
 */

export { type Activation, SUPPORTED_ACTIVATIONS } from "./architectures/fields.js";
export {
  type BigBirdConfig,
  checkModelConfig,
  type LongformerConfig,
  type ModelConfig,
  maxInputLength,
  parseConfig,
  SUPPORTED_MODEL_TYPES,
} from "./architectures/index.js";

/** A config.model_type this library runs (SUPPORTED_MODEL_TYPES). */
export type ModelType = string;
