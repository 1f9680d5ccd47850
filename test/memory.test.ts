/**
 * O(n) memory: causal attention at Lq = Lk = 65,536 (D = 1, one head) in a child process,
 * whose peak RSS must stay under 300 MB — the float32 score matrix alone would be 16 GiB.
 */
import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { expect, test } from "vitest";

test("tiled causal attention at n = 65,536 stays under 300 MB peak RSS and skips empty tiles", () => {
  const n = 65536;
  const child = fileURLToPath(new URL("./memory-child.mjs", import.meta.url));
  const stdout = execFileSync(process.execPath, [child, String(n)], { encoding: "utf8", timeout: 300_000 });
  const r = JSON.parse(stdout.trim().split("\n").pop() as string);
  expect(r.finite).toBe(true);
  expect(r.allowedPairs).toBe((n * (n + 1)) / 2);
  expect(r.scoredPairs).toBeLessThanOrEqual(0.51 * n * n);
  expect(r.maxRSS).toBeLessThan(300 * 1024 * 1024);
  console.log(
    `n=${n}: peak RSS ${(r.maxRSS / 2 ** 20).toFixed(1)} MiB, ${(r.ms / 1000).toFixed(1)} s on ${r.backend}, scored ${(r.scoredPairs / (n * n)).toFixed(4)}·n²`,
  );
});
