/**
 * The TypeScript fallback of linear(): y[r, o] = bias[o] + Σ_i x[r, i] · W[o, i], plain loops
 * over typed arrays. Register-blocked like the wasm kernel, in scalars: a 4-row × 4-column
 * block of y lives in 16 local doubles while i runs over inF (x rows and W rows are both
 * contiguous in i), so each loaded x and W value is used four times. Sums are kept in float64
 * and rounded once per element. Output columns run in chunks whose rows of W fill about
 * 256 KiB, so a chunk of W stays in L2 while every row block of x passes over it (without
 * the chunks W streamed from memory once per 4 rows: 0.3 GFLOP/s at 3072 → 768). Edge blocks
 * (rows or columns not a multiple of 4) run the same dot product one element at a time.
 */

/** y [rows, outF] ← bias + x [rows, inF] · Wᵀ, W [outF, inF]. Arguments are validated by the caller. */
export function linearJs(
  x: Float32Array,
  rows: number,
  inF: number,
  W: Float32Array,
  outF: number,
  bias: Float32Array | null,
  y: Float32Array,
): void {
  const chunk = Math.max(4, Math.floor(W_CHUNK_BYTES / (4 * inF)) & ~3);
  for (let c0 = 0; c0 < outF; c0 += chunk) linearChunk(x, rows, inF, W, outF, bias, y, c0, Math.min(outF, c0 + chunk));
}

const W_CHUNK_BYTES = 256 * 1024;

/** Columns [c0, c1) of y. */
function linearChunk(
  x: Float32Array,
  rows: number,
  inF: number,
  W: Float32Array,
  outF: number,
  bias: Float32Array | null,
  y: Float32Array,
  c0: number,
  c1: number,
): void {
  const r4 = rows & ~3;
  const o4 = c0 + ((c1 - c0) & ~3);
  for (let r = 0; r < r4; r += 4) {
    const x0 = r * inF; // x: [rows, inF]
    const x1 = x0 + inF;
    const x2 = x1 + inF;
    const x3 = x2 + inF;
    for (let o = c0; o < o4; o += 4) {
      const w0 = o * inF; // W: [outF, inF]
      const w1 = w0 + inF;
      const w2 = w1 + inF;
      const w3 = w2 + inF;
      let s00 = 0;
      let s01 = 0;
      let s02 = 0;
      let s03 = 0;
      let s10 = 0;
      let s11 = 0;
      let s12 = 0;
      let s13 = 0;
      let s20 = 0;
      let s21 = 0;
      let s22 = 0;
      let s23 = 0;
      let s30 = 0;
      let s31 = 0;
      let s32 = 0;
      let s33 = 0;
      for (let i = 0; i < inF; i++) {
        const a0 = x[x0 + i];
        const a1 = x[x1 + i];
        const a2 = x[x2 + i];
        const a3 = x[x3 + i];
        const b0 = W[w0 + i];
        const b1 = W[w1 + i];
        const b2 = W[w2 + i];
        const b3 = W[w3 + i];
        s00 += a0 * b0;
        s01 += a0 * b1;
        s02 += a0 * b2;
        s03 += a0 * b3;
        s10 += a1 * b0;
        s11 += a1 * b1;
        s12 += a1 * b2;
        s13 += a1 * b3;
        s20 += a2 * b0;
        s21 += a2 * b1;
        s22 += a2 * b2;
        s23 += a2 * b3;
        s30 += a3 * b0;
        s31 += a3 * b1;
        s32 += a3 * b2;
        s33 += a3 * b3;
      }
      const c0 = bias === null ? 0 : bias[o];
      const c1 = bias === null ? 0 : bias[o + 1];
      const c2 = bias === null ? 0 : bias[o + 2];
      const c3 = bias === null ? 0 : bias[o + 3];
      const y0 = r * outF + o; // y: [rows, outF]
      y[y0] = c0 + s00;
      y[y0 + 1] = c1 + s01;
      y[y0 + 2] = c2 + s02;
      y[y0 + 3] = c3 + s03;
      const y1 = y0 + outF;
      y[y1] = c0 + s10;
      y[y1 + 1] = c1 + s11;
      y[y1 + 2] = c2 + s12;
      y[y1 + 3] = c3 + s13;
      const y2 = y1 + outF;
      y[y2] = c0 + s20;
      y[y2 + 1] = c1 + s21;
      y[y2 + 2] = c2 + s22;
      y[y2 + 3] = c3 + s23;
      const y3 = y2 + outF;
      y[y3] = c0 + s30;
      y[y3 + 1] = c1 + s31;
      y[y3 + 2] = c2 + s32;
      y[y3 + 3] = c3 + s33;
    }
    for (let o = o4; o < c1; o++) {
      for (let rr = r; rr < r + 4; rr++) y[rr * outF + o] = dot(x, rr * inF, W, o * inF, inF, bias, o);
    }
  }
  for (let r = r4; r < rows; r++) {
    for (let o = c0; o < c1; o++) y[r * outF + o] = dot(x, r * inF, W, o * inF, inF, bias, o);
  }
}

/** bias[o] + Σ_i x[xo + i] · W[wo + i], summed in float64. */
function dot(
  x: Float32Array,
  xo: number,
  W: Float32Array,
  wo: number,
  inF: number,
  bias: Float32Array | null,
  o: number,
): number {
  let s = 0;
  for (let i = 0; i < inF; i++) s += x[xo + i] * W[wo + i];
  return (bias === null ? 0 : bias[o]) + s;
}
