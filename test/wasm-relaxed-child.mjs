// Child process for test/wasm-relaxed.test.ts (run with and without relaxed SIMD): the wasm
// kernel against the float64 oracle (errors relative to the inputs' scale) and 1 vs 2 threads bit for bit. Prints JSON.

import { wasmVariant } from "../dist/backends/wasm/wasm.js";
import { attention, patterns } from "../dist/index.js";
import { Rng } from "../dist/util/rng.js";

const rng = new Rng(11);
const cases = [];
for (const [Lq, Lk, D, scale, pattern] of [
  [300, 257, 64, 1, patterns.dense()],
  [200, 200, 24, 1000, patterns.causal()],
  [130, 190, 8, 1, patterns.mask((q, k) => q % 7 !== 3 && (q * 31 + k * 17) % 5 !== 0)],
]) {
  const t = (L) => {
    const data = new Float32Array(2 * L * D);
    for (let i = 0; i < data.length; i++) data[i] = rng.normal() * scale;
    return { data, shape: [1, 2, L, D] };
  };
  const q = t(Lq);
  const k = t(Lk);
  const v = t(Lk);
  const one = attention(q, k, v, { pattern, backend: "wasm", threads: 1 });
  const two = attention(q, k, v, { pattern, backend: "wasm", threads: 2 });
  const ref = attention(q, k, v, { pattern, backend: "reference" });
  let err = 0;
  let bitwise = true;
  for (let i = 0; i < one.out.data.length; i++) {
    err = Math.max(err, Math.abs(one.out.data[i] - ref.out.data[i]) / scale); // v is scaled too
    if (!Object.is(one.out.data[i], two.out.data[i])) bitwise = false;
  }
  for (let i = 0; i < one.lse.length; i++) {
    if (!Object.is(one.lse[i], two.lse[i])) bitwise = false;
    const a = one.lse[i];
    const b = ref.lse[i];
    if (a !== b) err = Math.max(err, Math.abs(a - b) / Math.max(1, Math.abs(b))); // relative: logits up to ×1000²
  }
  cases.push({ Lq, Lk, D, scale, err, bitwise });
}
console.log(JSON.stringify({ variant: wasmVariant(), cases }));
