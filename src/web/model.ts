/**
 * The explorer's state, without the DOM: which mechanism, its parameters, n, head dim, and
 * how that maps to a pattern expression (the CLI's syntax, parsed by src/cli/pattern-expr.ts)
 * and to the URL. Pure functions, tested in Node (src/web/model.test.ts).
 */

export interface Param {
  key: string;
  label: string;
  min: number;
  max: number;
  step: number;
  value: number;
  /** Log-scale slider (powers of two). */
  pow2?: boolean;
}

export interface MechanismSpec {
  id: string;
  label: string;
  params: Param[];
  /** The pattern expression for these parameter values. */
  expr(v: Record<string, number>): string;
  /** Content-dependent: planned from random q, k (LSH). */
  content?: boolean;
}

const range = (g: number): string => `[${Array.from({ length: g }, (_, i) => i).join(", ")}]`;

export const MECHANISMS: MechanismSpec[] = [
  { id: "dense", label: "dense", params: [], expr: () => "dense()" },
  { id: "causal", label: "causal", params: [], expr: () => "causal()" },
  {
    id: "sliding",
    label: "sliding window",
    params: [
      { key: "left", label: "left", min: 0, max: 1024, step: 1, value: 64 },
      { key: "right", label: "right", min: 0, max: 1024, step: 1, value: 64 },
    ],
    expr: (v) => `slidingWindow(left=${v.left}, right=${v.right})`,
  },
  {
    id: "dilated",
    label: "dilated window",
    params: [
      { key: "left", label: "left (steps)", min: 0, max: 512, step: 1, value: 32 },
      { key: "right", label: "right (steps)", min: 0, max: 512, step: 1, value: 32 },
      { key: "dilation", label: "dilation", min: 1, max: 16, step: 1, value: 2 },
    ],
    expr: (v) => `dilatedWindow(left=${v.left}, right=${v.right}, dilation=${v.dilation})`,
  },
  {
    id: "global-sliding",
    label: "global + sliding",
    params: [
      { key: "window", label: "window (each side)", min: 0, max: 1024, step: 1, value: 64 },
      { key: "global", label: "global tokens", min: 1, max: 64, step: 1, value: 2 },
    ],
    expr: (v) => `union(slidingWindow(left=${v.window}, right=${v.window}), globalTokens(${range(v.global)}))`,
  },
  {
    id: "longformer",
    label: "Longformer",
    params: [
      { key: "window", label: "window (one side)", min: 0, max: 1024, step: 1, value: 64 },
      { key: "dilation", label: "dilation", min: 1, max: 16, step: 1, value: 1 },
      { key: "global", label: "global tokens", min: 1, max: 64, step: 1, value: 1 },
    ],
    expr: (v) =>
      `longformer(window=${v.window}${v.dilation === 1 ? "" : `, dilation=${v.dilation}`}, global=${range(v.global)})`,
  },
  {
    id: "strided",
    label: "strided (Sparse Transformer)",
    params: [{ key: "stride", label: "stride", min: 2, max: 1024, step: 1, value: 128, pow2: true }],
    expr: (v) => `strided(stride=${v.stride})`,
  },
  {
    id: "fixed",
    label: "fixed (Sparse Transformer)",
    params: [
      { key: "block", label: "block", min: 2, max: 1024, step: 1, value: 128, pow2: true },
      { key: "summary", label: "summary", min: 1, max: 64, step: 1, value: 8 },
    ],
    expr: (v) => `fixed(block=${v.block}, summary=${Math.min(v.summary, v.block)})`,
  },
  {
    id: "bigbird",
    label: "BigBird",
    params: [
      { key: "blockSize", label: "block size", min: 1, max: 512, step: 1, value: 64, pow2: true },
      { key: "randomBlocks", label: "random blocks", min: 0, max: 16, step: 1, value: 3 },
      { key: "seed", label: "seed", min: 0, max: 999, step: 1, value: 1 },
    ],
    expr: (v) => `bigBird(blockSize=${v.blockSize}, randomBlocks=${v.randomBlocks}, seed=${v.seed})`,
  },
  {
    id: "lsh",
    label: "LSH (Reformer)",
    params: [
      { key: "buckets", label: "buckets", min: 2, max: 256, step: 2, value: 32, pow2: true },
      { key: "hashes", label: "hashes", min: 1, max: 8, step: 1, value: 2 },
      { key: "chunkLength", label: "chunk length", min: 1, max: 512, step: 1, value: 64, pow2: true },
      { key: "seed", label: "seed", min: 0, max: 999, step: 1, value: 1 },
    ],
    expr: (v) => `lsh(buckets=${v.buckets}, hashes=${v.hashes}, chunkLength=${v.chunkLength}, seed=${v.seed})`,
    content: true,
  },
];

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

export function mechanismById(id: string): MechanismSpec | undefined {
  return MECHANISMS.find((m) => m.id === id);
}

export function defaults(m: MechanismSpec): Record<string, number> {
  return Object.fromEntries(m.params.map((p) => [p.key, p.value]));
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
