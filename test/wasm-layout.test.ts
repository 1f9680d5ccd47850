/**
 * The one layout table of the wasm memory (assembly/layout.mjs) and its two generated views:
 * assembly/layout.ts (byte offsets, read by the AssemblyScript kernel) and
 * src/backends/wasm/layout.ts (word indices, read by the host and the pool's worker source).
 * The two sides must agree with the table and with each other, the committed files must be
 * what the table generates (`npm run check:wasm` fails otherwise), and no descriptor offset is
 * written as a literal in the code that reads or writes descriptors.
 */
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { expect, test } from "vitest";
// @ts-expect-error: plain ESM build script without types
import { LAYOUTS, layoutProblems } from "../assembly/build.mjs";
// @ts-expect-error: plain ESM table without types
import { CTL, ITEM_KINDS, MEMORY, STRUCTS } from "../assembly/layout.mjs";
import * as host from "../src/backends/wasm/layout.js";

const read = (rel: string) => readFileSync(fileURLToPath(new URL(`../${rel}`, import.meta.url)), "utf8");

/** `export const NAME: type = value;` of the generated AssemblyScript file. */
function assemblyConstants(): Map<string, number> {
  const out = new Map<string, number>();
  for (const m of read("assembly/layout.ts").matchAll(/export const (\w+): \w+ = (-?\d+);/g))
    out.set(m[1], Number(m[2]));
  return out;
}

type Field = [string, string, string?];
type Struct = { words: number; fields: Field[] };

test("the kernel's byte offsets and the host's word indices are the same table", () => {
  const asm = assemblyConstants();
  const hostTable = host as unknown as Record<string, unknown>;
  for (const [name, s] of Object.entries(STRUCTS as Record<string, Struct>)) {
    const words = hostTable[name] as Record<string, number>;
    expect(hostTable[`${name}_WORDS`]).toBe(s.words);
    expect(asm.get(`${name}_BYTES`)).toBe(s.words * 4);
    expect(Object.keys(words)).toEqual(s.fields.map((f) => f[0]));
    s.fields.forEach(([field], i) => {
      expect(words[field]).toBe(i);
      expect(asm.get(`${name}_${field}`)).toBe(4 * words[field]); // the two sides, field by field
    });
  }
  for (const [n, v] of ITEM_KINDS as [string, number][]) {
    expect(asm.get(n)).toBe(v);
    expect(hostTable[n]).toBe(v);
  }
  expect(Object.keys(host.CTL)).toEqual((CTL.fields as Field[]).map((f) => f[0]));
  expect(host.CTL_WORDS).toBe(CTL.words);
  for (const [n, v] of MEMORY as [string, number][]) expect(hostTable[n]).toBe(v);
  expect(host.CTL_OFFSET + 4 * host.CTL_WORDS).toBeLessThanOrEqual(host.DATA_START);
});

test("the committed layout files are what the table generates; a hand edit is caught", () => {
  expect(layoutProblems()).toEqual([]);
  const [asmFile] = LAYOUTS[0] as [string];
  const edited = (file: string) => {
    const text = readFileSync(file, "utf8");
    return file === asmFile ? text.replace("HEAD_D: usize = 28", "HEAD_D: usize = 32") : text;
  };
  expect(layoutProblems(edited)).toEqual([`${asmFile} differs from what assembly/layout.mjs generates`]);
});

test("no descriptor offset is a literal where descriptors are read or written", () => {
  for (const f of ["assembly/kernel.ts", "assembly/merge.ts", "assembly/gemm.ts"]) {
    // load<T>(head | part | item | desc, <number>): every offset must be a layout constant
    expect(read(f).match(/load<\w+>\((head|part|item|desc)(, *\d+)?\)/g) ?? [], f).toEqual([]);
  }
  for (const f of ["src/backends/wasm/wasm.ts", "src/backends/wasm/wasm-plan.ts", "src/backends/wasm/gemm.ts"]) {
    // i32[w + 3] / f32[d + 8] style word writes: every index must name its field
    expect(read(f).match(/(i32|f32|u32)\[(w|d) \+ \d+\]/g) ?? [], f).toEqual([]);
  }
  expect(read("src/backends/wasm/pool.ts")).not.toMatch(/const (GEN|TICKET|DONE|BARRIER) = \d/);
});
