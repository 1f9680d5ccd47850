/**
 * ModernBERT through pipeline(task, model) and `sparse-attention run <task>`: fill-mask,
 * text-classification, token-classification and feature-extraction on the shared tiny
 * checkpoints (with a word-level tokenizer written by the test), feature-extraction taking
 * the embedding model's own pooling from sentence-transformers' files.
 */
import { execFile } from "node:child_process";
import path from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { loadModel, pipeline } from "../src/models/index.js";
import type { ModernBertModel } from "../src/models/modernbert/index.js";
import { tinyFolder } from "./modernbert-tokenizer.js";

const ST = "sentence_transformers.models.";
const TEXT = "w5 w17 w230 [MASK] w9 w400";
const IDS = [996, 5, 17, 230, 999, 9, 400, 997];

describe("ModernBERT pipelines", () => {
  it("fill-mask: scores are the softmax of the MLM logits at the mask", async () => {
    const dir = tinyFolder();
    const fill = await pipeline("fill-mask", dir, { backend: "wasm" });
    const out = (await fill(TEXT, { topK: 3 })) as Array<{ score: number; token: number; token_str: string }>;
    expect(out).toHaveLength(3);
    const model = (await loadModel(dir)) as ModernBertModel;
    const ids = Int32Array.from(IDS);
    const logits = await model.maskedLogitsAt({ inputIds: { data: ids, shape: [1, ids.length] } }, [4], {
      backend: "wasm",
    });
    const max = Math.max(...logits);
    const z = logits.reduce((s, x) => s + Math.exp(x - max), 0);
    const best = Array.from(logits.keys()).sort((a, b) => logits[b] - logits[a]);
    expect(out.map((r) => r.token)).toEqual(best.slice(0, 3));
    expect(out[0].score).toBeCloseTo(Math.exp(logits[best[0]] - max) / z, 6);
    expect(out[0].token_str).toBe(`w${best[0]}`);
  });

  it("text-classification and token-classification give the heads' labels", async () => {
    const cls = await pipeline("text-classification", tinyFolder("seqcls_mean"), { backend: "wasm" });
    const c = (await cls(TEXT)) as { label: string; score: number };
    expect(["LABEL_0", "LABEL_1", "LABEL_2"]).toContain(c.label);
    const ner = await pipeline("token-classification", tinyFolder("tokcls"), { backend: "wasm" });
    const t = (await ner(TEXT, { ignoreLabels: [] })) as Array<{ entity: string; word: string }>;
    expect(t.map((e) => e.word)).toEqual(["w5", "w17", "w230", "[MASK]", "w9", "w400"]);
  });

  it("feature-extraction uses the embedding model's own pooling (modules.json: CLS + Normalize)", async () => {
    const dir = tinyFolder("", {
      "modules.json": [
        { idx: 0, name: "0", path: "", type: `${ST}Transformer` },
        { idx: 1, name: "1", path: "1_Pooling", type: `${ST}Pooling` },
        { idx: 2, name: "2", path: "2_Normalize", type: `${ST}Normalize` },
      ],
      "1_Pooling/config.json": { pooling_mode_cls_token: true, pooling_mode_mean_tokens: false },
    });
    const fe = await pipeline("feature-extraction", dir, { backend: "wasm" });
    const v = (await fe(TEXT)) as { data: Float32Array; shape: number[] };
    expect(v.shape).toEqual([1, 64]);
    const model = (await loadModel(dir, { task: "feature-extraction" })) as ModernBertModel;
    const ids = Int32Array.from(IDS);
    const e = await model.embed({ inputIds: { data: ids, shape: [1, ids.length] } }, { backend: "wasm" });
    for (let d = 0; d < 64; d++) expect(v.data[d]).toBeCloseTo(e.embeddings.data[d], 6);
    expect(Math.hypot(...v.data)).toBeCloseTo(1, 6);
    const tokens = (await fe(TEXT, { pooling: "none" })) as { shape: number[] };
    expect(tokens.shape).toEqual([1, 8, 64]);
  });

  it("sparse-attention run fill-mask --model <folder> (the built CLI)", async () => {
    const dir = tinyFolder();
    const cli = path.resolve(__dirname, "../dist/cli/main.js");
    const { stdout } = await promisify(execFile)(
      process.execPath,
      [cli, "run", "fill-mask", "--model", dir, "--text", TEXT, "--json", "--threads", "1"],
      { encoding: "utf8" },
    );
    const r = JSON.parse(stdout) as Array<{ token: number; score: number }>;
    expect(r.length).toBeGreaterThan(0);
    expect(r[0].score).toBeGreaterThan(r[r.length - 1].score);
  });

  it("the shared folder as it is (no tokenizer.json): token ids in, the same scores as with a tokenizer", async () => {
    const bare = path.resolve(__dirname, "../../shared/models/modernbert");
    const fill = await pipeline("fill-mask", bare, { backend: "wasm" });
    expect(fill.tokenizer).toBeNull();
    await expect(fill(TEXT)).rejects.toThrow(/tokenizer[\s\S]*inputIds/);
    await expect(fill({ inputIds: IDS })).rejects.toThrow(/maskTokenId[\s\S]*--mask-id/); // no tokenizer, no mask_token_id
    await expect(fill({ inputIds: [996, 1000, 997] }, { maskTokenId: 999 })).rejects.toThrow(/inputIds\[1\]: got 1000/);
    await expect(fill({ inputIds: [996, 5, 997] }, { maskTokenId: 999 })).rejects.toThrow(/mask token's id 999/);
    const byIds = (await fill({ inputIds: IDS }, { topK: 3, maskTokenId: 999 })) as Array<{
      score: number;
      token: number;
      token_str: string;
      sequence: string;
    }>;
    const withTok = (await (
      await pipeline("fill-mask", tinyFolder(), { backend: "wasm" })
    )(TEXT, { topK: 3 })) as Array<{
      score: number;
      token: number;
    }>;
    expect(byIds.map((r) => r.token)).toEqual(withTok.map((r) => r.token));
    for (let i = 0; i < 3; i++) expect(byIds[i].score).toBeCloseTo(withTok[i].score, 6);
    // without a tokenizer tokens are written #id and the specials (config bos/eos/pad ids) are dropped from the sequence
    expect(byIds[0].token_str).toBe(`#${byIds[0].token}`);
    expect(byIds[0].sequence).toBe(`#5 #17 #230 #${byIds[0].token} #9 #400`);
    const ner = await pipeline("token-classification", path.join(bare, "tokcls"), { backend: "wasm" });
    const t = (await ner({ inputIds: IDS }, { ignoreLabels: [] })) as Array<{ word: string; index: number }>;
    expect(t.map((e) => e.word)).toEqual(["#5", "#17", "#230", "#999", "#9", "#400"]); // [CLS] / [SEP] skipped
    await expect(ner({ inputIds: IDS }, { aggregationStrategy: "simple" })).rejects.toThrow(/aggregationStrategy/);
  });

  it("sparse-attention run fill-mask --model <the shared folder> --ids … --mask-id 999 (the built CLI)", async () => {
    const bare = path.resolve(__dirname, "../../shared/models/modernbert");
    const cli = path.resolve(__dirname, "../dist/cli/main.js");
    const run = (args: string[]) =>
      promisify(execFile)(process.execPath, [cli, "run", "fill-mask", "--model", bare, ...args], { encoding: "utf8" });
    const { stdout } = await run(["--ids", IDS.join(","), "--mask-id", "999", "--json", "--threads", "1"]);
    const r = JSON.parse(stdout) as Array<{ token: number; score: number; token_str: string }>;
    expect(r).toHaveLength(5);
    expect(r[0].token_str).toBe(`#${r[0].token}`);
    await expect(run(["--text", TEXT])).rejects.toMatchObject({ stderr: expect.stringMatching(/--ids/) });
    await expect(run(["--ids", "996,5,1000,997", "--mask-id", "999"])).rejects.toMatchObject({
      stderr: expect.stringMatching(/--ids: id 1000 \(number 3 in the list\)/),
    });
    await expect(run(["--ids", IDS.join(","), "--text", TEXT])).rejects.toMatchObject({
      stderr: expect.stringMatching(/exactly one of/),
    });
  });
});
