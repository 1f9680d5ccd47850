// Reformer LSH attention vs exact dense shared-QK attention, side by side in one run, on
// clustered inputs (vectors drawn around a few random centres), one head, D = 64.
//   time: LSH (hashes 1, 2, 4, 8; chunk 64; planning + kernel) vs the dense tiled kernel;
//   work: score entries visited (machine-independent): LSH n·2·64·hashes vs dense n²;
//   error: relative Frobenius error of LSH vs exact dense shared-QK attention with the same
//          key normalisation and self mask (dense tiled kernel on normalised keys, scale 1,
//          diagonal masked: with n >= 2 the -1e5 self score weighs exactly 0).
// Dense is measured up to --dense-max (default 16384); above it the dense time is
// extrapolated as t(n0)·(n/n0)² from the largest measured n0 and marked "~", and no error is
// computed. Medians over --runs runs (1 run at n >= 16384).
// Usage: npm run build && node bench/lsh.mjs [--sizes 4096,16384,65536] [--runs 3]
//          [--hashes 1,2,4,8] [--chunk 64] [--buckets auto|N|A*B] [--cluster-size 32] [--dense-max 16384]
//          [--backend auto|js|wasm]
// buckets auto = 2n/chunk, HuggingFace's recommendation (a bucket then holds about one chunk),
// factorised above 64 (see bucketsFor).
import os from "node:os";
import { parseArgs } from "node:util";
import { attention, FULL, PARTIAL, patterns } from "../dist/index.js";
import { normaliseKeys } from "../dist/pattern/lsh-hash.js";
import { Rng } from "../dist/util/rng.js";
import { fmt, printTable, timeRuns } from "./lib.mjs";

const { values } = parseArgs({
  options: {
    sizes: { type: "string", default: "4096,16384,65536" },
    runs: { type: "string", default: "3" },
    hashes: { type: "string", default: "1,2,4,8" },
    chunk: { type: "string", default: "64" },
    buckets: { type: "string", default: "auto" },
    "cluster-size": { type: "string", default: "32" },
    "dense-max": { type: "string", default: "16384" },
    backend: { type: "string", default: "auto" },
  },
});
const sizes = values.sizes.split(",").map(Number);
const hashesList = values.hashes.split(",").map(Number);
const runs = Number(values.runs);
const C = Number(values.chunk);
/**
 * auto: HF's recommendation, about 2·n / chunkLength buckets, factorised as HF does for long
 * inputs ([a, b] with a·b = that, a ≈ b) above 64 buckets so hashing costs n·D·(a+b)/2 per
 * round instead of n·D·a·b/2. Otherwise a number, or factors "a*b".
 */
function bucketsFor(n) {
  if (values.buckets !== "auto") {
    const fs = values.buckets.split("*").map(Number);
    return fs.length === 1 ? fs[0] : fs;
  }
  const total = 2 ** Math.max(1, Math.round(Math.log2((2 * n) / C)));
  if (total <= 64) return total;
  const a = 2 ** Math.floor(Math.log2(total) / 2);
  return [a, total / a];
}
const bucketName = (b) => (Array.isArray(b) ? b.join("*") : String(b));
const clusterSize = Number(values["cluster-size"]);
const denseMax = Number(values["dense-max"]);
const D = 64;

/**
 * n tokens in n / clusterSize clusters at random positions: qk = 2·c + 0.5·noise around the
 * cluster's centre c, v = the cluster's value centre + 0.5·noise (all N(0, 1) per coordinate),
 * so exact attention concentrates on a token's cluster and returns about its value centre.
 */
function clustered(n, seed) {
  const rng = new Rng(seed);
  const centres = Math.max(1, Math.round(n / clusterSize));
  const cs = [];
  const vs = [];
  for (let c = 0; c < centres; c++) {
    cs.push(Array.from({ length: D }, () => rng.normal()));
    vs.push(Array.from({ length: D }, () => rng.normal()));
  }
  const qk = new Float32Array(n * D); // [1, 1, n, D]
  const v = new Float32Array(n * D);
  for (let i = 0; i < n; i++) {
    const c = rng.int(centres);
    for (let d = 0; d < D; d++) {
      qk[i * D + d] = 2 * cs[c][d] + 0.5 * rng.normal(); // qk: [n, D]
      v[i * D + d] = vs[c][d] + 0.5 * rng.normal(); // v: [n, D]
    }
  }
  return { qk: { data: qk, shape: [1, 1, n, D] }, v: { data: v, shape: [1, 1, n, D] } };
}

/** Exact shared-QK attention: dense on normalised keys, scale 1, self pairs masked. */
const offDiagonal = patterns.mask((q, k) => q !== k, {
  name: "dense without the diagonal",
  headDependent: false,
  tileKind: (q0, q1, k0, k1) => (k1 <= q0 || k0 >= q1 ? FULL : PARTIAL),
});

function relError(a, b) {
  let num = 0;
  let den = 0;
  for (let i = 0; i < a.length; i++) {
    num += (a[i] - b[i]) ** 2;
    den += b[i] ** 2;
  }
  return Math.sqrt(num / den);
}

console.log(
  `LSH vs dense shared-QK attention, one head, D = ${D}, chunk ${C}, ` +
    `buckets ${values.buckets === "auto" ? "2n/chunk" : values.buckets}, chunksBefore 1, ` +
    `clustered inputs (clusters of ~${clusterSize} tokens); median of ${runs} runs (1 at n >= 16384), ms; ` +
    `${os.cpus().length} cores, node ${process.version}`,
);
const timeRows = [];
const errRows = [];
let lastDense = null; // { n, ms }
let backendUsed = "?";
for (const n of sizes) {
  const { qk, v } = clustered(n, n);
  const r = n >= 16384 ? 1 : runs;
  let exact = null;
  let denseMs;
  let denseMark = "";
  if (n <= denseMax) {
    const kNorm = { data: normaliseKeys(qk.data, n, D), shape: qk.shape };
    const t = timeRuns(
      () => {
        exact = attention(qk, kNorm, v, { pattern: offDiagonal, scale: 1, backend: values.backend }).out.data;
      },
      { runs: r, warmup: n >= 16384 ? 0 : 1 },
    );
    denseMs = t.median;
    lastDense = { n, ms: denseMs };
  } else if (lastDense !== null) {
    denseMs = lastDense.ms * (n / lastDense.n) ** 2;
    denseMark = "~";
  }
  const row = [n, bucketName(bucketsFor(n)), `${denseMark}${fmt.ms(denseMs)}`];
  const err = [n];
  for (const hashes of hashesList) {
    const pattern = patterns.lsh({ buckets: bucketsFor(n), hashes, chunkLength: C, seed: 1 });
    let res = null;
    const t = timeRuns(
      () => {
        res = attention(qk, qk, v, { pattern, backend: values.backend });
      },
      { runs: r, warmup: n >= 16384 ? 0 : 1 },
    );
    backendUsed = res.stats.backend;
    row.push(`${fmt.ms(t.median)} (${fmt.ratio(denseMs / t.median)})`);
    err.push(exact === null ? "-" : relError(res.out.data, exact).toFixed(4));
    if (hashes === hashesList[hashesList.length - 1]) {
      row.push(`${(res.stats.scoredPairs / 1e6).toFixed(1)}M / ${((n * n) / 1e6).toFixed(0)}M`);
    }
  }
  timeRows.push(row);
  errRows.push(err);
}
console.log(
  `\nbackend: ${backendUsed} (--backend ${values.backend}; the same for dense and LSH); LSH time includes hashing`,
);
console.log("time, ms (speed-up vs dense); ~ = dense extrapolated as t(n0)·(n/n0)², not measured");
printTable(
  [
    "n",
    "buckets",
    "dense tiled",
    ...hashesList.map((h) => `LSH h=${h}`),
    `scored pairs LSH h=${hashesList[hashesList.length - 1]} / dense`,
  ],
  timeRows,
);
console.log("\nrelative error of LSH vs exact dense shared-QK attention (Frobenius, - = dense not run)");
printTable(["n", ...hashesList.map((h) => `LSH h=${h}`)], errRows);
