/**
 * One scaling measurement in a fresh process, so that its peak resident memory is its own:
 *   node --expose-gc dist/cli/bench-child.js '{"mechanism":"sliding","n":4096,"headDim":32,...}'
 * Prints one JSON line: median seconds over the timed calls (an odd number; the JIT is warmed
 * on a small problem first), peak extra resident bytes of the first call (getrusage maxRSS
 * after it − RSS before it, inputs already allocated, after a GC), and the stats.
 */

import { buildPattern, exampleInputs, mechanismById } from "../catalog/mechanisms.js";
import type { Backend } from "../index.js";
import { attention } from "../index.js";

export interface ChildSpec {
  mechanism: string;
  n: number;
  headDim: number;
  heads: number;
  /** Stop repeating once this many seconds have been spent (at least one run). */
  repeatSeconds: number;
  maxRepeats: number;
  backend: Backend;
  threads: number;
}

export interface ChildResult {
  mechanism: string;
  n: number;
  seconds: number;
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
  // (up to 20 calls or 0.2 s) so small n are not timed on unoptimised code.
  const warmPattern = buildPattern(m, wn);
  for (let i = 0, t0 = performance.now(); i < 20 && performance.now() - t0 < 200; i++) {
    attention(w.q, w.k, w.v, { pattern: warmPattern, ...opts });
  }
  const pattern = buildPattern(m, spec.n);
  const { q, k, v } = exampleInputs(spec.n, spec.heads, spec.headDim);
  gc?.();
  const rssBefore = process.memoryUsage().rss;
  const times: number[] = [];
  let stats = null;
  let spent = 0;
  let peak = 0;
  while (times.length === 0 || (spent < spec.repeatSeconds && times.length < spec.maxRepeats)) {
    if (times.length > 0) gc?.(); // each call starts from the same heap
    const t0 = performance.now();
    const r = attention(q, k, v, { pattern, ...opts });
    const dt = (performance.now() - t0) / 1000;
    // Peak of the first call alone (later calls would add the garbage of earlier ones).
    if (times.length === 0) peak = process.resourceUsage().maxRSS * 1024 - rssBefore;
    times.push(dt);
    spent += dt;
    stats = r.stats;
  }
  if (times.length % 2 === 0) times.shift(); // odd count: a true median; the dropped one is the first call
  times.sort((a, b) => a - b);
  const s = stats!;
  return {
    mechanism: spec.mechanism,
    n: spec.n,
    seconds: times[Math.floor(times.length / 2)],
    runs: times.length,
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
