/**
 * Measured scaling: time and peak memory against n, log-spaced (×2), per mechanism, each
 * measurement in its own child process (bench-child.ts) so that peak RSS belongs to that run.
 * A mechanism stops at the largest n whose next step would exceed the per-run budget
 * (predicted from its last two points) or when its share of the total budget is spent.
 * Fitted log-log exponents: time, peak memory, and the counted scored pairs.
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
}

export interface Fit {
  mechanism: string;
  label: string;
  /** Slope of log(seconds) over log(n), fitted on the upper half of the sizes reached. */
  timeExponent: number;
  /** Slope of log(peak bytes) over log(n), NaN when the peaks are too small to measure. */
  memoryExponent: number;
  /** Slope of log(scored pairs) over log(n): the machine-independent count. */
  countedExponent: number;
  maxN: number;
  /** Smallest n of the time fit (it runs to maxN). */
  fitFrom: number;
  /** Why the mechanism stopped where it did. */
  stopped: string;
}

export interface ScalingResult {
  options: Omit<ScalingOptions, "mechanisms" | "progress"> & { mechanisms: string[] };
  points: (ChildResult & { label: string })[];
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

/** The upper half of the sizes a mechanism reached (at least 3 points): where the asymptotics show. */
function upperHalf<T>(pts: T[]): T[] {
  return pts.slice(-Math.max(3, Math.ceil(pts.length / 2)));
}

export function fitOf(m: Mechanism, pts: ChildResult[], stopped: string): Fit {
  const timePts = upperHalf(pts);
  const memPts = upperHalf(pts).filter((p) => p.peakBytes >= 4 * 2 ** 20);
  return {
    mechanism: m.id,
    label: m.label,
    timeExponent: logSlope(
      timePts.map((p) => p.n),
      timePts.map((p) => p.seconds),
    ),
    memoryExponent:
      memPts.length >= 2
        ? logSlope(
            memPts.map((p) => p.n),
            memPts.map((p) => p.peakBytes),
          )
        : Number.NaN,
    countedExponent: logSlope(
      pts.map((p) => p.n),
      pts.map((p) => p.scoredPairs),
    ),
    maxN: pts.length ? pts[pts.length - 1].n : 0,
    fitFrom: timePts.length ? timePts[0].n : 0,
    stopped,
  };
}

export async function measureScaling(options: ScalingOptions): Promise<ScalingResult> {
  const ns = sizes(options.minN, options.maxN);
  const share = options.totalSeconds / Math.max(1, options.mechanisms.length);
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
  const points: ScalingResult["points"] = [];
  const fits: Fit[] = [];
  for (const m of options.mechanisms) {
    const t0 = performance.now();
    const mine: ChildResult[] = [];
    let stopped = `reached the largest n asked for (${options.maxN})`;
    for (let i = 0; i < ns.length; i++) {
      const n = ns[i];
      bar?.update({ mechanism: m.id, n });
      const r = await runChild({
        mechanism: m.id,
        n,
        headDim: options.headDim,
        heads: options.heads,
        repeatSeconds: Math.min(0.6, options.runSeconds / 3),
        maxRepeats: 15, // small n: enough calls for V8 to tier up (the median lands in the settled regime)
        backend: options.backend,
        threads: options.threads,
      });
      mine.push(r);
      points.push({ ...r, label: m.label });
      bar?.increment();
      if (i + 1 === ns.length) break;
      const prev = mine.length >= 2 ? mine[mine.length - 2] : null;
      const growth = prev ? Math.max(2, r.seconds / Math.max(prev.seconds, 1e-4)) : 4;
      const next = r.seconds * growth;
      const used = (performance.now() - t0) / 1000;
      if (next > options.runSeconds) {
        stopped = `next n (${ns[i + 1]}) predicted ${next.toFixed(1)} s > ${options.runSeconds} s per run`;
      } else if (used + next * 1.5 > share) {
        stopped = `time share spent (${used.toFixed(1)} of ${share.toFixed(1)} s)`;
      } else {
        continue;
      }
      bar?.increment(ns.length - 1 - i);
      break;
    }
    fits.push(fitOf(m, mine, stopped));
  }
  bar?.stop();
  const { mechanisms, progress: _p, ...rest } = options;
  return { options: { ...rest, mechanisms: mechanisms.map((m) => m.id) }, points, fits };
}

export function scalingCsv(r: ScalingResult): string {
  const head = "mechanism,n,seconds,runs,peak_bytes,scored_pairs,allowed_pairs,flops,work_bytes,backend,threads";
  const rows = r.points.map((p) =>
    [
      p.mechanism,
      p.n,
      p.seconds,
      p.runs,
      p.peakBytes,
      p.scoredPairs,
      p.allowedPairs,
      p.flops,
      p.workBytes,
      p.backend,
      p.threads,
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
