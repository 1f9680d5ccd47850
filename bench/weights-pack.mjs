// Issue 23: what packing the weight on every call costs. linear() on wasm packs W into the
// call's own memory each time (src/backends/wasm/gemm.ts, packInto) and keeps no copy; this
// times linear() (1 thread) for Longformer-base's shapes at 1 … 4,096 rows next to a JS pass of
// the same packing alone, so the pack's share of a call is printed per row count.
// Medians of 9 after one warm-up; the machine's load is printed.
// Usage: npm run build && node bench/weights-pack.mjs
import os from "node:os";
import { linear } from "../dist/models/ops.js";

const median = (xs) => xs.sort((a, b) => a - b)[xs.length >> 1];
function time(f, reps = 9) {
  f();
  const t = [];
  for (let r = 0; r < reps; r++) {
    const t0 = performance.now();
    f();
    t.push(performance.now() - t0);
  }
  return median(t);
}
/** The same walk as gemm.ts packInto: Wp [outF/8][inF][8] from W [outF, inF]. */
function packOnly(W, outF, inF, Wp) {
  let k = 0;
  for (let p = 0; p < outF >> 3; p++) {
    const r0 = p * 8 * inF;
    for (let i = 0; i < inF; i++, k += 8) {
      const c = r0 + i;
      Wp[k] = W[c];
      Wp[k + 1] = W[c + inF];
      Wp[k + 2] = W[c + 2 * inF];
      Wp[k + 3] = W[c + 3 * inF];
      Wp[k + 4] = W[c + 4 * inF];
      Wp[k + 5] = W[c + 5 * inF];
      Wp[k + 6] = W[c + 6 * inF];
      Wp[k + 7] = W[c + 7 * inF];
    }
  }
}
console.log(
  `load ${os
    .loadavg()
    .map((x) => x.toFixed(1))
    .join(" ")}`,
);
console.log("shape (in -> out) | rows | linear ms | pack alone ms | pack share");
for (const [inF, outF] of [
  [768, 768],
  [768, 3072],
  [3072, 768],
]) {
  const W = Float32Array.from({ length: outF * inF }, (_, i) => Math.sin(i));
  const Wp = new Float32Array(outF * inF);
  const pack = time(() => packOnly(W, outF, inF, Wp));
  for (const rows of [1, 32, 512, 4096]) {
    const x = Float32Array.from({ length: rows * inF }, (_, i) => Math.cos(i));
    const y = new Float32Array(rows * outF);
    const t = time(() => linear(x, rows, inF, W, outF, null, y, { backend: "wasm", threads: 1 }));
    console.log(
      `${inF} -> ${outF} | ${rows} | ${t.toFixed(2)} | ${pack.toFixed(2)} | ${((100 * pack) / t).toFixed(1)} %`,
    );
  }
}
