#!/usr/bin/env node
// Time efficiency of the seed patterns (issue #12, item 4): per pattern and thread count,
//   (allowed pairs per second) / (dense pairs per second at n = 8,192, same thread count, same run)
// at n = 65,536, H = 8, D = 64, beside the work efficiency (allowed / scored pairs, explain()).
// Plans are compiled once (compile(), timed separately and reported) and run with
// attention(q, k, v, { plan, backend: "wasm", threads, out, lse }), so planning is not in the
// timed calls. Every timed call (dense reference, floor probe, every pattern) writes into a
// reused `out` tensor and `lse` array (options.out / options.lse), allocated and touched once
// per shape outside the timed calls, as a long-context caller looping over attention() would;
// --fresh-out drops them (the old behaviour: each call allocates and first-touches a fresh
// result, ~0.5 s of page faults for 134 MB at n = 65,536, H = 8). The timed call still
// includes copying q, k, v into wasm memory and out / lse back (the per-call floor: measured
// each repeat with a plan that allows no pair, at both lengths; "eff w/o floor" takes it off both
// times). Repeats are interleaved: repeat i runs dense, then
// every pattern, so load drift hits the dense reference and the patterns alike. A warm-up at a
// small length first tiers the kernel up (Liftoff -> TurboFan). Medians of the repeats; the
// spread is min–max over repeats (each paired with the dense repeat that ran just before it).
// "cpu eff" is the same ratio on process CPU time (all threads), which a loaded machine
// disturbs less than wall time. Also prints each plan's shape (planShape in bench/efficiency.mjs).
//
// Usage: npm run bench:efficiency [-- --quick] [--n 65536] [--dense-n 8192] [--heads 8]
//   [--reps 3] [--threads 1,2] [--patterns sliding,longformer,...] [--budget 60] [--sweep]
//   [--fresh-out] [--floor-only] [--out results.json]
// --fresh-out: no options.out / options.lse (every call allocates its result), to measure the
//   floor as it was before options.out.
// --floor-only: only the warm-up and the per-call floor (no dense reference, no patterns): a
//   quick probe of the floor, e.g. with and without --fresh-out.
// --sweep adds BigBird with blocks of 32, 16, 8 (full square tiles only): the cost of tile size
//   alone, without masks, gathers or parts.
// --budget s: a pattern predicted (at efficiency 0.4 of the dense rate just measured) to take
//   longer than s seconds per call runs on fewer heads (never fewer than the largest thread
//   count); its row says which H ran. The ratio is per pair, so H only changes the time.
import { mkdirSync, writeFileSync } from "node:fs";
import os from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { attention, compile, explain, patterns, wasmVariant } from "../dist/index.js";
import { randomTensor } from "../dist/util/rng.js";
import {
  EFFICIENCY_HEADER,
  efficiencyCells,
  efficiencyRows,
  planShape,
  SHAPE_HEADER,
  shapeCells,
} from "./efficiency.mjs";
import { median, printTable } from "./lib.mjs";

const { values } = parseArgs({
  options: {
    quick: { type: "boolean", default: false },
    n: { type: "string" },
    "dense-n": { type: "string" },
    heads: { type: "string" },
    reps: { type: "string" },
    threads: { type: "string", default: "1,2" },
    patterns: { type: "string" },
    budget: { type: "string" },
    sweep: { type: "boolean", default: false },
    "fresh-out": { type: "boolean", default: false },
    "floor-only": { type: "boolean", default: false },
    out: { type: "string" },
  },
});
const quick = values.quick;
const floorOnly = values["floor-only"];
const n = Number(values.n ?? (quick ? 4096 : 65536));
const denseN = Number(values["dense-n"] ?? (quick ? 1024 : 8192));
const H = Number(values.heads ?? (quick ? 2 : 8));
const reps = Number(values.reps ?? (quick ? 2 : 3));
const threadCounts = values.threads.split(",").map(Number);
const budgetMs = Number(values.budget ?? (quick ? 10 : 60)) * 1000;
const D = 64;
const WARM_N = Math.min(1024, n);
const minHeads = Math.min(H, Math.max(...threadCounts));

/** 16 global tokens spread over the sequence (as bench/patterns.mjs). */
const globals = (len) => Array.from({ length: 16 }, (_, i) => Math.floor((i * len) / 16) + 7);

/** [key, label, factory(n)]: the issue's seven patterns. */
const CASES = [
  ["sliding", "sliding ±256", () => patterns.slidingWindow({ left: 256, right: 256 })],
  ["longformer", "sliding ±256 + 16 global", (len) => patterns.longformer({ window: 256, global: globals(len) })],
  ["dilated", "dilated ±128, d = 2", () => patterns.dilatedWindow({ left: 128, right: 128, dilation: 2 })],
  ["strided", "strided 128", () => patterns.strided({ stride: 128 })],
  ["fixed", "fixed 128 / 16", () => patterns.fixed({ block: 128, summary: 16 })],
  ["bigbird", "BigBird 64 / 3", () => patterns.bigBird({ blockSize: 64, randomBlocks: 3, seed: 0 })],
  ["causal", "causal", () => patterns.causal()],
  // --sweep: the same kernel on full tiles only (no masks, no gathers, one part) of 32, 16, 8
  ...(values.sweep
    ? [32, 16, 8].map((b) => [
        `bigbird${b}`,
        `BigBird ${b} / 3 (full ${b}×${b} tiles)`,
        () => patterns.bigBird({ blockSize: b, randomBlocks: 3, seed: 0 }),
      ])
    : []),
]
  .filter(([key]) => !values.patterns || values.patterns.split(",").includes(key))
  .filter(() => !floorOnly);

const sub = (t, h, len) => ({ data: t.data.subarray(0, h * len * D), shape: [1, h, len, D] });

const freshOut = values["fresh-out"];
/** Result buffers per length: [1, H, len, D] and [1, H, len], allocated and touched once, outside the timed calls. */
const resultBuffers = new Map();
/**
 * The options.out / options.lse of a call on h heads of length len (views of the length's
 * buffers: the same memory every call), or {} with --fresh-out.
 */
function into(h, len) {
  if (freshOut) return {};
  let b = resultBuffers.get(len);
  if (b === undefined) {
    b = { out: new Float32Array(H * len * D).fill(0), lse: new Float32Array(H * len).fill(0) };
    resultBuffers.set(len, b);
  }
  return { out: { data: b.out.subarray(0, h * len * D), shape: [1, h, len, D] }, lse: b.lse.subarray(0, h * len) };
}

function timed(fn) {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  const r = fn();
  const ms = performance.now() - t0;
  const c = process.cpuUsage(c0);
  return { ms, cpuMs: (c.user + c.system) / 1000, r };
}

const load0 = os.loadavg();
const t00 = Date.now();
console.log(
  `time efficiency: ${os.cpus()[0]?.model} × ${os.availableParallelism()} cores, node ${process.version}, wasm ${wasmVariant()}`,
);
console.log(`load average at start ${load0.map((x) => x.toFixed(2)).join(" ")}`);
console.log(
  `n = ${n}, H = ${H}, D = ${D}, dense reference at n = ${denseN}; threads ${threadCounts.join(", ")}; ${reps} interleaved repeats after a warm-up at n = ${WARM_N}`,
);
console.log(
  freshOut
    ? "result: a fresh out / lse allocated by every timed call (--fresh-out: the behaviour before options.out)\n"
    : "result: every timed call writes into a reused options.out / options.lse (allocated once per shape, outside the timed calls; --fresh-out for the old behaviour)\n",
);

const q = randomTensor([1, H, n, D], 1);
const k = randomTensor([1, H, n, D], 2);
const v = randomTensor([1, H, n, D], 3);
const dq = randomTensor([1, H, denseN, D], 4);
const dk = randomTensor([1, H, denseN, D], 5);
const dv = randomTensor([1, H, denseN, D], 6);
const densePlan = compile(patterns.dense(), { queryLength: denseN, heads: H, headDim: D });
const densePairs = densePlan.allowedPairs;

// plans: compiled once per (pattern, heads); planning time measured here, never in the runs
const plans = new Map(); // `${key}|${h}` -> { plan, compileMs }
function planFor(key, make, h) {
  const id = `${key}|${h}`;
  if (!plans.has(id)) {
    const t0 = performance.now();
    const plan = compile(make(n), { queryLength: n, heads: h, headDim: D });
    plans.set(id, { plan, compileMs: performance.now() - t0 });
  }
  return plans.get(id).plan;
}

/**
 * The per-call floor's pattern: no pair allowed (every tile EMPTY, so the plan has no tiles and
 * the kernel scores nothing): the call is copying q, k, v in, the input scan, clearing out / lse
 * and copying them back. (Before 2026-12-02 the probe was a diagonal-only plan, whose 8×8
 * masked tiles added ~110 ms of kernel work at n = 65,536, H = 8 to the "floor".)
 */
const nothing = () => patterns.mask(() => false, { tileKind: () => 0 });
const denseFloorPlan = compile(nothing(), { queryLength: denseN, heads: H, headDim: D });
const dense = {};
const floor = {};
const cases = [];
const planning = [];
for (const threads of threadCounts) {
  // warm-up: every kernel path at a small length (tiers the module up; not timed)
  const wq = sub(q, 1, WARM_N);
  const wk = sub(k, 1, WARM_N);
  const wv = sub(v, 1, WARM_N);
  for (const [, , make] of [["dense", "", () => patterns.dense()], ...CASES]) {
    attention(wq, wk, wv, { pattern: make(WARM_N), backend: "wasm", threads });
  }
  // and one untimed call at the full size, so wasm memory has grown and its pages are touched
  // before the first timed call (that first growth alone took seconds)
  const floorPlan = planFor("floor", nothing, H);
  attention(q, k, v, { plan: floorPlan, backend: "wasm", threads, ...into(H, n) });
  const d = { pairs: densePairs, ms: [], cpuMs: [] };
  dense[threads] = d;
  const fl = { heads: H, ms: [], denseMs: [] };
  floor[threads] = fl;
  const mine = CASES.map(([key, label, make]) => ({ key, label, make, threads, heads: H, ms: [], cpuMs: [] }));
  for (let rep = 0; rep < reps; rep++) {
    const dInto = into(H, denseN);
    if (!floorOnly) {
      const t = timed(() => attention(dq, dk, dv, { plan: densePlan, backend: "wasm", threads, ...dInto }));
      if (t.r.stats.threads !== threads) throw new Error(`dense ran on ${t.r.stats.threads} threads, not ${threads}`);
      d.ms.push(t.ms);
      d.cpuMs.push(t.cpuMs);
    }
    // the per-call floor: a plan allowing no pair, at both lengths (copies, allocation, input scan)
    fl.denseMs.push(
      timed(() => attention(dq, dk, dv, { plan: denseFloorPlan, backend: "wasm", threads, ...dInto })).ms,
    );
    const fInto = into(H, n);
    fl.ms.push(timed(() => attention(q, k, v, { plan: floorPlan, backend: "wasm", threads, ...fInto })).ms);
    const denseRate = densePairs / median(d.ms); // pairs per ms
    for (const c of mine) {
      if (rep === 0) {
        // heads: fewer when one call is predicted (at 0.4 of the dense rate) to pass the budget
        const e = explain(c.make(n), { queryLength: n, heads: H, headDim: D });
        const predicted = e.allowedPairs / (0.4 * denseRate);
        if (predicted > budgetMs) c.heads = Math.max(minHeads, Math.floor((H * budgetMs) / predicted));
      }
      const plan = planFor(c.key, c.make, c.heads);
      c.allowedPairs = plan.allowedPairs;
      c.scoredPairs = plan.scoredPairs;
      const args = [sub(q, c.heads, n), sub(k, c.heads, n), sub(v, c.heads, n)];
      const cInto = into(c.heads, n);
      const r = timed(() => attention(...args, { plan, backend: "wasm", threads, ...cInto }));
      if (r.r.stats.allowedPairs !== plan.allowedPairs) throw new Error(`${c.label}: stats disagree with the plan`);
      c.ms.push(r.ms);
      c.cpuMs.push(r.cpuMs);
    }
    process.stderr.write(
      `  threads ${threads}, repeat ${rep + 1}/${reps} done (${((Date.now() - t00) / 1000).toFixed(0)} s)\n`,
    );
  }
  cases.push(...mine);
}

// plan shapes (one head; every seed pattern but BigBird shares one plan across heads)
const shapeRows = [];
for (const [key, label, make] of CASES) {
  const id = [...plans.keys()].find((x) => x.startsWith(`${key}|`));
  const plan = id ? plans.get(id).plan : compile(make(n), { queryLength: n, heads: 1, headDim: D });
  shapeRows.push(...shapeCells(label, planShape(plan.heads[0])));
  for (const [pid, p] of plans) {
    if (pid.startsWith(`${key}|`))
      planning.push([label, pid.split("|")[1], p.compileMs.toFixed(0), p.plan.heads[0].length, p.plan.tiles]);
  }
}
if (!floorOnly) {
  console.log(
    `plan shape at n = ${n} (head 0): partial = tiles with a bit mask; gather = rows (q) / keys (k) gathered`,
  );
  printTable(SHAPE_HEADER, shapeRows);
  console.log(`\nplanning: compile() once per pattern and head count, not in the timed calls (ms)`);
  printTable(["pattern", "H", "compile ms", "parts per head", "tiles (all heads)"], planning);
}
console.log(`(the floor plan (no pair allowed): H = ${H}, ${plans.get(`floor|${H}`).compileMs.toFixed(0)} ms)`);

const rows = efficiencyRows(dense, cases, floor);
if (!floorOnly) {
  console.log(`\ndense reference, n = ${denseN}, H = ${H} (wall ms, median and min–max of ${reps})`);
  printTable(
    ["threads", "median ms", "min–max ms", "Mpairs/s", "GFLOP/s"],
    threadCounts.map((t) => {
      const m = median(dense[t].ms);
      return [
        t,
        m.toFixed(1),
        `${Math.min(...dense[t].ms).toFixed(1)}–${Math.max(...dense[t].ms).toFixed(1)}`,
        (densePairs / m / 1e3).toFixed(1),
        ((densePairs * 4 * D) / m / 1e6).toFixed(1),
      ];
    }),
  );
}
console.log(
  `\nper-call floor: a plan that allows no pair, H = ${H}, ${freshOut ? "fresh result each call (--fresh-out)" : "into a reused options.out / options.lse"} (wall ms, median and min–max of ${reps})`,
);
printTable(
  ["threads", `n = ${n}`, "min–max", `n = ${denseN}`, "min–max"],
  threadCounts.map((t) => {
    const f = floor[t];
    const mm = (xs) => `${Math.min(...xs).toFixed(1)}–${Math.max(...xs).toFixed(1)}`;
    return [t, median(f.ms).toFixed(1), mm(f.ms), median(f.denseMs).toFixed(1), mm(f.denseMs)];
  }),
);
if (!floorOnly) {
  console.log(
    `\ntime efficiency at n = ${n}, D = ${D} (allowed pairs per second / dense pairs per second, same threads, same run; target 0.85)`,
  );
  printTable(EFFICIENCY_HEADER, rows.map(efficiencyCells));
}
const load1 = os.loadavg();
console.log(
  `\nload average at end ${load1.map((x) => x.toFixed(2)).join(" ")}; ${((Date.now() - t00) / 1000).toFixed(0)} s`,
);

const here = dirname(fileURLToPath(import.meta.url));
mkdirSync(join(here, "results"), { recursive: true });
const file = values.out ?? join(here, "results", `efficiency-${new Date().toISOString().replace(/[:.]/g, "-")}.json`);
writeFileSync(
  file,
  JSON.stringify(
    {
      n,
      denseN,
      H,
      D,
      reps,
      threadCounts,
      freshOut,
      load: [load0, load1],
      wasm: wasmVariant(),
      dense,
      floor,
      cases,
      rows,
      planning,
    },
    (key, val) => (key === "make" ? undefined : val),
    1,
  ),
);
console.log(`wrote ${file}`);
