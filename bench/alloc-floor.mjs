#!/usr/bin/env node
// What the per-call floor of bench/time-efficiency.mjs is made of, at B = 1, H = 8, n = 65,536,
// D = 64 (134 MB per tensor): allocating a fresh Float32Array of that size and writing it (the
// result attention() returns), against writing a reused one; copying three such tensors into a
// WebAssembly memory. Medians of 5. Usage: node bench/alloc-floor.mjs [--n 65536] [--heads 8]
import { parseArgs } from "node:util";
import { median } from "./lib.mjs";

const { values } = parseArgs({
  options: { n: { type: "string", default: "65536" }, heads: { type: "string", default: "8" } },
});
const N = Number(values.heads) * Number(values.n) * 64; // floats per [1, H, n, 64] tensor
const mem = new WebAssembly.Memory({ initial: Math.ceil((3 * N * 4) / 65536), maximum: 65536, shared: true });
const wasm = new Float32Array(mem.buffer);
const src = new Float32Array(N).fill(1.5);
const reused = new Float32Array(N);
const t = { "fresh array + fill": [], "reused array + fill": [], "copy q, k, v into wasm memory": [] };
for (let r = 0; r < 5; r++) {
  let t0 = performance.now();
  new Float32Array(N).fill(r);
  t["fresh array + fill"].push(performance.now() - t0);
  t0 = performance.now();
  reused.fill(r);
  t["reused array + fill"].push(performance.now() - t0);
  t0 = performance.now();
  for (let i = 0; i < 3; i++) wasm.set(src, i * N);
  t["copy q, k, v into wasm memory"].push(performance.now() - t0);
}
console.log(`one tensor: ${((N * 4) / 1e6).toFixed(0)} MB; medians of 5 (ms)`);
for (const [k, v] of Object.entries(t)) console.log(`  ${k.padEnd(32)} ${median(v).toFixed(1)}`);
