// linear() (src/backends/wasm/gemm.ts) on the model's shapes: rows = tokens, 768→768, 768→3072,
// 3072→768. Median of repeats, GFLOP/s (2·rows·inF·outF per call) by wall clock and per
// CPU-second (process CPU time, all threads: robust to other processes sharing the cores),
// wasm on 1 and 2 threads, js beside it for the smaller row counts. The load average is
// printed before and after: numbers taken on a loaded machine say so.
// Usage: npm run bench:gemm [-- --rows 1024,4096 --reps 5 --threads 1,2 --js-max-rows 1024 --json out.json]
//   --native: onnxruntime-node's GEMM (the native linear op) beside wasm at each thread count
// Relaxed SIMD on Node 20: node --experimental-wasm-relaxed-simd bench/gemm.mjs
import { writeFileSync } from "node:fs";
import { availableParallelism, cpus, loadavg } from "node:os";
import { parseArgs } from "node:util";
import { linear } from "../dist/backends/dispatch.js";
import { wasmVariant } from "../dist/backends/wasm/wasm.js";
import { median, printTable } from "./lib.mjs";

const { values } = parseArgs({
  options: {
    rows: { type: "string", default: "1024,2048,4096,8192,16384" },
    shapes: { type: "string", default: "768x768,768x3072,3072x768" },
    reps: { type: "string", default: "5" },
    threads: { type: "string", default: "1,2" },
    "js-max-rows": { type: "string", default: "1024" },
    json: { type: "string" },
    native: { type: "boolean", default: false },
  },
});
const rowsList = values.rows.split(",").map(Number);
const shapes = values.shapes.split(",").map((s) => s.split("x").map(Number));
const reps = Number(values.reps);
const threadsList = values.threads.split(",").map(Number);
const jsMaxRows = Number(values["js-max-rows"]);

function random(n, seed) {
  const a = new Float32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    a[i] = s / 4294967296 - 0.5;
  }
  return a;
}

/** One warm-up (packs the weight, tiers up the wasm), then `reps` timed calls. */
function measure(call, flops, n) {
  call();
  const wall = [];
  const cpu = [];
  for (let r = 0; r < n; r++) {
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    call();
    wall.push(performance.now() - t0);
    const c = process.cpuUsage(c0);
    cpu.push((c.user + c.system) / 1000);
  }
  const ms = median(wall);
  return {
    ms,
    gflops: flops / ms / 1e6,
    gflopsPerCpuS: flops / median(cpu) / 1e6,
    best: flops / Math.min(...wall) / 1e6,
  };
}

const load0 = loadavg();
console.log(
  `linear (GEMM), median of ${reps}; node ${process.version}, wasm ${wasmVariant()}, ${availableParallelism()} cores (${cpus()[0]?.model ?? "?"}), load average ${load0.map((l) => l.toFixed(2)).join(" ")}`,
);
const results = [];
const table = [];
for (const [inF, outF] of shapes) {
  const W = random(outF * inF, 1);
  const bias = random(outF, 2);
  for (const rows of rowsList) {
    const x = random(rows * inF, 3);
    const y = new Float32Array(rows * outF);
    const flops = 2 * rows * inF * outF;
    const runs = [];
    for (const threads of threadsList) {
      runs.push(["wasm", threads]);
      if (values.native) runs.push(["native", threads]); // onnxruntime-node's MLAS (optional peer), interleaved
    }
    if (rows <= jsMaxRows) runs.push(["js", 1]);
    let one = null;
    for (const [backend, threads] of runs) {
      const r = measure(
        () => linear(x, rows, inF, W, outF, bias, y, { backend, threads }),
        flops,
        backend === "js" ? Math.min(reps, 3) : reps,
      );
      if (backend === "wasm" && threads === 1) one = r;
      const speedup = backend === "wasm" && threads > 1 && one !== null ? one.ms / r.ms : undefined;
      results.push({ inF, outF, rows, backend, threads, ...r, speedup });
      const row = [
        `${inF}→${outF}`,
        rows,
        backend === "js" ? "js" : `${backend}-${threads}`,
        r.ms.toFixed(1),
        r.gflops.toFixed(1),
        r.best.toFixed(1),
        r.gflopsPerCpuS.toFixed(1),
        speedup === undefined ? "" : `${speedup.toFixed(2)}x`,
      ];
      table.push(row);
      console.error(`  ${row.join("  ")}`); // progress while the table builds
    }
  }
}
printTable(["shape", "rows", "backend", "median ms", "GFLOP/s", "best GFLOP/s", "GFLOP/cpu-s", "vs wasm-1"], table);
const load1 = loadavg();
console.log(`load average after: ${load1.map((l) => l.toFixed(2)).join(" ")}`);
if (values.json) {
  const meta = { node: process.version, variant: wasmVariant(), cores: availableParallelism(), load0, load1 };
  writeFileSync(values.json, JSON.stringify({ meta, results }, null, 2));
}
