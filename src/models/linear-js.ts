/**
 * Plain-JS nn.Linear with the gemm engineer's interface (src/kernels/gemm.ts), used until that
 * kernel lands: y[r, o] = bias[o] + Σ_i x[r, i] · W[o, i]. Register-blocked 2 rows × 4
 * outputs, sums in float64 (JS numbers). `options` is accepted and ignored (one thread, js).
 */
export interface LinearOptions {
  backend?: "auto" | "wasm" | "js";
  threads?: number;
}

export function linear(
  x: Float32Array,
  rows: number,
  inF: number,
  W: Float32Array,
  outF: number,
  bias: Float32Array | null,
  y?: Float32Array,
  _options?: LinearOptions,
): Float32Array {
  const out = y ?? new Float32Array(rows * outF); // y: [rows, outF]
  let r = 0;
  for (; r + 1 < rows; r += 2) {
    const x0 = r * inF; // x: [rows, inF]
    const x1 = x0 + inF;
    let o = 0;
    for (; o + 3 < outF; o += 4) {
      const w0 = o * inF; // W: [outF, inF]
      const w1 = w0 + inF;
      const w2 = w1 + inF;
      const w3 = w2 + inF;
      let a00 = 0;
      let a01 = 0;
      let a02 = 0;
      let a03 = 0;
      let a10 = 0;
      let a11 = 0;
      let a12 = 0;
      let a13 = 0;
      for (let i = 0; i < inF; i++) {
        const u = x[x0 + i];
        const v = x[x1 + i];
        const b0 = W[w0 + i];
        const b1 = W[w1 + i];
        const b2 = W[w2 + i];
        const b3 = W[w3 + i];
        a00 += u * b0;
        a01 += u * b1;
        a02 += u * b2;
        a03 += u * b3;
        a10 += v * b0;
        a11 += v * b1;
        a12 += v * b2;
        a13 += v * b3;
      }
      const c0 = bias === null ? 0 : bias[o];
      const c1 = bias === null ? 0 : bias[o + 1];
      const c2 = bias === null ? 0 : bias[o + 2];
      const c3 = bias === null ? 0 : bias[o + 3];
      out[r * outF + o] = a00 + c0;
      out[r * outF + o + 1] = a01 + c1;
      out[r * outF + o + 2] = a02 + c2;
      out[r * outF + o + 3] = a03 + c3;
      out[(r + 1) * outF + o] = a10 + c0;
      out[(r + 1) * outF + o + 1] = a11 + c1;
      out[(r + 1) * outF + o + 2] = a12 + c2;
      out[(r + 1) * outF + o + 3] = a13 + c3;
    }
    for (; o < outF; o++) {
      let a0 = 0;
      let a1 = 0;
      for (let i = 0; i < inF; i++) {
        a0 += x[x0 + i] * W[o * inF + i];
        a1 += x[x1 + i] * W[o * inF + i];
      }
      const c = bias === null ? 0 : bias[o];
      out[r * outF + o] = a0 + c;
      out[(r + 1) * outF + o] = a1 + c;
    }
  }
  for (; r < rows; r++) {
    for (let o = 0; o < outF; o++) {
      let a = 0;
      for (let i = 0; i < inF; i++) a += x[r * inF + i] * W[o * inF + i];
      out[r * outF + o] = a + (bias === null ? 0 : bias[o]);
    }
  }
  return out;
}
