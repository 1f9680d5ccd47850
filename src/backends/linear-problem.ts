/** One validated call of linear(): y [rows, outF] = bias + x [rows, inF] · Wᵀ, W [outF, inF] (nn.Linear). */
export interface LinearProblem {
  x: Float32Array;
  rows: number;
  inF: number;
  W: Float32Array;
  outF: number;
  bias: Float32Array | null;
  /** Where the result goes (the caller's array, or a new one). */
  y: Float32Array;
  /** Threads to run on (the request, or the default for this size). */
  threads: number;
}

/** What a linear op did. */
export interface LinearRun {
  y: Float32Array;
  backend: string;
  threads: number;
}

/** What linear() reports into options.report: the op that ran, its threads, and why "auto" passed faster ops over. */
export interface LinearReport {
  backend?: string;
  threads?: number;
  fallbackReasons?: string[];
}
