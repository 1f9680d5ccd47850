/**
 * `sparse-attention encode` as a user runs it (the built dist/cli/main.js in a child process):
 * on a copy of the shared tiny Longformer with a tokenizer.json written into it, from a file
 * and from stdin; with --ids on the shared BigBird folder; bad calls exit 2.
 */
import { execFile } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { loadModel } from "../src/models/index.js";
import { caseDir, relErr } from "./models-case.js";
import { bpeTokenizer, folderWithTokenizer } from "./models-tokenizers.js";

const MAIN = path.resolve(__dirname, "../dist/cli/main.js");

function cli(args: string[], input?: string): Promise<{ code: number; stdout: string; stderr: string }> {
  if (!existsSync(MAIN)) throw new Error(`${MAIN} is missing: run "npm run build" first (npm test does)`);
  return new Promise((resolve) => {
    const child = execFile(process.execPath, [MAIN, ...args], { maxBuffer: 64 << 20 }, (e, stdout, stderr) => {
      resolve({ code: e ? (typeof e.code === "number" ? e.code : 1) : 0, stdout, stderr });
    });
    child.stdin?.end(input ?? "");
  });
}

describe("sparse-attention encode", () => {
  it("encodes a text file and stdin with a tokenizer, writes JSON that matches the API, prints tokens/s", async () => {
    const dir = folderWithTokenizer("longformer_tiny", bpeTokenizer());
    const tmp = mkdtempSync(path.join(os.tmpdir(), "sa-encode-"));
    const textFile = path.join(tmp, "doc.txt");
    writeFileSync(textFile, "the cat sat, é!");
    const json = path.join(tmp, "out.json");
    const r = await cli([
      "encode",
      "--model",
      dir,
      "--text",
      textFile,
      "--global",
      "0",
      "--json",
      json,
      "--backend",
      "js",
    ]);
    expect(r.stderr).toContain(`wrote ${json}`);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^longformer: 13 tokens in \d+\.\d+ s \(\d+\.\d tokens\/s\)$/m);
    const doc = JSON.parse(readFileSync(json, "utf8"));
    expect(doc.ids).toEqual([0, 261, 264, 36, 119, 101, 120, 48, 36, 199, 173, 37, 2]);
    expect(doc.lastHiddenState.shape).toEqual([1, 13, 64]);
    const model = await loadModel(dir);
    const api = await model.encode("the cat sat, é!", { globalTokens: [0], backend: "js" });
    expect(relErr(Float32Array.from(doc.lastHiddenState.data), api.lastHiddenState.data, 64)).toBeLessThan(1e-6);
    const s = await cli(["encode", "--model", dir, "--stdin", "--backend", "js"], "the cat");
    expect(s.code).toBe(0);
    expect(s.stdout).toMatch(/last_hidden_state \[1, 4, 64\]/);
    expect(s.stdout).toMatch(/longformer: 4 tokens in/);
  });

  it("--ids runs a folder without a tokenizer; bad calls name the problem and exit 2", async () => {
    const textFile = path.join(os.tmpdir(), `sa-encode-text-${process.pid}.txt`);
    writeFileSync(textFile, "Hello world.");
    const help = await cli(["encode", "--help"]);
    expect(help.code).toBe(0);
    // the models encode runs, not only the first two
    expect(help.stdout.replace(/\s+/g, " ")).toMatch(/Longformer, BigBird, ModernBERT, Reformer/);
    expect(help.stdout).toMatch(
      /--model <dir\|owner\/name>[\s\S]*--text <file>[\s\S]*--stdin[\s\S]*--global <list>[\s\S]*--json <file>/,
    );
    const ok = await cli(["encode", "--model", caseDir("bigbird_tiny"), "--ids", "5,6,7,8", "--threads", "1"]);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toMatch(/big_bird: 4 tokens in/);
    const runs = await Promise.all([
      cli(["encode", "--model", caseDir("bigbird_tiny"), "--ids", "5,6,x"]),
      cli(["encode", "--model", caseDir("bigbird_tiny"), "--ids", "5", "--stdin"]),
      cli(["encode", "--model", caseDir("longformer_tiny"), "--text", "/no/such/file.txt"]),
      cli(["encode", "--model", caseDir("longformer_tiny"), "--ids", "5,1000"]),
      cli(["encode", "--model", os.tmpdir(), "--ids", "5"]),
      cli(["encode", "--model", caseDir("longformer_tiny"), "--text", textFile]),
    ]);
    for (const r of runs) expect(r.code, r.stderr).toBe(2);
    expect(runs[0].stderr).toMatch(/got "5,6,x"; expected comma-separated/);
    expect(runs[1].stderr).toMatch(/exactly one of --text FILE, --stdin or --ids/);
    expect(runs[2].stderr).toMatch(/--text \/no\/such\/file\.txt: cannot read it/);
    expect(runs[3].stderr).toMatch(/--ids: id 1000 \(number 2 in the list\) .*expected an integer in \[0, 1000\)/);
    expect(runs[4].stderr).toMatch(/no config\.json in the model folder/);
    // a folder without tokenizer.json: worded for the command line, pointing at --ids
    expect(runs[5].stderr).toMatch(/--text .*has no tokenizer\.json.*--ids/);
    expect(runs[5].stderr).not.toMatch(/model\.encode/);
  });
});

describe("a Hub id that cannot be loaded (encode, run, generate)", () => {
  /** The CLI with the Hub at `endpoint` and an empty cache of its own. */
  function cliEnv(args: string[], env: Record<string, string>): Promise<{ code: number; stderr: string }> {
    const cache = mkdtempSync(path.join(os.tmpdir(), "sa-hubless-"));
    const { HF_HUB_OFFLINE: _offline, HF_ENDPOINT: _endpoint, ...rest } = process.env;
    return new Promise((resolve) => {
      execFile(process.execPath, [MAIN, ...args], { env: { ...rest, HF_HUB_CACHE: cache, ...env } }, (e, _o, stderr) =>
        resolve({ code: e ? (typeof e.code === "number" ? e.code : 1) : 0, stderr }),
      );
    });
  }
  const calls = [
    ["encode", "--model", "owner/name", "--ids", "1,2"],
    ["run", "fill-mask", "--model", "owner/name", "--ids", "1,2"],
    ["generate", "--model", "owner/name", "--ids", "1,2"],
  ];

  it("no server answering is a failure (exit 1, one line), not a usage mistake", async () => {
    // a port nothing listens on: bind one, then close it
    const server = net.createServer();
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
    const port = (server.address() as net.AddressInfo).port;
    await new Promise((r) => server.close(r));
    for (const r of await Promise.all(calls.map((a) => cliEnv(a, { HF_ENDPOINT: `http://127.0.0.1:${port}` })))) {
      expect(r.code, r.stderr).toBe(1);
      expect(r.stderr).toMatch(/^error: cannot reach http:\/\/127\.0\.0\.1:\d+ .*HF_HUB_OFFLINE=1\)\n$/);
      expect(r.stderr).not.toContain("usage:");
    }
  });

  it("offline with nothing cached is the caller's to fix (exit 2, with the usage line)", async () => {
    for (const r of await Promise.all(calls.map((a) => cliEnv(a, { HF_HUB_OFFLINE: "1" })))) {
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr).toMatch(/^error: offline .* the cache lacks config\.json of owner\/name/);
      expect(r.stderr).toContain("usage: sparse-attention");
    }
  });
});
