// Pure helpers of bench/time-efficiency.mjs (no timing, no I/O), so the table it prints can be
// unit-tested (test/bench-efficiency.test.ts) from made-up measurements.
import { median } from "./lib.mjs";

/**
 * Time-efficiency rows from measured times.
 * dense: per thread count, { pairs, ms: [..], cpuMs: [..] } of the dense reference (n = 8,192).
 * cases: [{ label, threads, heads, allowedPairs, scoredPairs, ms: [..], cpuMs: [..] }].
 * Repeats are interleaved (repeat i of every case ran right after repeat i of dense), so the
 * spread pairs repeat i of a case with repeat i of dense (i modulo the dense repeat count).
 * Returns one row per case:
 *   workEff = allowed / scored (explain()),
 *   timeEff = (allowed / median ms) / (dense pairs / median dense ms),
 *   effMin / effMax = min / max over repeats of the paired per-repeat ratio,
 *   cpuEff = the same ratio on CPU time (process.cpuUsage, all threads; robust to load),
 *   mpairsPerS = allowed pairs per second / 1e6 (median),
 *   kernelEff = timeEff with the per-call floor taken off both times, when `floor[threads]`
 *     = { heads, ms: [..] at the patterns' length, denseMs: [..] at the dense length } is
 *     given (the median time of a diagonal-only plan on `heads` heads: copies in and out, the
 *     output's allocation, the input scan; scaled by c.heads / heads for a case run on fewer
 *     heads, since it is O(H·n·D)); NaN otherwise, or when a time is not above its floor.
 */
export function efficiencyRows(dense, cases, floor = {}) {
  const rows = [];
  for (const c of cases) {
    const d = dense[c.threads];
    if (d === undefined) throw new Error(`no dense reference for ${c.threads} thread(s)`);
    if (c.ms.length === 0 || d.ms.length === 0) throw new Error(`no repeats for ${c.label}`);
    const denseRate = d.pairs / median(d.ms);
    const rate = c.allowedPairs / median(c.ms);
    const paired = c.ms.map((ms, i) => c.allowedPairs / ms / (d.pairs / d.ms[i % d.ms.length]));
    const cpuEff =
      c.cpuMs && d.cpuMs && c.cpuMs.length > 0 && d.cpuMs.length > 0
        ? c.allowedPairs / median(c.cpuMs) / (d.pairs / median(d.cpuMs))
        : Number.NaN;
    const f = floor[c.threads];
    let kernelEff = Number.NaN;
    if (f !== undefined && f.ms.length > 0 && f.denseMs.length > 0) {
      const ms = median(c.ms) - (median(f.ms) * c.heads) / f.heads;
      const dms = median(d.ms) - median(f.denseMs);
      if (ms > 0 && dms > 0) kernelEff = c.allowedPairs / ms / (d.pairs / dms);
    }
    rows.push({
      label: c.label,
      threads: c.threads,
      heads: c.heads,
      workEff: c.scoredPairs === 0 ? 1 : c.allowedPairs / c.scoredPairs,
      medianMs: median(c.ms),
      minMs: Math.min(...c.ms),
      maxMs: Math.max(...c.ms),
      repeats: c.ms.length,
      mpairsPerS: rate / 1e3,
      timeEff: rate / denseRate,
      effMin: Math.min(...paired),
      effMax: Math.max(...paired),
      cpuEff,
      kernelEff,
    });
  }
  return rows;
}

/** The rows as printable cells (same order as EFFICIENCY_HEADER). */
export const EFFICIENCY_HEADER = [
  "pattern",
  "threads",
  "H",
  "work eff",
  "median ms",
  "min–max ms",
  "Mpairs/s",
  "time eff",
  "eff min–max",
  "cpu eff",
  "eff w/o floor",
];
export function efficiencyCells(r) {
  const f = (x) => (x < 10 ? x.toFixed(2) : x < 1000 ? x.toFixed(1) : x.toFixed(0));
  return [
    r.label,
    r.threads,
    r.heads,
    r.workEff.toFixed(3),
    f(r.medianMs),
    `${f(r.minMs)}–${f(r.maxMs)}`,
    r.mpairsPerS.toFixed(1),
    r.timeEff.toFixed(2),
    `${r.effMin.toFixed(2)}–${r.effMax.toFixed(2)}`,
    Number.isNaN(r.cpuEff) ? "-" : r.cpuEff.toFixed(2),
    Number.isNaN(r.kernelEff) ? "-" : r.kernelEff.toFixed(2),
  ];
}

/**
 * The shape of one head's plan parts (PlanPart-like: qIndex, kIndex, qTiles, kTiles, rowPtr,
 * colIdx, maskOff, allowedPairs, scoredPairs): what bounds a pattern's time efficiency.
 * Per part: tiles, partial tiles (maskOff >= 0) and the share of its scored pairs in them, the
 * mean visited tile area, distinct query / key tile sizes, whether rows / keys are gathered.
 */
export function planShape(parts) {
  const out = [];
  for (const p of parts) {
    let partial = 0;
    let partialScored = 0;
    const qSizes = new Set();
    const kSizes = new Set();
    const numQT = p.qTiles.length - 1;
    for (let qt = 0; qt < numQT; qt++) {
      const rows = p.qTiles[qt + 1] - p.qTiles[qt];
      qSizes.add(rows);
      for (let e = p.rowPtr[qt]; e < p.rowPtr[qt + 1]; e++) {
        const kt = p.colIdx[e];
        if (p.maskOff[e] >= 0) {
          partial++;
          partialScored += rows * (p.kTiles[kt + 1] - p.kTiles[kt]);
        }
      }
    }
    for (let kt = 0; kt + 1 < p.kTiles.length; kt++) kSizes.add(p.kTiles[kt + 1] - p.kTiles[kt]);
    const tiles = p.rowPtr[numQT];
    out.push({
      label: p.label,
      tiles,
      partialTiles: partial,
      partialTileShare: tiles === 0 ? 0 : partial / tiles,
      partialScoredShare: p.scoredPairs === 0 ? 0 : partialScored / p.scoredPairs,
      meanTileArea: tiles === 0 ? 0 : p.scoredPairs / tiles,
      qTileSizes: [...qSizes].sort((a, b) => b - a),
      kTileSizes: [...kSizes].sort((a, b) => b - a),
      gatherQ: p.qIndex !== null,
      gatherK: p.kIndex !== null,
      allowedPairs: p.allowedPairs,
      scoredPairs: p.scoredPairs,
    });
  }
  return out;
}

export const SHAPE_HEADER = [
  "pattern / part",
  "tiles",
  "partial",
  "partial/scored",
  "mean tile",
  "q×k tile",
  "gather",
  "share of scored",
];
/** Printable cells of planShape(parts) for one pattern: one row per part. */
export function shapeCells(label, shape) {
  const total = shape.reduce((s, p) => s + p.scoredPairs, 0);
  const sizes = (xs) => (xs.length > 2 ? `${xs[0]}..${xs[xs.length - 1]}` : xs.join("/"));
  return shape.map((p, i) => [
    `${i === 0 ? label : ""} [${p.label}]`,
    p.tiles,
    `${(p.partialTileShare * 100).toFixed(1)}%`,
    `${(p.partialScoredShare * 100).toFixed(1)}%`,
    p.meanTileArea.toFixed(0),
    `${sizes(p.qTileSizes)}×${sizes(p.kTileSizes)}`,
    p.gatherQ || p.gatherK ? `${p.gatherQ ? "q" : ""}${p.gatherK ? "k" : ""}` : "-",
    total === 0 ? "0" : (p.scoredPairs / total).toFixed(3),
  ]);
}
