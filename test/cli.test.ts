/**
 * The `sparse-attention` CLI, run as users run it: the built dist/cli/main.js in a child
 * process (`npm test` builds first). Every command: --help, a typical call, a bad call (exit 2).
 */
import { execFile } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { XMLValidator } from "fast-xml-parser";
import { PNG } from "pngjs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { attention, type Pattern, patterns, type Tensor } from "../src/index.js";
import { randomTensor } from "../src/util/rng.js";

const MAIN = path.resolve(__dirname, "../dist/cli/main.js");
let tmp = "";

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function cli(...args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    execFile(process.execPath, [MAIN, ...args], { maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === "number" ? err.code : 1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

/** Runs every argument list at once; pairs each with its result. */
async function cliAll(list: string[][]): Promise<[string[], Run][]> {
  const runs = await Promise.all(list.map((args) => cli(...args)));
  return runs.map((r, i) => [list[i], r]);
}

beforeAll(() => {
  if (!existsSync(MAIN)) throw new Error(`${MAIN} is missing: run "npm run build" first (npm test does)`);
  tmp = mkdtempSync(path.join(os.tmpdir(), "sa-cli-"));
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe("the bin", () => {
  it("starts with a node shebang", () => {
    expect(readFileSync(MAIN, "utf8").startsWith("#!/usr/bin/env node\n")).toBe(true);
  });

  it("no command, an unknown command or an unknown option: usage and exit 2", async () => {
    for (const [args, r] of await cliAll([[], ["frob"], ["show", "causal()", "--frob"]])) {
      expect(r.code, args.join(" ")).toBe(2);
      expect(r.stderr + r.stdout).toMatch(/Usage|--help/);
    }
  });
});

describe("misspelled pattern options", () => {
  it("are an error with a did-you-mean and exit 2 (issue #9: they were ignored)", async () => {
    for (const [args, r] of await cliAll([
      ["explain", "longformer(window=4, globl=[0])", "-n", "32"],
      ["show", "slidingWindow(left=2, rigth=1)", "-n", "16"],
    ])) {
      expect(r.code, args.join(" ")).toBe(2);
      expect(r.stderr, args.join(" ")).toMatch(/unknown option "(globl|rigth)".*did you mean "(global|right)"/);
    }
  });
});

describe.each(["show", "explain", "bench", "report"])("%s --help", (cmd) => {
  it("prints the accepted form and exits 0 (also as `help <command>`)", async () => {
    for (const [args, r] of await cliAll([
      [cmd, "--help"],
      ["help", cmd],
    ])) {
      expect(r.code, args.join(" ")).toBe(0);
      expect(r.stdout).toContain(`Usage: sparse-attention ${cmd}`);
      expect(r.stdout).toContain("--");
    }
  });
});

it("--version prints the package version", async () => {
  const r = await cli("--version");
  expect(r.code).toBe(0);
  expect(r.stdout.trim()).toBe(JSON.parse(readFileSync(path.resolve(__dirname, "../package.json"), "utf8")).version);
});

describe("show", () => {
  it("text grid equals the pattern's dense mask", async () => {
    const n = 20;
    const r = await cli("show", "longformer(window=2, global=[7])", "--query-length", String(n), "--no-color");
    expect(r.code).toBe(0);
    const mask = patterns
      .longformer({ window: 2, global: [7] })
      .bind({ queryLength: n, keyLength: n, heads: 1, headDim: 4 }).mask;
    const lines = r.stdout.split("\n").slice(1, 1 + n);
    for (let qi = 0; qi < n; qi++) {
      expect([...lines[qi]].map((c) => c === "█")).toEqual(Array.from({ length: n }, (_, ki) => mask(qi, ki, 0)));
    }
  });

  it("--batch/--row draw one row of a per-row pattern (perBatch, keyPadding); a row past the batch exits 2", async () => {
    const n = 12;
    const lengths = [12, 5, 9];
    const [r0, r1, r2, bad, noBatch] = await cliAll([
      ...[0, 1, 2].map((row) => [
        "show",
        "keyPadding([12, 5, 9])",
        "-n",
        String(n),
        "--batch",
        "3",
        "--row",
        String(row),
        "--no-color",
      ]),
      ["show", "keyPadding([12, 5, 9])", "-n", String(n), "--batch", "3", "--row", "3"],
      ["show", "keyPadding([12, 5, 9])", "-n", String(n)],
    ]);
    for (const [row, [, r]] of [r0, r1, r2].entries()) {
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout.split("\n")[0]).toContain(`row ${row}, head 0: ${n * lengths[row]} allowed`);
      const lines = r.stdout.split("\n").filter((l) => /^[█·]+$/.test(l));
      expect(lines).toHaveLength(n);
      for (const l of lines) expect(l).toBe("█".repeat(lengths[row]) + "·".repeat(n - lengths[row]));
    }
    expect(bad[1].code).toBe(2);
    expect(bad[1].stderr).toContain("--row: got 3; expected an integer in [0, 2] (--batch is 3)");
    expect(noBatch[1].code).toBe(2);
    expect(noBatch[1].stderr).toContain("--batch on the CLI");
  });

  it("says why a sparse pattern is nearly dense at a small n (and says nothing where it is sparse)", async () => {
    const small = await cli("show", "bigBird(blockSize=16)", "-n", "100", "--no-color");
    expect(small.code).toBe(0);
    expect(small.stdout.split("\n")[1]).toMatch(/note: at this size .* % of all pairs are allowed/);
    const sparse = await cli("show", "slidingWindow(left=2, right=2)", "-n", "64", "--no-color");
    expect(sparse.code).toBe(0);
    expect(sparse.stdout).not.toMatch(/note:/);
  });

  it("writes valid SVG to stdout and a decodable PNG to a file", async () => {
    const svg = await cli("show", "strided(stride=4)", "-n", "40", "--format", "svg");
    expect(svg.code).toBe(0);
    expect(XMLValidator.validate(svg.stdout)).toBe(true);
    const file = path.join(tmp, "s.png");
    const png = await cli(
      "show",
      "bigBird(blockSize=8, randomBlocks=1, seed=2)",
      "-n",
      "64",
      "--format",
      "png",
      "-o",
      file,
      "--size",
      "128",
    );
    expect(png.code).toBe(0);
    const img = PNG.sync.read(readFileSync(file));
    expect(img.width).toBeGreaterThanOrEqual(128);
  });

  it("bad calls exit 2 and say what was wrong and the accepted form", async () => {
    const cases: [string[], RegExp][] = [
      [["show", "causal("], /character 8.*expected a pattern call/],
      [["show", "nope()"], /unknown pattern "nope".*slidingWindow/],
      [["show", "slidingWindow(left=-1, right=0)"], /left.*got -1.*expected/],
      [["show", "causal()", "-n", "0"], /expected an integer >= 1/],
      [["show", "causal()", "--format", "gif"], /text, svg, png/],
      [["show", "causal()", "--format", "png"], /needs --out/],
      [["show", "causal()", "--heads", "2", "--head", "2"], /--head: got 2/],
      [["show", "lsh(buckets=4, hashes=1, chunkLength=4)", "-n", "16", "--key-length", "8"], /--key-length/],
    ];
    const runs = await cliAll(cases.map((c) => c[0]));
    for (const [i, [args, r]] of runs.entries()) {
      const msg = cases[i][1];
      expect(r.code, args.join(" ")).toBe(2);
      expect(r.stderr, args.join(" ")).toMatch(msg);
    }
  });
});

describe("explain", () => {
  const cases: [string, Pattern][] = [
    ["causal()", patterns.causal()],
    [
      "longformer(window=3, dilation=2, global=[0, 9])",
      patterns.longformer({ window: 3, dilation: 2, global: [0, 9] }),
    ],
    ["strided(stride=7)", patterns.strided({ stride: 7 })],
    ["fixed(block=8, summary=2)", patterns.fixed({ block: 8, summary: 2 })],
    ["bigBird(blockSize=16, randomBlocks=2, seed=4)", patterns.bigBird({ blockSize: 16, randomBlocks: 2, seed: 4 })],
    [
      "lsh(buckets=8, hashes=2, chunkLength=16, seed=3)",
      patterns.lsh({ buckets: 8, hashes: 2, chunkLength: 16, seed: 3 }),
    ],
  ];
  it.each(cases)("%s: the numbers agree with attention()'s stats", async (src, p) => {
    const [B, H, n, D, seed] = [2, 2, 150, 8, 5];
    const r = await cli(
      "explain",
      src,
      "-n",
      String(n),
      "--heads",
      String(H),
      "--head-dim",
      String(D),
      "--batch",
      String(B),
      "--seed",
      String(seed),
      "--json",
    );
    expect(r.code, r.stderr).toBe(0);
    const e = JSON.parse(r.stdout);
    // The CLI plans a content-dependent pattern from q = k = randomTensor([B, H, n, D], seed).
    const q = randomTensor([B, H, n, D], seed) as Tensor;
    const v = randomTensor([B, H, n, D], 99) as Tensor;
    const { stats } = attention(q, q, v, { pattern: p });
    expect(e.allowedPairs).toBe(stats.allowedPairs);
    expect(e.scoredPairs).toBe(stats.scoredPairs);
    expect(e.flops).toBe(stats.flops);
    expect(e.tiles).toBe(stats.tiles);
    // Working memory is the plan + scratch of the js kernel; the wasm backend adds its own copies of the inputs.
    expect(e.bytes).toBe(attention(q, q, v, { pattern: p, backend: "js" }).stats.bytes);
    expect(e.dense.scoredPairs).toBe(B * H * n * n);
    expect(e.scoredPairs).toBeLessThan(e.dense.scoredPairs);
  });

  it("prints a readable table next to dense", async () => {
    const r = await cli("explain", "slidingWindow(left=16, right=0)", "-n", "1024", "--head-dim", "64");
    expect(r.code).toBe(0);
    for (const s of ["scored pairs", "FLOPs", "working memory", "less work than dense", "window", "≈ O(n)"])
      expect(r.stdout).toContain(s);
  });

  it("bad calls exit 2", async () => {
    for (const [args, r] of await cliAll([
      ["explain", "causal()"],
      ["explain", "causal()", "-n", "1.5"],
      ["explain", "lsh(buckets=3, hashes=1, chunkLength=4)", "-n", "64"],
      ["explain", "union(causal(), lsh(buckets=4, hashes=1, chunkLength=4))", "-n", "64"],
    ])) {
      expect(r.code, args.join(" ")).toBe(2);
      expect(r.stderr).toMatch(/error: .*(expected|required)/);
    }
  });
});

describe("bench", () => {
  it("measures, fits and writes JSON and CSV", async () => {
    const json = path.join(tmp, "b.json");
    const csv = path.join(tmp, "b.csv");
    const r = await cli(
      "bench",
      "--mechanisms",
      "dense,sliding",
      "--min-n",
      "64",
      "--max-n",
      "256",
      "--head-dim",
      "8",
      "--json",
      json,
      "--csv",
      csv,
      "--no-progress",
    );
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain("counted exp.");
    const data = JSON.parse(readFileSync(json, "utf8"));
    expect(data.fits.map((f: { mechanism: string }) => f.mechanism)).toEqual(["dense", "sliding"]);
    const dense = data.points.filter((p: { mechanism: string }) => p.mechanism === "dense");
    expect(dense.map((p: { scoredPairs: number }) => p.scoredPairs)).toEqual([64 * 64, 128 * 128, 256 * 256]);
    expect(data.fits[0].countedExponent).toBeCloseTo(2, 6);
    const lines = readFileSync(csv, "utf8").trim().split("\n");
    expect(lines[0]).toMatch(/^mechanism,n,seconds/);
    expect(lines.length).toBe(1 + data.points.length);
  });

  it("bad calls exit 2", async () => {
    for (const [args, r] of await cliAll([
      ["bench", "--mechanisms", "nope"],
      ["bench", "--min-n", "0"],
      ["bench", "--min-n", "512", "--max-n", "256"],
      ["bench", "--backend", "gpu"],
      ["bench", "--run-seconds", "-1"],
    ])) {
      expect(r.code, args.join(" ")).toBe(2);
      expect(r.stderr).toContain("error:");
    }
  });

  it("a misspelt mechanism lists every id bench accepts (the same as --help)", async () => {
    const [bad, help] = await Promise.all([cli("bench", "--mechanisms", "slidng"), cli("bench", "--help")]);
    expect(bad.code).toBe(2);
    const listed = (/list from (.*)/.exec(bad.stderr) as RegExpExecArray)[1].split(", ");
    expect(listed).toContain("global-sliding");
    const helpText = help.stdout.replace(/\s+/g, " ");
    for (const id of listed) expect(helpText).toContain(id);
    expect(/from ([a-z, -]+) \(default/.exec(helpText)?.[1].split(", ")).toEqual(listed);
  });
});

describe("report (bad calls; the typical call is in report.test.ts)", () => {
  it("exits 2 on bad sizes", async () => {
    for (const [args, r] of await cliAll([
      ["report", "--cost-n", "3"],
      ["report", "--max-n", "x"],
      ["report", "--total-seconds", "0"],
    ])) {
      expect(r.code, args.join(" ")).toBe(2);
      expect(r.stderr).toContain("error:");
    }
  });
});
