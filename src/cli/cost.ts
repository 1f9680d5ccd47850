/**
 * Cost accounting without running: explain() at length n for each mechanism, next to dense,
 * and the growth exponent of the scored pairs (counted, machine-independent) from explain()
 * at n/4 and n.
 */

import { buildPattern, exampleInputs, exprAt, type Mechanism } from "../catalog/mechanisms.js";
import type { Explanation } from "../index.js";
import { explain } from "../index.js";

export interface CostRow {
  id: string;
  label: string;
  expr: string;
  n: number;
  headDim: number;
  allowedPairs: number;
  scoredPairs: number;
  flops: number;
  bytes: number;
  /** allowed / (n·n). */
  density: number;
  /** allowed / scored. */
  efficiency: number;
  /** Dense scored pairs / this mechanism's scored pairs. */
  lessWork: number;
  /** d log(scored) / d log(n) between n/4 and n. */
  countedExponent: number;
  /** The class the counted exponent points to, e.g. "O(n)". */
  asymptotic: string;
  theory: string;
  /** Set when n is too small for the counted exponent to show the pattern's growth. */
  caveat?: string;
}

export function explainAt(m: Mechanism, n: number, headDim: number): Explanation {
  const pattern = buildPattern(m, n);
  const base = { queryLength: n, headDim };
  if (!m.content) return explain(pattern, base);
  const { q, k } = exampleInputs(n, 1, headDim);
  return explain(pattern, { ...base, q, k });
}

/** Nearest of the usual classes to a growth exponent. */
export function classOf(exponent: number): string {
  const classes: [number, string][] = [
    [1, "O(n)"],
    [1.5, "O(n√n)"],
    [2, "O(n²)"],
  ];
  let best = classes[0];
  for (const c of classes) if (Math.abs(c[0] - exponent) < Math.abs(best[0] - exponent)) best = c;
  return best[1];
}

/** The advice for a table at n too small: the smallest power-of-two length (×2 up to 2^20) whose n/4 allows ≤ 25 % of pairs. */
function enoughLength(m: Mechanism, n: number, headDim: number): string {
  for (let N = 2 ** Math.ceil(Math.log2(n + 1)); N <= 2 ** 20; N *= 2) {
    if (m.content && N > 2 ** 16) break; // content patterns hash data to count: stop at 65,536
    if (explainAt(m, Math.floor(N / 4), headDim).density <= 0.25) return `try --cost-n ${N} or more`;
  }
  return "its blocks or windows are wide for any n this table can count";
}

export function costRow(m: Mechanism, n: number, headDim: number, denseScored: number): CostRow {
  const e = explainAt(m, n, headDim);
  const small = Math.max(16, Math.floor(n / 4));
  const es = explainAt(m, small, headDim);
  const exponent = Math.log(e.scoredPairs / es.scoredPairs) / Math.log(n / small);
  // a sparse pattern that still allows over a quarter of all pairs at n/4 is near dense there: its exponent says
  // nothing about its growth yet (BigBird's 64-blocks, LSH's chunks, windows wider than n/4)
  const tooSmall = es.density > 0.25 && !m.theory.startsWith("O(n²)");
  const caveat = tooSmall
    ? `n too small: at n = ${small} it still allows ${(100 * es.density).toFixed(0)}% of all pairs, so the exponent between ${small} and ${n} is not its growth (${enoughLength(m, n, headDim)})`
    : undefined;
  return {
    id: m.id,
    label: m.label,
    expr: exprAt(m, n),
    n,
    headDim,
    allowedPairs: e.allowedPairs,
    scoredPairs: e.scoredPairs,
    flops: e.flops,
    bytes: e.bytes,
    density: e.density,
    efficiency: e.efficiency,
    lessWork: denseScored / e.scoredPairs,
    countedExponent: exponent,
    asymptotic: tooSmall ? "n too small" : classOf(exponent),
    theory: m.theory,
    ...(caveat === undefined ? {} : { caveat }),
  };
}

export function costTable(mechanisms: Mechanism[], n: number, headDim: number): CostRow[] {
  const denseScored = n * n;
  return mechanisms.map((m) => costRow(m, n, headDim, denseScored));
}

/** 1234567 → "1.23M". */
export function si(x: number, unit = ""): string {
  const a = Math.abs(x);
  const [d, s] =
    a >= 1e12 ? [1e12, "T"] : a >= 1e9 ? [1e9, "G"] : a >= 1e6 ? [1e6, "M"] : a >= 1e3 ? [1e3, "k"] : [1, ""];
  const v = x / d;
  return `${d === 1 ? String(Math.round(v)) : v.toPrecision(3)}${s}${unit}`;
}

/** Bytes with binary prefixes. */
export function bytesText(b: number): string {
  const units = ["B", "KiB", "MiB", "GiB"];
  let i = 0;
  let v = b;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${i === 0 ? v : v.toPrecision(3)} ${units[i]}`;
}

/** Plain-text table: columns padded, first column left-aligned, the rest right-aligned. */
export function formatTable(header: string[], rows: string[][]): string {
  const widths = header.map((h, c) => Math.max(h.length, ...rows.map((r) => r[c].length)));
  const line = (r: string[]) => r.map((x, c) => (c === 0 ? x.padEnd(widths[c]) : x.padStart(widths[c]))).join("  ");
  return [line(header), widths.map((w) => "─".repeat(w)).join("  "), ...rows.map(line)].join("\n");
}

export function costText(rows: CostRow[]): string {
  const header = [
    "mechanism",
    "allowed",
    "scored",
    "FLOPs",
    "bytes",
    "density",
    "less work",
    "class (counted)",
    "paper",
  ];
  return (
    formatTable(
      header,
      rows.map((r) => [
        r.label,
        si(r.allowedPairs),
        si(r.scoredPairs),
        si(r.flops),
        bytesText(r.bytes),
        `${(100 * r.density).toPrecision(3)}%`,
        `${r.lessWork.toPrecision(3)}×`,
        `${r.asymptotic} (n^${r.countedExponent.toFixed(2)})`,
        r.theory,
      ]),
    ) + caveatsText(rows)
  );
}

/** Footnotes for rows whose n is too small to read a growth class from ("" when none). */
export function caveatsText(rows: CostRow[]): string {
  const notes = rows.filter((r) => r.caveat !== undefined).map((r) => `  ${r.label}: ${r.caveat}`);
  return notes.length === 0 ? "" : `\nnot yet asymptotic:\n${notes.join("\n")}`;
}
