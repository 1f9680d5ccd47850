export type { AttentionAsyncOptions } from "./async.js";
/** attention() as a Promise on every backend, and the only way to run backend "webgpu". */
export { AUTO_GPU_PAIRS, attentionAsync, releaseAsyncWorker, webgpuNotSupportedReasons } from "./async.js";
export { attention } from "./attention.js";
/** Frees the wasm backend's memory and stops its worker pool (both are recreated on the next call). */
export { releaseWasm, startWasmThreads, wasmVariant } from "./backends/wasm/wasm.js";
export type { CompiledPattern, CompileOptions } from "./compile.js";
export { compile } from "./compile.js";
export { AttentionArgumentError } from "./errors.js";
export type { ExplainOptions, Explanation } from "./explain.js";
export { explain } from "./explain.js";
export * as patterns from "./pattern/index.js";
export { type ReferenceOptions, referenceAttention } from "./reference.js";
export type * from "./types.js";
export { EMPTY, FULL, PARTIAL } from "./types.js";
