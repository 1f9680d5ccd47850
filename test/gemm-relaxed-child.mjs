// Child process for test/gemm-relaxed.test.ts (run with and without relaxed SIMD): linear() on
// wasm against a float64 oracle (error relative to Σ|x·w| + |bias|) and 1 vs 2 threads bit for bit. Prints JSON.
import { linear } from "../dist/backends/dispatch.js";
import { wasmVariant } from "../dist/backends/wasm/wasm.js";
import { Rng } from "../dist/util/rng.js";

const rng = new Rng(13);
const cases = [];
for (const [rows, inF, outF] of [
  [1, 1, 1],
  [7, 13, 9],
  [131, 777, 45],
  [300, 768, 64],
]) {
  const draw = (n) => Float32Array.from({ length: n }, () => rng.normal());
  const x = draw(rows * inF);
  const W = draw(outF * inF);
  const bias = draw(outF);
  const one = linear(x, rows, inF, W, outF, bias, undefined, { backend: "wasm", threads: 1 });
  const two = linear(x, rows, inF, W, outF, bias, undefined, { backend: "wasm", threads: 2 });
  let err = 0;
  let bitwise = true;
  for (let r = 0; r < rows; r++) {
    for (let o = 0; o < outF; o++) {
      let y = bias[o];
      let s = Math.abs(bias[o]);
      for (let i = 0; i < inF; i++) {
        const p = x[r * inF + i] * W[o * inF + i]; // x: [rows, inF], W: [outF, inF]
        y += p;
        s += Math.abs(p);
      }
      const at = r * outF + o; // y: [rows, outF]
      err = Math.max(err, Math.abs(one[at] - y) / s);
      if (!Object.is(one[at], two[at])) bitwise = false;
    }
  }
  cases.push({ rows, inF, outF, err, bitwise });
}
console.log(JSON.stringify({ variant: wasmVariant(), cases }));
