/**
 * linear() against a float64 oracle on random shapes and hazards (rows = 1, sizes 1 and odd,
 * sizes that are not multiples of the micro-kernel's rows / the 8-column panels / the
 * k-chunk, many items, bias null, huge values, NaN), on js, wasm with 1 thread and wasm with
 * 2 threads; wasm results bitwise identical for every thread count; weights packed per call
 * (no copy kept: edits and fresh views seen, memory bounded, coexistence with attention's
 * layouts); argument errors.
 */
import { describe, expect, test } from "vitest";
import { attention } from "../../attention.js";
import { AttentionArgumentError } from "../../errors.js";
import { Rng } from "../../util/rng.js";
import { type LinearOptions, linear } from "../dispatch.js";
import { releaseWasm, wasmRuntime } from "./wasm.js";

const BACKENDS: [string, LinearOptions][] = [
  ["js", { backend: "js" }],
  ["wasm, 1 thread", { backend: "wasm", threads: 1 }],
  ["wasm, 2 threads", { backend: "wasm", threads: 2 }],
];

/** y = bias + x · Wᵀ in float64, and S = Σ|x·w| + |bias| per element (the scale of rounding errors). */
function oracle(x: Float32Array, rows: number, inF: number, W: Float32Array, outF: number, bias: Float32Array | null) {
  const y = new Float64Array(rows * outF);
  const s = new Float64Array(rows * outF);
  for (let r = 0; r < rows; r++) {
    for (let o = 0; o < outF; o++) {
      let acc = bias === null ? 0 : bias[o];
      let mag = Math.abs(acc);
      for (let i = 0; i < inF; i++) {
        const p = x[r * inF + i] * W[o * inF + i]; // x: [rows, inF], W: [outF, inF]
        acc += p;
        mag += Math.abs(p);
      }
      y[r * outF + o] = acc; // y: [rows, outF]
      s[r * outF + o] = mag;
    }
  }
  return { y, s };
}

function fill(n: number, rng: Rng, draw: (rng: Rng) => number): Float32Array {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = draw(rng);
  return a;
}

const smallInt = (rng: Rng) => rng.int(17) - 8;
const normal = (rng: Rng) => rng.normal();

/** Shapes [rows, inF, outF]: hazards first, then random ones. */
function shapes(seed: number, count: number): [number, number, number][] {
  const out: [number, number, number][] = [
    [1, 1, 1],
    [1, 768, 768],
    [2, 3, 5],
    [7, 13, 9],
    [6, 8, 8],
    [4, 384, 16],
    [3, 256, 9],
    [3, 257, 9],
    [5, 385, 17],
    [129, 33, 15],
    [300, 777, 41],
    [257, 1030, 250],
    [1, 2000, 3],
  ];
  const rng = new Rng(seed);
  for (let c = 0; c < count; c++) out.push([1 + rng.int(300), 1 + rng.int(900), 1 + rng.int(200)]);
  return out;
}

describe("linear matches the float64 oracle", () => {
  test.each(BACKENDS)("small integers give the exact result (%s)", (_name, options) => {
    const rng = new Rng(1);
    for (const [rows, inF, outF] of shapes(2, 6)) {
      const x = fill(rows * inF, rng, smallInt);
      const W = fill(outF * inF, rng, smallInt);
      const bias = rng.next() < 0.5 ? null : fill(outF, rng, smallInt);
      const { y: ref } = oracle(x, rows, inF, W, outF, bias);
      const y = linear(x, rows, inF, W, outF, bias, undefined, options);
      let bad = 0;
      for (let i = 0; i < y.length; i++) if (y[i] !== ref[i]) bad++;
      expect(bad, `shape ${rows}×${inF}→${outF}`).toBe(0);
    }
  });

  test.each(BACKENDS)("normal inputs within the float32 summation bound (%s)", (_name, options) => {
    const rng = new Rng(3);
    for (const [rows, inF, outF] of shapes(4, 6)) {
      for (const scale of [1, 1e15]) {
        const x = fill(rows * inF, rng, (r) => r.normal() * scale);
        const W = fill(outF * inF, rng, (r) => r.normal() * scale);
        const bias = rng.next() < 0.5 ? null : fill(outF, rng, (r) => r.normal() * scale * scale);
        const { y: ref, s } = oracle(x, rows, inF, W, outF, bias);
        const y = linear(x, rows, inF, W, outF, bias, undefined, options);
        const u = 2 ** -24;
        let worst = 0;
        for (let i = 0; i < y.length; i++) {
          // any summation order: |err| ≤ (inF + 1) u S; one final rounding to float32: u |y|
          const bound = (inF + 1) * u * s[i] + u * Math.abs(ref[i]);
          worst = Math.max(worst, Math.abs(y[i] - ref[i]) / bound);
        }
        expect(worst, `shape ${rows}×${inF}→${outF}, scale ${scale}`).toBeLessThanOrEqual(1);
        // and typically far inside it: a wrong element would be off by about S / √inF
        let rel = 0;
        for (let i = 0; i < y.length; i++) rel = Math.max(rel, Math.abs(y[i] - ref[i]) / (s[i] + 1e-300));
        expect(rel).toBeLessThan(1e-5);
      }
    }
  });

  test("wasm results are bitwise identical for 1, 2 and 3 threads", () => {
    const rng = new Rng(5);
    for (const [rows, inF, outF] of [...shapes(6, 4), [1000, 200, 130] as [number, number, number]]) {
      const x = fill(rows * inF, rng, normal);
      const W = fill(outF * inF, rng, normal);
      const bias = fill(outF, rng, normal);
      const one = linear(x, rows, inF, W, outF, bias, undefined, { backend: "wasm", threads: 1 });
      for (const threads of [2, 3]) {
        const many = linear(x, rows, inF, W, outF, bias, undefined, { backend: "wasm", threads });
        expect(Buffer.from(many.buffer).equals(Buffer.from(one.buffer)), `${rows}×${inF}→${outF}, ${threads}`).toBe(
          true,
        );
      }
    }
  });

  test.each(BACKENDS)(
    "NaN in a row of x stays in that row; y given is overwritten and returned (%s)",
    (_n, options) => {
      const rng = new Rng(7);
      const [rows, inF, outF] = [9, 50, 21];
      const x = fill(rows * inF, rng, smallInt);
      x[4 * inF + 17] = Number.NaN;
      const W = fill(outF * inF, rng, smallInt);
      const y = new Float32Array(rows * outF).fill(123);
      const out = linear(x, rows, inF, W, outF, null, y, options);
      expect(out).toBe(y);
      const { y: ref } = oracle(x, rows, inF, W, outF, null);
      for (let r = 0; r < rows; r++) {
        for (let o = 0; o < outF; o++) {
          const v = y[r * outF + o];
          if (r === 4) expect(Number.isNaN(v)).toBe(true);
          else expect(v).toBe(ref[r * outF + o]);
        }
      }
    },
  );

  test('backend "auto" (default options) runs the wasm kernel where it loads', () => {
    const rng = new Rng(8);
    const [rows, inF, outF] = [300, 257, 70]; // above the small-problem threshold: the pool runs
    const x = fill(rows * inF, rng, normal);
    const W = fill(outF * inF, rng, normal);
    const auto = linear(x, rows, inF, W, outF, null);
    const wasm = linear(x, rows, inF, W, outF, null, undefined, { backend: "wasm", threads: 1 });
    expect(Buffer.from(auto.buffer).equals(Buffer.from(wasm.buffer))).toBe(true);
  });

  test("rows = 0 gives an empty result", () => {
    expect(linear(new Float32Array(0), 0, 4, new Float32Array(8), 2, null).length).toBe(0);
  });
});

describe("weights, packed per call", () => {
  test("no copy outlives a call: refills and single edits are seen, memory stays bounded", () => {
    const rng = new Rng(9);
    const [rows, inF, outF] = [20, 100, 30];
    const x = fill(rows * inF, rng, smallInt);
    const W = fill(outF * inF, rng, smallInt);
    const opt: LinearOptions = { backend: "wasm", threads: 1 };
    const check = (w: Float32Array) => {
      const { y: ref } = oracle(x, rows, inF, w, outF, null);
      const y = linear(x, rows, inF, w, outF, null, undefined, opt);
      for (let i = 0; i < y.length; i++) if (y[i] !== ref[i]) return false;
      return true;
    };
    expect(check(W)).toBe(true);
    const rt = wasmRuntime()!;
    const start = rt.mem.callStart; // a linear() call leaves nothing above the plan arena
    const bytes = rt.memory.buffer.byteLength;
    for (let k = 0; k < 3; k++) expect(check(W)).toBe(true);
    // a wholesale refill is seen
    for (let i = 0; i < W.length; i++) W[i] = smallInt(rng);
    expect(check(W)).toBe(true);
    // a single in-place edit anywhere is seen
    for (const at of [0, W.length >> 1, W.length - 1]) {
      W[at] += 1;
      expect(check(W)).toBe(true);
    }
    // many distinct weights of the same size: no memory kept per weight
    for (let k = 0; k < 20; k++) expect(check(fill(outF * inF, rng, smallInt))).toBe(true);
    expect(rt.mem.callStart).toBe(start);
    expect(rt.memory.buffer.byteLength).toBe(bytes);
  });

  test("fresh views of one buffer (a fused qkv) each give their own weight's product", () => {
    const rng = new Rng(10);
    const [rows, inF, outF] = [8, 40, 16];
    const x = fill(rows * inF, rng, smallInt);
    const all = fill(3 * outF * inF, rng, smallInt); // three weights in one buffer, as a fused qkv
    const opt: LinearOptions = { backend: "wasm", threads: 1 };
    const view = (k: number) => all.subarray(k * outF * inF, (k + 1) * outF * inF);
    for (let rep = 0; rep < 2; rep++) {
      for (let k = 0; k < 3; k++) {
        const W = view(k);
        const { y: ref } = oracle(x, rows, inF, W, outF, null);
        const y = linear(x, rows, inF, W, outF, null, undefined, opt);
        expect(y.every((v, i) => v === ref[i])).toBe(true);
      }
    }
    // the whole buffer as one [3·outF, inF] weight: its rows are the three weights' rows
    const y3 = linear(x, rows, inF, all, 3 * outF, null, undefined, opt);
    for (let k = 0; k < 3; k++) {
      const yk = linear(x, rows, inF, view(k), outF, null, undefined, opt);
      for (let r = 0; r < rows; r++) {
        for (let o = 0; o < outF; o++) expect(y3[r * 3 * outF + k * outF + o]).toBe(yk[r * outF + o]);
      }
    }
  });

  test("survive attention calls on the same module, and a releaseWasm()", () => {
    const rng = new Rng(11);
    const [rows, inF, outF] = [64, 96, 40];
    const x = fill(rows * inF, rng, smallInt);
    const W = fill(outF * inF, rng, smallInt);
    const bias = fill(outF, rng, smallInt);
    const { y: ref } = oracle(x, rows, inF, W, outF, bias);
    const same = (y: Float32Array) => y.every((v, i) => v === ref[i]);
    expect(same(linear(x, rows, inF, W, outF, bias, undefined, { backend: "wasm", threads: 2 }))).toBe(true);
    const t = (L: number) => ({
      data: fill(L * 32, rng, normal),
      shape: [1, 1, L, 32] as [number, number, number, number],
    });
    const a = attention(t(500), t(500), t(500), { backend: "wasm", threads: 2 });
    expect(a.out.data.length).toBe(500 * 32);
    expect(same(linear(x, rows, inF, W, outF, bias, undefined, { backend: "wasm", threads: 2 }))).toBe(true);
    releaseWasm();
    expect(same(linear(x, rows, inF, W, outF, bias, undefined, { backend: "wasm", threads: 1 }))).toBe(true);
  });
});

describe("argument errors name the argument, the value and the expectation", () => {
  const x = new Float32Array(12);
  const W = new Float32Array(8);
  const cases: [string, () => unknown, RegExp][] = [
    ["rows", () => linear(x, -1, 4, W, 2, null), /^rows: got -1; expected an integer >= 0/],
    ["rows", () => linear(x, 2.5, 4, W, 2, null), /^rows: got 2.5/],
    ["inF", () => linear(x, 3, 0, W, 2, null), /^inF: got 0/],
    [
      "x",
      () => linear(x, 2, 4, W, 2, null),
      /^x: got Float32Array\(12\); expected a Float32Array of rows · inF = 2 · 4 = 8/,
    ],
    ["x", () => linear([1, 2] as unknown as Float32Array, 1, 2, new Float32Array(4), 2, null), /^x: got \[1, 2\]/],
    [
      "W",
      () => linear(x, 3, 4, W, 3, null),
      /^W: got Float32Array\(8\); expected a Float32Array of outF · inF = 3 · 4/,
    ],
    ["bias", () => linear(x, 3, 4, W, 2, new Float32Array(3)), /^bias: got Float32Array\(3\); expected .* outF = 2/],
    [
      "y",
      () => linear(x, 3, 4, W, 2, null, new Float32Array(5)),
      /^y: got Float32Array\(5\); expected .*rows · outF = 3 · 2 = 6/,
    ],
    ["y", () => linear(x, 3, 4, W, 2, null, x.subarray(6, 12)), /^y: .*does not overlap x/],
    [
      "options.backend",
      () => linear(x, 3, 4, W, 2, null, undefined, { backend: "gpu" as "js" }),
      /^options\.backend: got "gpu"/,
    ],
    ["options.threads", () => linear(x, 3, 4, W, 2, null, undefined, { threads: 0 }), /^options\.threads: got 0/],
  ];
  test.each(cases)("%s", (_name, call, message) => {
    let error: unknown = null;
    try {
      call();
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(AttentionArgumentError);
    expect((error as Error).message).toMatch(message);
  });
});
