/**
 * Measured scaling: CPU time and peak memory against n, log-spaced (×2), per mechanism, each
 * measurement in its own child process (bench-child.ts) so that peak RSS belongs to that run.
 * A mechanism stops at the largest n whose next call would exceed the per-run budget
 * (predicted from its last two points, in CPU seconds) or when its share of the total budget
 * (CPU seconds of its child processes) is spent: both in CPU time, so a loaded machine stops
 * at the same sizes as an idle one and two runs fit the same range.
 * The sizes of each fit are then measured again in REPEAT_PROCESSES more processes, round-robin
 * over every mechanism and size (so a passing slowdown of the machine lands on different points),
 * and a point's time is the smallest of its processes' medians: a process can be slow as a whole
 * (memory placement, a busy neighbour), which repeats inside it cannot show.
 * Fitted log-log exponents over the asymptotic range (the largest FIT_POINTS sizes reached,
 * a factor 16 in n, from n = MIN_FIT_N up) with a 95 % interval: time, peak memory, and the counted scored pairs over
 * the same range; a measured exponent outside the counted one's reach is flagged with a reason.
 */
import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import cliProgress from "cli-progress";
import type { Mechanism } from "../catalog/mechanisms.js";
import type { Backend } from "../index.js";
import type { ChildResult, ChildSpec } from "./bench-child.js";

export interface ScalingOptions {
  mechanisms: Mechanism[];
  minN: number;
  maxN: number;
  headDim: number;
  heads: number;
  backend: Backend;
  threads: number;
  /** A mechanism stops before a run predicted to take longer than this (seconds). */
  runSeconds: number;
  /** Budget for all mechanisms together (seconds); each gets an equal share. */
  totalSeconds: number;
  /** Show a progress bar on stderr (when it is a terminal). */
  progress: boolean;
  /** Extra processes per fitted size (default REPEAT_PROCESSES; 0: one process per point, as --quick). */
  repeatProcesses?: number;
}

export interface Fit {
  mechanism: string;
  label: string;
  /** Slope of log(CPU seconds) over log(n), fitted on the largest FIT_POINTS sizes reached. */
  timeExponent: number;
  /** Half-width of the time exponent's 95 % interval (least squares, Student t; NaN with 2 points). */
  timeInterval: number;
  /** Slope of log(peak bytes) over log(n), NaN when the peaks are too small to measure. */
  memoryExponent: number;
  /** Slope of log(scored pairs) over log(n) over the same sizes as the time fit: the machine-independent count. */
  countedExponent: number;
  maxN: number;
  /** Smallest n of the time fit (it runs to maxN). */
  fitFrom: number;
  /** Why the mechanism stopped where it did. */
  stopped: string;
  /** Set when the measured time exponent and the counted one differ by more than the interval (and 0.1): why. */
  flag?: string;
}

/** A measured point: the chosen process's result, with every process's median beside it. */
export type ScalingPoint = ChildResult & {
  label: string;
  color: string;
  /** Median CPU seconds per call of each process that measured this point (`seconds` is the smallest). */
  processMedians: number[];
};

export interface ScalingResult {
  options: Omit<ScalingOptions, "mechanisms" | "progress"> & { mechanisms: string[] };
  points: ScalingPoint[];
  fits: Fit[];
}

export function sizes(minN: number, maxN: number): number[] {
  const out: number[] = [];
  for (let n = minN; n <= maxN; n *= 2) out.push(n);
  return out;
}

/** Least-squares slope of log y over log x. */
export function logSlope(xs: number[], ys: number[]): number {
  const pts = xs
    .map((x, i) => [Math.log(x), Math.log(ys[i])])
    .filter(([a, b]) => Number.isFinite(a) && Number.isFinite(b));
  if (pts.length < 2) return Number.NaN;
  const mx = pts.reduce((s, p) => s + p[0], 0) / pts.length;
  const my = pts.reduce((s, p) => s + p[1], 0) / pts.length;
  let num = 0;
  let den = 0;
  for (const [a, b] of pts) {
    num += (a - mx) * (b - my);
    den += (a - mx) * (a - mx);
  }
  return den === 0 ? Number.NaN : num / den;
}

const CHILD = fileURLToPath(new URL("./bench-child.js", import.meta.url));

export function runChild(spec: ChildSpec): Promise<ChildResult> {
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      ["--expose-gc", CHILD, JSON.stringify(spec)],
      { maxBuffer: 1 << 20 },
      (err, stdout, stderr) => {
        if (err) reject(new Error(`bench child failed for ${spec.mechanism} n=${spec.n}: ${stderr || err.message}`));
        else resolve(JSON.parse(stdout.trim().split("\n").pop() as string) as ChildResult);
      },
    );
  });
}

/** Sizes of the time fit: the largest ones reached, a factor 16 in n, where the per-call floor weighs least. */
export const FIT_POINTS = 5;

/** Sizes below this are left out of a fit (unless that leaves fewer than 3): at n < 1,024 a call is mostly its fixed cost. */
export const MIN_FIT_N = 1024;

/** The points a time fit uses: the largest FIT_POINTS sizes reached, from MIN_FIT_N up where there are 3 such. */
export function fitPoints<T extends { n: number }>(pts: T[]): T[] {
  const last = pts.slice(-FIT_POINTS);
  const large = last.filter((p) => p.n >= MIN_FIT_N);
  return large.length >= 3 ? large : last;
}

/** Extra processes per fitted size (each point of a fit is measured by 1 + this many processes). */
export const REPEAT_PROCESSES = 2;

/** A point from several processes' results: the fastest process's (smallest median), all medians kept. */
export function combineProcesses(runs: ChildResult[]): ChildResult & { processMedians: number[] } {
  let best = runs[0];
  for (const r of runs) if (r.seconds < best.seconds) best = r;
  return {
    ...best,
    peakBytes: runs[0].peakBytes, // the first process's peak (the later ones measure the same)
    processSeconds: runs.reduce((s, r) => s + r.processSeconds, 0),
    processMedians: runs.map((r) => r.seconds),
  };
}

/** Two-sided 95 % Student t quantiles by degrees of freedom (1–10); 1.96 beyond. */
const T95 = [Number.NaN, 12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228];

/** Least-squares slope of log y over log x and its 95 % half-width (NaN with 2 points). */
export function logFit(xs: number[], ys: number[]): { slope: number; interval: number } {
  const pts = xs
    .map((x, i) => [Math.log(x), Math.log(ys[i])])
    .filter(([a, b]) => Number.isFinite(a) && Number.isFinite(b));
  const slope = logSlope(xs, ys);
  const k = pts.length;
  if (k < 3 || Number.isNaN(slope)) return { slope, interval: Number.NaN };
  const mx = pts.reduce((s, p) => s + p[0], 0) / k;
  const my = pts.reduce((s, p) => s + p[1], 0) / k;
  let sxx = 0;
  let rss = 0;
  for (const [a, b] of pts) {
    sxx += (a - mx) * (a - mx);
    const r = b - my - slope * (a - mx);
    rss += r * r;
  }
  const se = Math.sqrt(rss / (k - 2) / sxx);
  return { slope, interval: (T95[k - 2] ?? 1.96) * se };
}

/** Differences between measured and counted exponents below this are not flagged (timer and cache noise). */
export const FLAG_TOLERANCE = 0.1;

/** Why a measured time exponent differs from the counted one, or undefined when it does not. */
export function flagOf(
  m: Mechanism,
  pts: ChildResult[],
  fitPts: ChildResult[],
  time: { slope: number; interval: number },
  counted: number,
): string | undefined {
  const d = time.slope - counted;
  const reach = Math.max(FLAG_TOLERANCE, Number.isNaN(time.interval) ? 0 : time.interval);
  if (Number.isNaN(d) || Math.abs(d) <= reach) return undefined;
  const first = fitPts[0];
  const last = fitPts[fitPts.length - 1];
  const floor = pts[0].seconds; // the smallest n's time: mostly the fixed per-call cost
  const share = floor / first.seconds;
  const ms = (x: number) => `${(1000 * x).toPrecision(2)} ms`;
  if (d < 0) {
    // the slope with the floor taken off every point: what the floor alone explains
    const net = logSlope(
      fitPts.map((p) => p.n),
      fitPts.map((p) => p.seconds - floor),
    );
    const floorWhy = `per-call floor: fixed costs (planning, backend set-up; ${ms(floor)} at n = ${pts[0].n}) are ${(100 * share).toFixed(0)} % of the call at n = ${first.n}, less at n = ${last.n}, so time grows slower than the work`;
    const rate = (p: ChildResult) => p.flops / p.seconds / 1e9;
    const rateWhy = `the kernel's rate rises with n (${rate(first).toFixed(1)} GFLOP/s at n = ${first.n}, ${rate(last).toFixed(1)} at n = ${last.n}: fuller tiles, fewer partial-tile masks)`;
    let why: string;
    if (share <= 0.05) why = rateWhy;
    else if (Number.isFinite(net) && counted - net > reach) {
      why = `${floorWhy}; without the floor it is still ${net.toFixed(2)}: ${rateWhy}`;
    } else why = floorWhy;
    return `measured ${time.slope.toFixed(2)} < counted ${counted.toFixed(2)}: ${why}`;
  }
  const mib = (4 * 4 * last.n * 32) / 2 ** 20; // q, k, v, out at D = 32, one head
  const why = m.content
    ? "hashing and sorting (O(n·D·buckets) rotations, an O(n) counting sort per round) and the gathered copies are work the scored-pair count leaves out"
    : `cache effects: the cost per scored pair grows with n as the working set (q, k, v, out ≈ ${mib.toPrecision(2)} MiB at n = ${last.n}, plus the plan) outgrows the CPU caches`;
  return `measured ${time.slope.toFixed(2)} > counted ${counted.toFixed(2)}: ${why}`;
}

export function fitOf(m: Mechanism, pts: ChildResult[], stopped: string): Fit {
  const timePts = fitPoints(pts);
  const memPts = pts.slice(-Math.max(3, Math.ceil(pts.length / 2))).filter((p) => p.peakBytes >= 4 * 2 ** 20);
  const time = logFit(
    timePts.map((p) => p.n),
    timePts.map((p) => p.seconds),
  );
  const counted = logSlope(
    timePts.map((p) => p.n),
    timePts.map((p) => p.scoredPairs),
  );
  const flag = timePts.length >= 3 ? flagOf(m, pts, timePts, time, counted) : undefined;
  return {
    mechanism: m.id,
    label: m.label,
    timeExponent: time.slope,
    timeInterval: time.interval,
    memoryExponent:
      memPts.length >= 2
        ? logSlope(
            memPts.map((p) => p.n),
            memPts.map((p) => p.peakBytes),
          )
        : Number.NaN,
    countedExponent: counted,
    maxN: pts.length ? pts[pts.length - 1].n : 0,
    fitFrom: timePts.length ? timePts[0].n : 0,
    stopped,
    ...(flag === undefined ? {} : { flag }),
  };
}

export async function measureScaling(options: ScalingOptions): Promise<ScalingResult> {
  const ns = sizes(options.minN, options.maxN);
  const share = options.totalSeconds / Math.max(1, options.mechanisms.length);
  const repeatSeconds = Math.min(0.5, options.runSeconds / 2);
  const bar =
    options.progress && process.stderr.isTTY
      ? new cliProgress.SingleBar(
          {
            format: "measuring {bar} {percentage}% | {mechanism} n={n} | {duration_formatted}",
            stream: process.stderr,
            hideCursor: true,
            clearOnComplete: true,
          },
          cliProgress.Presets.shades_classic,
        )
      : null;
  bar?.start(ns.length * options.mechanisms.length, 0, { mechanism: "", n: "" });
  const spec = (m: Mechanism, n: number): ChildSpec => ({
    mechanism: m.id,
    n,
    headDim: options.headDim,
    heads: options.heads,
    repeatSeconds,
    maxRepeats: 21, // small n: many calls, so the median sits in the settled regime
    backend: options.backend,
    threads: options.threads,
  });
  const swept: { m: Mechanism; runs: ChildResult[][]; stopped: string }[] = [];
  for (const m of options.mechanisms) {
    let used = 0; // CPU seconds of this mechanism's child processes
    const mine: ChildResult[] = [];
    let stopped = `reached the largest n asked for (${options.maxN})`;
    for (let i = 0; i < ns.length; i++) {
      const n = ns[i];
      bar?.update({ mechanism: m.id, n });
      const r = await runChild(spec(m, n));
      mine.push(r);
      used += r.processSeconds;
      bar?.increment();
      if (i + 1 === ns.length) break;
      const prev = mine.length >= 2 ? mine[mine.length - 2] : null;
      // time × 2…4.5 per doubling of n (a slow process must not end a quadratic mechanism early)
      const growth = prev ? Math.min(4.5, Math.max(2, r.seconds / Math.max(prev.seconds, 1e-4))) : 4;
      const next = r.seconds * growth;
      if (next > options.runSeconds) {
        stopped = `next n (${ns[i + 1]}) predicted ${next.toFixed(1)} s > ${options.runSeconds} s per run`;
      } else if (used + 0.6 + next + Math.max(3 * next, repeatSeconds) > share) {
        // the next point's cost: start-up and warm-up, the untimed call, at least 3 timed calls
        stopped = `time share spent (${used.toFixed(1)} of ${share.toFixed(1)} CPU s)`;
      } else {
        continue;
      }
      bar?.increment(ns.length - 1 - i);
      break;
    }
    swept.push({ m, runs: mine.map((r) => [r]), stopped });
  }
  // the fitted sizes again, in more processes, round-robin over mechanisms and sizes
  const again = swept.flatMap((s) =>
    fitPoints(s.runs.map((runs) => ({ n: runs[0].n, runs }))).map(({ runs }) => ({ s, runs })),
  );
  const repeats = options.repeatProcesses ?? REPEAT_PROCESSES;
  bar?.setTotal(ns.length * options.mechanisms.length + repeats * again.length);
  for (let k = 0; k < repeats; k++) {
    for (const { s, runs } of again) {
      bar?.update({ mechanism: s.m.id, n: runs[0].n });
      runs.push(await runChild(spec(s.m, runs[0].n)));
      bar?.increment();
    }
  }
  bar?.stop();
  const points: ScalingPoint[] = [];
  const fits: Fit[] = [];
  for (const { m, runs, stopped } of swept) {
    const mine = runs.map(combineProcesses);
    for (const p of mine) points.push({ ...p, label: m.label, color: m.color });
    fits.push(fitOf(m, mine, stopped));
  }
  const { mechanisms, progress: _p, ...rest } = options;
  return { options: { ...rest, repeatProcesses: repeats, mechanisms: mechanisms.map((m) => m.id) }, points, fits };
}

export function scalingCsv(r: ScalingResult): string {
  const head =
    "mechanism,n,seconds,wall_seconds,runs,peak_bytes,scored_pairs,allowed_pairs,flops,work_bytes,backend,threads,process_medians";
  const rows = r.points.map((p) =>
    [
      p.mechanism,
      p.n,
      p.seconds,
      p.wallSeconds,
      p.runs,
      p.peakBytes,
      p.scoredPairs,
      p.allowedPairs,
      p.flops,
      p.workBytes,
      p.backend,
      p.threads,
      p.processMedians.join(" "),
    ].join(","),
  );
  return `${[head, ...rows].join("\n")}\n`;
}

/** Fits over less than this factor in n are reported with a caveat. */
export const MIN_FIT_RANGE = 8;

/** The caveat for fits over too short a range of n, or "" (also shown in the HTML report). */
export function fitCaveat(r: ScalingResult): string {
  const short = r.fits.filter((x) => x.maxN / x.fitFrom < MIN_FIT_RANGE);
  if (short.length === 0) return "";
  return `caveat: ${short.length === r.fits.length ? "every exponent was" : `${short.length} of ${r.fits.length} exponents were`} fitted over less than a factor of ${MIN_FIT_RANGE} in n (at most ${Math.max(...r.fits.map((x) => x.maxN))}): at these sizes fixed per-call costs and timer noise dominate, so the exponents do not show growth classes. Run without --quick (n up to 65,536) for that.`;
}
