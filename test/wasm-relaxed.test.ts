/**
 * The relaxed-SIMD build (f32x4.relaxed_madd) is chosen at run time where the host validates
 * it. Node 20 validates it only with --experimental-wasm-relaxed-simd, so a child process runs
 * with the flag (Node 20) and one without: each must pick the build its host validates, match
 * the oracle and give bitwise identical results on 1 and 2 threads.
 */
import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { expect, test } from "vitest";

const child = fileURLToPath(new URL("./wasm-relaxed-child.mjs", import.meta.url));
const major = Number(process.versions.node.split(".")[0]);

function run(flags: string[]) {
  const stdout = execFileSync(process.execPath, [...flags, child], { encoding: "utf8", timeout: 60_000 });
  return JSON.parse(stdout.trim().split("\n").pop() as string) as {
    variant: string;
    cases: { err: number; bitwise: boolean }[];
  };
}

test.each([
  ["default flags", []],
  ["--experimental-wasm-relaxed-simd", major === 20 ? ["--experimental-wasm-relaxed-simd"] : []],
])("wasm build picked at run time (%s) matches the oracle, 1 vs 2 threads bit for bit", (name, flags) => {
  const r = run(flags as string[]);
  if (name !== "default flags" && major === 20) expect(r.variant).toBe("relaxed-simd");
  if (name === "default flags" && major === 20) expect(r.variant).toBe("simd");
  if (major >= 22) expect(r.variant).toBe("relaxed-simd");
  for (const c of r.cases) {
    expect(c.err).toBeLessThan(1e-5);
    expect(c.bitwise).toBe(true);
  }
});
