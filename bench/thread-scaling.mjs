#!/usr/bin/env node
// Issue #12 item 2: do threads help many-part plans at small n? Per pattern, n and head count:
// median wall time on 1 and on 2 threads (calls interleaved 1, 2, 1, 2, … after a warm-up, so
// both see the same load), and the speedup. Compiled plans; backend wasm. Target: ≥ 1.6×.
// V8 runs the kernel in Liftoff first and tiers it up to TurboFan in the background after enough
// calls (one-thread strided at n = 4,096 ran 10 ms before, 7 ms after): every case first runs
// for --warm ms (default 2000) at the smallest size, on 1 and 2 threads, untimed.
// Timed calls write into a reused options.out / options.lse, as a caller looping over attention()
// would; --fresh-out drops them (each call allocates its result: at H = 8 the allocation and its
// garbage collection on the calling thread cost more than the kernel's second thread saves).
// Usage: npm run build && node bench/thread-scaling.mjs [--sizes 1024,2048,4096] [--heads 1,8] [--runs 7] [--fresh-out]
import { parseArgs } from "node:util";
import { attention, compile, patterns } from "../dist/index.js";
import { randomTensor } from "../dist/util/rng.js";
import { median, printTable } from "./lib.mjs";

const { values } = parseArgs({
  options: {
    sizes: { type: "string", default: "1024,2048,4096" },
    heads: { type: "string", default: "1,8" },
    runs: { type: "string", default: "7" },
    warm: { type: "string", default: "2000" },
    "fresh-out": { type: "boolean", default: false },
  },
});
const D = 64;
const runs = Number(values.runs);
const globals = (n) => Array.from({ length: 16 }, (_, i) => Math.floor((i * n) / 16) + 7);
const CASES = [
  ["strided 128", () => patterns.strided({ stride: 128 })],
  ["fixed 128 / 16", () => patterns.fixed({ block: 128, summary: 16 })],
  ["sliding ±256 + 16 global", (n) => patterns.longformer({ window: 256, global: globals(n) })],
  ["sliding ±256 (one part)", () => patterns.slidingWindow({ left: 256, right: 256 })],
];
const rows = [];
{
  const n = Math.min(...values.sizes.split(",").map(Number));
  const q = randomTensor([1, 1, n, D], 1);
  const plans = CASES.map(([, make]) => compile(make(n), { queryLength: n, headDim: D }));
  const until = performance.now() + Number(values.warm);
  while (performance.now() < until) {
    for (const plan of plans) for (const t of [1, 2]) attention(q, q, q, { plan, backend: "wasm", threads: t });
  }
}
for (const H of values.heads.split(",").map(Number)) {
  for (const n of values.sizes.split(",").map(Number)) {
    const q = randomTensor([1, H, n, D], 1);
    const k = randomTensor([1, H, n, D], 2);
    const v = randomTensor([1, H, n, D], 3);
    for (const [label, make] of CASES) {
      const plan = compile(make(n), { queryLength: n, heads: H, headDim: D });
      const ts = { 1: [], 2: [] };
      const into = values["fresh-out"]
        ? {}
        : { out: { data: new Float32Array(q.data.length), shape: q.shape }, lse: new Float32Array(H * n) };
      for (const t of [1, 2]) attention(q, k, v, { plan, backend: "wasm", threads: t, ...into }); // warm-up
      for (let r = 0; r < runs; r++) {
        for (const t of [1, 2]) {
          const t0 = performance.now();
          attention(q, k, v, { plan, backend: "wasm", threads: t, ...into });
          ts[t].push(performance.now() - t0);
        }
      }
      const m1 = median(ts[1]);
      const m2 = median(ts[2]);
      rows.push([label, n, H, plan.heads[0].length, m1.toFixed(2), m2.toFixed(2), (m1 / m2).toFixed(2)]);
    }
  }
}
printTable(["pattern", "n", "H", "parts", "1 thread ms", "2 threads ms", "speedup"], rows);
