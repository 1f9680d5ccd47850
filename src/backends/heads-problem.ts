/**
 * One validated call of regroupHeads(): between HF's projection layout m [B·L, H·D] (row
 * b·L + i, head h in columns h·D … h·D + D − 1) and the attention tensors t [B, H, L, D].
 * toHeads: t ← m; else m ← t, rows whose valid byte is 0 set to 0 (valid null: none).
 */
export interface HeadsProblem {
  m: Float32Array;
  t: Float32Array;
  B: number;
  L: number;
  H: number;
  D: number;
  toHeads: boolean;
  /** [B·L] 1 = a real token (from heads only; null: every row copied). */
  valid: Uint8Array | null;
  threads: number;
}

/** What a regrouping op did. */
export interface HeadsRun {
  backend: string;
  threads: number;
}
