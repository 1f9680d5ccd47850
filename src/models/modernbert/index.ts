/**
 * ModernBERT (answerdotai, 2024) from HF weights: config, weights, encoder, heads and
 * sentence-transformers pooling. The registry entry is src/models/architectures/modernbert.ts;
 * loadModel(folder | "owner/name") returns a ModernBertModel. See docs/models.md, "ModernBERT".
 */
export { type ModernBertConfig, parseModernBertConfig } from "./config.js";
export type { MbForwardOptions, MbForwardOutput, MbProfile } from "./model.js";
export { type MbEmbedOutput, ModernBertModel } from "./modernbert.js";
export { parseSentencePooling, poolingPath, type SentencePooling } from "./pooling.js";
export type { MbHeadKind } from "./weights.js";
