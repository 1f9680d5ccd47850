/**
 * Bad checkpoints and bad inputs: hand-made safetensors files (truncated, lying offsets,
 * unsupported dtypes, missing tensors, bad shards), unsupported configs, and forward() inputs
 * of the wrong shape, out of the vocabulary or too long. Every error names what was wrong.
 */
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import {
  CheckpointError,
  checkModelConfig,
  loadModel,
  SafetensorsFile,
  SUPPORTED_MODEL_TYPES,
} from "../src/models/index.js";
import { halfToFloat } from "../src/models/safetensors.js";
import { caseDir } from "./models-case.js";
import { f32, randomIds, tinyCheckpoint, tinyConfig, writeSafetensors } from "./models-fixtures.js";

const vec = f32([2, 3], Float32Array.of(1, 2, 3, 4, 5, 6));

describe("safetensors reader", () => {
  it("reads F32 in place, F16 and BF16 converted exactly", () => {
    const h = new Uint16Array([0x3c00, 0xc000, 0x0001, 0x7bff]); // 1, -2, 2^-24, 65504
    const bf = new Uint16Array([0x3f80, 0xc040]); // 1, -3
    const bytes = writeSafetensors({
      a: vec,
      h: { dtype: "F16", shape: [4], bytes: new Uint8Array(h.buffer) },
      b: { dtype: "BF16", shape: [2], bytes: new Uint8Array(bf.buffer) },
    });
    const f = new SafetensorsFile(bytes, "x.safetensors");
    expect(Array.from(f.get("a").data)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(f.get("a").shape).toEqual([2, 3]);
    expect(Array.from(f.get("h").data)).toEqual([1, -2, 2 ** -24, 65504]);
    expect(Array.from(f.get("b").data)).toEqual([1, -3]);
    expect(halfToFloat(0x7c00)).toBe(Number.POSITIVE_INFINITY);
  });

  it("refuses other dtypes by name, when the tensor is asked for", () => {
    const bytes = writeSafetensors({
      a: vec,
      ids: { dtype: "I64", shape: [2], bytes: new Uint8Array(16) },
    });
    const f = new SafetensorsFile(bytes, "m.safetensors");
    expect(() => f.get("ids")).toThrow(
      /m\.safetensors: tensor "ids" has dtype I64; supported dtypes are F32, F16, BF16/,
    );
    expect(() => new SafetensorsFile(writeSafetensors({ a: { ...vec, dtype: "Q4" } }), "q.st")).toThrow(
      /tensor "a": unknown dtype "Q4"/,
    );
  });

  it("a truncated file, a lying header and a missing tensor name the file and the tensor", () => {
    const good = writeSafetensors({ a: vec, b: vec });
    expect(() => new SafetensorsFile(good.subarray(0, good.length - 4), "t.safetensors")).toThrow(
      /t\.safetensors: .*tensor "b": data_offsets \[24, 48\] reach past the 44 data bytes/,
    );
    expect(() => new SafetensorsFile(good.subarray(0, 5), "t.safetensors")).toThrow(/8-byte header length/);
    expect(() => new SafetensorsFile(good.subarray(0, 20), "t.safetensors")).toThrow(
      /header length is \d+ bytes but only 12/,
    );
    const lying = writeSafetensors({ a: vec }, (h) => {
      (h.a as { data_offsets: number[] }).data_offsets = [0, 20];
    });
    expect(() => new SafetensorsFile(lying, "l.safetensors")).toThrow(
      /tensor "a": data_offsets \[0, 20\] hold 20 bytes but F32 \[2,3\] needs 24/,
    );
    const notJson = new Uint8Array(16);
    new DataView(notJson.buffer).setBigUint64(0, 8n, true);
    notJson.set(new TextEncoder().encode("{nope!!}"), 8);
    expect(() => new SafetensorsFile(notJson, "j.safetensors")).toThrow(/not UTF-8 JSON/);
    const f = new SafetensorsFile(good, "g.safetensors");
    expect(() => f.get("c")).toThrow(CheckpointError);
    expect(() => f.get("c")).toThrow(/g\.safetensors: no tensor "c"/);
  });

  it("loads a sharded checkpoint through its index, and names a missing shard", async () => {
    const { config, weights } = tinyCheckpoint({ modelType: "longformer", seed: 5 });
    const whole = new SafetensorsFile(weights, "w");
    const names = [...whole.tensors.keys()];
    const dir = mkdtempSync(path.join(tmpdir(), "sa-shards-"));
    const half = Math.floor(names.length / 2);
    const shard = (list: string[]) =>
      writeSafetensors(Object.fromEntries(list.map((n) => [n, f32(whole.get(n).shape, whole.get(n).data.slice())])));
    writeFileSync(path.join(dir, "model-00001-of-00002.safetensors"), shard(names.slice(0, half)));
    writeFileSync(path.join(dir, "model-00002-of-00002.safetensors"), shard(names.slice(half)));
    const weightMap = Object.fromEntries(
      names.map((n, i) => [n, i < half ? "model-00001-of-00002.safetensors" : "model-00002-of-00002.safetensors"]),
    );
    writeFileSync(
      path.join(dir, "model.safetensors.index.json"),
      JSON.stringify({ metadata: {}, weight_map: weightMap }),
    );
    writeFileSync(path.join(dir, "config.json"), JSON.stringify(config));
    const sharded = await loadModel(dir);
    const single = await loadModel({ config, weights });
    const ids = randomIds(1, 30, 100, 1);
    const a = await sharded.forward({ inputIds: ids }, { backend: "js" });
    const b = await single.forward({ inputIds: ids }, { backend: "js" });
    expect(Array.from(a.lastHiddenState.data)).toEqual(Array.from(b.lastHiddenState.data));
    writeFileSync(
      path.join(dir, "model.safetensors.index.json"),
      JSON.stringify({ weight_map: { ...weightMap, extra: "model-00003-of-00002.safetensors" } }),
    );
    await expect(loadModel(dir)).rejects.toThrow(/shard model-00003-of-00002\.safetensors is missing/);
  });
});

describe("checkpoints and configs", () => {
  it("refuses other model types with the supported list", async () => {
    expect(SUPPORTED_MODEL_TYPES).toEqual(["longformer", "big_bird", "reformer", "modernbert"]);
    expect(() => checkModelConfig({ model_type: "bert" })).toThrow(
      /config\.model_type: got "bert"; expected one of "longformer", "big_bird", "reformer", "modernbert"/,
    );
    const { weights } = tinyCheckpoint({ modelType: "longformer" });
    await expect(loadModel({ config: { model_type: "roberta" }, weights })).rejects.toThrow(
      /"longformer", "big_bird", "reformer"/,
    );
  });

  it("a missing or misshapen weight names the tensor, the file and the expected shape", async () => {
    const { config, weights } = tinyCheckpoint({ modelType: "big_bird" });
    const f = new SafetensorsFile(weights, "w");
    const drop = Object.fromEntries(
      [...f.tensors.keys()]
        .filter((n) => n !== "encoder.layer.1.attention.self.key.weight")
        .map((n) => [n, f32(f.get(n).shape, f.get(n).data.slice())]),
    );
    await expect(loadModel({ config, weights: writeSafetensors(drop) })).rejects.toThrow(
      /source\.weights: missing tensor "encoder\.layer\.1\.attention\.self\.key\.weight"/,
    );
    await expect(
      loadModel({ config: { ...config, hidden_size: 40, num_attention_heads: 4 }, weights }),
    ).rejects.toThrow(
      /tensor "encoder\.layer\.0\.attention\.self\.query\.weight" has shape \[32, 32\].*needs \[40, 40\]/,
    );
    await expect(loadModel({ config: { ...config, num_attention_heads: 5 }, weights })).rejects.toThrow(
      /num_attention_heads: got 5; expected a divisor of hidden_size 32/,
    );
    await expect(
      loadModel({ config: tinyConfig({ modelType: "longformer", attentionWindow: 7 }), weights }),
    ).rejects.toThrow(/attention_window\[0\]: got 7; expected a positive even integer/);
  });

  it("a folder without weights, and a path that is not a folder", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), "sa-empty-"));
    writeFileSync(path.join(dir, "config.json"), readFileSync(path.join(caseDir("bigbird_tiny"), "config.json")));
    await expect(loadModel(dir)).rejects.toThrow(
      /no model\.safetensors, model\.safetensors\.index\.json, pytorch_model\.bin or pytorch_model\.bin\.index\.json/,
    );
    await expect(loadModel(path.join(dir, "nope"))).rejects.toThrow(/an existing model folder/);
  });
});

describe("forward inputs", () => {
  it("wrong shapes, ids out of the vocabulary, bad masks and too-long inputs name argument, value and limit", async () => {
    const lf = await loadModel(tinyCheckpoint({ modelType: "longformer", maxPositions: 64 }));
    const ids = randomIds(1, 10, 100, 2);
    await expect(lf.forward({ inputIds: { data: ids.data, shape: [2, 10] } })).rejects.toThrow(
      /inputs\.inputIds\.data: got Int32Array\(10\); expected 20 values/,
    );
    await expect(lf.forward({ inputIds: { data: Array.from(ids.data), shape: [1, 10] } as never })).rejects.toThrow(
      /inputs\.inputIds\.data: .*expected an Int32Array/,
    );
    const bad = Int32Array.from(ids.data);
    bad[4] = 100;
    await expect(lf.forward({ inputIds: { data: bad, shape: [1, 10] } })).rejects.toThrow(
      /inputs\.inputIds\.data\[4\]: got 100; expected a token id below vocab_size 100/,
    );
    await expect(
      lf.forward({ inputIds: ids, attentionMask: { data: new Int32Array(9), shape: [1, 9] } }),
    ).rejects.toThrow(/inputs\.attentionMask\.shape: got \[1, 9\]; expected \[1, 10\]/);
    await expect(
      lf.forward({ inputIds: ids, attentionMask: { data: new Int32Array(10).fill(2), shape: [1, 10] } }),
    ).rejects.toThrow(/attentionMask\.data\[0\]: got 2/);
    // max_position_embeddings 64, pad id 1: positions 2 … L + 1 must be < 64, so L <= 62
    await lf.forward({ inputIds: randomIds(1, 62, 100, 3) });
    await expect(lf.forward({ inputIds: randomIds(1, 63, 100, 3) })).rejects.toThrow(
      /inputs\.inputIds\.shape\[1\]: got 63; expected a length <= 62 \(max_position_embeddings 64/,
    );
    const bb = await loadModel(tinyCheckpoint({ modelType: "big_bird", maxPositions: 100 }));
    await expect(bb.forward({ inputIds: randomIds(1, 97, 100, 3) })).rejects.toThrow(
      /got 97; expected a length <= 96 \(max_position_embeddings 100, after padding to a multiple of block_size 8\)/,
    );
    await expect(
      bb.forward({ inputIds: ids, globalAttentionMask: { data: new Int32Array(10), shape: [1, 10] } }),
    ).rejects.toThrow(/only Longformer has per-token global attention/);
    await expect(
      bb.forward({ inputIds: randomIds(1, 90, 100, 3) }, { randomAttention: [new Int32Array(3)] }),
    ).rejects.toThrow(/options\.randomAttention: .*one Int32Array \[heads, nb - 2, R\] per layer: 2 tables/);
    await expect(
      bb.forward({ inputIds: randomIds(1, 90, 100, 3) }, { randomAttention: [new Int32Array(3), new Int32Array(3)] }),
    ).rejects.toThrow(/options\.randomAttention\[0\]: .*shape \[4, 10, 2\]/);
    await expect(lf.forward({ inputIds: ids, extra: 1 } as never)).rejects.toThrow(/inputs\.extra: .*no such input/);
  });
});
