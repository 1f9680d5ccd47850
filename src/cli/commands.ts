/** The actions behind `show` and `explain` (main.ts parses the arguments). */
import { writeFileSync } from "node:fs";
import { nearlyDenseNote } from "../catalog/hints.js";
import { HubError } from "../hub/errors.js";
import type { Explanation, Pattern, Tensor } from "../index.js";
import { compile, explain, patterns } from "../index.js";
import { CheckpointError } from "../models/safetensors.js";
import { randomTensor } from "../util/rng.js";
import { svgToPng } from "../viz/png.js";
import { matrixSvg } from "../viz/svg.js";
import { textGrid } from "../viz/text.js";
import { bytesText, classOf, formatTable, si } from "./cost.js";

export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}

/** A failure that is not the caller's arguments (the network, the disk): one line, exit status 1, no usage. */
export class RunFailure extends Error {
  constructor(message: string) {
    super(message);
    this.name = "RunFailure";
  }
}

/** Hub error kinds a different --model, token or cache setting fixes (exit 2); the rest are the network's or the disk's (exit 1). */
const USAGE_HUB_CODES = new Set(["not-found", "unauthorized", "bad-token", "offline-missing", "invalid"]);

/** A model load's error as the CLI reports it: a bad checkpoint or model id is a usage error, a network or disk failure is not. */
export function modelLoadError(e: unknown): unknown {
  if (e instanceof CheckpointError) return new UsageError(e.message);
  if (e instanceof HubError) return USAGE_HUB_CODES.has(e.code) ? new UsageError(e.message) : new RunFailure(e.message);
  return e;
}

export interface SizeOptions {
  queryLength: number;
  keyLength?: number;
  heads: number;
  headDim: number;
  seed: number;
}

/** Seeded example q and k for content-dependent patterns (lsh plans from the data). */
export function contentInputs(p: Pattern, s: SizeOptions, batch = 1): { q?: Tensor; k?: Tensor } {
  if (p.content === undefined) return {};
  const Lk = s.keyLength ?? s.queryLength;
  if (Lk !== s.queryLength) {
    throw new UsageError(
      `--key-length: got ${Lk}; ${p.name} sorts queries and keys together: omit it or use ${s.queryLength}`,
    );
  }
  const q = randomTensor([batch, s.heads, s.queryLength, s.headDim], s.seed) as Tensor;
  return { q, k: q };
}

export interface ShowOptions extends SizeOptions {
  head: number;
  /** Batch rows to plan (per-row patterns: perBatch, keyPadding) and the row to draw. */
  batch?: number;
  row?: number;
  format: "text" | "svg" | "png";
  out?: string;
  width: number;
  size: number;
  color: boolean;
}

export async function show(p: Pattern, o: ShowOptions, print: (s: string) => void): Promise<void> {
  if (o.head >= o.heads)
    throw new UsageError(`--head: got ${o.head}; expected an integer in [0, ${o.heads - 1}] (--heads is ${o.heads})`);
  const B = o.batch ?? 1;
  const row = o.row ?? 0;
  if (row >= B) throw new UsageError(`--row: got ${row}; expected an integer in [0, ${B - 1}] (--batch is ${B})`);
  const Lk = o.keyLength ?? o.queryLength;
  const c = compile(p, {
    queryLength: o.queryLength,
    keyLength: Lk,
    heads: o.heads,
    headDim: o.headDim,
    batch: B,
    ...contentInputs(p, o, B),
  });
  const parts = c.rows[row * o.heads + o.head]; // plan.rows[b * H + h]
  const allowed = parts.reduce((s, x) => s + x.allowedPairs, 0);
  const scored = parts.reduce((s, x) => s + x.scoredPairs, 0);
  const note = nearlyDenseNote(p.name, allowed, o.queryLength * Lk);
  const heading = `${p.name}: Lq = ${o.queryLength}, Lk = ${Lk}, ${B > 1 ? `row ${row}, ` : ""}head ${o.head}: ${allowed} allowed / ${scored} scored of ${o.queryLength * Lk} pairs${note ? `\n${note}` : ""}`;
  if (o.format === "text") {
    const grid = textGrid(parts, o.queryLength, Lk, {
      maxWidth: o.width,
      maxHeight: o.width,
      color: o.color,
    });
    const text = `${heading}\n${grid}\n`;
    if (o.out) writeFileSync(o.out, text);
    else print(text);
    return;
  }
  const svg = matrixSvg(parts, o.queryLength, Lk, {
    size: o.size,
    title: p.name,
    subtitle: `${B > 1 ? `row ${row}, ` : ""}head ${o.head}: ${allowed} allowed, ${scored} scored`,
  });
  if (o.format === "svg") {
    if (o.out) writeFileSync(o.out, svg);
    else print(svg);
  } else {
    if (!o.out)
      throw new UsageError("--format png: needs --out <file.png> (PNG is binary; it is not written to the terminal)");
    writeFileSync(o.out, await svgToPng(svg));
  }
  if (o.out) print(`${heading}\nwrote ${o.out}\n`);
}

export interface ExplainCliOptions extends SizeOptions {
  batch: number;
  json: boolean;
}

export interface ExplainReport extends Explanation {
  dense: { scoredPairs: number; flops: number; bytes: number };
  /** How the scored pairs grow from n/4 to n (same parameters, both lengths scaled): slope on log-log axes and its class. */
  growth: { fromLength: number; exponent: number; class: string };
}

export function explainCli(p: Pattern, o: ExplainCliOptions): ExplainReport {
  const base = {
    queryLength: o.queryLength,
    keyLength: o.keyLength,
    heads: o.heads,
    headDim: o.headDim,
    batch: o.batch,
  };
  // explain() counts dense() in O(1) (no planning), so the dense column costs nothing at any n
  const d = explain(patterns.dense(), base);
  const e = explain(p, { ...base, ...contentInputs(p, o, o.batch) });
  const f = Math.max(1, Math.floor(o.queryLength / 4));
  const small = {
    ...o,
    queryLength: f,
    keyLength: o.keyLength === undefined ? undefined : Math.max(1, Math.floor(o.keyLength / 4)),
  };
  const es = explain(p, { ...base, queryLength: f, keyLength: small.keyLength, ...contentInputs(p, small, o.batch) });
  const exponent =
    f === o.queryLength ? Number.NaN : Math.log(e.scoredPairs / es.scoredPairs) / Math.log(o.queryLength / f);
  return {
    ...e,
    dense: { scoredPairs: d.scoredPairs, flops: d.flops, bytes: d.bytes },
    growth: { fromLength: f, exponent, class: Number.isNaN(exponent) ? "—" : classOf(exponent) },
  };
}

export function explainText(r: ExplainReport): string {
  const d = r.dims;
  const head = `${r.pattern}\n  B = ${r.batch}, H = ${d.heads}, Lq = ${d.queryLength}, Lk = ${d.keyLength}, D = ${d.headDim}`;
  const parts = formatTable(
    ["part (head 0)", "tiles", "allowed", "scored"],
    r.parts.map((x) => [x.label, String(x.tiles), String(x.allowedPairs), String(x.scoredPairs)]),
  );
  const totals = formatTable(
    ["total", "this pattern", "dense"],
    [
      ["allowed pairs", String(r.allowedPairs), String(r.dense.scoredPairs)],
      ["scored pairs", String(r.scoredPairs), String(r.dense.scoredPairs)],
      ["FLOPs (4·D per scored pair)", si(r.flops), si(r.dense.flops)],
      ["working memory", bytesText(r.bytes), bytesText(r.dense.bytes)],
      ["tiles visited", String(r.tiles), "—"],
      ["density (allowed / all)", `${(100 * r.density).toPrecision(3)}%`, "100%"],
      ["efficiency (allowed / scored)", `${(100 * r.efficiency).toPrecision(3)}%`, "100%"],
      [
        `scored pairs grow, n = ${r.growth.fromLength} → ${d.queryLength}`,
        Number.isNaN(r.growth.exponent) ? "—" : `n^${r.growth.exponent.toFixed(2)} ≈ ${r.growth.class}`,
        "n^2.00 = O(n²)",
      ],
      ["less work than dense", `${(r.dense.scoredPairs / Math.max(1, r.scoredPairs)).toPrecision(3)}×`, "1×"],
    ],
  );
  return `${head}\n\n${parts}\n\n${totals}\n`;
}
