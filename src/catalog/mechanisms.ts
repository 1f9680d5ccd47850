/**
 * The ONE list of mechanisms: what the CLI (`bench`, `report`, the cost table) and the
 * explorer (its mechanism picker and sliders) offer, each as the API call it stands for
 * (so every number can be reproduced with `sparse-attention explain`), with its colour in
 * every figure of the report and the explorer.
 *
 * Parameters follow the papers' choices where they depend on n (`atLength`): the Sparse
 * Transformer's stride and block ≈ √n (its O(n√n) configuration), LSH with a fixed bucket
 * count (hashing stays O(n·D·buckets)), windows and BigBird blocks fixed (O(n)).
 */

import type { Pattern, Tensor } from "../index.js";
import { randomTensor } from "../util/rng.js";
import { parsePattern } from "./pattern-expr.js";

/** One slider of the explorer (and one parameter of the expression). */
export interface Param {
  key: string;
  label: string;
  min: number;
  max: number;
  step: number;
  /** The default (the explorer's first value and the report's, unless `atLength` says otherwise). */
  value: number;
  /** Log-scale slider (powers of two). */
  pow2?: boolean;
}

export interface Mechanism {
  id: string;
  label: string;
  /**
   * Its colour in every chart (report scaling figure, explorer cost chart): Paul Tol's "muted"
   * qualitative scheme, designed to stay distinct under the common colour-vision deficiencies.
   */
  color: string;
  params: Param[];
  /** The pattern expression (the CLI's syntax, parsed by parsePattern) for these parameter values. */
  expr(v: Record<string, number>): string;
  /** Parameter values the report and `bench` use at length n (merged over the defaults). */
  atLength?(n: number): Record<string, number>;
  /** Content-dependent (plans from q, k). */
  content: boolean;
  /** The paper's cost, in words. */
  theory: string;
  /** Why it is cheap, one or two sentences. */
  why: string;
  /** In the report's cost table and "why" list (false: an explorer-only variant of another entry). */
  report: boolean;
}

/** Power of two nearest √n, at least 4. */
export function rootStride(n: number): number {
  return Math.max(4, 2 ** Math.round(Math.log2(Math.sqrt(n))));
}

const range = (g: number): string => `[${Array.from({ length: g }, (_, i) => i).join(", ")}]`;

/** Paul Tol's muted qualitative palette (https://personal.sron.nl/~pault/#sec:qualitative). */
export const MUTED = {
  indigo: "#332288",
  cyan: "#88CCEE",
  teal: "#44AA99",
  green: "#117733",
  olive: "#999933",
  sand: "#DDCC77",
  rose: "#CC6677",
  wine: "#882255",
  purple: "#AA4499",
} as const;

export const MECHANISMS: Mechanism[] = [
  {
    id: "dense",
    label: "dense (tiled)",
    color: MUTED.indigo,
    params: [],
    expr: () => "dense()",
    content: false,
    theory: "O(n²)",
    why: "Every query scores every key. The tiled kernel never stores the n×n matrix (memory O(n)), but the work is n²·4D FLOPs.",
    report: true,
  },
  {
    id: "causal",
    label: "causal",
    color: MUTED.rose,
    params: [],
    expr: () => "causal()",
    content: false,
    theory: "O(n²)/2",
    why: "Tiles above the diagonal are skipped without being looked at: half the work of dense, still quadratic.",
    report: true,
  },
  {
    id: "sliding",
    label: "sliding window",
    color: MUTED.green,
    params: [
      { key: "left", label: "left", min: 0, max: 1024, step: 1, value: 64 },
      { key: "right", label: "right", min: 0, max: 1024, step: 1, value: 64 },
    ],
    expr: (v) => `slidingWindow(left=${v.left}, right=${v.right})`,
    content: false,
    theory: "O(n·w)",
    why: "Longformer: each query sees a fixed band of 2w+1 keys, so work grows linearly in n; only tiles on the band are visited.",
    report: true,
  },
  {
    id: "dilated",
    label: "dilated window",
    color: MUTED.cyan,
    params: [
      { key: "left", label: "left (steps)", min: 0, max: 512, step: 1, value: 32 },
      { key: "right", label: "right (steps)", min: 0, max: 512, step: 1, value: 32 },
      { key: "dilation", label: "dilation", min: 1, max: 16, step: 1, value: 2 },
    ],
    expr: (v) => `dilatedWindow(left=${v.left}, right=${v.right}, dilation=${v.dilation})`,
    content: false,
    theory: "O(n·w)",
    why: "Longformer's dilated window: the same number of keys per query spread over a wider span (receptive field ×dilation at equal cost).",
    report: true,
  },
  {
    id: "global-sliding",
    label: "global + sliding",
    color: MUTED.sand,
    params: [
      { key: "window", label: "window (each side)", min: 0, max: 1024, step: 1, value: 64 },
      { key: "global", label: "global tokens", min: 1, max: 64, step: 1, value: 2 },
    ],
    expr: (v) => `union(slidingWindow(left=${v.window}, right=${v.window}), globalTokens(${range(v.global)}))`,
    content: false,
    theory: "O(n·(w+g))",
    why: "A sliding window united with g global tokens: the same allowed set as longformer(), planned as a union of parts.",
    report: false,
  },
  {
    id: "longformer",
    label: "Longformer (window + global)",
    color: MUTED.sand,
    params: [
      { key: "window", label: "window (one side)", min: 0, max: 1024, step: 1, value: 64 },
      { key: "dilation", label: "dilation", min: 1, max: 16, step: 1, value: 1 },
      { key: "global", label: "global tokens", min: 1, max: 64, step: 1, value: 1 },
    ],
    expr: (v) =>
      `longformer(window=${v.window}${v.dilation === 1 ? "" : `, dilation=${v.dilation}`}, global=${range(v.global)})`,
    content: false,
    theory: "O(n·(w+g))",
    why: "A sliding window plus a few global tokens that attend to and are attended by everyone: g full rows and columns, still linear.",
    report: true,
  },
  {
    id: "bigbird",
    label: "BigBird",
    color: MUTED.wine,
    params: [
      { key: "blockSize", label: "block size", min: 1, max: 512, step: 1, value: 64, pow2: true },
      { key: "randomBlocks", label: "random blocks", min: 0, max: 16, step: 1, value: 3 },
      { key: "seed", label: "seed", min: 0, max: 999, step: 1, value: 1 },
    ],
    expr: (v) => `bigBird(blockSize=${v.blockSize}, randomBlocks=${v.randomBlocks}, seed=${v.seed})`,
    content: false,
    theory: "O(n·b·(r+5))",
    why: "Blocks: each query block sees its 3 neighbour blocks, r random blocks and the 2 global blocks — a constant number of blocks per query.",
    report: true,
  },
  {
    id: "strided",
    label: "strided (Sparse Transformer)",
    color: MUTED.teal,
    params: [{ key: "stride", label: "stride", min: 2, max: 1024, step: 1, value: 128, pow2: true }],
    expr: (v) => `strided(stride=${v.stride})`,
    atLength: (n) => ({ stride: rootStride(n) }),
    content: false,
    theory: "O(n√n)",
    why: "Each query sees the previous l keys and every l-th key before it; with l ≈ √n that is 2√n keys per query. The plan transposes the sequence so the strided keys are contiguous.",
    report: true,
  },
  {
    id: "fixed",
    label: "fixed (Sparse Transformer)",
    color: MUTED.olive,
    params: [
      { key: "block", label: "block", min: 2, max: 1024, step: 1, value: 128, pow2: true },
      { key: "summary", label: "summary", min: 1, max: 64, step: 1, value: 8 },
    ],
    expr: (v) => `fixed(block=${v.block}, summary=${Math.min(v.summary, v.block)})`,
    atLength: (n) => ({ block: rootStride(n) }),
    content: false,
    theory: "O(n√n)",
    why: "Each query sees its own block of l keys and the last c keys of every earlier block; with l ≈ √n that is O(√n) keys per query. Summary columns are gathered into a compact key set.",
    report: true,
  },
  {
    id: "lsh",
    label: "LSH (Reformer)",
    color: MUTED.purple,
    params: [
      { key: "buckets", label: "buckets", min: 2, max: 256, step: 2, value: 32, pow2: true },
      { key: "hashes", label: "hashes", min: 1, max: 8, step: 1, value: 2 },
      { key: "chunkLength", label: "chunk length", min: 1, max: 512, step: 1, value: 64, pow2: true },
      { key: "seed", label: "seed", min: 0, max: 999, step: 1, value: 1 },
    ],
    expr: (v) => `lsh(buckets=${v.buckets}, hashes=${v.hashes}, chunkLength=${v.chunkLength}, seed=${v.seed})`,
    content: true,
    theory: "O(n log n)",
    why: "Reformer: hash q/k with random rotations, sort by bucket, attend within a chunk and its predecessor: hashes·n·2C scored pairs plus an O(n) counting sort per round.",
    report: true,
  },
];

/** Colour of a custom expression's line (not a mechanism's colour). */
export const CUSTOM_COLOR = "#555555";

export function mechanismById(id: string): Mechanism | undefined {
  return MECHANISMS.find((m) => m.id === id);
}

/** The mechanisms of the report's cost table and "why" list, or those of `ids` (unknown ids dropped), in order. */
export function available(ids?: string[]): Mechanism[] {
  if (ids === undefined) return MECHANISMS.filter((m) => m.report);
  return ids.map((id) => mechanismById(id)).filter((m): m is Mechanism => m !== undefined);
}

export function defaults(m: Mechanism): Record<string, number> {
  return Object.fromEntries(m.params.map((p) => [p.key, p.value]));
}

/** The expression the report and `bench` use at length n. */
export function exprAt(m: Mechanism, n: number): string {
  return m.expr({ ...defaults(m), ...(m.atLength?.(n) ?? {}) });
}

export function buildPattern(m: Mechanism, n: number): Pattern {
  return parsePattern(exprAt(m, n));
}

/** Example inputs for content-dependent planning: q = k = v of shape [1, H, n, D], seeded. */
export function exampleInputs(
  n: number,
  heads: number,
  headDim: number,
  seed = 7,
): { q: Tensor; k: Tensor; v: Tensor } {
  const q = randomTensor([1, heads, n, headDim], seed) as Tensor;
  const v = randomTensor([1, heads, n, headDim], seed + 1) as Tensor;
  return { q, k: q, v };
}
