/**
 * Reformer through the product's front doors: loadModel picks it from model_type "reformer",
 * and `sparse-attention generate` (the built dist/cli/main.js in a child process) streams what
 * the API generates, with bytes, ids or a tokenizer.json; bad calls exit 2 with the fix.
 */
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { loadModel } from "../src/models/index.js";
import { byteCodec } from "../src/models/reformer/text.js";
import { bpeTokenizer, folderWithTokenizer } from "./models-tokenizers.js";

const MAIN = path.resolve(__dirname, "../dist/cli/main.js");
const TINY = path.resolve(__dirname, "../../shared/models/hf/reformer_tiny");
const LONGFORMER = path.resolve(__dirname, "../../shared/models/hf/longformer_tiny");

function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  if (!existsSync(MAIN)) throw new Error(`${MAIN} is missing: run "npm run build" first (npm test does)`);
  return new Promise((resolve) => {
    execFile(process.execPath, [MAIN, ...args], { maxBuffer: 16 << 20 }, (e, stdout, stderr) => {
      resolve({ code: e ? (typeof e.code === "number" ? e.code : 1) : 0, stdout, stderr });
    });
  });
}

describe("Reformer via loadModel and the generate CLI", () => {
  it("loadModel(folder) is a Reformer: forward gives logits, generate gives HF's cached ids", async () => {
    const model = await loadModel(TINY);
    expect(model.config.modelType).toBe("reformer");
    const ids = Int32Array.from({ length: 20 }, (_, i) => 2 + ((i * 37) % 256));
    const out = (await model.forward({ inputIds: { data: ids, shape: [1, 20] } })) as {
      logits?: { shape: number[] };
      lastHiddenState: { shape: number[] };
    };
    expect(out.logits?.shape).toEqual([1, 20, 320]);
    expect(out.lastHiddenState.shape).toEqual([1, 20, 128]);
    const gen = await model.generate(
      { inputIds: { data: ids, shape: [1, 20] } },
      { maxNewTokens: 3, eosTokenId: null },
    );
    expect(gen.sequences.shape).toEqual([1, 23]);
  });

  it("encoders refuse generate with the reason", async () => {
    const model = await loadModel(LONGFORMER);
    expect(() =>
      model.generate({ inputIds: { data: Int32Array.of(0, 5), shape: [1, 2] } }, { maxNewTokens: 1 }),
    ).toThrow(/causal language model/);
  });

  it("--bytes: streams the prompt and the same tokens the API generates, then tokens/s", async () => {
    const r = await cli([
      "generate",
      "--model",
      TINY,
      "--bytes",
      "--prompt",
      "Hello",
      "--max-new-tokens",
      "12",
      "--eos-token-id",
      "none",
    ]);
    expect(r.code).toBe(0);
    const model = await loadModel(TINY);
    const codec = byteCodec(320);
    const prompt = codec.encode("Hello");
    const gen = await model.generate(
      { inputIds: { data: prompt, shape: [1, prompt.length] } },
      { maxNewTokens: 12, eosTokenId: null },
    );
    expect(r.stdout).toBe(`Hello${codec.decode(gen.sequences.data.subarray(prompt.length))}\n`);
    expect(r.stderr).toMatch(/12 new tokens in [\d.]+ s: .* tokens\/s \(cached decoding\)/);
  });

  it("--ids with --sample is seeded: the same seed gives the same ids, --no-cache runs the full forward", async () => {
    const args = [
      "generate",
      "--model",
      TINY,
      "--ids",
      "87,50,209",
      "--max-new-tokens",
      "6",
      "--sample",
      "--top-k",
      "20",
    ];
    const a = await cli([...args, "--seed", "7"]);
    const b = await cli([...args, "--seed", "7"]);
    expect(a.code).toBe(0);
    expect(a.stdout).toBe(b.stdout);
    expect(a.stdout.trim().split(" ").length).toBeGreaterThanOrEqual(4);
    const greedy = await cli([
      "generate",
      "--model",
      TINY,
      "--ids",
      "87,50,209",
      "--max-new-tokens",
      "4",
      "--no-cache",
    ]);
    expect(greedy.code).toBe(0);
    expect(greedy.stderr).toMatch(/full forward per token/);
  });

  it("a tokenizer.json folder: text in, text out", async () => {
    const dir = folderWithTokenizer("reformer_tiny", bpeTokenizer());
    const r = await cli([
      "generate",
      "--model",
      dir,
      "--prompt",
      "the cat",
      "--max-new-tokens",
      "5",
      "--eos-token-id",
      "none",
    ]);
    expect(r.code).toBe(0);
    expect(r.stdout.startsWith("the cat")).toBe(true);
  });

  it("bad calls exit 2 and say the fix", async () => {
    const noTok = await cli(["generate", "--model", TINY, "--prompt", "hi", "--max-new-tokens", "2"]);
    expect(noTok.code).toBe(2);
    expect(noTok.stderr).toMatch(/--bytes/);
    const enc = await cli(["generate", "--model", LONGFORMER, "--ids", "0,5", "--max-new-tokens", "2"]);
    expect(enc.code).toBe(2);
    expect(enc.stderr).toMatch(/not a causal language model/);
    const both = await cli(["generate", "--model", TINY, "--max-new-tokens", "2"]);
    expect(both.code).toBe(2);
    expect(both.stderr).toMatch(/--prompt TEXT or --ids LIST/);
    const badId = await cli(["generate", "--model", TINY, "--ids", "87,999", "--max-new-tokens", "2"]);
    expect(badId.code).toBe(2);
    expect(badId.stderr).toMatch(/\[0, 320\)/);
  });
});
