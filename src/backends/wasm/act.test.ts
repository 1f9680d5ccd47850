/**
 * The wasm activations (assembly/act.ts) against float64 definitions on a dense grid: GELU's
 * float32 erf within 1e-7 absolute (proven through 1 + erf), the tanh form and ReLU; and
 * linear()'s fused epilogue (activation, gated GeGLU) on the wasm GEMM against the js op.
 */
import { describe, expect, it } from "vitest";
import { Rng } from "../../util/rng.js";
import { linear } from "../dispatch.js";
import { activate, erf, gateInto } from "../js/activation.js";
import type { LinearActivation } from "../linear-problem.js";
import { wasmRuntime } from "./wasm-runtime.js";

/** act applied by the wasm module to a copy of xs (assembly/act.ts kind). */
function wasmAct(xs: Float32Array, kind: number): Float32Array {
  const rt = wasmRuntime();
  if (rt === null) throw new Error("the wasm runtime does not load here");
  const at = rt.mem.callStart;
  rt.mem.ensure(at + xs.byteLength);
  new Float32Array(rt.memory.buffer, at, xs.length).set(xs);
  rt.kernel.activateRange(at, xs.length, kind);
  return new Float32Array(rt.memory.buffer, at, xs.length).slice();
}

/** erf in float64 by its positive series (exact to ~1e-16 for |x| <= 7). */
function erf64(x: number): number {
  const a = Math.abs(x);
  if (a > 7) return Math.sign(x); // erfc(7) < 1e-22
  let term = a;
  let s = a;
  for (let n = 1; n < 2000 && term > 1e-19 * s; n++) {
    term *= (2 * a * a) / (2 * n + 1);
    s += term;
  }
  const v = (2 / Math.sqrt(Math.PI)) * Math.exp(-a * a) * s;
  return x < 0 ? -v : v;
}

/** A dense grid over [-lim, lim] plus hazards. */
function grid(lim: number, step: number): Float32Array {
  const xs: number[] = [];
  for (let v = -lim; v <= lim; v += step) xs.push(v);
  xs.push(
    0,
    -0,
    1e-30,
    -1e-30,
    1e-7,
    -1e-7,
    Math.SQRT2,
    -Math.SQRT2,
    4 * Math.SQRT2,
    -4 * Math.SQRT2,
    30,
    -30,
    1e6,
    -1e6,
  );
  return Float32Array.from(xs);
}

describe("wasm activations (assembly/act.ts)", () => {
  it("GELU's float32 erf is within 1e-7 absolute of float64 erf on a dense grid", () => {
    const xs = grid(10, 1 / 4096);
    const g = wasmAct(xs, 1);
    let worst = 0;
    for (let i = 0; i < xs.length; i++) {
      const v = xs[i];
      const exact = 0.5 * v * (1 + erf64(v * Math.SQRT1_2));
      // gelu = 0.5·v·(1 + erf): an erf error e moves it by 0.5·|v|·e, plus the float32 rounding of the result
      const err = Math.abs(g[i] - exact) - 2 ** -23 * Math.abs(exact);
      if (v !== 0) worst = Math.max(worst, err / (0.5 * Math.abs(v)));
      else expect(g[i] === 0).toBe(true);
    }
    expect(worst).toBeLessThan(1e-7);
    expect(worst).toBeGreaterThan(0); // a float32 erf is not exact: the check measures something
  });

  it("GELU agrees with the js path's table erf; NaN stays NaN", () => {
    const xs = grid(8, 1 / 512);
    const g = wasmAct(xs, 1);
    for (let i = 0; i < xs.length; i++) {
      const v = xs[i];
      const js = Math.fround(0.5 * v * (1 + erf(v * Math.SQRT1_2)));
      expect(Math.abs(g[i] - js)).toBeLessThanOrEqual(6e-8 * Math.abs(v) + 2 ** -23 * Math.abs(js) + 1e-45);
    }
    expect(Number.isNaN(wasmAct(Float32Array.of(Number.NaN, 1, 2, 3, Number.NaN), 1)[4])).toBe(true);
    expect(wasmAct(Float32Array.of(Number.POSITIVE_INFINITY), 1)[0]).toBe(Number.POSITIVE_INFINITY);
  });

  it("the tanh form is within 2 float32 ulps (plus 1e-7 · |v|) of float64; ReLU is exact", () => {
    const xs = grid(12, 1 / 1024);
    const g = wasmAct(xs, 2);
    for (let i = 0; i < xs.length; i++) {
      const v = xs[i];
      const exact = 0.5 * v * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (v + 0.044715 * v * v * v)));
      expect(Math.abs(g[i] - exact)).toBeLessThanOrEqual(2 ** -22 * Math.abs(exact) + 1e-7 * Math.abs(v) + 1e-45);
    }
    const r = wasmAct(Float32Array.of(-2, -0, 0, 3.5, Number.NaN, -1e-40, 7), 3);
    expect(Array.from(r.subarray(0, 4))).toEqual([0, -0, 0, 3.5]);
    expect(Object.is(r[1], -0)).toBe(true); // as the js path: only v < 0 becomes 0
    expect(Number.isNaN(r[4])).toBe(true);
    expect(r[5]).toBe(0);
    expect(r[6]).toBe(7);
  });

  const acts: LinearActivation[] = ["gelu", "gelu_new", "gelu_pytorch_tanh", "relu"];
  for (const act of acts) {
    for (const gated of [false, true]) {
      it(`linear() with activation ${act}${gated ? ", gated" : ""} on wasm (1 and 2 threads): the product, then the js epilogue`, () => {
        const rng = new Rng(act.length + (gated ? 100 : 0));
        // ragged sizes: rows not a multiple of the block rows, outF / 2 not a multiple of 8
        for (const [rows, inF, outF] of [
          [1, 7, 10],
          [37, 300, 46],
          [130, 520, 264],
        ]) {
          const x = Float32Array.from({ length: rows * inF }, () => rng.normal());
          const W = Float32Array.from({ length: outF * inF }, () => rng.normal() / Math.sqrt(inF));
          const b = Float32Array.from({ length: outF }, () => rng.normal());
          const z = linear(x, rows, inF, W, outF, b, undefined, { backend: "wasm" });
          let ref = z;
          if (gated) {
            ref = new Float32Array((rows * outF) / 2);
            gateInto(z, ref, rows, outF / 2, act);
          } else {
            activate(z, act);
          }
          const js = linear(x, rows, inF, W, outF, b, undefined, { backend: "js", activation: act, gated });
          expect(js.length).toBe(ref.length);
          for (let i = 0; i < ref.length; i++)
            expect(Math.abs(js[i] - ref[i])).toBeLessThan(1e-5 * (1 + Math.abs(ref[i])));
          for (const threads of [1, 2]) {
            const y = linear(x, rows, inF, W, outF, b, undefined, { backend: "wasm", threads, activation: act, gated });
            for (let i = 0; i < ref.length; i++) {
              expect(Math.abs(y[i] - ref[i])).toBeLessThanOrEqual(3e-7 * (1 + Math.abs(ref[i])));
            }
          }
        }
      });
    }
  }

  it("linear() names a bad activation, an odd gated outF and a y of the wrong size", () => {
    const x = new Float32Array(6);
    const W = new Float32Array(9);
    expect(() => linear(x, 2, 3, W, 3, null, undefined, { activation: "swish" as never })).toThrow(
      /options.activation/,
    );
    expect(() => linear(x, 2, 3, W, 3, null, undefined, { gated: true })).toThrow(/outF/);
    const W4 = new Float32Array(12);
    expect(() => linear(x, 2, 3, W4, 4, null, new Float32Array(8), { gated: true })).toThrow(/outF \/ 2/);
    expect(linear(x, 2, 3, W4, 4, null, undefined, { gated: true }).length).toBe(4);
  });
});
