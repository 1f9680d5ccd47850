/**
 * The backends every kernel test runs against: the TypeScript kernel, and the WebAssembly
 * kernel on one and on two threads (results must match the oracle with the same tolerance,
 * and the wasm results must be bitwise identical for every thread count).
 *
 * Use in a test file:
 *   import { TEST_BACKENDS } from "./backends.js";
 *   describe.each(TEST_BACKENDS)("$label", (b) => {
 *     test("...", () => { attention(q, k, v, { pattern, ...backendOptions(b) }); });
 *   });
 */
import type { AttentionOptions } from "../src/types.js";

export interface TestBackend {
  label: string;
  backend: "js" | "wasm";
  threads?: number;
}

export const TEST_BACKENDS: readonly TestBackend[] = [
  { label: "js", backend: "js" },
  { label: "wasm 1 thread", backend: "wasm", threads: 1 },
  { label: "wasm 2 threads", backend: "wasm", threads: 2 },
];

/** The attention() options of a test backend (without its label). */
export function backendOptions(b: TestBackend): Pick<AttentionOptions, "backend" | "threads"> {
  return b.threads === undefined ? { backend: b.backend } : { backend: b.backend, threads: b.threads };
}
