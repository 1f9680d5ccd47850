/**
 * The explorer page: controls → state → (URL, plan worker, cost panel, picture, chart);
 * Run → run worker. All planning, explaining and drawing of plans goes through the library
 * (explain(), compile(), sparse-attention/viz) in src/web/plan-worker.ts; this file only
 * wires the DOM. Test hooks: data-testid allowed-pairs, scored-pairs, efficiency, run,
 * run-result (see docs/explorer.md).
 */
import type { View } from "../viz/raster.js";
import { EMPTY_COLOR, PALETTE } from "../viz/svg.js";
import { type CostPoint, costChartSvg } from "./chart.js";
import {
  chartLengths,
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
import type {
  ChartPointAnswer,
  Costs,
  PlanAnswer,
  PlanWorkerRequest,
  RunAnswer,
  RunMeasure,
  SvgAnswer,
} from "./protocol.js";

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
  post({ kind: "plan", id: planId, expr: state.expr, n: state.n, headDim: state.headDim, view, cells: canvas.width });
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
    ns: chartLengths(state.n, /^\s*lsh\s*\(/.test(state.expr)),
  });
}

function drawChart(): void {
  $("chart").innerHTML = costChartSvg(chartPoints, state.n, lastPlan?.name ?? state.expr);
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
    drawPicture();
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

// ---- the picture ----------------------------------------------------------------------

function hexToRgb(hex: string): [number, number, number] {
  const v = Number.parseInt(hex.slice(1), 16);
  return [(v >> 16) & 255, (v >> 8) & 255, v & 255];
}
const RGB = PALETTE.map(hexToRgb);
const EMPTY_RGB = hexToRgb(EMPTY_COLOR);

function drawPicture(): void {
  const a = lastPlan;
  if (a?.raster === undefined) return;
  const r = a.raster;
  const canvas = $<HTMLCanvasElement>("canvas");
  const ctx = canvas.getContext("2d")!;
  const img = new ImageData(r.cols, r.rows);
  for (let c = 0; c < r.rows * r.cols; c++) {
    const o = r.owner[c]; // raster: [rows, cols]
    const f = o < 0 ? 0 : 0.35 + 0.65 * r.fraction[c]; // a sparse pooled cell stays visible
    const rgb = o < 0 ? EMPTY_RGB : RGB[o % RGB.length];
    // pooled cells blend the part's colour with the empty colour by the allowed fraction
    img.data[4 * c] = Math.round(EMPTY_RGB[0] + (rgb[0] - EMPTY_RGB[0]) * f);
    img.data[4 * c + 1] = Math.round(EMPTY_RGB[1] + (rgb[1] - EMPTY_RGB[1]) * f);
    img.data[4 * c + 2] = Math.round(EMPTY_RGB[2] + (rgb[2] - EMPTY_RGB[2]) * f);
    img.data[4 * c + 3] = 255;
  }
  const side = Math.max(r.rows, r.cols);
  const px = canvas.width / side;
  ctx.fillStyle = "#ffffff";
  ctx.fillRect(0, 0, canvas.width, canvas.height);
  const bitmap = document.createElement("canvas");
  bitmap.width = r.cols;
  bitmap.height = r.rows;
  bitmap.getContext("2d")!.putImageData(img, 0, 0);
  ctx.imageSmoothingEnabled = false;
  ctx.drawImage(bitmap, 0, 0, r.cols * px, r.rows * px);
  const v = r.view;
  const sx = (r.cols * px) / (v.k1 - v.k0);
  const sy = (r.rows * px) / (v.q1 - v.q0);
  if (r.blockRows === 1 && r.blockCols === 1 && px >= 6) {
    ctx.strokeStyle = "rgba(255,255,255,0.7)";
    ctx.lineWidth = 1;
    ctx.beginPath();
    for (let i = 0; i <= side; i++) {
      ctx.moveTo(i * px, 0);
      ctx.lineTo(i * px, r.rows * px);
      ctx.moveTo(0, i * px);
      ctx.lineTo(r.cols * px, i * px);
    }
    ctx.stroke();
  }
  const tiles = a.tiles ?? [];
  if (tiles.length > 0 && tiles.length < 3000) {
    ctx.strokeStyle = "rgba(34,34,34,0.55)";
    for (const t of tiles) {
      const w = (t.k1 - t.k0) * sx;
      const h = (t.q1 - t.q0) * sy;
      if (w < 3 || h < 3) continue;
      ctx.setLineDash(t.full ? [] : [3, 2]);
      ctx.strokeRect((t.k0 - v.k0) * sx + 0.5, (t.q0 - v.q0) * sy + 0.5, w - 1, h - 1);
    }
    ctx.setLineDash([]);
  }
  const pooled =
    r.blockRows === 1 && r.blockCols === 1 ? "1 cell = 1 pair" : `1 cell = ${r.blockRows} × ${r.blockCols} pairs`;
  $("view-info").textContent =
    `queries ${groupDigits(v.q0)}–${groupDigits(v.q1 - 1)} × keys ${groupDigits(v.k0)}–${groupDigits(v.k1 - 1)} · ${pooled} · rows = queries, columns = keys · solid outline: full tile, dashed: partial tile`;
  const legend = $("legend");
  legend.replaceChildren(
    ...(a.labels ?? []).map((label, i) => {
      const li = document.createElement("li");
      const sw = document.createElement("i");
      sw.style.background = PALETTE[i % PALETTE.length];
      li.append(sw, document.createTextNode(`plan part ${i + 1}: ${label}`));
      return li;
    }),
  );
}

// ---- zoom and pan ---------------------------------------------------------------------

function currentView(): View {
  return view ?? { q0: 0, q1: state.n, k0: 0, k1: state.n };
}

function setView(q0: number, k0: number, size: number): void {
  const n = state.n;
  const s = Math.max(Math.min(8, n), Math.min(n, Math.round(size)));
  const cq = Math.max(0, Math.min(n - s, Math.round(q0)));
  const ck = Math.max(0, Math.min(n - s, Math.round(k0)));
  view = s >= n ? null : { q0: cq, q1: cq + s, k0: ck, k1: ck + s };
  requestPlan();
}

/** Zooms by `factor` (< 1 zooms in) around the fraction (fx, fy) of the view. */
function zoom(factor: number, fx = 0.5, fy = 0.5): void {
  const v = currentView();
  const size = v.q1 - v.q0;
  const next = size * factor;
  setView(v.q0 + fy * (size - next), v.k0 + fx * (size - next), next);
}

function pan(dq: number, dk: number): void {
  const v = currentView();
  const size = v.q1 - v.q0;
  setView(v.q0 + dq * size, v.k0 + dk * size, size);
}

const canvasEl = $<HTMLCanvasElement>("canvas");
$("zoom-in").addEventListener("click", () => zoom(0.5));
$("zoom-out").addEventListener("click", () => zoom(2));
$("zoom-reset").addEventListener("click", () => {
  view = null;
  requestPlan();
});
canvasEl.addEventListener(
  "wheel",
  (e) => {
    e.preventDefault();
    const rect = canvasEl.getBoundingClientRect();
    zoom(e.deltaY < 0 ? 0.5 : 2, (e.clientX - rect.left) / rect.width, (e.clientY - rect.top) / rect.height);
  },
  { passive: false },
);
canvasEl.addEventListener("keydown", (e) => {
  const keys: Record<string, () => void> = {
    "+": () => zoom(0.5),
    "=": () => zoom(0.5),
    "-": () => zoom(2),
    "0": () => setView(0, 0, state.n),
    ArrowUp: () => pan(-0.25, 0),
    ArrowDown: () => pan(0.25, 0),
    ArrowLeft: () => pan(0, -0.25),
    ArrowRight: () => pan(0, 0.25),
  };
  const f = keys[e.key];
  if (f !== undefined) {
    e.preventDefault();
    f();
  }
});
let drag: { x: number; y: number; v: View } | null = null;
canvasEl.addEventListener("pointerdown", (e) => {
  drag = { x: e.clientX, y: e.clientY, v: currentView() };
  canvasEl.setPointerCapture(e.pointerId);
});
canvasEl.addEventListener("pointerup", (e) => {
  if (drag === null) return;
  const rect = canvasEl.getBoundingClientRect();
  const size = drag.v.q1 - drag.v.q0;
  const dx = ((e.clientX - drag.x) / rect.width) * size;
  const dy = ((e.clientY - drag.y) / rect.height) * size;
  if (Math.abs(dx) + Math.abs(dy) >= 1) setView(drag.v.q0 - dy, drag.v.k0 - dx, size);
  drag = null;
});

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

const PRESETS: Record<string, [string, string, number][]> = {
  "fig1-lsh": [["LSH", "lsh(buckets=4, hashes=1, chunkLength=4, seed=0)", 24]],
  "fig2-sparse-transformer": [
    ["(a) causal", "causal()", 64],
    ["(b) strided", "strided(stride=8)", 64],
    ["(c) fixed", "fixed(block=8, summary=2)", 64],
  ],
  "fig3-bigbird": [
    ["(c) global", "globalTokens([0, 1, 2, 3, 4, 5, 6, 7, 56, 57, 58, 59, 60, 61, 62, 63])", 64],
    ["(d) BigBird", "bigBird(blockSize=8, randomBlocks=2, seed=3)", 64],
  ],
  "fig4-longformer": [
    ["(a) dense", "dense()", 64],
    ["(b) sliding", "slidingWindow(left=4, right=4)", 64],
    ["(c) dilated", "dilatedWindow(left=4, right=4, dilation=2)", 64],
    ["(d) global + sliding", "longformer(window=4, global=[0, 1])", 64],
  ],
};

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
      holder.innerHTML = f.svg;
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
