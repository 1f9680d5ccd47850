export { attention } from "./attention.js";
export { AttentionArgumentError } from "./errors.js";
export type { ExplainOptions, Explanation } from "./explain.js";
export { explain } from "./explain.js";
export { referenceAttention } from "./kernels/reference.js";
export * as patterns from "./pattern/index.js";
export type * from "./types.js";
export { EMPTY, FULL, PARTIAL } from "./types.js";
export { Rng, randomTensor } from "./util/rng.js";
