#!/usr/bin/env node
// What stops dilated and strided (issue #12): each beside a twin that differs in one thing, one
// thread, n = 65,536, H = 8, D = 64, compiled plans, reused out / lse, median of 3 interleaved
// repeats: time efficiency against dense at n = 8,192 (as bench/time-efficiency.mjs), and
// "kernel only" with the per-call floor (a plan allowing no pair) taken off.
// Usage: npm run build && node bench/efficiency-twins.mjs
import { attention, compile, explain, patterns } from "../dist/index.js";
import { randomTensor } from "../dist/util/rng.js";

const H = 8;
const D = 64;
const REPS = 3;

/** q, k, v [1, H, n, D] and a reused result. */
function tensors(n) {
  const q = randomTensor([1, H, n, D], 1);
  return {
    q,
    k: randomTensor([1, H, n, D], 2),
    v: randomTensor([1, H, n, D], 3),
    out: { data: new Float32Array(q.data.length), shape: q.shape },
    lse: new Float32Array(H * n),
  };
}

const big = tensors(65536);
const small = tensors(8192);
const plan = (p, n) => compile(p, { queryLength: n, heads: H, headDim: D });
const cases = [
  ["dense n = 8,192 (reference)", small, plan(patterns.dense(), 8192)],
  [
    "floor (no pair allowed)",
    big,
    plan(
      patterns.mask(() => false, { tileKind: () => 0 }),
      65536,
    ),
  ],
  ["strided 128", big, plan(patterns.strided({ stride: 128 }), 65536)],
  ["causal band of 129 (strided's first part)", big, plan(patterns.slidingWindow({ left: 128, right: 0 }), 65536)],
  [
    "keys i − 128·m, m < 512 (≈ strided's residues)",
    big,
    plan(patterns.dilatedWindow({ left: 511, right: 0, dilation: 128 }), 65536),
  ],
  ["dilated ±128, d = 2", big, plan(patterns.dilatedWindow({ left: 128, right: 128, dilation: 2 }), 65536)],
  ["sliding ±128 (dilated's band, ungathered)", big, plan(patterns.slidingWindow({ left: 128, right: 128 }), 65536)],
];
const run = (x, p) => attention(x.q, x.k, x.v, { plan: p, backend: "wasm", threads: 1, out: x.out, lse: x.lse });
const times = cases.map(() => []);
for (const [, x, p] of cases) run(x, p); // warm-up
for (let r = 0; r < REPS; r++) {
  cases.forEach(([, x, p], i) => {
    const t0 = performance.now();
    run(x, p);
    times[i].push(performance.now() - t0);
  });
}
const median = (a) => [...a].sort((p, q) => p - q)[a.length >> 1];
const denseRate = explain(cases[0][2]).allowedPairs / median(times[0]); // pairs per ms
const floor = median(times[1]);
cases.forEach(([name, , p], i) => {
  const e = explain(p);
  const ms = median(times[i]);
  const eff = (e.allowedPairs / ms / denseRate).toFixed(2);
  const kernel = i < 2 ? "–" : (e.allowedPairs / (ms - floor) / denseRate).toFixed(2);
  const work = e.scoredPairs > 0 ? (e.allowedPairs / e.scoredPairs).toFixed(3) : "–";
  console.log(
    `${name.padEnd(48)} ${ms.toFixed(0).padStart(6)} ms  time eff ${eff}  kernel only ${kernel}  work eff ${work}`,
  );
});
