/**
 * The check that the embedded kernel (src/backends/wasm/bytes.ts) is what assembly/ compiles
 * to. `npm test` builds first (rewriting the file), so the proof runs in CI before any build:
 * `.ci/run` calls `npm run check:wasm` (assembly/build.mjs --check). These tests prove that
 * check can fail: a copy with one modified byte is rejected, naming the variant and the byte.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { beforeAll, expect, test } from "vitest";
// @ts-expect-error: plain ESM build script without types
import { compareEmbedded, generate, OUTPUT } from "../assembly/build.mjs";

const script = fileURLToPath(new URL("../assembly/build.mjs", import.meta.url));
const dir = mkdtempSync(join(tmpdir(), "wasm-check-"));
let fresh = "";
beforeAll(async () => {
  fresh = await generate();
}, 120_000);

function check(file: string) {
  return spawnSync(process.execPath, [script, "--check", file], { encoding: "utf8", timeout: 120_000 });
}

/** Flips one bit of the byte at `at` in the base64 constant `name` of a bytes.ts source. */
function modifyByte(source: string, name: string, at: number): string {
  const m = new RegExp(`(export const ${name} =\\s*")([^"]*)"`).exec(source)!;
  const bytes = Buffer.from(m[2], "base64");
  bytes[at] ^= 1;
  return source.replace(m[2], bytes.toString("base64"));
}

test("the check passes on a fresh build and the committed file is one", { timeout: 120_000 }, () => {
  const file = join(dir, "fresh.ts");
  writeFileSync(file, fresh);
  const r = check(file);
  expect(r.stderr).toBe("");
  expect(r.status).toBe(0);
  expect(compareEmbedded(readFileSync(OUTPUT, "utf8"), fresh)).toEqual([]);
});

test("the check fails (exit 1) on one modified byte, naming the variant and the byte", { timeout: 120_000 }, () => {
  const file = join(dir, "modified.ts");
  writeFileSync(file, modifyByte(fresh, "WASM_PLAIN_RELAXED", 1000));
  const r = check(file);
  expect(r.status).toBe(1);
  expect(r.stderr).toContain("WASM_PLAIN_RELAXED differs from a fresh build at byte 1000");
  expect(compareEmbedded(modifyByte(fresh, "WASM_SHARED", 7), fresh)).toEqual([
    expect.stringContaining("WASM_SHARED differs from a fresh build at byte 7"),
  ]);
});
