/**
 * linear() on the wasm build the host validates: Node 20 takes the relaxed-SIMD build (FMA,
 * 6-row micro-kernel) only with --experimental-wasm-relaxed-simd, so a child process runs
 * with the flag and one without; each must match the oracle and give bitwise identical
 * results on 1 and 2 threads.
 */
import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { expect, test } from "vitest";

const child = fileURLToPath(new URL("./gemm-relaxed-child.mjs", import.meta.url));
const major = Number(process.versions.node.split(".")[0]);

test.each([
  ["default flags", [] as string[]],
  ["--experimental-wasm-relaxed-simd", major === 20 ? ["--experimental-wasm-relaxed-simd"] : []],
])("linear on the wasm build picked at run time (%s): oracle, 1 vs 2 threads bit for bit", (name, flags) => {
  const stdout = execFileSync(process.execPath, [...flags, child], { encoding: "utf8", timeout: 60_000 });
  const r = JSON.parse(stdout.trim().split("\n").pop() as string) as {
    variant: string;
    cases: { err: number; bitwise: boolean }[];
  };
  if (name !== "default flags" && major === 20) expect(r.variant).toBe("relaxed-simd");
  if (major >= 22) expect(r.variant).toBe("relaxed-simd");
  expect(r.cases.length).toBe(4);
  for (const c of r.cases) {
    expect(c.err).toBeLessThan(1e-5);
    expect(c.bitwise).toBe(true);
  }
});
