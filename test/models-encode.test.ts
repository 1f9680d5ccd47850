/**
 * model.encode: tokenizer.json (made here: byte-level BPE and Unigram/Metaspace) → our
 * truncation and batch padding → forward. Runs on copies of the shared tiny checkpoints.
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { loadModel } from "../src/models/index.js";
import { caseDir, relErr } from "./models-case.js";
import { bpeTokenizer, folderWithTokenizer, unigramTokenizer } from "./models-tokenizers.js";

const ids = (a: number[]) => ({ data: Int32Array.from(a), shape: [1, a.length] as [number, number] });

describe("model.encode", () => {
  it("Longformer + byte-level BPE: tokens, batch padding, global tokens, truncation keeping </s>", async () => {
    const model = await loadModel(folderWithTokenizer("longformer_tiny", bpeTokenizer()));
    const res = await model.encode(["the cat", "the cat sat, é!"], { globalTokens: [0], backend: "js" });
    expect(res.ids[0]).toEqual([0, 261, 264, 2]);
    expect(res.tokens[0]).toEqual(["<s>", "the", "Ġcat", "</s>"]);
    expect(res.ids[1].length).toBe(13);
    expect(res.lastHiddenState.shape).toEqual([2, 13, 64]);
    // row 0 (padded to 13 inside the batch) equals the row run alone
    const g = ids([1, 0, 0, 0]);
    const alone = await model.forward({ inputIds: ids([0, 261, 264, 2]), globalAttentionMask: g }, { backend: "js" });
    expect(relErr(res.lastHiddenState.data.subarray(0, 4 * 64), alone.lastHiddenState.data, 64)).toBeLessThan(1e-6);
    expect(
      relErr(res.poolerOutput?.data.subarray(0, 64) as Float32Array, alone.poolerOutput?.data as Float32Array, 64),
    ).toBeLessThan(1e-6);
    const cut = await model.encode("the cat sat, é!", { maxLength: 5, backend: "js" });
    expect(cut.ids[0]).toEqual([0, 261, 264, 36, 2]);
    expect(cut.lastHiddenState.shape).toEqual([1, 5, 64]);
    await expect(model.encode("the cat", { maxLength: 1099 })).rejects.toThrow(
      /maxLength.*got 1099; expected an integer in \[1, 1098\]/,
    );
  });

  it("BigBird + Unigram/Metaspace from { config, weights, tokenizer }", async () => {
    const dir = caseDir("bigbird_tiny");
    const model = await loadModel({
      config: JSON.parse(readFileSync(path.join(dir, "config.json"), "utf8")),
      weights: readFileSync(path.join(dir, "model.safetensors")),
      tokenizer: unigramTokenizer(),
    });
    const res = await model.encode("the cat", { backend: "js" });
    expect(res.ids[0]).toEqual([2, 31, 32, 3]);
    const direct = await model.forward({ inputIds: ids([2, 31, 32, 3]) }, { backend: "js" });
    expect(Array.from(res.lastHiddenState.data)).toEqual(Array.from(direct.lastHiddenState.data));
    await expect(model.encode("the cat", { globalTokens: [0] })).rejects.toThrow(/only Longformer/);
  });

  it("a model without tokenizer.json says how to get one", async () => {
    const model = await loadModel(caseDir("longformer_tiny"));
    await expect(model.encode("the cat")).rejects.toThrow(/tokenizer\.json/);
  });
});
