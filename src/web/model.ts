/**
 * The explorer's state, without the DOM: which mechanism, its parameters, n, head dim, and
 * how that maps to a pattern expression (the CLI's syntax, parsed by src/catalog/pattern-expr.ts)
 * and to the URL. The mechanisms are the catalog's (src/catalog/mechanisms.ts), the same list
 * the CLI and the report read. Pure functions, tested in Node (src/web/model.test.ts).
 */
import { defaults, MECHANISMS, mechanismById } from "../catalog/mechanisms.js";

export { defaults, MECHANISMS, type Mechanism, mechanismById, type Param } from "../catalog/mechanisms.js";

export const MAX_N = 65536;
export const MIN_N = 1;
/** Run checks against the float64 reference up to this n. */
export const REFERENCE_MAX_N = 2048;

export interface State {
  /** Mechanism id, or "custom" for a typed expression. */
  mechanism: string;
  values: Record<string, number>;
  /** The pattern expression (for "custom": as typed). */
  expr: string;
  n: number;
  headDim: number;
}

export function stateFor(id: string, n = 4096, headDim = 64, values?: Record<string, number>): State {
  const m = mechanismById(id) ?? MECHANISMS[0];
  const v = { ...defaults(m), ...(values ?? {}) };
  return { mechanism: m.id, values: v, expr: m.expr(v), n, headDim };
}

export function clampN(n: number): number {
  if (!Number.isFinite(n)) return 4096;
  return Math.max(MIN_N, Math.min(MAX_N, Math.round(n)));
}

/**
 * Recognises an expression one of the mechanisms writes (so its controls can be shown),
 * by rebuilding each candidate from the numbers in the expression. Anything else is custom.
 */
export function recognise(expr: string): { mechanism: string; values: Record<string, number> } {
  const norm = (s: string): string => s.replace(/\s+/g, "");
  const target = norm(expr);
  for (const m of MECHANISMS) {
    const values = defaults(m);
    for (const p of m.params) {
      const hit = new RegExp(`\\b${p.key}\\s*=\\s*(\\[[^\\]]*\\]|-?\\d+)`).exec(expr);
      if (hit === null) continue;
      values[p.key] = hit[1].startsWith("[") ? hit[1].split(",").filter((x) => /\d/.test(x)).length : Number(hit[1]);
    }
    if (m.id === "global-sliding") {
      const w = /left\s*=\s*(\d+)/.exec(expr);
      const g = /globalTokens\(\s*(\[[^\]]*\])/.exec(expr);
      if (w) values.window = Number(w[1]);
      if (g) values.global = g[1].split(",").filter((x) => /\d/.test(x)).length;
    }
    if (m.id === "longformer" && !/dilation/.test(expr)) values.dilation = 1;
    if (norm(m.expr(values)) === target) return { mechanism: m.id, values };
  }
  return { mechanism: "custom", values: {} };
}

/** The state a query string describes (`?pattern=<expression>&n=<n>&d=<headDim>`); defaults otherwise. */
export function fromQuery(search: string): State {
  const q = new URLSearchParams(search);
  const n = clampN(Number(q.get("n") ?? 4096));
  const d = Math.max(1, Math.min(256, Math.round(Number(q.get("d") ?? 64)))) || 64;
  const expr = q.get("pattern");
  if (expr === null || expr.trim() === "") return stateFor("longformer", n, d);
  const r = recognise(expr);
  if (r.mechanism === "custom") return { mechanism: "custom", values: {}, expr: expr.trim(), n, headDim: d };
  return stateFor(r.mechanism, n, d, r.values);
}

/** The query string for a state (shareable link). */
export function toQuery(s: State): string {
  const q = new URLSearchParams({ pattern: s.expr, n: String(s.n) });
  if (s.headDim !== 64) q.set("d", String(s.headDim));
  return `?${q.toString()}`;
}

/** Numbers as the cost panel prints them: digit groups with thin spaces are not used (tests parse them). */
export function groupDigits(x: number): string {
  return Math.round(x).toLocaleString("en-US");
}

export function formatBytes(b: number): string {
  if (b < 1024) return `${b} B`;
  if (b < 1024 * 1024) return `${(b / 1024).toFixed(1)} KiB`;
  if (b < 1024 ** 3) return `${(b / 1024 ** 2).toFixed(1)} MiB`;
  return `${(b / 1024 ** 3).toFixed(2)} GiB`;
}

export function formatFlops(f: number): string {
  const units: [number, string][] = [
    [1e12, "TFLOP"],
    [1e9, "GFLOP"],
    [1e6, "MFLOP"],
    [1e3, "kFLOP"],
  ];
  for (const [u, name] of units) if (f >= u) return `${(f / u).toFixed(2)} ${name}`;
  return `${f} FLOP`;
}

/**
 * The lengths the cost chart plots: powers of two from 256 to MAX_N (to 16,384 for
 * content-dependent patterns, whose explain() hashes random vectors), plus n itself.
 */
export function chartLengths(n: number, content = false): number[] {
  const out: number[] = [];
  for (let x = 256; x <= (content ? 16384 : MAX_N); x *= 2) out.push(x);
  if (!out.includes(n) && n >= 16) out.push(n);
  return out.sort((a, b) => a - b);
}
