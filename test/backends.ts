/**
 * The backends every kernel test runs against: the TypeScript kernel, the WebAssembly
 * kernel on one and on two threads, and the WebGPU kernel (Dawn in Node, on SwiftShader where
 * no GPU driver is installed; see docs/webgpu.md). Results must match the oracle with the same
 * tolerance, and the wasm results must be bitwise identical for every thread count.
 *
 * Use in a test file:
 *   import { ASYNC_TEST_BACKENDS, runOn } from "./backends.js";
 *   describe.each(ASYNC_TEST_BACKENDS)("$label", (b) => {
 *     test("...", async () => { await runOn(b, q, k, v, { pattern }); });
 *   });
 * TEST_BACKENDS (synchronous attention() only) is kept for suites that test the sync path.
 */
import { attentionAsync } from "../src/async.js";
import { attention } from "../src/attention.js";
import type { AttentionOptions, AttentionResult, Tensor } from "../src/types.js";

export interface TestBackend {
  label: string;
  backend: "js" | "wasm" | "webgpu";
  threads?: number;
}

export const TEST_BACKENDS: readonly TestBackend[] = [
  { label: "js", backend: "js" },
  { label: "wasm 1 thread", backend: "wasm", threads: 1 },
  { label: "wasm 2 threads", backend: "wasm", threads: 2 },
];

/** Every backend, the asynchronous one included: run them with runOn(). */
export const ASYNC_TEST_BACKENDS: readonly TestBackend[] = [...TEST_BACKENDS, { label: "webgpu", backend: "webgpu" }];

/** The attention() options of a test backend (without its label). */
export function backendOptions(b: TestBackend): Pick<AttentionOptions, "backend" | "threads"> {
  return b.threads === undefined ? { backend: b.backend } : { backend: b.backend, threads: b.threads };
}

/** Runs one call on a test backend: attentionAsync for webgpu, the synchronous attention() otherwise. */
export function runOn(
  b: TestBackend,
  q: Tensor,
  k: Tensor,
  v: Tensor,
  options: Omit<AttentionOptions, "backend" | "threads"> = {},
): Promise<AttentionResult> {
  const o = { ...options, ...backendOptions(b) };
  return b.backend === "webgpu" ? attentionAsync(q, k, v, o) : Promise.resolve(attention(q, k, v, o));
}
