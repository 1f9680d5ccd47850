// The seed patterns at their true cost: per pattern, the pairs it allows, the score entries
// the plan visits (sum of visited tile areas, from explain()), their ratio (work efficiency),
// and the median attention() time beside the dense tiled time at the same length.
// One head, D = 64, one batch. Lengths 16,384 / 65,536 / 262,144 (linear patterns only at
// the largest). A run predicted (from the throughput measured on the sliding window) to take
// longer than --budget seconds is not run: its time is printed as an estimate "~…" and marked
// (predicted from the same pattern's measured rate at a smaller length, scored entries per ms).
// Dense is measured once at the smallest length (or estimated from it by n² when over budget).
// Usage: npm run build && node bench/patterns.mjs [--sizes 16384,65536,262144] [--runs 3]
//        [--budget 8] [--backend auto|js|wasm]
import { parseArgs } from "node:util";
import { attention, explain, patterns } from "../dist/index.js";
import { randomTensor } from "../dist/util/rng.js";
import { fmt, median, printTable } from "./lib.mjs";

const { values } = parseArgs({
  options: {
    sizes: { type: "string", default: "16384,65536,262144" },
    runs: { type: "string", default: "3" },
    budget: { type: "string", default: "8" },
    backend: { type: "string", default: "auto" },
  },
});
const sizes = values.sizes.split(",").map(Number);
const runs = Number(values.runs);
const budgetMs = Number(values.budget) * 1000;
const backend = values.backend;
const D = 64;

/** 16 global tokens spread over the sequence. */
const globals = (n) => Array.from({ length: 16 }, (_, i) => Math.floor((i * n) / 16) + 7);

/** [label, factory(n), linear?] — the efficiency table. */
const CASES = [
  ["sliding window 256 each side", () => patterns.slidingWindow({ left: 256, right: 256 }), true],
  ["sliding 256 + 16 global tokens", (n) => patterns.longformer({ window: 256, global: globals(n) }), true],
  ["dilated 128 each side, dilation 2", () => patterns.dilatedWindow({ left: 128, right: 128, dilation: 2 }), true],
  ["strided 128 (Sparse Transformer)", () => patterns.strided({ stride: 128 }), false],
  ["fixed 128, summary 16", () => patterns.fixed({ block: 128, summary: 16 }), false],
  ["BigBird block 64, 3 random", () => patterns.bigBird({ blockSize: 64, randomBlocks: 3, seed: 0 }), true],
  ["causal dense", () => patterns.causal(), false],
];

function timeAttention(q, k, v, pattern) {
  const ts = [];
  let stats;
  for (let r = 0; r < runs; r++) {
    const t0 = performance.now();
    stats = attention(q, k, v, { pattern, backend }).stats;
    ts.push(performance.now() - t0);
  }
  return { ms: median(ts), stats };
}

let scoredPerMs = null; // throughput measured on the first (sliding window) run
const rate = new Map(); // pattern label -> scored entries per ms, measured at a smaller length
let dense = null; // { n, ms, estimated }
let backendName = backend;

for (const n of sizes) {
  const q = randomTensor([1, 1, n, D], 1);
  const k = randomTensor([1, 1, n, D], 2);
  const v = randomTensor([1, 1, n, D], 3);
  const rows = [];
  for (const [label, make, linear] of CASES) {
    if (n > 65_536 && !linear) continue;
    const pattern = make(n);
    const e = explain(pattern, { queryLength: n, headDim: D });
    const predicted = scoredPerMs === null ? 0 : e.scoredPairs / (rate.get(label) ?? scoredPerMs);
    let time;
    if (predicted <= budgetMs) {
      const t = timeAttention(q, k, v, pattern);
      if (t.stats.scoredPairs !== e.scoredPairs || t.stats.allowedPairs !== e.allowedPairs) {
        throw new Error(`${label} at n=${n}: explain() and attention() stats disagree`);
      }
      backendName = t.stats.backend;
      if (scoredPerMs === null) scoredPerMs = e.scoredPairs / t.ms;
      rate.set(label, e.scoredPairs / t.ms);
      time = fmt.ms(t.ms);
    } else {
      time = `~${fmt.ms(predicted)} (est.)`;
    }
    if (dense === null) {
      const nn = n * n;
      const predictedDense = nn / scoredPerMs;
      if (predictedDense <= budgetMs) {
        const t = timeAttention(q, k, v, patterns.dense());
        dense = { n, ms: t.ms, estimated: false };
      } else {
        dense = { n, ms: predictedDense, estimated: true };
      }
    }
    const denseMs = dense.ms * (n / dense.n) ** 2;
    const denseNote = dense.estimated || dense.n !== n ? `~${fmt.ms(denseMs)} (est.)` : fmt.ms(denseMs);
    rows.push([
      label,
      e.allowedPairs.toExponential(3),
      e.scoredPairs.toExponential(3),
      e.efficiency.toFixed(3),
      (e.density * 100).toFixed(3),
      time,
      denseNote,
    ]);
  }
  console.log(`\nn = ${n}, one head, D = ${D}, backend ${backendName}, median of ${runs} runs (ms)`);
  printTable(["pattern", "allowedPairs", "scoredPairs", "efficiency", "density %", "time ms", "dense tiled ms"], rows);
}
console.log(
  `\nefficiency = allowedPairs / scoredPairs (scoredPairs = sum of visited tile areas, explain()).` +
    `\ndense tiled: measured at n = ${dense.n}${dense.estimated ? " (itself estimated)" : ""}; other lengths scaled by n² and marked (est.).` +
    `\n(est.) times are not run (--budget ${budgetMs / 1000} s): the same pattern's measured rate at a smaller length × its scoredPairs.`,
);
