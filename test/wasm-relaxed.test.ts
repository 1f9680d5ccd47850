/**
 * The relaxed-SIMD build (f32x4.relaxed_madd) is chosen at run time where the host validates
 * it. Node 20 validates it only with --experimental-wasm-relaxed-simd, which the library sets
 * itself when it loads the kernel (src/platform.ts), unless the user opted out with
 * --no-experimental-wasm-relaxed-simd. A child process runs with default flags (relaxed on
 * every Node >= 20), and one with the opt-out (plain SIMD on Node 20): each must match the
 * oracle and give bitwise identical results on 1 and 2 threads (the workers instantiate the
 * same module, so they run the fused build too).
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
  ["--no-experimental-wasm-relaxed-simd", major === 20 ? ["--no-experimental-wasm-relaxed-simd"] : []],
])("wasm build picked at run time (%s) matches the oracle, 1 vs 2 threads bit for bit", (name, flags) => {
  const r = run(flags as string[]);
  if (name === "default flags" || major >= 22) expect(r.variant).toBe("relaxed-simd");
  else expect(r.variant).toBe("simd"); // Node 20, opted out
  for (const c of r.cases) {
    expect(c.err).toBeLessThan(1e-5);
    expect(c.bitwise).toBe(true);
  }
});
