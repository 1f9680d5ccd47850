/**
 * Threads are capped to the cores available (threads: 256 on a small machine must not start
 * 255 workers), and backend "auto" decides from the plan: it counts the bytes the wasm
 * backend needs before running and falls back to js, saying why in stats.fallbackReasons.
 * The 4 GiB limit is lowered through a test hook instead of allocating 4 GiB.
 */
import { afterEach, expect, test } from "vitest";
import { setWasmMemoryLimitForTests, wasmPoolSize } from "../src/backends/wasm/wasm.js";
import { AttentionArgumentError, attention, patterns } from "../src/index.js";
import { availableCores } from "../src/platform.js";
import { Rng } from "../src/util/rng.js";
import { tensor } from "./helpers.js";

afterEach(() => {
  setWasmMemoryLimitForTests();
});

test("threads: 256 runs on at most the cores available and says so in stats", () => {
  const rng = new Rng(5);
  const q = tensor([1, 2, 300, 16], rng);
  const k = tensor([1, 2, 300, 16], rng);
  const v = tensor([1, 2, 300, 16], rng);
  const cores = availableCores();
  const r = attention(q, k, v, { backend: "wasm", threads: 256 });
  expect(r.stats.threads).toBe(Math.min(256, cores));
  expect(r.stats.threadsRequested).toBe(256);
  expect(wasmPoolSize()).toBeLessThanOrEqual(cores - 1);
  const one = attention(q, k, v, { backend: "wasm", threads: 1 });
  expect(one.stats.threads).toBe(1);
  expect(one.stats.threadsRequested).toBeUndefined();
  expect(Array.from(r.out.data)).toEqual(Array.from(one.out.data)); // bitwise, any thread count
});

test("auto falls back to js when the plan does not fit wasm memory, with the reason in stats", () => {
  const rng = new Rng(6);
  const q = tensor([1, 2, 200, 16], rng);
  const k = tensor([1, 2, 200, 16], rng);
  const v = tensor([1, 2, 200, 16], rng);
  const pattern = patterns.causal();
  const fits = attention(q, k, v, { pattern });
  expect(fits.stats.backend).toBe("wasm");
  expect(fits.stats.fallbackReasons).toBeUndefined();

  setWasmMemoryLimitForTests(fits.stats.backendBytes); // the inputs alone fit, the whole plan does not
  const r = attention(q, k, v, { pattern });
  expect(r.stats.backend).toBe("js");
  expect(r.stats.fallbackReasons).toHaveLength(1);
  expect(r.stats.fallbackReasons![0]).toMatch(/^wasm: the plan needs \d+ bytes of WebAssembly memory/);
  const js = attention(q, k, v, { pattern, backend: "js" });
  expect(Array.from(r.out.data)).toEqual(Array.from(js.out.data));
  expect(() => attention(q, k, v, { pattern, backend: "wasm" })).toThrow(AttentionArgumentError);
  expect(() => attention(q, k, v, { pattern, backend: "wasm" })).toThrow(/the plan needs \d+ bytes/);
});
