/**
 * loadReformer(source): loadModel (a folder, a Hub id "owner/name", or { config, weights,
 * tokenizer? }) narrowed to a Reformer, as a ReformerModel with its typed forward / generate.
 */
import { AttentionArgumentError } from "../../errors.js";
import { type LoadOptions, loadModel, type ModelSource } from "../load.js";
import type { ReformerConfig } from "./config.js";
import { ReformerModel } from "./model.js";
import type { ReformerWeights } from "./weights.js";

export async function loadReformer(source: string | ModelSource, options: LoadOptions = {}): Promise<ReformerModel> {
  const m = await loadModel(source, options);
  if (m.config.modelType !== "reformer") {
    throw new AttentionArgumentError(
      "loadReformer(source)",
      m.config.modelType,
      'a checkpoint whose config.json has model_type "reformer" (use loadModel for other models)',
    );
  }
  return new ReformerModel(m.config as ReformerConfig, m.weights as ReformerWeights, m.tokenizerFiles);
}
