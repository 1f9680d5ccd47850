/** The encoder's elementwise and row operations against float64 definitions, and linear() against a naive triple loop. */
import { describe, expect, it } from "vitest";
import { Rng } from "../util/rng.js";
import { activate, addLayerNorm, erf, linear } from "./ops.js";

/** erf by its Taylor series in float64 (exact enough for |x| <= 3). */
function erfSeries(x: number): number {
  let term = x;
  let sum = x;
  for (let n = 1; n < 200; n++) {
    term *= (-x * x) / n;
    sum += term / (2 * n + 1);
  }
  return (2 / Math.sqrt(Math.PI)) * sum;
}

describe("models/ops", () => {
  it("erf matches its series to 1e-10, is odd, saturates, and keeps NaN", () => {
    for (let x = -3; x <= 3; x += 0.0137) expect(Math.abs(erf(x) - erfSeries(x))).toBeLessThan(1e-10);
    expect(erf(0)).toBe(0);
    expect(erf(-1.3)).toBe(-erf(1.3));
    expect(erf(7)).toBe(1);
    expect(erf(-40)).toBe(-1);
    expect(erf(Number.POSITIVE_INFINITY)).toBe(1);
    expect(Number.isNaN(erf(Number.NaN))).toBe(true);
  });

  it("gelu (erf), gelu_new (tanh) and relu follow their definitions; the two GELUs differ", () => {
    const xs = Float32Array.from({ length: 201 }, (_, i) => (i - 100) / 20);
    const g = xs.slice();
    activate(g, "gelu");
    const t = xs.slice();
    activate(t, "gelu_new");
    const r = xs.slice();
    activate(r, "relu");
    let diff = 0;
    xs.forEach((x, i) => {
      expect(Math.abs(g[i] - Math.fround(0.5 * x * (1 + erfSeries(x / Math.SQRT2))))).toBeLessThan(1e-6);
      const tanhForm = 0.5 * x * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x ** 3)));
      expect(Math.abs(t[i] - Math.fround(tanhForm))).toBeLessThan(1e-6);
      expect(r[i]).toBe(Math.max(0, x));
      diff = Math.max(diff, Math.abs(g[i] - t[i]));
    });
    expect(diff).toBeGreaterThan(1e-4);
  });

  it("addLayerNorm = LayerNorm(x + add) per row with gain and bias", () => {
    const rng = new Rng(3);
    const rows = 3;
    const n = 10;
    const x = Float32Array.from({ length: rows * n }, () => 3 * rng.next() + 1);
    const add = Float32Array.from({ length: rows * n }, () => rng.next() - 0.5);
    const gamma = Float32Array.from({ length: n }, () => 0.5 + rng.next());
    const beta = Float32Array.from({ length: n }, () => rng.next() - 0.5);
    const want: number[] = [];
    for (let r = 0; r < rows; r++) {
      const v = Array.from({ length: n }, (_, i) => x[r * n + i] + add[r * n + i]);
      const mean = v.reduce((a, b) => a + b, 0) / n;
      const variance = v.reduce((a, b) => a + (b - mean) ** 2, 0) / n;
      v.forEach((y, i) => {
        want.push(((y - mean) / Math.sqrt(variance + 1e-5)) * gamma[i] + beta[i]);
      });
    }
    addLayerNorm(x, add, rows, n, gamma, beta, 1e-5);
    want.forEach((w, i) => {
      expect(Math.abs(x[i] - w)).toBeLessThan(1e-5);
    });
  });

  it("linear equals the naive y = b + x·Wᵀ on ragged sizes (odd rows, outputs not a multiple of 4), with and without bias", () => {
    const rng = new Rng(5);
    for (const [rows, inF, outF] of [
      [1, 1, 1],
      [3, 7, 5],
      [8, 16, 12],
      [5, 33, 9],
    ]) {
      const x = Float32Array.from({ length: rows * inF }, () => rng.next() - 0.5);
      const W = Float32Array.from({ length: outF * inF }, () => rng.next() - 0.5);
      const b = Float32Array.from({ length: outF }, () => rng.next() - 0.5);
      for (const bias of [b, null]) {
        const y = linear(x, rows, inF, W, outF, bias);
        for (let r = 0; r < rows; r++) {
          for (let o = 0; o < outF; o++) {
            let s = bias === null ? 0 : bias[o];
            for (let i = 0; i < inF; i++) s += x[r * inF + i] * W[o * inF + i]; // x: [rows, inF], W: [outF, inF]
            expect(Math.abs(y[r * outF + o] - s)).toBeLessThan(1e-6);
          }
        }
      }
    }
  });
});
