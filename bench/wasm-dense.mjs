// Dense wasm kernel on one thread (and on all cores), B = 1, H = 8, D = 64, n = 4,096 by
// default: median GFLOP/s of repeated calls, with the wasm build that ran ("relaxed-simd" =
// fused multiply-add), FLOPs per CPU-second of the process (closer to the idle rate on a loaded
// machine, for threads = 1) and the load average (wall-clock numbers mean little under load).
// Usage: npm run build && node bench/wasm-dense.mjs [--n 4096] [--runs 7] [--threads 1]
import { loadavg } from "node:os";
import { parseArgs } from "node:util";
import { wasmVariant } from "../dist/backends/wasm/wasm.js";
import { attention } from "../dist/index.js";
import { randomTensor } from "../dist/util/rng.js";
import { timeRuns } from "./lib.mjs";

const { values } = parseArgs({
  options: {
    n: { type: "string", default: "4096" },
    runs: { type: "string", default: "7" },
    threads: { type: "string", default: "1" },
  },
});
const n = Number(values.n);
const H = 8;
const D = 64;
const q = randomTensor([1, H, n, D], 1);
const k = randomTensor([1, H, n, D], 2);
const v = randomTensor([1, H, n, D], 3);
const flops = 4 * H * n * n * D;
for (const threads of values.threads.split(",").map(Number)) {
  const runs = Number(values.runs);
  const cpu0 = process.cpuUsage();
  const t = timeRuns(() => attention(q, k, v, { backend: "wasm", threads }), { runs, warmup: 1 });
  const cpu = process.cpuUsage(cpu0);
  // FLOPs per CPU-second of this process (warm-up included): less sensitive to other processes than wall time
  const perCpu = ((flops * (runs + 1)) / ((cpu.user + cpu.system) * 1e-6)) * 1e-9;
  const g = (ms) => ((flops / ms) * 1e-6).toFixed(1);
  console.log(
    `dense wasm n=${n} H=${H} D=${D} threads=${threads} variant=${wasmVariant()} node=${process.version}: ` +
      `median ${t.median.toFixed(0)} ms = ${g(t.median)} GFLOP/s (best ${g(t.min)}, worst ${g(t.max)}); ` +
      `${perCpu.toFixed(1)} GFLOP per CPU-second; load ${loadavg()
        .map((x) => x.toFixed(2))
        .join(" ")}`,
  );
}
