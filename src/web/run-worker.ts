/**
 * The explorer's "Run" worker: runs attention() on seeded random inputs with the wasm
 * backend (threads when the page is cross-origin isolated; js where wasm cannot run), times
 * it, and for n ≤ 2,048 compares the output with the float64 reference backend. Dense runs
 * beside it on the same inputs when it fits in a few seconds.
 */
import { parsePattern } from "../catalog/pattern-expr.js";
import { attention, type Pattern, startWasmThreads, type Tensor } from "../index.js";
import { randomTensor } from "../util/rng.js";
import { REFERENCE_MAX_N } from "./model.js";
import type { RunAnswer, RunMeasure, RunRequest } from "./protocol.js";

/** Dense runs beside the pattern only up to this n (n = 16,384 dense is ~69 GFLOP). */
const DENSE_MAX_N = 16384;

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

function measure(pattern: Pattern, q: Tensor, k: Tensor, v: Tensor, threads: number, wasm: boolean): RunMeasure {
  const backend = wasm ? "wasm" : "js";
  attention(q, k, v, { pattern, backend, threads }); // warm-up (JIT, wasm memory growth)
  const times: number[] = [];
  let last = attention(q, k, v, { pattern, backend, threads });
  const deadline = performance.now() + 1000;
  for (let i = 0; i < 5; i++) {
    const t = performance.now();
    last = attention(q, k, v, { pattern, backend, threads });
    times.push(performance.now() - t);
    if (performance.now() > deadline) break;
  }
  times.sort((a, b) => a - b);
  const ms = times[Math.floor(times.length / 2)];
  let maxError: number | null = null;
  let note: string | undefined;
  const n = q.shape[2];
  if (pattern.content) note = "LSH is content-dependent: the float64 reference backend takes fixed masks only";
  else if (n > REFERENCE_MAX_N) note = `reference check only for n ≤ ${REFERENCE_MAX_N}`;
  else maxError = maxAbsDiff(last.out.data, attention(q, k, v, { pattern, backend: "reference" }).out.data);
  return {
    ms,
    gflops: last.stats.flops / (ms * 1e6),
    backend: last.stats.backend,
    threads: last.stats.threads ?? 1,
    maxError,
    ...(note === undefined ? {} : { note }),
  };
}

self.onmessage = async (e: MessageEvent<RunRequest>) => {
  const req = e.data;
  const isolated = (self as unknown as { crossOriginIsolated?: boolean }).crossOriginIsolated === true;
  let threadsReady = 1;
  try {
    let wasm = true;
    try {
      threadsReady = await startWasmThreads(isolated ? req.threads : 1);
    } catch {
      try {
        threadsReady = await startWasmThreads(1);
      } catch {
        wasm = false; // no WebAssembly SIMD here: the TypeScript kernel runs
      }
    }
    const pattern = parsePattern(req.expr);
    const shape: [number, number, number, number] = [1, 1, req.n, req.headDim]; // q, k, v: [B=1, H=1, n, D]
    const q = randomTensor(shape, 1);
    const k = pattern.content ? q : randomTensor(shape, 2); // LSH: shared QK
    const v = randomTensor(shape, 3);
    const result = measure(pattern, q, k, v, threadsReady, wasm);
    let dense: RunMeasure | null = null;
    let denseNote: string | undefined;
    if (req.dense && req.n <= DENSE_MAX_N) dense = measure(parsePattern("dense()"), q, k, v, threadsReady, wasm);
    else if (req.dense) {
      const seconds = (4 * req.headDim * req.n * req.n) / (result.gflops * 1e9);
      denseNote = `dense not run above n = ${DENSE_MAX_N.toLocaleString("en-US")}: about ${seconds.toFixed(0)} s at this rate`;
    }
    const answer: RunAnswer = { ok: true, pattern: result, dense, isolated, threadsReady };
    if (denseNote !== undefined) answer.denseNote = denseNote;
    postMessage(answer);
  } catch (err) {
    postMessage({
      ok: false,
      error: err instanceof Error ? err.message : String(err),
      isolated,
      threadsReady,
    } satisfies RunAnswer);
  }
};
