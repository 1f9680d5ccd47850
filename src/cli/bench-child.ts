/**
 * One scaling measurement in a fresh process, so that its peak resident memory is its own:
 *   node --expose-gc dist/cli/bench-child.js '{"mechanism":"sliding","n":4096,"headDim":32,...}'
 * Prints one JSON line. Time is the process's CPU time per call (process.cpuUsage: user +
 * system), which other processes on a shared machine do not inflate (with threads = 1 the
 * wasm and js backends run on this thread); wall time is reported beside it. The JIT is
 * warmed on a small problem, then one untimed call at n (it also warms the caches and gives
 * the peak: getrusage maxRSS after it − RSS before it, inputs already allocated, after a GC);
 * then a GC and an odd number (at least 3) of timed calls; `seconds` is their median.
 */

import { buildPattern, exampleInputs, mechanismById } from "../catalog/mechanisms.js";
import type { Backend } from "../index.js";
import { attention } from "../index.js";

export interface ChildSpec {
  mechanism: string;
  n: number;
  headDim: number;
  heads: number;
  /** Stop repeating once this many CPU seconds have been spent (at least 3 timed calls). */
  repeatSeconds: number;
  maxRepeats: number;
  backend: Backend;
  threads: number;
}

export interface ChildResult {
  mechanism: string;
  n: number;
  /** Median CPU seconds of the timed calls. */
  seconds: number;
  /** Median wall-clock seconds of the same calls. */
  wallSeconds: number;
  /** CPU seconds of every timed call, ascending. */
  samples: number[];
  /** CPU seconds this process spent in all (start-up, warm-up, timed calls): what the point cost. */
  processSeconds: number;
  runs: number;
  peakBytes: number;
  scoredPairs: number;
  allowedPairs: number;
  flops: number;
  workBytes: number;
  backend: string;
  threads: number;
}

function run(spec: ChildSpec): ChildResult {
  const m = mechanismById(spec.mechanism);
  if (m === undefined) throw new Error(`unknown mechanism ${spec.mechanism}`);
  const gc = (globalThis as { gc?: () => void }).gc;
  // Warm the JIT on a small problem of the same kind.
  const wn = Math.min(spec.n, 256);
  const w = exampleInputs(wn, 1, spec.headDim, 3);
  const opts = { backend: spec.backend, threads: spec.threads };
  // V8 tiers the planner and kernel glue up only after many calls: repeat the small problem
  // (up to 20 calls or 0.2 CPU seconds: the same work on a loaded machine) so small n are not
  // timed on unoptimised code.
  const warmPattern = buildPattern(m, wn);
  const cpuSince = (c0: NodeJS.CpuUsage): number => {
    const d = process.cpuUsage(c0);
    return (d.user + d.system) / 1e6;
  };
  for (let i = 0, c0 = process.cpuUsage(); i < 20 && cpuSince(c0) < 0.2; i++) {
    attention(w.q, w.k, w.v, { pattern: warmPattern, ...opts });
  }
  const pattern = buildPattern(m, spec.n);
  const { q, k, v } = exampleInputs(spec.n, spec.heads, spec.headDim);
  gc?.();
  const rssBefore = process.memoryUsage().rss;
  // the untimed first call at n: its peak alone (later calls would add the garbage of earlier ones)
  let stats = attention(q, k, v, { pattern, ...opts }).stats;
  const peak = process.resourceUsage().maxRSS * 1024 - rssBefore;
  const cpu: number[] = [];
  const wall: number[] = [];
  let spent = 0;
  // One GC before the timed calls, none between them: a forced full GC leaves concurrent
  // sweeping that V8's helper threads do during the next call, adding ~35 ms of CPU at
  // n = 8,192 (more than the sliding window's whole call); a call's own garbage is small.
  gc?.();
  while (cpu.length < 3 || (spent < spec.repeatSeconds && cpu.length < spec.maxRepeats) || cpu.length % 2 === 0) {
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    stats = attention(q, k, v, { pattern, ...opts }).stats;
    const dt = (performance.now() - t0) / 1000;
    const c = cpuSince(c0);
    cpu.push(c);
    wall.push(dt);
    spent += c;
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]; // odd count: the true median
  const total = process.cpuUsage();
  const s = stats;
  return {
    mechanism: spec.mechanism,
    n: spec.n,
    seconds: median(cpu),
    wallSeconds: median(wall),
    samples: [...cpu].sort((a, b) => a - b),
    processSeconds: (total.user + total.system) / 1e6,
    runs: cpu.length,
    peakBytes: Math.max(0, peak),
    scoredPairs: s.scoredPairs,
    allowedPairs: s.allowedPairs,
    flops: s.flops,
    workBytes: s.bytes,
    backend: s.backend,
    threads: s.threads ?? 1,
  };
}

const arg = process.argv[2];
if (arg !== undefined) {
  process.stdout.write(`${JSON.stringify(run(JSON.parse(arg) as ChildSpec))}\n`);
}
