/**
 * Issue 19, items 9 and 14 (the CLI's part): token ids never wrap around into another id, and a
 * pattern expression nested 5,000 deep is a one-line error, not a RangeError stack trace.
 * Run as users run it: dist/cli/main.js in a child process.
 */
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import path from "node:path";
import { expect, it } from "vitest";
import { parsePattern } from "../../src/catalog/pattern-expr.js";
import { checkIds } from "../../src/cli/encode.js";
import { caseDir } from "../models-case.js";

const MAIN = path.resolve(__dirname, "../../dist/cli/main.js");

function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  if (!existsSync(MAIN)) throw new Error(`${MAIN} is missing: run "npm run build" first (npm test does)`);
  return new Promise((resolve) => {
    execFile(process.execPath, [MAIN, ...args], { maxBuffer: 16 << 20 }, (e, stdout, stderr) => {
      resolve({ code: e ? (typeof e.code === "number" ? e.code : 1) : 0, stdout, stderr });
    });
  });
}

it("--ids: 4294967301 and 2147483648 are refused as typed, not run as 5 or -2147483648", async () => {
  const runs = await Promise.all([
    cli(["encode", "--model", caseDir("bigbird_tiny"), "--ids", "0,4294967301,2"]),
    cli(["encode", "--model", caseDir("bigbird_tiny"), "--ids", "2147483648"]),
    cli(["encode", "--model", caseDir("bigbird_tiny"), "--ids", "5,99999999999999999999999"]),
  ]);
  for (const r of runs) {
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr.split("\n").filter((l) => l.startsWith("error:"))).toHaveLength(1); // then the usage hint
    expect(r.stderr).not.toMatch(/\n\s+at /);
  }
  expect(runs[0].stderr).toMatch(/--ids: id 4294967301 \(number 2 in the list\) is not a token id of this model/);
  expect(runs[1].stderr).toMatch(/--ids: id 2147483648 \(number 1 in the list\)/);
  expect(runs[1].stderr).not.toContain("-2147483648");
  expect(runs[2].stderr).toMatch(/--ids: id 99999999999999999999999 \(number 2/);
});

it("checkIds keeps every id in [0, vocab) exactly and refuses the first outside it", () => {
  const typed = (s: string) => s.split(",").map((text) => ({ text, value: Number(text) }));
  expect(Array.from(checkIds(typed("0,1,999"), 1000))).toEqual([0, 1, 999]);
  expect(() => checkIds(typed("0,1000"), 1000)).toThrow(/id 1000 \(number 2 in the list\).*\[0, 1000\)/);
  expect(() => checkIds([{ text: "9007199254740993", value: Number.POSITIVE_INFINITY }], 1000)).toThrow(
    /id 9007199254740993/,
  );
});

it("explain with 5,000 nested brackets: one line naming the argument, exit 2, no stack trace", async () => {
  const deep = `${"[".repeat(5000)}${"]".repeat(5000)}`;
  const calls = `${"union(".repeat(5000)}causal()${")".repeat(5000)}`;
  for (const expr of [deep, calls, `globalTokens(${"{a:".repeat(5000)}1${"}".repeat(5000)})`]) {
    const r = await cli(["explain", expr, "-n", "64"]);
    expect(r.code, r.stderr.slice(0, 300)).toBe(2);
    expect(r.stderr.split("\n").filter((l) => l.startsWith("error:"))).toHaveLength(1); // then the usage hint
    expect(r.stderr.split("\n")[0].length).toBeLessThan(400);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(r.stderr).toMatch(/pattern: nested deeper than \d+ levels/);
    expect(r.stderr).not.toMatch(/RangeError|Maximum call stack/);
  }
  expect(() => parsePattern(`${"[".repeat(100_000)}`)).toThrow(/nested deeper than/);
});
