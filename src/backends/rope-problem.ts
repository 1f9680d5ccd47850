/**
 * One validated call of splitQkvRope(): qkv [B·L, 3·H·D] (HF's view [B, L, 3, H, D]) → q, k, v
 * [B, H, L, D] with rotary embeddings (rotate_half form, tables cos, sin [≥ L, D/2]) applied to
 * q and k at position i, the index in the sequence. D is even.
 */
export interface RopeProblem {
  qkv: Float32Array;
  q: Float32Array;
  k: Float32Array;
  v: Float32Array;
  B: number;
  L: number;
  H: number;
  D: number;
  cos: Float32Array;
  sin: Float32Array;
  threads: number;
}

/** What a split op did. */
export interface RopeRun {
  backend: string;
  threads: number;
}
