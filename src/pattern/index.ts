/** `patterns`: every pattern factory, one namespace. */
export { causal, dense, intersect, mask, union } from "./algebra.js";
export { keyPadding, perBatch } from "./batch.js";
export { bigBird } from "./bigbird.js";
export { dilatedWindow, globalTokens, longformer, slidingWindow } from "./longformer.js";
export { type LshOptions, type LshRotations, lsh } from "./lsh.js";
export { fixed, strided } from "./sparse-transformer.js";
