/**
 * One validated call of layerNorm(): per row of n features, dst ← LN(x + add) (add may be
 * null), LN(v) = (v − mean) / sqrt(var + eps) · gamma + beta with float64 sums. With add, dst
 * is x (post-LN: x ← LN(x + add)); without it, x is only read unless dst is x.
 */
export interface NormProblem {
  x: Float32Array;
  add: Float32Array | null;
  dst: Float32Array;
  rows: number;
  n: number;
  gamma: Float32Array;
  beta: Float32Array;
  eps: number;
  threads: number;
}

/** What a norm op did. */
export interface NormRun {
  backend: string;
  threads: number;
}
