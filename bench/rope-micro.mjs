// node bench/rope-micro.mjs [--length 8192] [--threads 2] [--repeats 7]
// splitQkvRope at ModernBERT-base shapes (H = 12, D = 64, B = 1): the js loops against the wasm
// kernel on the pool (both through the dispatcher), interleaved in one process; median ms of
// each, and `uptime` load (the machine is shared).
import { execFileSync } from "node:child_process";
import { splitQkvRope } from "../dist/backends/dispatch.js";
import { ropeTables } from "../dist/models/modernbert/ops.js";

const arg = (name, d) => {
  const i = process.argv.indexOf(`--${name}`);
  return i < 0 ? d : Number(process.argv[i + 1]);
};
const L = arg("length", 8192);
const threads = arg("threads", 2);
const repeats = arg("repeats", 7);
const H = 12;
const D = 64;
const n = L * H * D;
const qkv = new Float32Array(3 * n);
for (let i = 0; i < qkv.length; i++) qkv[i] = Math.sin(i * 0.37) * 3;
const { cos, sin } = ropeTables(160000, D, L);
const q = new Float32Array(n);
const k = new Float32Array(n);
const v = new Float32Array(n);
const times = { js: [], wasm: [] };
for (let r = -1; r < repeats; r++) {
  for (const backend of ["js", "wasm"]) {
    const t = performance.now();
    splitQkvRope(qkv, q, k, v, 1, L, H, D, cos, sin, { backend, threads });
    if (r >= 0) times[backend].push(performance.now() - t); // r = -1: warm-up
  }
}
const med = (a) => a.slice().sort((x, y) => x - y)[a.length >> 1];
const load = execFileSync("uptime")
  .toString()
  .trim()
  .replace(/.*load average: /, "");
console.log(
  `L = ${L}, H = ${H}, D = ${D}, threads ${threads}, median of ${repeats}: js ${med(times.js).toFixed(1)} ms, ` +
    `wasm ${med(times.wasm).toFixed(1)} ms (${(med(times.js) / med(times.wasm)).toFixed(2)}×); load ${load}`,
);
