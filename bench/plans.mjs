// Plans as values (issue #9): the cost of planning vs running a compiled plan, and explain()
// of analytic patterns at large n (counted, never built). Medians of repeated runs.
//   npm run bench:plans
import { attention, compile, explain, patterns } from "../dist/index.js";
import { randomTensor } from "../dist/util/rng.js";
import { fmt, printTable, timeRuns } from "./lib.mjs";

const { slidingWindow, longformer, intersect, perBatch, keyPadding, strided, union, mask } = patterns;

const rows = [];
for (const [name, p] of [
  ["slidingWindow(256, 256)", slidingWindow({ left: 256, right: 256 })],
  ["longformer(256, global [0..2])", longformer({ window: 256, global: [0, 1, 2] })],
  ["strided(3163)", strided({ stride: 3163 })],
]) {
  for (const n of [1_000_000, 10_000_000]) {
    const t = timeRuns(() => explain(p, { queryLength: n, headDim: 64 }), { runs: 5, warmup: 1 });
    rows.push([name, n, fmt.ms(t.median), fmt.ms(t.min), fmt.ms(t.max)]);
  }
}
const sinks = mask((_q, k) => k < 4, {
  tileKind: (_a, _b, k0, k1) => (k0 >= 4 ? 0 : k1 <= 4 ? 2 : 1),
  headDependent: false,
});
const readme = union(slidingWindow({ left: 255, right: 0 }), sinks);
const tr = timeRuns(() => explain(readme, { queryLength: 16384, heads: 2, headDim: 64 }), { runs: 5 });
rows.push(["README example (window + sinks)", 16384, fmt.ms(tr.median), fmt.ms(tr.min), fmt.ms(tr.max)]);
console.log("explain() without building the plan (ms)");
printTable(["pattern", "n", "median", "min", "max"], rows);

// a padded Longformer batch: attention({ pattern }) plans every call, attention({ plan }) never
const B = 2;
const H = 4;
const n = 4096;
const D = 64;
const q = randomTensor([B, H, n, D], 1);
const k = randomTensor([B, H, n, D], 2);
const v = randomTensor([B, H, n, D], 3);
const pattern = intersect(
  perBatch([longformer({ window: 128, global: [0] }), longformer({ window: 128, global: [0, 9] })]),
  keyPadding([4096, 3000]),
);
const runs = [];
for (const backend of ["js", "wasm"]) {
  const plan = compile(pattern, { batch: B, heads: H, queryLength: n, headDim: D });
  const tc = timeRuns(() => compile(pattern, { batch: B, heads: H, queryLength: n, headDim: D }), { runs: 5 });
  const withPattern = timeRuns(() => attention(q, k, v, { pattern, backend, threads: 1 }), { runs: 5 });
  const withPlan = timeRuns(() => attention(q, k, v, { plan, backend, threads: 1 }), { runs: 5 });
  runs.push([
    backend,
    fmt.ms(tc.median),
    fmt.ms(withPattern.median),
    fmt.ms(withPlan.median),
    fmt.ratio(withPattern.median / withPlan.median),
  ]);
}
console.log(`\npadded Longformer batch B=${B}, H=${H}, n=${n}, D=${D}, one thread (ms, medians of 5)`);
printTable(["backend", "compile", "{ pattern }", "{ plan }", "speedup"], runs);
