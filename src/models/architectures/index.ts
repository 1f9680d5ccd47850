/**
 * The registry: one entry per config.model_type. loadModel, parseConfig and the Hub's early
 * config check find the architecture here; nothing outside this folder branches on the
 * model type. Adding an entry: docs/models.md, "Adding an architecture".
 */
import { AttentionArgumentError } from "../../errors.js";
import { bigBird } from "./bigbird.js";
import { longformer } from "./longformer.js";
import { modernBert } from "./modernbert.js";
import { reformer } from "./reformer.js";
import type { Architecture, EncoderWeights, ModelConfig } from "./types.js";

// biome-ignore lint/suspicious/noExplicitAny: entries differ in config and weight types; each is typed where defined
type AnyArchitecture = Architecture<any, any>;

/** Registered architectures, in the order errors list them. */
const ARCHITECTURES: readonly AnyArchitecture[] = [longformer, bigBird, reformer, modernBert];

/** config.model_type values this library runs. */
export const SUPPORTED_MODEL_TYPES: readonly string[] = ARCHITECTURES.map((a) => a.modelType);

/** The architecture of a model type already checked by checkModelConfig. */
export function architectureOf(modelType: string): Architecture<ModelConfig, EncoderWeights> {
  const a = ARCHITECTURES.find((e) => e.modelType === modelType);
  if (a === undefined) {
    throw new AttentionArgumentError(
      "model_type",
      modelType,
      `one of ${SUPPORTED_MODEL_TYPES.map((s) => `"${s}"`).join(", ")} (other architectures are not supported)`,
    );
  }
  return a;
}

/**
 * Throws unless `config` is a config.json object whose model_type this library runs; the
 * error lists the supported types. Returns the model type.
 */
export function checkModelConfig(config: unknown, where = "config"): string {
  if (config === null || typeof config !== "object" || Array.isArray(config)) {
    throw new AttentionArgumentError(where, config, "a config.json object with a model_type");
  }
  const t = (config as Record<string, unknown>).model_type;
  if (typeof t !== "string" || !SUPPORTED_MODEL_TYPES.includes(t)) {
    throw new AttentionArgumentError(
      `${where}.model_type`,
      t,
      `one of ${SUPPORTED_MODEL_TYPES.map((s) => `"${s}"`).join(", ")} (other architectures are not supported)`,
    );
  }
  return t;
}

/** Checks and normalises a config.json object with its architecture's parser. */
export function parseConfig(config: unknown, where = "config"): ModelConfig {
  const modelType = checkModelConfig(config, where);
  const arch = architectureOf(modelType);
  const c = arch.parseConfig(config as Record<string, unknown>, where);
  // a config no input can run with is refused here, at load, not by every forward
  const { limit, why } = arch.maxInputLength(c);
  if (!(limit >= 1)) {
    throw new AttentionArgumentError(
      where,
      `a ${modelType} config whose longest input is ${limit} tokens`,
      `a config that fits at least one token (${why})`,
    );
  }
  return c;
}

/** Longest input (tokens per row) the model allows, and why. */
export function maxInputLength(c: ModelConfig): { limit: number; why: string } {
  return architectureOf(c.modelType).maxInputLength(c);
}

export type { ReformerConfig } from "../reformer/config.js";
export type { BigBirdConfig } from "./bigbird.js";
export { encoderForward } from "./encoder.js";
export type { LongformerConfig } from "./longformer.js";
export type * from "./types.js";
