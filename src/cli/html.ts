/**
 * The report page: one self-contained HTML file (figures inlined as SVG data URIs, styles
 * inline), with links to the same figures as separate SVG / PNG files and to the raw data.
 */

import type { Figure } from "../catalog/figures.js";
import type { Mechanism } from "../catalog/mechanisms.js";
import { escapeXml } from "../viz/svg.js";
import { bytesText, type CostRow, si } from "./cost.js";
import { FIT_POINTS, FLAG_TOLERANCE, fitCaveat, MIN_FIT_N, REPEAT_PROCESSES, type ScalingResult } from "./scaling.js";

export interface ReportPage {
  generated: string;
  machine: string;
  figures: (Figure & { files: string[] })[];
  cost: CostRow[];
  costN: number;
  headDim: number;
  scaling: ScalingResult;
  scalingSvg: string;
  scalingFiles: string[];
  dataFiles: string[];
  mechanisms: Mechanism[];
}

const esc = escapeXml;

function dataUri(svg: string): string {
  return `data:image/svg+xml;base64,${Buffer.from(svg, "utf8").toString("base64")}`;
}

function links(files: string[]): string {
  return files.map((f) => `<a href="${esc(f)}">${esc(f.replace(/^.*\//, ""))}</a>`).join(" · ");
}

function fmtExp(x: number): string {
  return Number.isNaN(x) ? "—" : x.toFixed(2);
}

const STYLE = `
body { font-family: "DejaVu Sans", Helvetica, Arial, sans-serif; max-width: 1400px; margin: 2em auto; padding: 0 1em; color: #222; line-height: 1.45; }
h1 { font-size: 1.6em; margin-bottom: 0.2em; } h2 { margin-top: 2em; border-bottom: 1px solid #ddd; }
figure { margin: 1.5em 0; } figure img { max-width: 100%; border: 1px solid #eee; }
figcaption { font-size: 0.92em; color: #444; max-width: 70em; }
table { border-collapse: collapse; font-size: 0.9em; margin: 1em 0; }
th, td { padding: 0.3em 0.7em; border-bottom: 1px solid #e4e4e4; text-align: right; }
th:first-child, td:first-child, td.l { text-align: left; }
tr.dense td { background: #fbf3e6; } code { background: #f4f4f4; padding: 0 0.25em; }
.sw { display: inline-block; width: 0.9em; height: 0.9em; margin-right: 0.4em; vertical-align: -0.1em; border-radius: 2px; }
.meta { color: #666; font-size: 0.9em; } .small { font-size: 0.85em; color: #555; }
`;

export function renderHtml(p: ReportPage): string {
  const figs = p.figures
    .map(
      (f) => `<figure id="${esc(f.id)}">
<img alt="${esc(f.title)}" src="${dataUri(f.svg)}">
<figcaption><b>${esc(f.title)}.</b> ${esc(f.caption)} <span class="small">Files: ${links(f.files)}</span></figcaption>
</figure>`,
    )
    .join("\n");
  const costRows = p.cost
    .map(
      (
        r,
      ) => `<tr class="${r.id === "dense" ? "dense" : ""}"><td>${esc(r.label)}</td><td class="l"><code>${esc(r.expr)}</code></td>
<td>${si(r.allowedPairs)}</td><td>${si(r.scoredPairs)}</td><td>${(100 * r.efficiency).toFixed(0)}%</td><td>${si(r.flops)}</td>
<td>${esc(bytesText(r.bytes))}</td><td>${r.lessWork.toPrecision(3)}×</td><td>${esc(r.asymptotic)}${r.caveat === undefined ? "" : "*"} <span class="small">(n^${r.countedExponent.toFixed(2)})</span></td><td>${esc(r.theory)}</td></tr>`,
    )
    .join("\n");
  const colorOf = new Map(p.scaling.points.map((x) => [x.mechanism, x.color]));
  const swatch = (id: string) => `<span class="sw" style="background:${esc(colorOf.get(id) ?? "#555")}"></span>`;
  const interval = (x: number) => (Number.isNaN(x) ? "" : ` ± ${x.toFixed(2)}`);
  const fits = p.scaling.fits
    .map(
      (f) =>
        `<tr><td>${swatch(f.mechanism)}${esc(f.label)}</td><td>${fmtExp(f.countedExponent)}</td><td>${fmtExp(f.timeExponent)}<span class="small">${interval(f.timeInterval)}</span>${f.flag === undefined ? "" : " ⚑"}</td><td>${fmtExp(f.memoryExponent)}</td><td>${f.fitFrom}–${f.maxN}</td><td class="l small">${esc(f.stopped)}</td></tr>`,
    )
    .join("\n");
  const flags = p.scaling.fits
    .filter((f) => f.flag !== undefined)
    .map((f) => `<br>⚑ <b>${esc(f.label)}</b>: ${esc(f.flag as string)}.`)
    .join("");
  const why = p.mechanisms.map((m) => `<li><b>${esc(m.label)}</b> — ${esc(m.why)}</li>`).join("\n");
  const o = p.scaling.options;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>sparse-attention report</title>
<style>${STYLE}</style></head>
<body>
<h1>sparse-attention: what it does, what it costs</h1>
<p class="meta">Generated ${esc(p.generated)} on ${esc(p.machine)}.</p>
<p>Exact attention restricted to the pairs a pattern allows, run by one tiled online-softmax kernel
that visits only the tiles a pattern's plan lists. Every picture below is drawn from the real plan
(<code>compile()</code>): each allowed (query, key) pair is coloured by the plan part that scores it;
visited tiles that are rectangles in sequence order are outlined (solid = full tile, dashed = partial
tile with a bit mask; tiles of permuted parts — dilated residues, strided columns, LSH chunks — are
not rectangles in sequence order and are not outlined there).</p>

<h2>The seed's figures, from our plans</h2>
${figs}

<h2>Cost at n = ${p.costN} (D = ${p.headDim}, one head), without running</h2>
<p>From <code>explain()</code>: pairs the pattern allows, score entries the kernel visits (tile areas),
FLOPs (4·D per scored entry), bytes of working memory (plan + tile scratch), and the growth
exponent of the scored pairs counted from <code>explain()</code> at n/4 and n.</p>
<table><thead><tr><th>mechanism</th><th>call</th><th>allowed</th><th>scored</th><th>allowed/scored</th><th>FLOPs</th><th>bytes</th><th>less work than dense</th><th>class (counted)</th><th>paper</th></tr></thead>
<tbody>${costRows}</tbody></table>
${p.cost
  .filter((r) => r.caveat !== undefined)
  .map((r) => `<p class="small">* ${esc(r.label)}: ${esc(r.caveat!)}</p>`)
  .join("\n")}

<h2>Measured scaling</h2>
<p>Median CPU time of <code>attention()</code> (backend "${esc(o.backend)}", ${o.threads} thread${o.threads === 1 ? "" : "s"},
D = ${o.headDim}, H = ${o.heads}) and peak extra resident memory of one call, n doubling from ${o.minN};
each mechanism runs until its next size would take more than ${o.runSeconds} CPU s (dense stops first).
Each point runs in a fresh Node process: the JIT is warmed on a small problem, one untimed call at n
warms the caches and gives the peak memory (getrusage max RSS after it − RSS before it, after a GC,
inputs already allocated: outputs, plans, scratch and backend buffers; peaks under 1 MiB are below the
noise floor and not drawn), then one GC and at least 3 timed calls (more while under 0.5 s; no GC between them: a forced GC's
concurrent sweeping would be timed in the next call);
that process's value is their median. ${repeatText(o.repeatProcesses ?? REPEAT_PROCESSES)} Time is the process's CPU time (user + system), which other processes on a
shared machine do not inflate (one thread: the kernel runs on the measuring thread); wall times are in
the data files. Exponents are least-squares slopes on log-log axes over the ${FIT_POINTS} largest sizes each
mechanism reached from n = ${MIN_FIT_N} (a factor up to ${2 ** (FIT_POINTS - 1)} in n: where fixed per-call costs weigh least), ± the 95 % interval of the
slope; the counted exponent is the slope of the scored pairs (from the plans, exact) over the same sizes.
A measured exponent further from the counted one than its interval (and ${FLAG_TOLERANCE}) is flagged ⚑ with
the reason. Dashed lines: O(n) and O(n²) through the geometric mean, at the smallest n where every
mechanism has a point, of their values there. The tiled kernel never stores the n×n matrix, so memory
grows like n for every mechanism, dense included; time is where they differ. Each mechanism has one
colour in every figure of this report and of the explorer.</p>
<figure id="scaling"><img alt="scaling plot" src="${dataUri(p.scalingSvg)}">
<figcaption>Measured (CPU time) against counted (scored pairs) growth, side by side below.${flags}
<span class="small">Files: ${links(p.scalingFiles)} · data: ${links(p.dataFiles)}</span></figcaption></figure>
<table><thead><tr><th>mechanism</th><th>counted exponent</th><th>measured time exponent (95 %)</th><th>memory exponent</th><th>fitted over n</th><th>stopped because</th></tr></thead>
<tbody>${fits}</tbody></table>
${fitCaveat(p.scaling) === "" ? "" : `<p class="small"><b>${esc(fitCaveat(p.scaling))}</b></p>`}

<h2>Why each mechanism is cheap</h2>
<ul>${why}</ul>

<h2>Reproduce</h2>
<pre># in the sparse-attention checkout (after npm run build); npm link makes it sparse-attention …
node dist/cli/main.js show "strided(stride=8)" --query-length 64
node dist/cli/main.js explain "bigBird(blockSize=64, randomBlocks=3, seed=1)" --query-length 4096 --head-dim 64
node dist/cli/main.js bench --max-n 16384 --json scaling.json --csv scaling.csv
node dist/cli/main.js report --out report</pre>
</body></html>
`;
}

/** How the fitted sizes were repeated across processes (0: not, as --quick). */
function repeatText(k: number): string {
  if (k === 0) return "Each point is one process (no repeat processes in this run).";
  return `The sizes each fit uses are measured again in ${k} more processes, round-robin over every mechanism and size, and a point is the smallest of its processes' medians (a whole process can run slow: memory placement, a busy neighbour).`;
}
