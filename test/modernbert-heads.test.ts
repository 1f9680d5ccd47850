/**
 * ModernBERT's heads as a pipeline sees them (headKind from config.architectures or a task,
 * forward() returning the head's logits), sentence embeddings (CLS / mean pooling,
 * normalisation) and sentence-transformers' modules.json + Pooling config.
 */
import { copyFileSync, mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { encoderForward } from "../src/models/architectures/index.js";
import { modernBert } from "../src/models/architectures/modernbert.js";
import { Model } from "../src/models/encode.js";
import { loadModel } from "../src/models/index.js";
import { ModernBertModel, parseSentencePooling } from "../src/models/modernbert/index.js";
import { errs, mbArray, mbDir, mbInts, mbModel } from "./modernbert-case.js";

const ST = "sentence_transformers.models.";
const modules = (...kinds: string[]) =>
  kinds.map((k, i) => ({
    idx: i,
    name: String(i),
    path: k === "Pooling" ? "1_Pooling" : k === "Normalize" ? "2_Normalize" : "",
    type: ST + k,
  }));
const poolingConfig = (mode: string) => ({
  word_embedding_dimension: 768,
  pooling_mode_cls_token: mode === "cls",
  pooling_mode_mean_tokens: mode === "mean",
  pooling_mode_max_tokens: mode === "max",
  pooling_mode_mean_sqrt_len_tokens: false,
});

describe("ModernBERT heads and embeddings", () => {
  const ids = mbInts("a_input_ids");
  const mask = mbInts("a_attention_mask");
  const inputs = { inputIds: ids, attentionMask: mask };

  it("the head comes from config.architectures, or from loadModel's task option", async () => {
    expect((await mbModel()).headKind).toBe("ForMaskedLM");
    expect((await mbModel("seqcls_cls")).headKind).toBe("ForSequenceClassification");
    expect((await mbModel("tokcls")).headKind).toBe("ForTokenClassification");
    expect((await mbModel("tokcls")).labels).toEqual(["LABEL_0", "LABEL_1", "LABEL_2", "LABEL_3", "LABEL_4"]);
    const mlm = await (await mbModel()).forward(inputs, { backend: "wasm" });
    expect(mlm.logits?.shape).toEqual([2, 600, 1000]);
    expect(
      errs(mlm.logits?.data as Float32Array, mbArray("a_mlm_logits").data as Float32Array, 1000, mask.data).relMax,
    ).toBeLessThan(1e-5);
    const enc = await (await mbModel("", {}, "feature-extraction")).forward(inputs, { backend: "wasm" });
    expect(enc.logits).toBeUndefined();
    await expect(mbModel("", {}, "translation")).rejects.toThrow(/options.task/);
  });

  it("embeddings: CLS row, masked mean, L2 normalisation", async () => {
    const m = await mbModel("", {}, "feature-extraction");
    const last = (await m.encoderForward(inputs, { backend: "wasm" })).lastHiddenState.data; // [2, 600, 64]
    const cls = await m.embed(inputs, { backend: "wasm" });
    expect(cls.pooling).toEqual({ mode: "cls", normalize: false, source: "default" });
    expect(cls.embeddings.data.subarray(64, 128)).toEqual(last.subarray(600 * 64, 601 * 64));
    const mean = await m.embed(inputs, { backend: "wasm", pooling: "mean", normalize: true });
    const want = new Float64Array(64); // row 1: 200 real tokens
    for (let i = 0; i < 200; i++) for (let d = 0; d < 64; d++) want[d] += last[(600 + i) * 64 + d] / 200;
    const norm = Math.hypot(...want);
    const got = mean.embeddings.data.subarray(64, 128);
    for (let d = 0; d < 64; d++) expect(got[d]).toBeCloseTo(want[d] / norm, 6);
    expect(Math.hypot(...mean.embeddings.data.subarray(0, 64))).toBeCloseTo(1, 6);
  });

  it("sentence-transformers' modules.json and Pooling config decide the embedding (gte-modernbert-base: CLS + Normalize)", () => {
    expect(parseSentencePooling(modules("Transformer", "Pooling", "Normalize"), poolingConfig("cls"), "m")).toEqual({
      mode: "cls",
      normalize: true,
      source: "modules.json",
    });
    expect(parseSentencePooling(modules("Transformer", "Pooling"), poolingConfig("mean"), "m")).toMatchObject({
      mode: "mean",
      normalize: false,
    });
    expect(() => parseSentencePooling(modules("Transformer", "Pooling"), poolingConfig("max"), "m")).toThrow(
      /pooling_mode_max_tokens/,
    );
    expect(() => parseSentencePooling(modules("Transformer", "Pooling", "Dense"), poolingConfig("cls"), "m")).toThrow(
      /Dense/,
    );
    expect(() => parseSentencePooling(modules("Transformer", "Pooling"), null, "m")).toThrow(/1_Pooling\/config.json/);
    expect(() => parseSentencePooling({}, null, "m")).toThrow(/modules.json/);
  });

  it("loadModel(folder) picks ModernBERT from config.model_type and reads sentence-transformers' files", async () => {
    const m = await loadModel(mbDir());
    expect(m).toBeInstanceOf(ModernBertModel);
    expect(m).toBeInstanceOf(Model);
    expect((m as ModernBertModel).headKind).toBe("ForMaskedLM");
    expect((m as ModernBertModel).sentencePooling).toBeNull();
    const dir = mkdtempSync(path.join(tmpdir(), "mb-st-"));
    copyFileSync(path.join(mbDir(), "config.json"), path.join(dir, "config.json"));
    copyFileSync(path.join(mbDir(), "model.safetensors"), path.join(dir, "model.safetensors"));
    writeFileSync(path.join(dir, "modules.json"), JSON.stringify(modules("Transformer", "Pooling", "Normalize")));
    mkdirSync(path.join(dir, "1_Pooling"));
    writeFileSync(path.join(dir, "1_Pooling", "config.json"), JSON.stringify(poolingConfig("mean")));
    const st = (await loadModel(dir)) as ModernBertModel;
    expect(st.sentencePooling).toEqual({ mode: "mean", normalize: true, source: "modules.json" });
    const e = await st.embed(inputs, { backend: "wasm" });
    expect(e.pooling.source).toBe("modules.json");
    expect(Math.hypot(...e.embeddings.data.subarray(64, 128))).toBeCloseTo(1, 6);
  });

  it("the registry entry run by the shared encoder loop matches HF too", async () => {
    const m = await mbModel("", {}, "none");
    const out = await encoderForward(modernBert, m.config, m.weights, inputs, { backend: "wasm", threads: 2 });
    expect(
      errs(out.lastHiddenState.data, mbArray("a_last_hidden_state").data as Float32Array, 64, mask.data).relMax,
    ).toBeLessThan(1e-5);
  });

  it("config errors name the field, the value and the fix", async () => {
    await expect(mbModel("", { local_attention: -2 })).rejects.toThrow(
      /local_attention: got -2; expected an integer >= 0/,
    );
    await expect(mbModel("", { classifier_pooling: "max" })).rejects.toThrow(
      /classifier_pooling: got "max"; expected "cls" or "mean"/,
    );
    await expect(mbModel("", { rope_scaling: { rope_type: "yarn" } })).rejects.toThrow(/rope_scaling/);
    await expect(mbModel("", { hidden_activation: "swish" })).rejects.toThrow(/hidden_activation/);
    await expect(mbModel("", { layer_types: ["full_attention"] })).rejects.toThrow(/layer_types.*6 entries/);
    await expect(mbModel("", { hidden_size: 32 })).rejects.toThrow(
      /"model.layers.0.attn.Wqkv.weight" has shape \[192, 64\].*needs \[96, 32\]/,
    );
  });
});
