// Interleaved A/B of builds (issue 18's "no slowdown over 2 %"): dense wasm attention, sliding
// window attention and the 12-layer base-size Longformer model, each build's call right after
// the other's in ONE process, so both see the same machine load. Medians of REPS rounds after a
// warm-up round; prints the ratio B/A per case and the load average.
// Usage: [REPS=7] [MODEL_L=1024] [THREADS=1] node bench/ab-backends.mjs <checkout-A> <checkout-B>
//   (each with a built dist/; an old build: git archive <commit> | tar -x -C /tmp/old, link
//   node_modules, npm run build there)
import { loadavg } from "node:os";
import { resolve } from "node:path";
import { baseCheckpoint, VOCAB } from "./base-checkpoint.mjs";

const dirs = process.argv.slice(2).map((d) => resolve(d));
if (dirs.length < 2) throw new Error("usage: node bench/ab-backends.mjs <checkout-A> <checkout-B>");
const reps = Number(process.env.REPS ?? 7);
const threads = Number(process.env.THREADS ?? 1);
const modelL = Number(process.env.MODEL_L ?? 1024);
const layers = Number(process.env.LAYERS ?? 12);
const mods = [];
for (const d of dirs) {
  mods.push({ d, api: await import(`${d}/dist/index.js`), models: await import(`${d}/dist/models/index.js`) });
}
const { randomTensor, patterns } = mods[0].api;
const H = 8;
const D = 64;
const dense = { n: 2048, q: null };
dense.q = [1, 2, 3].map((s) => randomTensor([1, H, dense.n, D], s));
const slideN = 16384;
const slide = [4, 5, 6].map((s) => randomTensor([1, H, slideN, D], s));
const sliding = patterns.slidingWindow({ left: 256, right: 256 });
const { config, weights } = baseCheckpoint(layers, modelL + 2);
const models = [];
for (const m of mods) models.push(await m.models.loadModel({ config, weights }));
const ids = new Int32Array(modelL);
for (let i = 0; i < modelL; i++) ids[i] = 5 + ((i * 7919) % (VOCAB - 5));
const g = new Int32Array(modelL);
g[0] = 1;
const inputs = { inputIds: { data: ids, shape: [1, modelL] }, globalAttentionMask: { data: g, shape: [1, modelL] } };

const cases = {
  [`dense n=${dense.n} H=${H} D=${D}`]: (i) =>
    mods[i].api.attention(dense.q[0], dense.q[1], dense.q[2], { backend: "wasm", threads }),
  [`sliding ±256 n=${slideN} H=${H} D=${D}`]: (i) =>
    mods[i].api.attention(slide[0], slide[1], slide[2], { pattern: sliding, backend: "wasm", threads }),
  [`model ${layers} layers L=${modelL}`]: (i) => models[i].forward(inputs, { threads }),
};
const times = Object.fromEntries(Object.keys(cases).map((c) => [c, dirs.map(() => [])]));
const loads = [];
for (let rep = 0; rep <= reps; rep++) {
  for (const [name, run] of Object.entries(cases)) {
    // alternate which build goes first, so neither always runs right after the other's garbage
    const order = rep % 2 === 0 ? [0, 1] : [1, 0];
    for (const i of order) {
      const t0 = performance.now();
      await run(i);
      const ms = performance.now() - t0;
      if (rep > 0) times[name][i].push(ms);
    }
  }
  loads.push(loadavg()[0]);
}
const med = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
console.log(`A = ${dirs[0]}\nB = ${dirs[1]}\nthreads ${threads}, median of ${reps} interleaved rounds`);
for (const [name, t] of Object.entries(times)) {
  const a = med(t[0]);
  const b = med(t[1]);
  console.log(`${name}: A ${a.toFixed(1)} ms, B ${b.toFixed(1)} ms, B/A ${(b / a).toFixed(3)}`);
}
console.log(`load (1-min average per round): ${loads.map((x) => x.toFixed(1)).join(" ")}`);
