/**
 * Issue 19, items 3, 11 and 12, and the config.json fuzz suite: every size bounded before
 * anything is allocated (the limit in the message), the whole config checked before any
 * weights request, configs no input can run with refused at load naming the field; random
 * mutations of a valid config end in an AttentionArgumentError naming a config field, or in a
 * model whose forward runs.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { AttentionArgumentError } from "../../src/errors.js";
import { loadModel, maxInputLength, parseConfig } from "../../src/models/index.js";
import { Rng } from "../../src/util/rng.js";
import { isolateHfEnvironment } from "../hub-env.js";
import { type HubServer, startHubServer } from "../hub-server.js";
import { f32, type RawTensor, tinyConfig, writeSafetensors } from "../models-fixtures.js";
import { fuzzParams, reportFuzz } from "./fuzz.js";

const longformer = () => tinyConfig({ modelType: "longformer", attentionWindow: [8, 16] });
const bigbird = () => tinyConfig({ modelType: "big_bird" });

describe("item 3: every size is bounded before allocating, with the limit in the message", () => {
  it("num_hidden_layers: 1e9 with a single-number attention_window: an error, not an exhausted heap", () => {
    const t0 = performance.now();
    expect(() => parseConfig({ ...longformer(), num_hidden_layers: 1e9, attention_window: 8 })).toThrow(
      /config\.num_hidden_layers: got 1000000000; expected an integer in \[1, 1024\] \(1024 is this library's bound on num_hidden_layers/,
    );
    expect(performance.now() - t0).toBeLessThan(1000);
  });
  const cases: [string, unknown, RegExp][] = [
    ["hidden_size", 2 ** 20, /config\.hidden_size: .*\[1, 65536\]/],
    ["num_attention_heads", 4096, /config\.num_attention_heads: .*\[1, 1024\]/],
    ["intermediate_size", 1e9, /config\.intermediate_size: .*\[1, 262144\]/],
    ["vocab_size", 2 ** 31, /config\.vocab_size: .*\[1, 4194304\]/],
    ["max_position_embeddings", 1e12, /config\.max_position_embeddings: .*\[1, 16777216\]/],
    ["type_vocab_size", 1e6, /config\.type_vocab_size: .*\[1, 1024\]/],
    ["attention_window", [8, 2 ** 30], /config\.attention_window\[1\]: .*up to 16777216/],
  ];
  for (const [key, value, want] of cases) {
    it(`${key}: ${JSON.stringify(value)}`, () => {
      expect(() => parseConfig({ ...longformer(), [key]: value })).toThrow(want);
    });
  }
  it("BigBird block_size and num_random_blocks", () => {
    expect(() => parseConfig({ ...bigbird(), block_size: 1e7 })).toThrow(/config\.block_size: .*\[1, 65536\]/);
    expect(() => parseConfig({ ...bigbird(), num_random_blocks: 1e6 })).toThrow(
      /config\.num_random_blocks: .*\[0, 1024\]/,
    );
  });
});

describe("item 12: configs that cannot run are refused at load, naming the field", () => {
  it("Longformer pad_token_id >= max_position_embeddings - 1", () => {
    for (const pad of [599, 600, 700]) {
      expect(() => parseConfig({ ...longformer(), vocab_size: 1000, pad_token_id: pad })).toThrow(
        /config\.pad_token_id: got \d+; expected a value below max_position_embeddings 600 - 1/,
      );
    }
    expect(maxInputLength(parseConfig({ ...longformer(), pad_token_id: 598, vocab_size: 1000 })).limit).toBe(1);
  });
  it("BigBird block_size > max_position_embeddings (block_sparse); original_full does not pad", () => {
    expect(() => parseConfig({ ...bigbird(), block_size: 1024, max_position_embeddings: 600 })).toThrow(
      /config\.block_size: got 1024; expected at most max_position_embeddings 600/,
    );
    expect(maxInputLength(parseConfig({ ...bigbird(), attention_type: "original_full", block_size: 1024 })).limit).toBe(
      600,
    );
  });
  it("pad_token_id outside the vocabulary", () => {
    expect(() => parseConfig({ ...bigbird(), pad_token_id: 100 })).toThrow(
      /config\.pad_token_id: got 100; expected a token id below vocab_size 100/,
    );
  });
});

describe("item 11: the whole config is checked before any weights request", () => {
  let tmp = "";
  let hub: HubServer;
  beforeAll(async () => {
    tmp = mkdtempSync(path.join(os.tmpdir(), "sa-sec-config-"));
    const repo = (name: string, config: Record<string, unknown>) => {
      const dir = path.join(tmp, name);
      mkdirSync(dir, { recursive: true });
      writeFileSync(path.join(dir, "config.json"), JSON.stringify(config));
      writeFileSync(path.join(dir, "model.safetensors"), writeSafetensors({}));
      return dir;
    };
    const { hidden_size: _, ...noHidden } = longformer();
    hub = await startHubServer({
      repos: {
        "bad/no_hidden": repo("no_hidden", noHidden),
        "bad/five_heads": repo("five_heads", { ...longformer(), hidden_size: 64, num_attention_heads: 5 }),
        "bad/huge_layers": repo("huge_layers", { ...longformer(), num_hidden_layers: 1e9, attention_window: 8 }),
      },
    });
  });
  afterAll(async () => {
    await hub?.close();
    rmSync(tmp, { recursive: true, force: true });
  });
  for (const [id, want] of [
    ["bad/no_hidden", /config\.json\.hidden_size: got undefined; expected a value \(the field is required\)/],
    ["bad/five_heads", /config\.json\.num_attention_heads: got 5; expected a divisor of hidden_size 64/],
    ["bad/huge_layers", /config\.json\.num_hidden_layers: got 1000000000; expected an integer in \[1, 1024\]/],
  ] as const) {
    it(`${id}: refused after config.json alone`, async () => {
      isolateHfEnvironment(path.join(tmp, "home"));
      hub.requests.length = 0;
      const cacheDir = path.join(tmp, `cache-${id.replace("/", "-")}`);
      const e = await loadModel(id, { hubUrl: hub.url, cacheDir }).catch((x) => x);
      vi.unstubAllEnvs();
      expect(e).toBeInstanceOf(AttentionArgumentError);
      expect(e.message).toMatch(want);
      expect(hub.requests.map((r) => r.path)).toEqual([`/${id}/resolve/main/config.json`]);
    });
  }
});

/** Random weights for a parsed config (the BERT family's names), or null when they would be large. */
function weightsFor(raw: Record<string, unknown>): Uint8Array | null {
  const c = parseConfig(raw);
  const h = c.hidden;
  const I = c.intermediate;
  const floats = (c.vocab + c.maxPositions + c.typeVocab) * h + c.layers * (6 * h * h + 2 * h * I);
  if (floats > 2_000_000) return null;
  const rng = new Rng(5);
  const t: Record<string, RawTensor> = {};
  const rand = (name: string, shape: number[], mean = 0) => {
    const d = new Float32Array(shape.reduce((a, b) => a * b, 1));
    for (let i = 0; i < d.length; i++) d[i] = mean + 0.2 * (2 * rng.next() - 1);
    t[name] = f32(shape, d);
  };
  rand("embeddings.word_embeddings.weight", [c.vocab, h]);
  rand("embeddings.position_embeddings.weight", [c.maxPositions, h]);
  rand("embeddings.token_type_embeddings.weight", [c.typeVocab, h]);
  rand("embeddings.LayerNorm.weight", [h], 1);
  rand("embeddings.LayerNorm.bias", [h]);
  const projections =
    c.modelType === "longformer"
      ? ["query", "key", "value", "query_global", "key_global", "value_global"]
      : ["query", "key", "value"];
  for (let l = 0; l < c.layers; l++) {
    const q = `encoder.layer.${l}.`;
    for (const name of [...projections, "output.dense"].map((n) => (n === "output.dense" ? n : `self.${n}`))) {
      rand(`${q}attention.${name}.weight`, [h, h]);
      rand(`${q}attention.${name}.bias`, [h]);
    }
    rand(`${q}attention.output.LayerNorm.weight`, [h], 1);
    rand(`${q}attention.output.LayerNorm.bias`, [h]);
    rand(`${q}intermediate.dense.weight`, [I, h]);
    rand(`${q}intermediate.dense.bias`, [I]);
    rand(`${q}output.dense.weight`, [h, I]);
    rand(`${q}output.dense.bias`, [h]);
    rand(`${q}output.LayerNorm.weight`, [h], 1);
    rand(`${q}output.LayerNorm.bias`, [h]);
  }
  const pooler = c.modelType === "longformer" ? "pooler.dense" : "pooler";
  rand(`${pooler}.weight`, [h, h]);
  rand(`${pooler}.bias`, [h]);
  return writeSafetensors(t);
}

it("fuzz: mutated config.json ends in an error naming a config field, or a model whose forward runs", async () => {
  const FIELDS = [
    "model_type",
    "hidden_size",
    "num_attention_heads",
    "num_hidden_layers",
    "intermediate_size",
    "vocab_size",
    "max_position_embeddings",
    "type_vocab_size",
    "pad_token_id",
    "layer_norm_eps",
    "hidden_act",
    "attention_window",
    "attention_type",
    "block_size",
    "num_random_blocks",
    "architectures",
  ];
  const value = fc.oneof(
    fc.constant(undefined), // the field deleted
    fc.integer({ min: -3, max: 70 }),
    // the boundaries of the tiny configs (vocab 100, positions 600, block 8) and sizes past every bound
    { arbitrary: fc.constantFrom(0, 1, 2, 8, 16, 64, 98, 99, 100, 101, 598, 599, 600, 601, 1024), weight: 4 },
    fc.constantFrom(7, 33, 1e9, 2 ** 31, 2 ** 53, -0, 0.5, 1e-300),
    fc.constantFrom(null, true, "", "8", "gelu", "relu", "tanh", "longformer", "big_bird", "bert", "original_full"),
    fc.array(fc.integer({ min: -2, max: 40 }), { maxLength: 4 }),
    fc.constantFrom({}, [], [[8]], ["LongformerModel"], { __proto__: null }),
  );
  let cases = 0;
  let refused = 0;
  let ran = 0;
  let tooLarge = 0;
  const fieldsNamed = new Set<string>();
  await fc.assert(
    fc.asyncProperty(
      fc.boolean(),
      fc.array(fc.tuple(fc.constantFrom(...FIELDS), value), { minLength: 1, maxLength: 4 }),
      async (isLongformer, edits) => {
        cases++;
        const raw: Record<string, unknown> = isLongformer ? longformer() : bigbird();
        for (const [k, v] of edits) {
          if (v === undefined) delete raw[k];
          else raw[k] = v;
        }
        let weights: Uint8Array | null;
        try {
          weights = weightsFor(raw);
        } catch (e) {
          if (!(e instanceof AttentionArgumentError)) throw e;
          expect(e.message).toMatch(/^config(\.[a-z_]+(\[\d+\])?)?: got /);
          fieldsNamed.add(e.message.split(":")[0]);
          refused++;
          return;
        }
        const limit = maxInputLength(parseConfig(raw)).limit;
        expect(limit).toBeGreaterThanOrEqual(1);
        if (weights === null) {
          tooLarge++;
          return;
        }
        const model = await loadModel({ config: raw, weights });
        const L = Math.min(limit, 24);
        const ids = new Int32Array(L);
        const vocab = model.config.vocab;
        for (let i = 0; i < L; i++) ids[i] = (i * 7 + 3) % vocab;
        const out = await model.forward({ inputIds: { data: ids, shape: [1, L] } }, { backend: "js" });
        expect(out.lastHiddenState.shape).toEqual([1, L, model.config.hidden]);
        expect(out.lastHiddenState.data.every(Number.isFinite)).toBe(true);
        ran++;
      },
    ),
    fuzzParams(400, 5000),
  );
  reportFuzz(
    "config.json mutations",
    cases,
    `${refused} refused naming ${fieldsNamed.size} distinct fields, ${ran} loaded and ran a finite forward, ${tooLarge} accepted but too large to build here (their input limit checked >= 1)`,
  );
  expect(refused).toBeGreaterThan(0);
  expect(ran).toBeGreaterThan(0);
}, 60_000);
