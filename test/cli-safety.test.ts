/**
 * CLI traps: `explain` of dense answers in O(1) (the library counts dense() in closed form;
 * counting its plan is O((n/64)²) and hangs at n = 10^8), and file errors are one line naming the path and the
 * reason, exit 1, no stack trace. Run as users run it: dist/cli/main.js in a child process.
 */
import { execFile } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, expect, it, test } from "vitest";
import { compile, explain, patterns } from "../src/index.js";

const MAIN = path.resolve(__dirname, "../dist/cli/main.js");
let tmp = "";

function cli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [MAIN, ...args], { maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === "number" ? err.code : 1) : 0, stdout, stderr });
    });
  });
}

beforeAll(() => {
  if (!existsSync(MAIN)) throw new Error(`${MAIN} is missing: run "npm run build" first (npm test does)`);
  tmp = mkdtempSync(path.join(os.tmpdir(), "sa-cli-safety-"));
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

test("explain(dense()) in closed form equals the accounting of the built plan on ragged shapes", () => {
  for (const [Lq, Lk, H, D, B] of [
    [1, 1, 1, 1, 1],
    [64, 64, 1, 64, 1],
    [65, 200, 3, 16, 2],
    [1000, 37, 2, 64, 1],
    [300, 4097, 1, 8, 3],
  ]) {
    const dims = { queryLength: Lq, keyLength: Lk, heads: H, headDim: D, batch: B };
    expect(explain(patterns.dense(), dims)).toEqual(explain(compile(patterns.dense(), dims)));
  }
});

test("explain(dense()) at n = 9·10^7 answers (counting its 2·10^12 tiles would not finish within the test timeout)", () => {
  const e = explain(patterns.dense(), { queryLength: 9e7, headDim: 64 });
  expect(e.scoredPairs).toBe(8.1e15);
  expect(e.tiles).toBe(1406250 * 1406250);
});

it("explain dense() at n = 9·10^7 answers without planning (B·H·Lq·Lk, under the 2^53 pair limit)", async () => {
  const r = await cli("explain", "dense()", "-n", "90000000", "--json");
  expect(r.code).toBe(0);
  const j = JSON.parse(r.stdout);
  expect(j.scoredPairs).toBe(8.1e15);
  expect(j.dense.scoredPairs).toBe(8.1e15);
  expect(j.dense.flops).toBe(4 * 64 * 8.1e15);
  expect(j.growth.exponent).toBeCloseTo(2, 10);
});

it("the dense column of a sparse pattern comes from the formula too", async () => {
  const r = await cli("explain", "slidingWindow(left=64, right=0)", "-n", "5000", "--key-length", "7000", "--json");
  expect(r.code).toBe(0);
  const want = explain(patterns.dense(), { queryLength: 5000, keyLength: 7000, headDim: 64 });
  expect(JSON.parse(r.stdout).dense).toEqual({ scoredPairs: want.scoredPairs, flops: want.flops, bytes: want.bytes });
});

it("file errors: one line with the path and the reason, exit 1, no stack trace", async () => {
  const file = path.join(tmp, "a-file");
  writeFileSync(file, "x");
  const cases: [string[], string, RegExp][] = [
    [
      ["show", "causal()", "-n", "8", "-o", path.join(tmp, "missing", "x.txt")],
      path.join(tmp, "missing", "x.txt"),
      /no such file or directory/,
    ],
    [["show", "causal()", "-n", "8", "-o", tmp], tmp, /it is a folder, not a file/],
    [
      ["show", "causal()", "-n", "8", "--format", "svg", "-o", path.join(file, "x.svg")],
      path.join(file, "x.svg"),
      /not a folder/,
    ],
    [["report", "--quick", "--no-progress", "-o", path.join(file, "rep")], path.join(file, "rep"), /not a folder/],
  ];
  for (const [args, where, reason] of cases) {
    const r = await cli(...args);
    expect(r.code, args.join(" ")).toBe(1);
    const lines = r.stderr.trim().split("\n");
    expect(lines, r.stderr).toHaveLength(1);
    expect(lines[0]).toContain(where);
    expect(lines[0]).toMatch(reason);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  }
});
