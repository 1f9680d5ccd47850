/**
 * A sliding window (256 each side) plus 4 global tokens at n = 131,072, D = 64, one head, run
 * in a child process on the built package (dist/, built by `pretest`), within the memory of the
 * inputs plus O(n·D): peak RSS <= the child's RSS before allocating + inputs (q, k, v) +
 * outputs (out, lse) + 12·n·D·4 bytes (room for a backend's copy of inputs and outputs, the plan and GC slack).
 * A dense score matrix would be n²·4 bytes = 64 GiB. Also: stats.scoredPairs grows linearly
 * with n (explain at n/4, n/2, n), and spot rows (globals, ends, random) equal a float64
 * computation with the exact mask.
 */
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { expect, test } from "vitest";
import { explain } from "../src/explain.js";
import { longformer } from "../src/pattern/longformer.js";

const N = 131_072;
const D = 64;
const W = 256;
const GLOBAL = [0, 1000, N / 2, N - 1];
const DIST = path.resolve(__dirname, "../dist/index.js");
const RNG = path.resolve(__dirname, "../dist/util/rng.js");

const CHILD = `
import { attention, patterns } from ${JSON.stringify(pathToFileURL(DIST).href)};
import { randomTensor } from ${JSON.stringify(pathToFileURL(RNG).href)};
const [n, D, W] = [${N}, ${D}, ${W}];
const global = ${JSON.stringify(GLOBAL)};
const before = process.memoryUsage().rss;
const q = randomTensor([1, 1, n, D], 1);
const k = randomTensor([1, 1, n, D], 2);
const v = randomTensor([1, 1, n, D], 3);
const t0 = performance.now();
const r = attention(q, k, v, { pattern: patterns.longformer({ window: W, global }) });
const ms = performance.now() - t0;
const maxRSS = process.resourceUsage().maxRSS * 1024; // kilobytes -> bytes
// spot rows against float64 with the exact mask
let maxErr = 0;
const scale = 1 / Math.sqrt(D);
for (const i of [0, 1, 255, 256, 1000, 4097, 65_536, 99_999, n - 2, n - 1]) {
  const keys = [];
  for (let j = 0; j < n; j++) if (Math.abs(i - j) <= W || global.includes(i) || global.includes(j)) keys.push(j);
  const s = keys.map((j) => { let d = 0; for (let t = 0; t < D; t++) d += q.data[i * D + t] * k.data[j * D + t]; return d * scale; });
  let m = -Infinity;
  for (const x of s) if (x > m) m = x;
  const p = s.map((x) => Math.exp(x - m));
  const l = p.reduce((a, b) => a + b, 0);
  for (let t = 0; t < D; t++) {
    let o = 0;
    keys.forEach((j, c) => { o += p[c] * v.data[j * D + t]; });
    maxErr = Math.max(maxErr, Math.abs(o / l - r.out.data[i * D + t]));
  }
}
console.log(JSON.stringify({ before, maxRSS, ms, maxErr, backend: r.stats.backend,
  allowedPairs: r.stats.allowedPairs, scoredPairs: r.stats.scoredPairs }));
`;

test("sliding window 256 + 4 globals at n = 131,072, D = 64: memory within inputs + O(n·D), linear work, exact spot rows", () => {
  expect(existsSync(DIST), `${DIST} (the build the child process imports): run npm run build`).toBe(true);
  const stdout = execFileSync(process.execPath, ["--input-type=module", "-e", CHILD], {
    encoding: "utf8",
    timeout: 600_000,
  });
  const r = JSON.parse(stdout.trim().split("\n").pop() as string);
  const inputs = 3 * N * D * 4;
  const outputs = N * D * 4 + N * 4;
  const bound = r.before + inputs + outputs + 12 * N * D * 4;
  expect(r.maxErr).toBeLessThan(1e-5);
  expect(r.maxRSS).toBeLessThan(bound);
  const pattern = longformer({ window: W, global: GLOBAL });
  expect(r.allowedPairs).toBe(explain(pattern, { queryLength: N, headDim: D }).allowedPairs);
  const scored = [N / 4, N / 2, N].map(
    (n) =>
      explain(longformer({ window: W, global: [0, 1000, n / 2, n - 1] }), {
        queryLength: n,
        headDim: D,
      }).scoredPairs,
  );
  expect(r.scoredPairs).toBe(scored[2]);
  expect(scored[1] / scored[0]).toBeGreaterThan(1.9);
  expect(scored[1] / scored[0]).toBeLessThan(2.1);
  expect(scored[2] / scored[1]).toBeGreaterThan(1.9);
  expect(scored[2] / scored[1]).toBeLessThan(2.1);
  expect(r.scoredPairs).toBeLessThan(1.1 * r.allowedPairs);
  console.log(
    `n=${N}: peak RSS ${(r.maxRSS / 2 ** 20).toFixed(0)} MiB (bound ${(bound / 2 ** 20).toFixed(0)} MiB, before ${(r.before / 2 ** 20).toFixed(0)} MiB), ${(r.ms / 1000).toFixed(1)} s on ${r.backend}, efficiency ${(r.allowedPairs / r.scoredPairs).toFixed(3)}`,
  );
}, 600_000);
