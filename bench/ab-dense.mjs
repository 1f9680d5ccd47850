// Dense wasm, 1 thread, n = 4,096, H = 8, D = 64: builds of several checkouts in ONE process,
// calls interleaved so every build sees the same machine load (a loaded machine makes separate
// runs incomparable). Median of 5 calls each (after one warm-up round), wall-clock GFLOP/s and
// FLOPs per CPU-second. The first directory's build loads first, so an old build that does not
// turn on relaxed SIMD itself loads before a newer one sets the V8 flag for the process.
// Usage: [N=4096] [REPS=6] node bench/ab-dense.mjs <checkout-with-dist> [<checkout-with-dist> ...]
//   an old build: mkdir /tmp/old && git archive <commit> | tar -x -C /tmp/old &&
//   ln -s "$PWD/node_modules" /tmp/old/node_modules && (cd /tmp/old && npx tsc -p tsconfig.build.json)
import { loadavg } from "node:os";
import { resolve } from "node:path";

const dirs = process.argv.slice(2).map((d) => resolve(d));
if (dirs.length === 0)
  throw new Error("usage: node bench/ab-dense.mjs <checkout> [<checkout> ...] (each with a built dist/)");
const mods = [];
for (const d of dirs)
  mods.push({ d, api: await import(`${d}/dist/index.js`), w: await import(`${d}/dist/backends/wasm/wasm.js`) });
const n = Number(process.env.N ?? 4096),
  H = 8,
  D = 64;
const { randomTensor } = mods[mods.length - 1].api;
const q = randomTensor([1, H, n, D], 1),
  k = randomTensor([1, H, n, D], 2),
  v = randomTensor([1, H, n, D], 3);
const flops = 4 * H * n * n * D;
const times = dirs.map(() => []);
const reps = Number(process.env.REPS ?? 6);
for (let rep = 0; rep < reps; rep++) {
  for (let i = 0; i < mods.length; i++) {
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    mods[i].api.attention(q, k, v, { backend: "wasm", threads: 1 });
    const ms = performance.now() - t0;
    const c = process.cpuUsage(c0);
    if (rep > 0) times[i].push([ms, (c.user + c.system) / 1000]);
  }
}
const med = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[s.length >> 1];
};
for (let i = 0; i < mods.length; i++) {
  const wall = med(times[i].map((x) => x[0]));
  const cpu = med(times[i].map((x) => x[1]));
  console.log(
    `${mods[i].d} (${mods[i].w.wasmVariant()}): median ${wall.toFixed(0)} ms wall = ${(flops / wall / 1e6).toFixed(1)} GFLOP/s; ${(flops / cpu / 1e6).toFixed(1)} GFLOP per CPU-second`,
  );
}
console.log(
  "load",
  loadavg()
    .map((x) => x.toFixed(2))
    .join(" "),
);
