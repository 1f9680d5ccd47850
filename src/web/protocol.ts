/** Messages between the explorer page and its two workers (plan-worker, run-worker). */
import type { TileBox, View } from "../viz/raster.js";

export interface PlanRequest {
  kind: "plan";
  id: number;
  expr: string;
  n: number;
  headDim: number;
  /** Zoom rectangle in original positions; null = whole matrix. */
  view: View | null;
  /** Raster cells per side at most (the canvas side in device pixels). */
  cells: number;
}

export interface Costs {
  allowedPairs: number;
  scoredPairs: number;
  efficiency: number;
  density: number;
  flops: number;
  bytes: number;
  parts: number;
  tiles: number;
}

export interface PlanAnswer {
  kind: "plan";
  id: number;
  error?: string;
  name?: string;
  costs?: Costs;
  dense?: Costs;
  raster?: {
    rows: number;
    cols: number;
    blockRows: number;
    blockCols: number;
    view: View;
    /** Part with the most allowed pairs per cell, -1 none: [rows, cols]. */
    owner: Int16Array;
    /** Allowed fraction per cell: [rows, cols]. */
    fraction: Float32Array;
  };
  labels?: string[];
  /** Visited tiles inside the view that are rectangles in original positions (at most 4000). */
  tiles?: TileBox[];
}

export interface ChartRequest {
  kind: "chart";
  id: number;
  expr: string;
  headDim: number;
  /** The explorer's n: the worker plots powers of two around it (chartLengths; fewer for content-dependent patterns). */
  n: number;
}

export interface ChartPointAnswer {
  kind: "chart";
  id: number;
  n: number;
  scored: number;
  dense: number;
  error?: string;
}

export interface LshRequest {
  kind: "lsh";
  id: number;
  n: number;
  buckets: number;
  hashes: number;
  round: number;
  chunkLength: number;
  seed: number;
  /** Stages drawn: 1 hash, 2 sort, 3 chunk, 4 attend. */
  step: number;
}

export interface SvgAnswer {
  kind: "lsh" | "figures";
  id: number;
  svgs?: { id: string; title: string; caption: string; svg: string }[];
  error?: string;
}

export interface FiguresRequest {
  kind: "figures";
  id: number;
}

export type PlanWorkerRequest = PlanRequest | ChartRequest | LshRequest | FiguresRequest;

export interface RunRequest {
  expr: string;
  n: number;
  headDim: number;
  threads: number;
  /** Also run dense at this n (the same inputs). */
  dense: boolean;
}

export interface RunMeasure {
  ms: number;
  gflops: number;
  backend: string;
  threads: number;
  /** Max |out − float64 reference| for n ≤ 2,048 and fixed masks; null otherwise. */
  maxError: number | null;
  note?: string;
}

export interface RunAnswer {
  ok: boolean;
  error?: string;
  pattern?: RunMeasure;
  dense?: RunMeasure | null;
  denseNote?: string;
  isolated: boolean;
  threadsReady: number;
}
