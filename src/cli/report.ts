/**
 * `sparse-attention report`: the seed's four figures from real plans, the cost table, the
 * measured scaling plot and the why-it-is-cheap notes, written as a self-contained
 * `index.html` plus the figures as SVG and PNG and the data as JSON / CSV.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { seedFigures } from "../catalog/figures.js";
import { available, type Mechanism, mechanismById } from "../catalog/mechanisms.js";
import type { Backend } from "../index.js";
import { scalingSpec, vegaLiteToSvg } from "../viz/chart.js";
import { svgToPng } from "../viz/png.js";
import { costTable, costText, formatTable } from "./cost.js";
import { renderHtml } from "./html.js";
import { fitCaveat, measureScaling, type ScalingResult, scalingCsv } from "./scaling.js";

export interface ReportOptions {
  out: string;
  /** Length of the cost table. */
  costN: number;
  headDim: number;
  backend: Backend;
  threads: number;
  minN: number;
  maxN: number;
  runSeconds: number;
  totalSeconds: number;
  /** Extra processes per fitted size (scaling.ts; undefined: its default). */
  repeatProcesses?: number;
  progress: boolean;
  /** Mechanisms measured for the scaling plot. */
  scaling: string[];
  log: (line: string) => void;
}

export const SCALING_MECHANISMS = ["dense", "causal", "sliding", "bigbird", "strided", "fixed", "lsh"];

export function fitsText(r: ScalingResult): string {
  const f = (x: number) => (Number.isNaN(x) ? "—" : x.toFixed(2));
  const caveat = fitCaveat(r);
  const flags = r.fits.filter((x) => x.flag !== undefined).map((x) => `  ⚑ ${x.label}: ${x.flag}`);
  return (
    formatTable(
      ["mechanism", "counted exp.", "time exp. (95 %)", "memory exp.", "fitted over n"],
      r.fits.map((x) => [
        x.label,
        f(x.countedExponent),
        `${f(x.timeExponent)}${Number.isNaN(x.timeInterval) ? "" : ` ± ${x.timeInterval.toFixed(2)}`}${x.flag === undefined ? "" : " ⚑"}`,
        f(x.memoryExponent),
        `${x.fitFrom}–${x.maxN}`,
      ]),
    ) +
    (flags.length === 0 ? "" : `\n${flags.join("\n")}`) +
    (caveat === "" ? "" : `\n${caveat}`)
  );
}

export async function runReport(
  o: ReportOptions,
): Promise<{ dir: string; html: string; files: string[]; summary: string }> {
  const t0 = performance.now();
  const dir = path.resolve(o.out);
  const figDir = path.join(dir, "figures");
  mkdirSync(figDir, { recursive: true });
  const files: string[] = [];
  const write = (rel: string, data: string | Uint8Array): string => {
    writeFileSync(path.join(dir, rel), data);
    files.push(rel);
    return rel;
  };

  o.log("drawing figures 1–4 from the real plans …");
  const figures = [];
  for (const f of seedFigures()) {
    figures.push({
      ...f,
      files: [write(`figures/${f.id}.svg`, f.svg), write(`figures/${f.id}.png`, await svgToPng(f.svg))],
    });
  }

  o.log(`cost table at n = ${o.costN} …`);
  const mechanisms = available();
  const cost = costTable(mechanisms, o.costN, o.headDim);

  o.log(`measuring scaling (n = ${o.minN} … ${o.maxN}, about ${o.totalSeconds} s) …`);
  const measured = o.scaling.map((id) => mechanismById(id)).filter((m): m is Mechanism => m !== undefined);
  const scaling = await measureScaling({
    mechanisms: measured.filter((m) => mechanisms.includes(m)),
    minN: o.minN,
    maxN: o.maxN,
    headDim: o.headDim,
    heads: 1,
    backend: o.backend,
    threads: o.threads,
    runSeconds: o.runSeconds,
    totalSeconds: o.totalSeconds,
    progress: o.progress,
    repeatProcesses: o.repeatProcesses,
  });
  const scalingSvg = await vegaLiteToSvg(scalingSpec(scaling.points, scaling.fits));
  const scalingFiles = [
    write("figures/scaling.svg", scalingSvg),
    write("figures/scaling.png", await svgToPng(scalingSvg)),
  ];
  const dataFiles = [
    write("scaling.json", `${JSON.stringify(scaling, null, 2)}\n`),
    write("scaling.csv", scalingCsv(scaling)),
    write("cost.json", `${JSON.stringify(cost, null, 2)}\n`),
  ];
  const cpus = os.cpus();
  const html = renderHtml({
    generated: new Date().toISOString(),
    machine: `${cpus.length} × ${cpus[0]?.model ?? "CPU"}, Node ${process.version}, ${os.platform()}`,
    figures,
    cost,
    costN: o.costN,
    headDim: o.headDim,
    scaling,
    scalingSvg,
    scalingFiles,
    dataFiles,
    mechanisms,
  });
  write("index.html", html);
  const seconds = ((performance.now() - t0) / 1000).toFixed(1);
  const summary = [
    `Cost at n = ${o.costN}, D = ${o.headDim} (counted, without running):`,
    costText(cost),
    "",
    "Measured scaling, fitted log-log exponents (1 = linear, 2 = quadratic):",
    fitsText(scaling),
    "",
    `Report written in ${seconds} s: ${path.join(dir, "index.html")}`,
  ].join("\n");
  return { dir, html: path.join(dir, "index.html"), files, summary };
}
