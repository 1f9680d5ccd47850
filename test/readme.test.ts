/** The README's API example runs as written (against the built package, by its own name). */
import { execFileSync } from "node:child_process";
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { expect, test } from "vitest";

test("README API example runs and prints what it claims", () => {
  const root = fileURLToPath(new URL("..", import.meta.url));
  const readme = readFileSync(`${root}README.md`, "utf8");
  const block = readme.split("## API")[1].match(/```ts\n([\s\S]*?)```/);
  expect(block).not.toBeNull();
  // strip the TypeScript-only casts so plain node can run it
  const js = (block as RegExpMatchArray)[1].replace(/ as \[number, number, number, number\]/g, "");
  const file = `${root}test/.readme-example.mjs`;
  writeFileSync(file, js);
  try {
    const out = execFileSync(process.execPath, [file], { encoding: "utf8", cwd: root }).trim().split("\n");
    expect(out[0]).toBe("[ 1, 2, 1000, 64 ] 2000");
    const [allowed, scored] = out[1].split(" ").map(Number);
    expect(allowed).toBeGreaterThan(0);
    expect(scored).toBeGreaterThanOrEqual(allowed);
    expect(out[2]).toBe("true");
    // the same example at n = 16,384: the pattern is analytic enough to plan and explain fast
    // (issue #9 measured the old README pattern at 11 s and 87 MB of masks to explain)
    writeFileSync(file, js.replace("const n = 1000;", "const n = 16384;"));
    const big = execFileSync(process.execPath, [file], { encoding: "utf8", cwd: root }).trim().split("\n");
    expect(big[0]).toBe("[ 1, 2, 16384, 64 ] 32768");
    expect(big[2]).toBe("true");
  } finally {
    rmSync(file, { force: true });
  }
});
