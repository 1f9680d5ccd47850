// Runs ONE bench case in a fresh process (so peak RSS belongs to it) and prints a JSON line:
// { ms (median), times, reps, maxRssMB, setupRssMB, work, note, scale }.
// argv[2]: { contender: {peer, ...options}, n, H, D, pattern, reps, budgetMs }
import { randomTensor } from "../../dist/util/rng.js";

const spec = JSON.parse(process.argv[2]);
const { n, H, D, reps, budgetMs } = spec;
const q = randomTensor([1, H, n, D], 1);
const k = randomTensor([1, H, n, D], 2);
const v = randomTensor([1, H, n, D], 3);
const c = spec.contender;
const mod = await import(`./${c.peer}.mjs`);
const inst = await mod.setup({ ...c, q, k, v, n, pattern: spec.pattern });
const setupRssMB = process.memoryUsage().rss / 2 ** 20;
const cpuTimes = [];
const time = async () => {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  await inst.run();
  const ms = performance.now() - t0;
  const c = process.cpuUsage(c0);
  cpuTimes.push((c.user + c.system) / 1000);
  return ms;
};
const first = await time(); // warm-up (compiles, starts pools)
const count = Math.max(1, Math.min(reps, Math.floor(budgetMs / Math.max(first, 1e-3))));
const times = [];
for (let i = 0; i < count; i++) times.push(await time());
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
cpuTimes.shift(); // the warm-up
const scale = inst.scale ?? 1;
console.log(
  JSON.stringify({
    ms: median(times) * scale,
    cpuMs: median(cpuTimes) * scale, // CPU time of all threads: on a loaded machine, cpuMs of a 1-thread case approximates its idle wall time
    times,
    warmupMs: first,
    reps: count,
    scale,
    maxRssMB: process.resourceUsage().maxRSS / 1024,
    setupRssMB,
    work: inst.work?.() ?? null,
    note: inst.note ?? null,
  }),
);
process.exit(0);
