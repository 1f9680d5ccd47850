// Dense attention, side by side in one run: the reference oracle (float64, materialised rows),
// the tiled kernel (float32, online softmax) and a naive JS implementation that materialises
// the [Lq, Lk] score matrix. Medians over repeated runs; GFLOP/s counts 4·Lq·Lk·D per head.
// Usage: npm run build && node bench/dense.mjs [--sizes 512,2048,8192] [--runs 3]
import { parseArgs } from "node:util";
import { attention, referenceAttention } from "../dist/index.js";
import { randomTensor } from "../dist/util/rng.js";
import { fmt, printTable, timeRuns } from "./lib.mjs";

const { values } = parseArgs({
  options: { sizes: { type: "string", default: "512,2048,8192" }, runs: { type: "string", default: "3" } },
});
const sizes = values.sizes.split(",").map(Number);
const runs = Number(values.runs);
const D = 64;

/** Naive: S = QKᵀ·scale materialised as [n, n], row softmax, O = P·V. */
function naive(q, k, v, n) {
  const s = new Float32Array(n * n); // scores: [Lq, Lk]
  const scale = 1 / Math.sqrt(D);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      let dot = 0;
      for (let d = 0; d < D; d++) dot += q[i * D + d] * k[j * D + d];
      s[i * n + j] = dot * scale;
    }
  }
  const out = new Float32Array(n * D); // [Lq, D]
  for (let i = 0; i < n; i++) {
    let m = Number.NEGATIVE_INFINITY;
    for (let j = 0; j < n; j++) m = Math.max(m, s[i * n + j]);
    let l = 0;
    for (let j = 0; j < n; j++) {
      const p = Math.exp(s[i * n + j] - m);
      s[i * n + j] = p;
      l += p;
    }
    for (let j = 0; j < n; j++) {
      const p = s[i * n + j] / l;
      for (let d = 0; d < D; d++) out[i * D + d] += p * v[j * D + d];
    }
  }
  return out;
}

console.log(
  `dense attention, one head, D = ${D}, median of ${runs} runs (ms); machine: ${(await import("node:os")).cpus().length} cores, node ${process.version}`,
);
const rows = [];
for (const n of sizes) {
  const q = randomTensor([1, 1, n, D], 1);
  const k = randomTensor([1, 1, n, D], 2);
  const v = randomTensor([1, 1, n, D], 3);
  const flops = 4 * n * n * D;
  const r = n >= 8192 ? Math.max(1, runs - 2) : runs;
  const tRef = timeRuns(() => referenceAttention(q, k, v), { runs: r, warmup: n >= 8192 ? 0 : 1 });
  const tTiled = timeRuns(() => attention(q, k, v, { backend: "js" }), { runs, warmup: 1 });
  const tNaive = timeRuns(() => naive(q.data, k.data, v.data, n), { runs: r, warmup: n >= 8192 ? 0 : 1 });
  rows.push([
    n,
    fmt.ms(tRef.median),
    fmt.ms(tNaive.median),
    fmt.ms(tTiled.median),
    fmt.ratio(tNaive.median / tTiled.median),
    fmt.g(flops / tTiled.median / 1e6),
    fmt.g(flops / tNaive.median / 1e6),
  ]);
}
printTable(["n", "reference ms", "naive JS ms", "tiled js ms", "naive/tiled", "tiled GFLOP/s", "naive GFLOP/s"], rows);
