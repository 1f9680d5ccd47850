// Child process for test/memory.test.ts: causal attention at Lq = Lk = N, D = 1, one head.
// Prints JSON { maxRSS, scoredPairs, allowedPairs, finite }.
import { attention, patterns } from "../dist/index.js";
import { randomTensor } from "../dist/util/rng.js";

const n = Number(process.argv[2] ?? 65536);
const q = randomTensor([1, 1, n, 1], 1);
const k = randomTensor([1, 1, n, 1], 2);
const v = randomTensor([1, 1, n, 1], 3);
const t0 = performance.now();
const r = attention(q, k, v, { pattern: patterns.causal() });
const ms = performance.now() - t0;
let finite = true;
for (const x of r.out.data) if (!Number.isFinite(x)) finite = false;
const maxRSS = process.resourceUsage().maxRSS * 1024; // kilobytes -> bytes
console.log(
  JSON.stringify({
    maxRSS,
    ms,
    scoredPairs: r.stats.scoredPairs,
    allowedPairs: r.stats.allowedPairs,
    bytes: r.stats.bytes,
    backend: r.stats.backend,
    finite,
  }),
);
