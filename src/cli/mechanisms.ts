/**
 * The mechanisms the report, the cost table and `bench` compare, each as the API call it
 * stands for at length n (so every number can be reproduced with `sparse-attention explain`).
 * Parameters follow the papers' choices where they depend on n: the Sparse Transformer's
 * stride and block ≈ √n (its O(n√n) configuration), LSH with a fixed bucket count (hashing
 * stays O(n·D·buckets)), windows and BigBird blocks fixed (O(n)).
 */

import type { Pattern, Tensor } from "../index.js";
import { patterns, randomTensor } from "../index.js";
import { parsePattern } from "./pattern-expr.js";

export interface Mechanism {
  id: string;
  label: string;
  /** The pattern at length n, as a CLI/API expression. */
  expr(n: number): string;
  /** Content-dependent (plans from q, k). */
  content: boolean;
  /** The paper's cost, in words. */
  theory: string;
  /** Why it is cheap, one or two sentences. */
  why: string;
}

/** Power of two nearest √n, at least 4. */
export function rootStride(n: number): number {
  return Math.max(4, 2 ** Math.round(Math.log2(Math.sqrt(n))));
}

export const MECHANISMS: Mechanism[] = [
  {
    id: "dense",
    label: "dense (tiled)",
    expr: () => "dense()",
    content: false,
    theory: "O(n²)",
    why: "Every query scores every key. The tiled kernel never stores the n×n matrix (memory O(n)), but the work is n²·4D FLOPs.",
  },
  {
    id: "causal",
    label: "causal",
    expr: () => "causal()",
    content: false,
    theory: "O(n²)/2",
    why: "Tiles above the diagonal are skipped without being looked at: half the work of dense, still quadratic.",
  },
  {
    id: "sliding",
    label: "sliding window",
    expr: () => "slidingWindow(left=64, right=64)",
    content: false,
    theory: "O(n·w)",
    why: "Longformer: each query sees a fixed band of 2w+1 keys, so work grows linearly in n; only tiles on the band are visited.",
  },
  {
    id: "dilated",
    label: "dilated window",
    expr: () => "dilatedWindow(left=32, right=32, dilation=2)",
    content: false,
    theory: "O(n·w)",
    why: "Longformer's dilated window: the same number of keys per query spread over a wider span (receptive field ×dilation at equal cost).",
  },
  {
    id: "longformer",
    label: "Longformer (window + global)",
    expr: () => "longformer(window=64, global=[0])",
    content: false,
    theory: "O(n·(w+g))",
    why: "A sliding window plus a few global tokens that attend to and are attended by everyone: g full rows and columns, still linear.",
  },
  {
    id: "bigbird",
    label: "BigBird",
    expr: () => "bigBird(blockSize=64, randomBlocks=3, seed=1)",
    content: false,
    theory: "O(n·b·(r+5))",
    why: "Blocks: each query block sees its 3 neighbour blocks, r random blocks and the 2 global blocks — a constant number of blocks per query.",
  },
  {
    id: "strided",
    label: "strided (Sparse Transformer)",
    expr: (n) => `strided(stride=${rootStride(n)})`,
    content: false,
    theory: "O(n√n)",
    why: "Each query sees the previous l keys and every l-th key before it; with l ≈ √n that is 2√n keys per query. The plan transposes the sequence so the strided keys are contiguous.",
  },
  {
    id: "fixed",
    label: "fixed (Sparse Transformer)",
    expr: (n) => `fixed(block=${rootStride(n)}, summary=8)`,
    content: false,
    theory: "O(n√n)",
    why: "Each query sees its own block of l keys and the last c keys of every earlier block; with l ≈ √n that is O(√n) keys per query. Summary columns are gathered into a compact key set.",
  },
  {
    id: "lsh",
    label: "LSH (Reformer)",
    expr: () => "lsh(buckets=32, hashes=2, chunkLength=64, seed=1)",
    content: true,
    theory: "O(n log n)",
    why: "Reformer: hash q/k with random rotations, sort by bucket, attend within a chunk and its predecessor: hashes·n·2C scored pairs plus an O(n) counting sort per round.",
  },
];

/** Mechanisms whose factory this build has. */
export function available(ids?: string[]): Mechanism[] {
  const have = new Set(Object.keys(patterns));
  const list = ids ? ids.map((id) => MECHANISMS.find((m) => m.id === id)).filter((m) => m !== undefined) : MECHANISMS;
  return list.filter((m) => have.has(m.expr(64).replace(/\(.*$/, "")));
}

export function mechanismById(id: string): Mechanism | undefined {
  return MECHANISMS.find((m) => m.id === id);
}

export function buildPattern(m: Mechanism, n: number): Pattern {
  return parsePattern(m.expr(n));
}

/** Example inputs for content-dependent planning: q = k = v of shape [1, H, n, D], seeded. */
export function exampleInputs(
  n: number,
  heads: number,
  headDim: number,
  seed = 7,
): { q: Tensor; k: Tensor; v: Tensor } {
  const q = randomTensor([1, heads, n, headDim], seed);
  const v = randomTensor([1, heads, n, headDim], seed + 1);
  return { q, k: q, v };
}
