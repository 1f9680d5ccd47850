#!/usr/bin/env node
// `npm run bench`: sparse-attention (js, wasm on 1 thread, wasm on all cores) side by side with
// the peers a user would pick instead — onnxruntime-node MultiHeadAttention (dense) and
// GroupQueryAttention (causal, local_window_size), tfjs + tfjs-backend-wasm, and
// ruvector-attention-wasm — on the same seeded inputs, B = 1, H = 8, D = 64.
// Each case runs in its own process (bench/peers/case.mjs) so its peak RSS is its own;
// medians of repeated runs after a warm-up; ratios against onnxruntime dense on all cores;
// JSON written to bench/results/. Cases predicted to exceed the time budget are skipped and
// the output says so; the targets of docs/performance.md are checked at the end.
import { spawnSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import os from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { Command } from "commander";

const here = dirname(fileURLToPath(import.meta.url));
const cores = os.availableParallelism();
const ALL_PATTERNS = ["dense", "causal", "window256", "bigbird", "strided", "fixed", "lsh"];
const program = new Command()
  .option("--quick", "lengths 1024 and 4096, 3 repetitions, 5 s budget")
  .option("--max-n <n>", "largest length", (x) => Number.parseInt(x, 10))
  .option("--min-n <n>", "smallest length", (x) => Number.parseInt(x, 10))
  .option("--reps <r>", "timed repetitions per case (after one warm-up)", (x) => Number.parseInt(x, 10))
  .option("--budget <seconds>", "skip a case predicted to take longer than this per run", Number.parseFloat)
  .option("--patterns <list>", `comma-separated subset of ${ALL_PATTERNS.join(",")}`)
  .option("--contenders <list>", "comma-separated subset of contender names")
  .option("--heads <h>", "heads", (x) => Number.parseInt(x, 10), 8)
  .option("--no-efficiency", "skip the time-efficiency table (bench/time-efficiency.mjs)")
  .parse();
const o = program.opts();
const quick = Boolean(o.quick);
const maxN = o.maxN ?? (quick ? 4096 : 65536);
const minN = o.minN ?? 1024;
const lengths = (quick ? [1024, 4096] : [1024, 2048, 4096, 8192, 16384, 32768, 65536]).filter(
  (n) => n >= minN && n <= maxN,
);
const reps = o.reps ?? (quick ? 3 : 5);
const budgetMs = (o.budget ?? (quick ? 5 : 20)) * 1000;
const patternsWanted = o.patterns ? o.patterns.split(",") : ALL_PATTERNS;
const H = o.heads;
const D = 64;

/** Contenders: peer module, its options, the patterns it can run, how its cost grows with n. */
const CONTENDERS = [
  { name: "js", peer: "ours", backend: "js", threads: 1, patterns: ALL_PATTERNS },
  { name: "wasm-1", peer: "ours", backend: "wasm", threads: 1, patterns: ALL_PATTERNS },
  { name: `wasm-${cores}`, peer: "ours", backend: "wasm", threads: cores, patterns: ALL_PATTERNS },
  { name: "webgpu", peer: "ours", backend: "webgpu", patterns: ALL_PATTERNS },
  {
    name: "ort-mha-1",
    peer: "ort",
    kind: "mha",
    threads: 1,
    patterns: ["dense"],
  },
  {
    name: `ort-mha-${cores}`,
    peer: "ort",
    kind: "mha",
    threads: cores,
    patterns: ["dense"],
  },
  {
    name: "ort-gqa-1",
    peer: "ort",
    kind: "gqa",
    threads: 1,
    patterns: ["causal", "window256"],
  },
  {
    name: `ort-gqa-${cores}`,
    peer: "ort",
    kind: "gqa",
    threads: cores,
    patterns: ["causal", "window256"],
  },
  { name: "tfjs-wasm", peer: "tfjs", patterns: ["dense"], maxScoreGB: 2 },
  { name: "ruvector-flash", peer: "ruvector", kind: "flash", patterns: ["dense"] },
  { name: "ruvector-local-global", peer: "ruvector", kind: "local-global", patterns: ["window256"] },
].filter((c) => !o.contenders || o.contenders.split(",").includes(c.name));
const DENSE_REF = `ort-mha-${cores}`;

/** Growth exponent of one run's time with n (to predict the next length from the last). */
function growth(c, pattern) {
  if (c.peer === "ruvector") return 1; // a fixed number of sampled queries, each O(n)
  if (c.peer === "ours" && ["window256", "bigbird", "lsh"].includes(pattern)) return 1.15;
  return 2;
}

function runCase(c, n, pattern) {
  const { name, patterns: _p, maxScoreGB: _m, ...contender } = c;
  if (pattern === "window256" && c.peer === "ort") contender.window = 256;
  const spec = { contender, n, H, D, pattern, reps, budgetMs };
  const r = spawnSync(process.execPath, [join(here, "peers/case.mjs"), JSON.stringify(spec)], {
    encoding: "utf8",
    timeout: budgetMs * (reps + 2) + 120_000,
    maxBuffer: 1 << 24,
  });
  const line = r.stdout?.trim().split("\n").pop();
  if (r.status !== 0 || !line?.startsWith("{")) {
    return {
      error: (r.error?.message ?? r.stderr?.trim().split("\n").slice(-3).join(" | ") ?? "failed").slice(0, 300),
    };
  }
  return JSON.parse(line);
}

const results = [];
const last = new Map(); // contender|pattern -> { n, ms } of the last measured case
const skippedAbove = new Set();
const t0 = Date.now();
console.log(
  `sparse-attention bench: ${os.cpus()[0]?.model} × ${cores} cores, node ${process.version}, load ${os
    .loadavg()
    .map((x) => x.toFixed(2))
    .join(" ")}`,
);
console.log(
  "webgpu: attentionAsync on the adapter Dawn finds (named in each row); a software adapter's (SwiftShader's) times say nothing about a real GPU",
);
console.log(
  `B = 1, H = ${H}, D = ${D}; lengths ${lengths.join(", ")}; median of up to ${reps} runs; budget ${budgetMs / 1000} s per run\n`,
);
for (const n of lengths) {
  for (const pattern of patternsWanted) {
    const rows = [];
    for (const c of CONTENDERS) {
      if (!c.patterns.includes(pattern)) continue;
      const key = `${c.name}|${pattern}`;
      let skip = null;
      // tfjs materialises every head's [n, n] scores (1.7 GB peak RSS at n = 4096); onnxruntime's
      // CPU kernels do not (445 MB peak RSS for H = 8, n = 16384, where one head's scores alone
      // would be 1 GiB), so they have no such limit.
      const scoreGB = (H * n * n * 4) / 2 ** 30;
      if (c.maxScoreGB !== undefined && scoreGB > c.maxScoreGB)
        skip = `would materialise ${scoreGB.toFixed(1)} GB of scores`;
      else if (skippedAbove.has(key)) skip = "skipped at a shorter length";
      else if (last.has(key)) {
        const p = last.get(key);
        const predicted = p.ms * (n / p.n) ** growth(c, pattern);
        if (predicted > budgetMs) skip = `predicted ${(predicted / 1000).toFixed(1)} s per run > budget`;
      }
      let r;
      if (skip !== null) {
        skippedAbove.add(key);
        r = { skipped: skip };
      } else {
        r = runCase(c, n, pattern);
        if (r.error) skippedAbove.add(key);
        else last.set(key, { n, ms: r.ms / (r.scale ?? 1) }); // one run's own time (ruvector: the sampled queries)
      }
      const row = { n, pattern, contender: c.name, ...r };
      results.push(row);
      rows.push(row);
    }
    printRows(n, pattern, rows);
  }
}

function denseRef(n) {
  const m = results.find((r) => r.n === n && r.pattern === "dense" && r.contender === DENSE_REF && r.ms !== undefined);
  if (m) return { ms: m.ms, extrapolated: false };
  const measured = results.filter((r) => r.pattern === "dense" && r.contender === DENSE_REF && r.ms !== undefined);
  if (measured.length === 0) return null;
  const b = measured[measured.length - 1];
  return { ms: b.ms * (n / b.n) ** 2, extrapolated: true, from: b.n };
}

function printRows(n, pattern, rows) {
  const ref = denseRef(n);
  console.log(
    `n = ${n}, ${pattern}${ref ? `   (vs ${DENSE_REF} dense${ref.extrapolated ? `, extrapolated n² from n = ${ref.from}` : ""})` : ""}`,
  );
  for (const r of rows) {
    let line = `  ${r.contender.padEnd(22)}`;
    if (r.skipped) line += `skipped: ${r.skipped}`;
    else if (r.error) line += `error: ${r.error}`;
    else {
      const gflops = r.work ? ` ${((r.work.flops / r.ms) * 1e-6).toFixed(1).padStart(6)} GFLOP/s` : "".padEnd(15);
      const ratio = ref ? ` ${(ref.ms / r.ms).toFixed(2).padStart(8)}× vs dense${ref.extrapolated ? "~" : ""}` : "";
      line += `${r.ms.toFixed(1).padStart(10)} ms${gflops}${ratio}  cpu ${r.cpuMs.toFixed(0)} ms  rss ${r.maxRssMB.toFixed(0)} MB`;
      if (r.note) line += `  (${r.note})`;
    }
    console.log(line);
  }
}

function find(n, pattern, contender) {
  return results.find((r) => r.n === n && r.pattern === pattern && r.contender === contender && r.ms !== undefined);
}

// targets (docs/performance.md)
const targets = [];
const w1 = find(4096, "dense", "wasm-1");
const wAll = find(4096, "dense", `wasm-${cores}`);
const ortAll = find(4096, "dense", DENSE_REF);
if (w1) targets.push(["dense wasm 1 thread, n = 4096 (GFLOP/s)", (w1.work.flops / w1.ms) * 1e-6, ">= 40"]);
if (w1)
  targets.push(["  same, per CPU-second (what an idle core would give)", (w1.work.flops / w1.cpuMs) * 1e-6, ">= 40"]);
if (w1 && wAll) targets.push([`dense wasm ${cores} threads / 1 thread, n = 4096 (speedup)`, w1.ms / wAll.ms, ">= 1.8"]);
if (wAll && ortAll)
  targets.push([`dense n = 4096: wasm-${cores} time / ${DENSE_REF} time`, wAll.ms / ortAll.ms, "<= 4"]);
const nBig = lengths[lengths.length - 1];
const win = find(nBig, "window256", `wasm-${cores}`);
const ref = denseRef(nBig);
if (win && ref)
  targets.push([
    `window256 n = ${nBig}: ${DENSE_REF} dense${ref.extrapolated ? " (extrapolated)" : ""} / wasm-${cores}`,
    ref.ms / win.ms,
    ">= 20",
  ]);
const gqa = find(nBig, "window256", `ort-gqa-${cores}`);
if (win && gqa)
  targets.push([`window256 n = ${nBig}: ort-gqa-${cores} local window / wasm-${cores}`, gqa.ms / win.ms, ">= 1"]);
console.log("\ntargets");
for (const [what, value, want] of targets)
  console.log(`  ${what.padEnd(72)} ${value.toFixed(2).padStart(8)}  (target ${want})`);

mkdirSync(join(here, "results"), { recursive: true });
const file = join(here, "results", `bench-${new Date().toISOString().replace(/[:.]/g, "-")}.json`);
const machine = {
  cpu: os.cpus()[0]?.model,
  cores,
  node: process.version,
  loadavg: os.loadavg(),
  totalMemGB: os.totalmem() / 2 ** 30,
};
writeFileSync(
  file,
  JSON.stringify(
    { machine, H, D, lengths, reps, budgetMs, results, targets, seconds: (Date.now() - t0) / 1000 },
    null,
    1,
  ),
);
console.log(`\nwrote ${file} (${((Date.now() - t0) / 1000).toFixed(0)} s)`);

// Time efficiency per pattern and thread count beside the work efficiency (issue #12):
// bench/time-efficiency.mjs in its own process (n = 65,536, H = 8; --quick: n = 4,096, H = 2).
if (o.efficiency) {
  console.log("");
  const args = [join(here, "time-efficiency.mjs"), ...(quick ? ["--quick"] : [])];
  const r = spawnSync(process.execPath, args, { stdio: "inherit" });
  if (r.status !== 0) {
    console.error(`bench/time-efficiency.mjs failed (status ${r.status})`);
    process.exitCode = 1;
  }
}
