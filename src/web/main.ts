/**
 * The explorer page: controls → state → (URL, plan worker, cost panel, picture, chart);
 * Run → run worker. All planning, explaining and drawing of plans goes through the library
 * (explain(), compile(), sparse-attention/viz) in src/web/plan-worker.ts; this file only
 * wires the DOM. Test hooks: data-testid allowed-pairs, scored-pairs, efficiency, run,
 * run-result (see docs/explorer.md).
 */

import { nearlyDenseNote } from "../catalog/hints.js";
import { CUSTOM_COLOR, mechanismById as catalogMechanism } from "../catalog/mechanisms.js";
import { PRESETS } from "../catalog/presets.js";
import type { View } from "../viz/raster.js";
import { type CostPoint, costChartSvg } from "./chart.js";
import {
  clampN,
  formatBytes,
  formatFlops,
  fromQuery,
  groupDigits,
  MAX_N,
  MECHANISMS,
  mechanismById,
  type State,
  stateFor,
  toQuery,
} from "./model.js";
import { drawPicture, installZoom } from "./picture.js";
import type {
  ChartPointAnswer,
  Costs,
  PlanAnswer,
  PlanWorkerRequest,
  RunAnswer,
  RunMeasure,
  SvgAnswer,
} from "./protocol.js";

/** Raster cells per side: half the canvas's pixels (views up to that many positions show single pairs). */
const DENSE_COLOR = catalogMechanism("dense")?.color ?? "#332288";
const CELLS = (canvas: HTMLCanvasElement): number => Math.floor(canvas.width / 2);
const $ = <T extends HTMLElement>(id: string): T => document.getElementById(id) as T;
const planWorker = new Worker(new URL("./plan-worker.js", import.meta.url), { type: "module" });
let state: State = fromQuery(location.search);
let view: View | null = null;
let lastPlan: PlanAnswer | null = null;
let seq = 0;
let planId = 0;
let chartPoints: CostPoint[] = [];
let chartId = 0;
let lshStep = 4;
const isolated = self.crossOriginIsolated === true;

// ---- controls -------------------------------------------------------------------------

const mechanismSelect = $<HTMLSelectElement>("mechanism");
for (const m of MECHANISMS) mechanismSelect.add(new Option(m.label, m.id));
mechanismSelect.add(new Option("custom expression", "custom"));

/** n slider: 160 steps, log scale from 1 to 65,536 (n = 2^(s/10), rounded). */
const nRange = $<HTMLInputElement>("n-range");
const nInput = $<HTMLInputElement>("n-input");
const toSlider = (n: number) => Math.round(10 * Math.log2(n));
const fromSlider = (s: number) => clampN(2 ** (s / 10));

function renderParams(): void {
  const box = $("params");
  box.replaceChildren();
  const m = mechanismById(state.mechanism);
  if (m === undefined) return;
  for (const p of m.params) {
    const id = `param-${p.key}`;
    const wrap = document.createElement("div");
    wrap.className = "param";
    const label = document.createElement("label");
    label.htmlFor = id;
    label.textContent = `${p.label}: `;
    const out = document.createElement("output");
    out.textContent = String(state.values[p.key]);
    label.append(out);
    const range = document.createElement("input");
    range.type = "range";
    range.id = id;
    range.dataset.testid = `param-${p.key}`;
    if (p.pow2) {
      range.min = String(Math.ceil(Math.log2(Math.max(1, p.min))));
      range.max = String(Math.floor(Math.log2(p.max)));
      range.step = "1";
      range.value = String(Math.round(Math.log2(Math.max(1, state.values[p.key]))));
    } else {
      range.min = String(p.min);
      range.max = String(p.max);
      range.step = String(p.step);
      range.value = String(state.values[p.key]);
    }
    range.setAttribute("aria-valuetext", String(state.values[p.key]));
    range.addEventListener("input", () => {
      const v = p.pow2 ? 2 ** Number(range.value) : Number(range.value);
      state.values[p.key] = v;
      out.textContent = String(v);
      range.setAttribute("aria-valuetext", String(v));
      state.expr = m.expr(state.values);
      changed(false);
    });
    wrap.append(label, range);
    box.append(wrap);
  }
}

function syncControls(): void {
  mechanismSelect.value = state.mechanism;
  nRange.value = String(toSlider(state.n));
  nInput.value = String(state.n);
  $("n-out").textContent = groupDigits(state.n);
  $<HTMLSelectElement>("head-dim").value = String(state.headDim);
  $<HTMLTextAreaElement>("expr").value = state.expr;
  renderParams();
}

mechanismSelect.addEventListener("change", () => {
  if (mechanismSelect.value === "custom") {
    state = { ...state, mechanism: "custom" };
    $<HTMLTextAreaElement>("expr").focus();
    return;
  }
  state = stateFor(mechanismSelect.value, state.n, state.headDim);
  syncControls();
  changed(true);
});
nRange.addEventListener("input", () => {
  state.n = fromSlider(Number(nRange.value));
  nInput.value = String(state.n);
  $("n-out").textContent = groupDigits(state.n);
  changed(true);
});
nInput.addEventListener("change", () => {
  state.n = clampN(Number(nInput.value));
  syncControls();
  changed(true);
});
$<HTMLSelectElement>("head-dim").addEventListener("change", (e) => {
  state.headDim = Number((e.target as HTMLSelectElement).value);
  changed(true);
});
function applyExpression(): void {
  const expr = $<HTMLTextAreaElement>("expr").value.trim();
  const next = fromQuery(toQuery({ ...state, expr }));
  state = { ...next, n: state.n, headDim: state.headDim };
  syncControls();
  changed(true);
}
$("apply").addEventListener("click", applyExpression);
$<HTMLTextAreaElement>("expr").addEventListener("keydown", (e) => {
  if (e.key === "Enter" && !e.shiftKey) {
    e.preventDefault();
    applyExpression();
  }
});

// ---- state → URL, plan, chart ---------------------------------------------------------

let pending = 0;
function changed(resetView: boolean): void {
  if (resetView) view = null;
  $<HTMLTextAreaElement>("expr").value = state.expr;
  const q = toQuery(state);
  history.replaceState(null, "", q);
  $<HTMLAnchorElement>("share").href = q;
  cancelAnimationFrame(pending);
  pending = requestAnimationFrame(() => {
    requestPlan();
    requestChart();
  });
}

function post(req: PlanWorkerRequest): void {
  planWorker.postMessage(req);
}

function requestPlan(): void {
  const canvas = $<HTMLCanvasElement>("canvas");
  planId = ++seq;
  // pooled cells of at least 2 × 2 screen pixels: a single global row or column stays a visible line at any n
  post({ kind: "plan", id: planId, expr: state.expr, n: state.n, headDim: state.headDim, view, cells: CELLS(canvas) });
  $("view-info").textContent = "planning …";
}

function requestChart(): void {
  chartPoints = [];
  chartId = ++seq;
  drawChart();
  post({
    kind: "chart",
    id: chartId,
    expr: state.expr,
    headDim: state.headDim,
    n: state.n,
  });
}

function drawChart(): void {
  const colors = { pattern: mechanismById(state.mechanism)?.color ?? CUSTOM_COLOR, dense: DENSE_COLOR };
  $("chart").innerHTML = costChartSvg(chartPoints, state.n, lastPlan?.name ?? state.expr, colors);
}

function setCosts(prefix: string, c: Costs | undefined): void {
  const put = (id: string, s: string) => {
    $(prefix + id).textContent = s;
  };
  if (c === undefined) return;
  put("allowed", groupDigits(c.allowedPairs));
  put("scored", groupDigits(c.scoredPairs));
  put("efficiency", c.efficiency.toFixed(4));
  put("density", c.density.toFixed(4));
  put("flops", formatFlops(c.flops));
  put("bytes", formatBytes(c.bytes));
  put("tiles", `${c.parts} / ${groupDigits(c.tiles)}`);
}

planWorker.onmessage = (e: MessageEvent<PlanAnswer | ChartPointAnswer | SvgAnswer>) => {
  const a = e.data;
  if (a.kind === "plan") {
    if (a.id !== planId) return; // superseded by a newer request
    if (a.error !== undefined) {
      $("error").textContent = a.error;
      $("view-info").textContent = "";
      return;
    }
    $("error").textContent = "";
    lastPlan = a;
    setCosts("", a.costs);
    setCosts("d-", a.dense);
    $("picture-title").textContent = a.name ?? "";
    drawPicture(a, $<HTMLCanvasElement>("canvas"), $("view-info"), $("legend"));
    // density = allowed / (Lq·Lk) over every head: a sparse pattern that allows most pairs at this n says why
    const note = nearlyDenseNote(a.name ?? "", a.costs?.density ?? 0, 1);
    if (note !== undefined) $("view-info").textContent += ` · ${note}`;
    drawChart();
    if (document.body.dataset.ready !== "true") {
      document.body.dataset.ready = "true";
      // the slower extras load once the first plan is on screen
      requestLsh();
      post({ kind: "figures", id: ++seq });
    }
  } else if (a.kind === "chart") {
    if (a.id !== chartId) return;
    if (a.error === undefined) chartPoints.push({ n: a.n, scored: a.scored, dense: a.dense });
    drawChart();
  } else if (a.kind === "lsh") {
    $("lsh-figure").innerHTML = a.error ?? a.svgs?.[0].svg ?? "";
  } else {
    renderFigures(a);
  }
};
planWorker.onerror = (e) => {
  $("error").textContent = `plan worker: ${e.message}`;
};

// ---- the picture, zoom and pan (picture.ts) -------------------------------------------

installZoom(
  $<HTMLCanvasElement>("canvas"),
  { zoomIn: $("zoom-in"), zoomOut: $("zoom-out"), reset: $("zoom-reset") },
  () => state.n,
  () => view,
  (v) => {
    view = v;
    requestPlan();
  },
);

// ---- Run ------------------------------------------------------------------------------

const threadsSelect = $<HTMLSelectElement>("threads");
const cores = Math.max(1, navigator.hardwareConcurrency || 1);
for (let t = 1; t <= (isolated ? Math.min(cores, 16) : 1); t++) threadsSelect.add(new Option(String(t), String(t)));
threadsSelect.value = String(isolated ? Math.min(cores, 4) : 1);
$("isolation").textContent = isolated
  ? `cross-origin isolated: Run uses the wasm kernel on up to ${Math.min(cores, 16)} threads`
  : "not cross-origin isolated (this host sends no COOP/COEP headers): Run is single-threaded. `sparse-attention explore` serves the page with them.";

function showMeasure(prefix: string, m: RunMeasure | null | undefined, note?: string): void {
  $(`${prefix}-ms`).textContent = m ? `${m.ms.toFixed(1)} ms` : (note ?? "");
  $(`${prefix}-gflops`).textContent = m ? m.gflops.toFixed(2) : "";
  $(`${prefix}-backend`).textContent = m ? `${m.backend} · ${m.threads}` : "";
  $(`${prefix}-err`).textContent = m ? (m.maxError === null ? (m.note ?? "—") : m.maxError.toExponential(2)) : "";
}

$("run").addEventListener("click", () => {
  const button = $<HTMLButtonElement>("run");
  button.disabled = true;
  $("run-result").textContent = "";
  $("run-status").textContent = `running ${state.expr} at n = ${groupDigits(state.n)} (and dense) in a Web Worker …`;
  const w = new Worker(new URL("./run-worker.js", import.meta.url), { type: "module" });
  const done = (a: RunAnswer) => {
    w.terminate();
    button.disabled = false;
    if (!a.ok || a.pattern === undefined) {
      $("run-status").textContent = `run failed: ${a.error ?? "unknown error"}`;
      return;
    }
    const p = a.pattern;
    $("run-status").textContent =
      `done: median of up to 5 timed calls after a warm-up, B = 1, H = 1, D = ${state.headDim}`;
    showMeasure("r", p);
    showMeasure("rd", a.dense, a.denseNote);
    $("run-result").textContent = JSON.stringify({
      ms: p.ms,
      backend: p.backend,
      threads: p.threads,
      maxError: p.maxError,
    });
  };
  w.onmessage = (e: MessageEvent<RunAnswer>) => done(e.data);
  w.onerror = (e) => done({ ok: false, error: e.message, isolated, threadsReady: 0 });
  w.postMessage({
    expr: state.expr,
    n: state.n,
    headDim: state.headDim,
    threads: Number(threadsSelect.value),
    dense: true,
  });
});

// ---- LSH step by step -----------------------------------------------------------------

function requestLsh(): void {
  const num = (id: string) => Number($<HTMLSelectElement | HTMLInputElement>(id).value);
  const hashes = num("lsh-hashes");
  const roundSel = $<HTMLSelectElement>("lsh-round");
  if (roundSel.options.length !== hashes) {
    roundSel.replaceChildren(...Array.from({ length: hashes }, (_, i) => new Option(String(i + 1), String(i + 1))));
  }
  for (const b of Array.from(document.querySelectorAll<HTMLButtonElement>("button.step"))) {
    b.setAttribute("aria-pressed", String(Number(b.dataset.step) === lshStep));
  }
  post({
    kind: "lsh",
    id: ++seq,
    n: 24,
    buckets: num("lsh-buckets"),
    hashes,
    round: num("lsh-round") - 1,
    chunkLength: num("lsh-chunk"),
    seed: Math.max(0, Math.min(999, Math.round(num("lsh-seed")))) || 0,
    step: lshStep,
  });
}
for (const id of ["lsh-buckets", "lsh-hashes", "lsh-round", "lsh-chunk", "lsh-seed"]) {
  $(id).addEventListener("change", requestLsh);
}
for (const b of Array.from(document.querySelectorAll<HTMLButtonElement>("button.step"))) {
  b.addEventListener("click", () => {
    lshStep = Number(b.dataset.step);
    requestLsh();
  });
}

// ---- the seed's figures as presets ----------------------------------------------------

function renderFigures(a: SvgAnswer): void {
  const box = $("figures");
  if (a.error !== undefined || a.svgs === undefined) {
    box.textContent = a.error ?? "";
    return;
  }
  box.replaceChildren(
    ...a.svgs.map((f) => {
      const fig = document.createElement("figure");
      const holder = document.createElement("div");
      holder.className = "holder";
      holder.innerHTML = f.svg;
      // click to enlarge (full window), click or Escape to close
      holder.title = "click to enlarge";
      holder.tabIndex = 0;
      const toggle = () => holder.classList.toggle("enlarged");
      holder.addEventListener("click", toggle);
      holder.addEventListener("keydown", (e) => {
        if (e.key === "Enter" || (e.key === "Escape" && holder.classList.contains("enlarged"))) toggle();
      });
      const cap = document.createElement("figcaption");
      cap.textContent = f.caption;
      const row = document.createElement("div");
      row.className = "row";
      for (const [label, expr, n] of PRESETS[f.id] ?? []) {
        const b = document.createElement("button");
        b.type = "button";
        b.textContent = `explore ${label}`;
        b.addEventListener("click", () => {
          state = { ...fromQuery(toQuery({ ...state, expr, n })), headDim: state.headDim };
          syncControls();
          changed(true);
          window.scrollTo({ top: 0, behavior: "smooth" });
        });
        row.append(b);
      }
      fig.append(holder, row, cap);
      return fig;
    }),
  );
}

// ---- start ----------------------------------------------------------------------------

if (state.n > MAX_N) state.n = MAX_N;
syncControls();
changed(false);
