/**
 * A pool that cannot hang: a worker that throws outside the kernel, exits, or never returns
 * (as a killed or stuck thread does) in the middle of a run makes the call throw a clear
 * PoolError within the documented bound, and the next call works on a rebuilt pool with the
 * same bits as before. Workers are made to fail through test hooks in src/backends/wasm/pool.ts.
 */
import { afterAll, expect, test } from "vitest";
import { setPoolStallForTests } from "../src/backends/wasm/pool.js";
import { failNextWorkerItemForTests, wasmPoolSize } from "../src/backends/wasm/wasm.js";
import { attention, patterns } from "../src/index.js";
import { Rng } from "../src/util/rng.js";
import { tensor } from "./helpers.js";

const rng = new Rng(77);
// 8 heads × 1024² pairs: 128 work items, so both threads claim some
const q = tensor([1, 8, 1024, 32], rng);
const k = tensor([1, 8, 1024, 32], rng);
const v = tensor([1, 8, 1024, 32], rng);
const run = () => attention(q, k, v, { backend: "wasm", threads: 2 });

afterAll(() => {
  setPoolStallForTests();
});

test.each([
  ["throw", /a worker died during the run/],
  ["exit", /a worker died during the run/],
  ["hang", /no work item finished for \d+ ms .*a worker was killed or is stuck/],
] as const)("a worker that fails mid-run (%s): a clear error, then the pool is rebuilt", (kind, message) => {
  const good = run();
  expect(good.stats.threads).toBe(2);
  expect(wasmPoolSize()).toBe(1);
  setPoolStallForTests(kind === "hang" ? 300 : 60_000); // throw / exit must be reported, not timed out
  failNextWorkerItemForTests(kind);
  expect(run).toThrow(message);
  setPoolStallForTests(); // the default bound again, so a loaded machine cannot fail the next call
  expect(run).not.toThrow(); // the next call works: a fresh memory and a new pool
  expect(wasmPoolSize()).toBe(1);
  const again = run();
  expect(Array.from(again.out.data)).toEqual(Array.from(good.out.data));
  expect(Array.from(again.lse)).toEqual(Array.from(good.lse));
});

// one head of strided attention on 2 threads runs deferred (src/backends/wasm/wasm-items.ts): its
// merge items wait at a barrier for the first phase, so a failed worker must not leave the
// caller waiting there
const q1 = tensor([1, 1, 8192, 32], rng);
const k1 = tensor([1, 1, 8192, 32], rng);
const v1 = tensor([1, 1, 8192, 32], rng);
const runDeferred = () =>
  attention(q1, k1, v1, { pattern: patterns.strided({ stride: 64 }), backend: "wasm", threads: 2 });

test.each([
  ["throw", /a worker died during the run/],
  ["exit", /a worker died during the run/],
  ["hang", /no work item finished for \d+ ms .*a worker was killed or is stuck/],
] as const)("deferred merges: a worker that fails mid-run (%s) fails the call at the barrier too", (kind, message) => {
  const good = runDeferred();
  expect(good.stats.threads).toBe(2);
  setPoolStallForTests(kind === "hang" ? 300 : 60_000);
  failNextWorkerItemForTests(kind);
  // a worker that wakes late may claim no item of a short call (the hook then waits for the
  // next call): a few calls, until one fails
  let error: unknown = null;
  for (let i = 0; i < 5 && error === null; i++) {
    try {
      runDeferred();
    } catch (e) {
      error = e;
    }
  }
  expect(String(error)).toMatch(message);
  setPoolStallForTests();
  const again = runDeferred();
  expect(Array.from(again.out.data)).toEqual(Array.from(good.out.data));
  expect(Array.from(again.lse)).toEqual(Array.from(good.lse));
});
