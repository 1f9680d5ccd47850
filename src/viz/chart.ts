/**
 * The scaling plot as Vega-Lite, rendered headless to SVG by Vega (no browser, no canvas):
 * time and peak memory (MiB) against n on log-log axes, one line per mechanism in the
 * mechanism's own colour (the same in both panels and every other figure: points carry it),
 * one legend per panel whose entries carry that panel's fitted exponent, dashed guide lines
 * for O(n) and O(n²).
 */
import { loadOptional } from "./optional.js";

type VegaModule = typeof import("vega");
type VegaLiteModule = typeof import("vega-lite");

export interface ChartPoint {
  mechanism: string;
  label: string;
  n: number;
  seconds: number;
  peakBytes: number;
  /** The mechanism's colour (CSS); a fallback palette is used where points carry none. */
  color?: string;
}

export interface ChartFit {
  mechanism: string;
  timeExponent: number;
  memoryExponent: number;
}

type Metric = "seconds" | "peakBytes";

/**
 * O(n) and O(n²) lines fanning out from one anchor: the geometric mean, at the smallest n
 * where every mechanism has a point, of their values there; clipped to the plotted range.
 */
function guides(points: ChartPoint[], metric: Metric): { guide: string; n: number; value: number }[] {
  const valid = points.filter((p) => p[metric] > 0);
  if (valid.length === 0) return [];
  const ns = [...new Set(valid.map((p) => p.n))].sort((a, b) => a - b);
  const series = new Set(valid.map((p) => p.mechanism));
  const common = ns.filter((n) => valid.filter((p) => p.n === n).length === series.size);
  const na = common.length > 0 ? common[0] : ns[0];
  const at = valid.filter((p) => p.n === na).map((p) => p[metric]);
  const ya = Math.exp(at.reduce((s, v) => s + Math.log(v), 0) / at.length);
  const lo = Math.min(...valid.map((p) => p[metric])) / 3;
  const hi = 3 * Math.max(...valid.map((p) => p[metric]));
  const out: { guide: string; n: number; value: number }[] = [];
  for (const [name, power] of [
    ["O(n)", 1],
    ["O(n²)", 2],
  ] as const) {
    for (const n of ns) {
      const value = ya * (n / na) ** power;
      if (value >= lo && value <= hi) out.push({ guide: name, n, value });
    }
  }
  return out;
}

/** Colours for points without one (Paul Tol's muted scheme, as the catalog's mechanisms). */
const FALLBACK = ["#332288", "#CC6677", "#117733", "#882255", "#44AA99", "#999933", "#AA4499", "#88CCEE", "#DDCC77"];

/** Memory peaks under this are below the measurement's noise floor (RSS page granularity, allocator slack). */
export const MEMORY_FLOOR = 2 ** 20;

function layer(points: ChartPoint[], fits: ChartFit[], metric: Metric, title: string, axis: string): object {
  const exp = new Map(fits.map((f) => [f.mechanism, metric === "seconds" ? f.timeExponent : f.memoryExponent]));
  const floor = metric === "seconds" ? 0 : MEMORY_FLOOR;
  const unit = metric === "seconds" ? 1 : 2 ** 20; // memory in MiB
  const kept = points.filter((p) => p[metric] > floor);
  // the fitted exponent goes into this panel's legend entry (labels at line ends overlap where lines meet)
  const series = (p: ChartPoint): string => {
    const e = exp.get(p.mechanism);
    return e === undefined || Number.isNaN(e) ? `${p.label} (no fit)` : `${p.label}: n^${e.toFixed(2)}`;
  };
  const values = kept.map((p) => ({ series: series(p), n: p.n, value: p[metric] / unit }));
  // one colour per mechanism, fixed: the domain lists this panel's series in mechanism order, the range their colours
  const mechs = [...new Map(points.map((p) => [p.mechanism, p])).values()];
  const domain_ = mechs.map((p) => series(p));
  const range = mechs.map((p, i) => p.color ?? FALLBACK[i % FALLBACK.length]);
  const keptNs = new Set(kept.map((p) => p.n));
  // guides need two lengths to show a slope; with one they would only pile up on the point
  const g = keptNs.size < 2 ? [] : guides(kept, metric).map((d) => ({ ...d, value: d.value / unit }));
  const lastGuide = g.filter((d, i) => i + 1 === g.length || g[i + 1].guide !== d.guide);
  const ns = [...new Set(points.map((p) => p.n))].sort((a, b) => a - b);
  const domain = [ns[0], ns[ns.length - 1] === ns[0] ? 2 * ns[0] : ns[ns.length - 1]];
  const x = {
    field: "n",
    type: "quantitative",
    scale: { type: "log", base: 2, padding: 6, domain },
    axis: { values: ns, format: "d", labelAngle: -40 },
    title: "sequence length n",
  };
  const y = { field: "value", type: "quantitative", scale: { type: "log" }, title: axis };
  const color = {
    field: "series",
    type: "nominal",
    title: `${metric === "seconds" ? "time" : "memory"}: mechanism, fitted exponent`,
    scale: { domain: domain_, range },
    legend: { orient: "bottom", columns: 2, labelLimit: 0, titleLimit: 0, symbolStrokeWidth: 3 },
  };
  return {
    title,
    width: 420,
    height: 320,
    layer: [
      {
        data: { values: g },
        mark: { type: "line", strokeDash: [5, 4], color: "#999", strokeWidth: 1 },
        encoding: { x, y, detail: { field: "guide", type: "nominal" } },
      },
      {
        data: { values: lastGuide },
        mark: { type: "text", align: "left", dx: 4, color: "#777", fontSize: 11 },
        encoding: { x, y, text: { field: "guide", type: "nominal" } },
      },
      { data: { values }, mark: { type: "line", point: true }, encoding: { x, y, color } },
      ...(kept.length > 0
        ? []
        : [
            {
              data: { values: [{ note: "no peak above the 1 MiB noise floor at these sizes" }] },
              mark: { type: "text", fontSize: 12, color: "#777" },
              encoding: { x: { value: 210 }, y: { value: 160 }, text: { field: "note", type: "nominal" } },
            },
          ]),
    ],
  };
}

/** Vega-Lite spec of the scaling plot (time | memory). */
export function scalingSpec(points: ChartPoint[], fits: ChartFit[]): object {
  return {
    $schema: "https://vega.github.io/schema/vega-lite/v6.json",
    background: "white",
    padding: 10,
    hconcat: [
      layer(points, fits, "seconds", "CPU time per attention call", "CPU seconds (median)"),
      layer(points, fits, "peakBytes", "Peak extra memory (≥ 1 MiB shown)", "MiB (peak RSS − RSS before)"),
    ],
    // each panel its own legend (its own exponents); the colours are the same by construction
    resolve: { scale: { color: "independent" }, legend: { color: "independent" } },
    config: { font: "DejaVu Sans", view: { stroke: "#ccc" } },
  };
}

/** Renders a Vega-Lite spec to an SVG string, headless. */
export async function vegaLiteToSvg(spec: object): Promise<string> {
  const vega = await loadOptional<VegaModule>("vega", "The report's scaling chart");
  const vegaLite = await loadOptional<VegaLiteModule>("vega-lite", "The report's scaling chart");
  const compiled = vegaLite.compile(spec as import("vega-lite").TopLevelSpec).spec;
  const view = new vega.View(vega.parse(compiled), { renderer: "none" });
  const svg = await view.toSVG();
  view.finalize();
  return svg;
}
