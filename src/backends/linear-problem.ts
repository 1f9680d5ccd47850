/** Activations linear() can apply to its output (HF's names: exact-erf "gelu", the tanh forms, "relu"). */
export const LINEAR_ACTIVATIONS = ["gelu", "gelu_new", "gelu_pytorch_tanh", "relu"] as const;
export type LinearActivation = (typeof LINEAR_ACTIVATIONS)[number];

/**
 * One validated call of linear(): z [rows, outF] = bias + x [rows, inF] · Wᵀ, W [outF, inF]
 * (nn.Linear), then the epilogue: y = act(z) [rows, outF]; gated: [a | g] = z per row and
 * y = act(a) · g [rows, outF / 2] (GeGLU).
 */
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
  /** Activation of the epilogue (null: none). */
  act: LinearActivation | null;
  /** Gated epilogue: y [rows, outF / 2] = act(a) · g. */
  gated: boolean;
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
