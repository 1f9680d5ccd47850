/**
 * ModernBERT (answerdotai, 2024) from HF weights: config, weights, encoder, heads and
 * sentence-transformers pooling. See docs/models.md, "ModernBERT".
 */
import type { WeightStore } from "../safetensors.js";
import { parseModernBertConfig } from "./config.js";
import { type MbTokenizerFiles, ModernBertModel } from "./modernbert.js";
import type { SentencePooling } from "./pooling.js";
import { loadModernBertWeights } from "./weights.js";

export { type ModernBertConfig, parseModernBertConfig } from "./config.js";
export type { MbForwardOptions, MbForwardOutput, MbProfile } from "./model.js";
export {
  type Logits,
  type MbEmbedOutput,
  type MbHeadKind,
  type MbLogitsOutput,
  type MbTokenizerFiles,
  ModernBertModel,
} from "./modernbert.js";
export { parseSentencePooling, poolingPath, type SentencePooling } from "./pooling.js";

/** A ModernBERT from its parsed config.json, its weights and (optional) tokenizer files and pooling. */
export function createModernBert(
  config: unknown,
  store: WeightStore,
  where: string,
  tokenizer?: MbTokenizerFiles,
  pooling: SentencePooling | null = null,
  task?: string,
): ModernBertModel {
  const c = parseModernBertConfig(config, where);
  return new ModernBertModel(c, loadModernBertWeights(store, c), tokenizer, pooling, task);
}
