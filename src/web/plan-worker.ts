/**
 * The explorer's planning worker: parses the pattern expression, compiles the real plan,
 * asks explain() for the costs (and for dense beside it), rasterises the plan for the
 * current zoom, and draws the seed figures and the LSH steps with sparse-attention/viz.
 * Runs off the page's thread: planning at n = 65,536 takes a noticeable fraction of a second.
 */

import { seedFigures } from "../catalog/figures.js";
import { parsePattern } from "../catalog/pattern-expr.js";
import { compile, type Explanation, explain, type Pattern, type PlanPart } from "../index.js";
import { randomTensor } from "../util/rng.js";
import { lshExample, lshFigureSvg } from "../viz/lsh.js";
import { dominant, rasterize, tileBoxes } from "../viz/raster.js";
import { chartLengths } from "./model.js";
import type { ChartPointAnswer, Costs, PlanAnswer, PlanWorkerRequest, SvgAnswer } from "./protocol.js";

interface Planned {
  key: string;
  name: string;
  parts: PlanPart[];
  costs: Costs;
}

let last: Planned | null = null;
const denseCache = new Map<string, Costs>();
let chartId = 0;

function costsOf(e: Explanation): Costs {
  return {
    allowedPairs: e.allowedPairs,
    scoredPairs: e.scoredPairs,
    efficiency: e.efficiency,
    density: e.density,
    flops: e.flops,
    bytes: e.bytes,
    parts: e.parts.length,
    tiles: e.tiles,
  };
}

/** explain() and the plan of one head; content patterns (LSH) are planned from seeded random q = k. */
function planFor(expr: string, n: number, headDim: number, withParts: boolean): Planned {
  const key = `${expr}|${n}|${headDim}`;
  if (last !== null && last.key === key && (!withParts || last.parts.length > 0)) return last;
  const pattern: Pattern = parsePattern(expr);
  const dims = { queryLength: n, headDim };
  const data = pattern.content ? { q: randomTensor([1, 1, n, headDim], 7) } : null;
  const full = data === null ? dims : { ...dims, q: data.q, k: data.q };
  const costs = costsOf(explain(pattern, full));
  const parts = withParts ? compile(pattern, full).heads[0] : [];
  const planned = { key, name: pattern.name, parts, costs };
  if (withParts) last = planned;
  return planned;
}

function denseAt(n: number, headDim: number): Costs {
  const key = `${n}|${headDim}`;
  let c = denseCache.get(key);
  if (c === undefined) {
    c = costsOf(explain(parsePattern("dense()"), { queryLength: n, headDim }));
    denseCache.set(key, c);
  }
  return c;
}

const message = (e: unknown): string => (e instanceof Error ? e.message : String(e));

async function handle(req: PlanWorkerRequest): Promise<void> {
  if (req.kind === "plan") {
    try {
      const p = planFor(req.expr, req.n, req.headDim, true);
      const view = req.view ?? { q0: 0, q1: req.n, k0: 0, k1: req.n };
      const r = rasterize(p.parts, req.n, req.n, req.cells, req.cells, view);
      const { owner, fraction } = dominant(r);
      const tiles = tileBoxes(p.parts, 200_000)
        .filter((t) => t.q1 > view.q0 && t.q0 < view.q1 && t.k1 > view.k0 && t.k0 < view.k1)
        .slice(0, 4000);
      const answer: PlanAnswer = {
        kind: "plan",
        id: req.id,
        name: p.name,
        costs: p.costs,
        dense: denseAt(req.n, req.headDim),
        raster: {
          rows: r.rows,
          cols: r.cols,
          blockRows: r.blockRows,
          blockCols: r.blockCols,
          view,
          owner,
          fraction: Float32Array.from(fraction),
        },
        labels: p.parts.map((x) => x.label),
        tiles,
      };
      postMessage(answer, { transfer: [owner.buffer as ArrayBuffer, answer.raster!.fraction.buffer as ArrayBuffer] });
    } catch (e) {
      postMessage({ kind: "plan", id: req.id, error: message(e) } satisfies PlanAnswer);
    }
    return;
  }
  if (req.kind === "chart") {
    chartId = req.id;
    let ns: number[];
    try {
      ns = chartLengths(req.n, parsePattern(req.expr).content !== undefined); // content-dependent (LSH): explain() hashes data
    } catch (e) {
      postMessage({
        kind: "chart",
        id: req.id,
        n: req.n,
        scored: 0,
        dense: 0,
        error: message(e),
      } satisfies ChartPointAnswer);
      return;
    }
    for (const n of ns) {
      await new Promise((r) => setTimeout(r, 0)); // let a newer request in
      if (pendingPlan !== null) {
        const p = pendingPlan;
        pendingPlan = null;
        await handle(p);
      }
      if (chartId !== req.id) return;
      try {
        const scored = planFor(req.expr, n, req.headDim, false).costs.scoredPairs;
        postMessage({
          kind: "chart",
          id: req.id,
          n,
          scored,
          dense: denseAt(n, req.headDim).scoredPairs,
        } satisfies ChartPointAnswer);
      } catch (e) {
        postMessage({
          kind: "chart",
          id: req.id,
          n,
          scored: 0,
          dense: 0,
          error: message(e),
        } satisfies ChartPointAnswer);
        return;
      }
    }
    return;
  }
  if (req.kind === "lsh") {
    try {
      const ex = lshExample({
        n: req.n,
        buckets: req.buckets,
        hashes: req.hashes,
        round: req.round,
        chunkLength: req.chunkLength,
        seed: req.seed,
      });
      const svg = lshFigureSvg(ex, { step: req.step });
      postMessage({ kind: "lsh", id: req.id, svgs: [{ id: "lsh", title: "", caption: "", svg }] } satisfies SvgAnswer);
    } catch (e) {
      postMessage({ kind: "lsh", id: req.id, error: message(e) } satisfies SvgAnswer);
    }
    return;
  }
  try {
    const svgs = seedFigures().map((f) => ({ id: f.id, title: f.title, caption: f.caption, svg: f.svg }));
    postMessage({ kind: "figures", id: req.id, svgs } satisfies SvgAnswer);
  } catch (e) {
    postMessage({ kind: "figures", id: req.id, error: message(e) } satisfies SvgAnswer);
  }
}

// plan requests supersede each other: only the newest waiting one is handled
let pendingPlan: PlanWorkerRequest | null = null;
let busy = false;
const queue: PlanWorkerRequest[] = [];

async function pump(): Promise<void> {
  if (busy) return;
  busy = true;
  while (pendingPlan !== null || queue.length > 0) {
    const next = queue.shift() ?? pendingPlan!;
    if (next === pendingPlan) pendingPlan = null;
    await handle(next);
  }
  busy = false;
}

self.onmessage = (e: MessageEvent<PlanWorkerRequest>) => {
  const req = e.data;
  if (req.kind === "plan") pendingPlan = req;
  else if (req.kind === "chart") {
    chartId = req.id;
    queue.push(req);
  } else queue.push(req);
  void pump();
};
