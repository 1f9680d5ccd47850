#!/usr/bin/env node
// What stops dilated and strided (issue #12): each beside a twin that differs in one thing, one
// thread, n = 65,536, H = 8, D = 64, compiled plans, reused out / lse, median of 3 interleaved
// repeats: time efficiency against dense at n = 8,192 (as bench/time-efficiency.mjs), and
// "kernel only" with the per-call floor (a plan allowing no pair) taken off.
// Usage: npm run build && node bench/efficiency-twins.mjs
import { attention, compile, explain, patterns, randomTensor } from "../dist/index.js";
const H = 8, D = 64;
const mk = (n) => { const q = randomTensor([1, H, n, D], 1), k = randomTensor([1, H, n, D], 2), v = randomTensor([1, H, n, D], 3);
  return { q, k, v, out: { data: new Float32Array(q.data.length), shape: q.shape }, lse: new Float32Array(H * n) }; };
const big = mk(65536), small = mk(8192);
const c = (p, n) => compile(p, { queryLength: n, heads: H, headDim: D });
const cases = [
  ["dense n=8192", small, c(patterns.dense(), 8192)],
  ["floor (no pair)", big, c(patterns.mask(() => false, { tileKind: () => 0 }), 65536)],
  ["strided 128", big, c(patterns.strided({ stride: 128 }), 65536)],
  ["causal band 129 (strided's A(1))", big, c(patterns.slidingWindow({ left: 128, right: 0 }), 65536)],
  ["keys i-128m, m<512 (≈ strided's residues)", big, c(patterns.dilatedWindow({ left: 511, right: 0, dilation: 128 }), 65536)],
  ["dilated ±128 d=2", big, c(patterns.dilatedWindow({ left: 128, right: 128, dilation: 2 }), 65536)],
  ["sliding ±128 (dilated's band, ungathered)", big, c(patterns.slidingWindow({ left: 128, right: 128 }), 65536)],
];
const ts = cases.map(() => []);
for (const [, x, plan] of cases) attention(x.q, x.k, x.v, { plan, backend: "wasm", threads: 1, out: x.out, lse: x.lse });
for (let r = 0; r < 3; r++) cases.forEach(([, x, plan], i) => { const t0 = performance.now(); attention(x.q, x.k, x.v, { plan, backend: "wasm", threads: 1, out: x.out, lse: x.lse }); ts[i].push(performance.now() - t0); });
const med = (a) => [...a].sort((p, q) => p - q)[1];
const denseRate = explain(cases[0][2]).allowedPairs / med(ts[0]);
const floor = med(ts[1]);
cases.forEach(([name, , plan], i) => { const e = explain(plan); const m = med(ts[i]);
  console.log(name.padEnd(44), m.toFixed(0).padStart(6), "ms", "time eff", (e.allowedPairs / m / denseRate).toFixed(2), " kernel-only eff", i < 2 ? "-" : (e.allowedPairs / (m - floor) / denseRate).toFixed(2), " work eff", (e.allowedPairs / Math.max(1, e.scoredPairs)).toFixed(3)); });
