// Per-row fixed costs of the wasm kernel (issue #12): small-query-tile patterns and dense,
// 1 thread, H = 8, D = 64, builds of several checkouts in ONE process, calls interleaved so
// every build sees the same load. compile() once per pattern and build; out / lse reused.
// Median of REPS-1 calls (after one warm-up round) per build and pattern; "kernel" takes off the
// per-call floor (copies in and out, input scan), measured in the same rounds with a plan that
// allows no pair (as bench/time-efficiency.mjs does).
// Usage: [N=16384] [DN=4096] [REPS=6] node bench/ab-rows.mjs <checkout-with-dist> [...]
import { loadavg } from "node:os";
import { resolve } from "node:path";

const dirs = process.argv.slice(2).map((d) => resolve(d));
if (dirs.length === 0) throw new Error("usage: node bench/ab-rows.mjs <checkout> [<checkout> ...]");
const mods = [];
for (const d of dirs) mods.push({ d, api: await import(`${d}/dist/index.js`) });
const n = Number(process.env.N ?? 16384),
  dn = Number(process.env.DN ?? 4096),
  H = 8,
  D = 64,
  reps = Number(process.env.REPS ?? 6);
const CASES = [
  ["dilated ±128 d=2", n, (p) => p.dilatedWindow({ left: 128, right: 128, dilation: 2 })],
  ["strided 128", n, (p) => p.strided({ stride: 128 })],
  ["dense", dn, (p) => p.dense()],
];
const med = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
for (const [label, len, make] of CASES) {
  const { randomTensor } = mods[0].api;
  const q = randomTensor([1, H, len, D], 1),
    k = randomTensor([1, H, len, D], 2),
    v = randomTensor([1, H, len, D], 3);
  const runs = mods.map((m) => {
    const opts = { backend: "wasm", threads: 1, out: randomTensor([1, H, len, D], 4), lse: new Float32Array(H * len) };
    const dims = { queryLength: len, heads: H, headDim: D };
    const nothing = m.api.patterns.mask(() => false, { tileKind: () => 0 });
    return [
      { ...opts, plan: m.api.compile(make(m.api.patterns), dims) },
      { ...opts, plan: m.api.compile(nothing, dims) },
    ];
  });
  const times = mods.map(() => [[], []]);
  for (let rep = 0; rep < reps; rep++) {
    for (let i = 0; i < mods.length; i++) {
      for (let j = 0; j < 2; j++) {
        const t0 = performance.now();
        mods[i].api.attention(q, k, v, runs[i][j]);
        if (rep > 0) times[i][j].push(performance.now() - t0);
      }
    }
  }
  const kernel = (i) => med(times[i][0]) - med(times[i][1]);
  for (let i = 0; i < mods.length; i++) {
    const m = med(times[i][0]);
    const kMs = kernel(i);
    console.log(
      `${label} n=${len}: ${mods[i].d} median ${m.toFixed(1)} ms, floor ${med(times[i][1]).toFixed(1)} ms, kernel ${kMs.toFixed(1)} ms (${((kMs / kernel(0) - 1) * 100).toFixed(1)} % vs first)`,
    );
  }
}
console.log(
  "load",
  loadavg()
    .map((x) => x.toFixed(2))
    .join(" "),
);
