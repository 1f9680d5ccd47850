/**
 * layerNorm() on wasm (assembly/norm.ts: f64x2 sums on the pool) against the float64 js op on
 * random shapes and the hazards: large offsets, n = 1, constant rows, n not a multiple of 4,
 * one row, NaN; with and without the residual add; 1 and 2 threads bit for bit alike.
 */
import { describe, expect, it } from "vitest";
import { Rng } from "../../util/rng.js";
import { layerNorm } from "../dispatch.js";
import { layerNormJs } from "../js/norm.js";

/** The worst |a − b| / (1 + |b|) (NaN in one place and not the other: Infinity), checked against tol. */
function close(a: Float32Array, b: Float32Array, tol: number): void {
  expect(a.length).toBe(b.length);
  let worst = 0;
  for (let i = 0; i < a.length; i++) {
    if (Number.isNaN(b[i]) || Number.isNaN(a[i])) worst = Number.isNaN(a[i]) === Number.isNaN(b[i]) ? worst : Infinity;
    else worst = Math.max(worst, Math.abs(a[i] - b[i]) / (1 + Math.abs(b[i])));
  }
  expect(worst).toBeLessThanOrEqual(tol);
}

interface Case {
  name: string;
  rows: number;
  n: number;
  x: (r: number, i: number, rng: Rng) => number;
}

const cases: Case[] = [
  { name: "random", rows: 37, n: 768, x: (_r, _i, g) => g.normal() * 3 },
  { name: "large offset (1e4 + small noise)", rows: 9, n: 64, x: (_r, _i, g) => 1e4 + g.normal() * 1e-2 },
  { name: "huge offset (1e7 + unit noise)", rows: 5, n: 33, x: (_r, _i, g) => 1e7 + g.normal() },
  { name: "n = 1", rows: 20, n: 1, x: (_r, _i, g) => g.normal() * 100 },
  { name: "constant rows", rows: 8, n: 13, x: (r) => r * 1.5 - 4 },
  { name: "n = 7 (a tail of 3)", rows: 3, n: 7, x: (_r, _i, g) => g.normal() },
  { name: "one row", rows: 1, n: 30000, x: (_r, i, g) => g.normal() + i * 1e-4 },
];

describe("layerNorm on wasm (assembly/norm.ts)", () => {
  for (const c of cases) {
    for (const withAdd of [false, true]) {
      it(`${c.name}${withAdd ? ", x ← LN(x + add)" : ""}: wasm on 1 and 2 threads matches float64 js, bit for bit across threads`, () => {
        const rng = new Rng(c.rows * 31 + c.n + (withAdd ? 7 : 0));
        const { rows, n } = c;
        const x = new Float32Array(rows * n);
        for (let r = 0; r < rows; r++) for (let i = 0; i < n; i++) x[r * n + i] = c.x(r, i, rng);
        const add = withAdd ? Float32Array.from({ length: rows * n }, () => rng.normal() * 0.1) : null;
        const gamma = Float32Array.from({ length: n }, () => 1 + rng.normal() * 0.1);
        const beta = Float32Array.from({ length: n }, () => rng.normal() * 0.1);
        const ref = x.slice();
        layerNormJs(ref, add, ref, rows, n, gamma, beta, 1e-5);
        const outs: Float32Array[] = [];
        for (const threads of [1, 2]) {
          const y = x.slice();
          layerNorm(y, add, rows, n, gamma, beta, 1e-5, y, { backend: "wasm", threads });
          close(y, ref, 1e-6);
          outs.push(y);
        }
        expect(outs[1]).toEqual(outs[0]);
        if (c.name === "constant rows" && !withAdd)
          for (let i = 0; i < x.length; i++) expect(outs[0][i]).toBe(beta[i % n]);
      });
    }
  }

  it("LN(x) into another array leaves x alone; NaN rows stay NaN, other rows are untouched by them", () => {
    const rows = 4;
    const n = 9;
    const x = Float32Array.from({ length: rows * n }, (_, i) => Math.sin(i) * 5);
    x[n + 3] = Number.NaN;
    const keep = x.slice();
    const gamma = new Float32Array(n).fill(2);
    const beta = new Float32Array(n).fill(0.5);
    const dst = new Float32Array(rows * n);
    layerNorm(x, null, rows, n, gamma, beta, 1e-12, dst, { backend: "wasm", threads: 2 });
    expect(x).toEqual(keep);
    const ref = new Float32Array(rows * n);
    layerNormJs(x, null, ref, rows, n, gamma, beta, 1e-12);
    close(dst, ref, 1e-6);
    for (let i = 0; i < n; i++) expect(Number.isNaN(dst[n + i])).toBe(true);
  });

  it("names bad arguments: dst other than x with add, a short gamma, a bad eps, an unknown backend", () => {
    const x = new Float32Array(8);
    const g = new Float32Array(4).fill(1);
    expect(() => layerNorm(x, x.slice(), 2, 4, g, g, 1e-5, new Float32Array(8))).toThrow(/dst/);
    expect(() => layerNorm(x, null, 2, 4, g.subarray(0, 3), g, 1e-5)).toThrow(/gamma/);
    expect(() => layerNorm(x, null, 2, 4, g, g, Number.NaN)).toThrow(/eps/);
    expect(() => layerNorm(x, null, 2, 4, g, g, 1e-5, x, { backend: "gpu" as never })).toThrow(/options.backend/);
  });
});
