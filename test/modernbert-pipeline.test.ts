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
});
