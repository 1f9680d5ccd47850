/**
 * LayerNorm rows in plain TypeScript, sums in float64 (the fallback of layerNorm(), and the
 * definition the wasm op, assembly/norm.ts, follows).
 */

/** dst ← LayerNorm(x + add) row by row; x, add, dst: [rows, n]; gamma, beta: [n]; add may be null (with add, dst is x). */
export function layerNormJs(
  x: Float32Array,
  add: Float32Array | null,
  dst: Float32Array,
  rows: number,
  n: number,
  gamma: Float32Array,
  beta: Float32Array,
  eps: number,
): void {
  for (let r = 0; r < rows; r++) {
    const o = r * n; // x, add, dst: [rows, n]
    let sum = 0;
    if (add !== null) {
      for (let i = 0; i < n; i++) {
        const v = Math.fround(x[o + i] + add[o + i]); // the stored float32 sum (as PyTorch's x + y), then its mean
        x[o + i] = v;
        sum += v;
      }
    } else {
      for (let i = 0; i < n; i++) sum += x[o + i];
    }
    const mean = sum / n;
    let sq = 0;
    for (let i = 0; i < n; i++) {
      const d = x[o + i] - mean;
      sq += d * d;
    }
    const inv = 1 / Math.sqrt(sq / n + eps);
    for (let i = 0; i < n; i++) dst[o + i] = (x[o + i] - mean) * inv * gamma[i] + beta[i];
  }
}
