// Issue 19 item 4: what the in-place-edit check costs. linear() on wasm (1 thread) compares
// W with its packed copy before every call (src/backends/wasm/gemm.ts, samePacked). This times
// linear() for a 768 -> 768 weight at 1, 32 and 512 rows, and a plain JS word-compare pass of
// the same size as an estimate of the check's share. Medians of 15; the machine's load is printed.
// Usage: npm run build && node bench/weights-check.mjs
import os from "node:os";
import { linear } from "../dist/models/ops.js";

const inF = 768;
const outF = 768;
const W = Float32Array.from({ length: outF * inF }, (_, i) => Math.sin(i));
const copy = new Int32Array(W.length);
copy.set(new Int32Array(W.buffer));
const median = (xs) => xs.sort((a, b) => a - b)[xs.length >> 1];
function time(f, reps = 15) {
  f();
  const t = [];
  for (let r = 0; r < reps; r++) {
    const t0 = performance.now();
    f();
    t.push(performance.now() - t0);
  }
  return median(t);
}
function compareOnly() {
  const w = new Int32Array(W.buffer);
  let same = true;
  for (let p = 0; p * 8 < outF; p++)
    for (let i = 0; i < inF; i++)
      for (let l = 0; l < 8; l++) if (copy[(p * 8 + l) * inF + i] !== w[(p * 8 + l) * inF + i]) same = false;
  return same;
}
console.log(
  `load ${os
    .loadavg()
    .map((x) => x.toFixed(1))
    .join(" ")}; weight ${outF}x${inF} (${((W.length * 4) / 2 ** 20).toFixed(2)} MiB)`,
);
const cmp = time(compareOnly);
console.log(`check alone (JS word compare, same access pattern): ${cmp.toFixed(3)} ms`);
for (const rows of [1, 32, 512]) {
  const x = Float32Array.from({ length: rows * inF }, (_, i) => Math.cos(i));
  const t = time(() => linear(x, rows, inF, W, outF, null, undefined, { backend: "wasm", threads: 1 }));
  console.log(`linear rows=${rows}: ${t.toFixed(3)} ms per call (check share ~${((100 * cmp) / t).toFixed(0)}%)`);
}
