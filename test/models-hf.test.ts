/**
 * Whole-model conformance: the shared tiny HF checkpoints (../shared/models/hf, transformers
 * 5.17, float32, eval) run by loadModel + forward on every test backend match HF's
 * last_hidden_state and pooler_output to relative Frobenius error <= 1e-5 on unpadded tokens.
 */
import { describe, expect, it } from "vitest";
import { bigBirdExtras } from "../src/models/attend.js";
import { loadModel } from "../src/models/index.js";
import { TEST_BACKENDS } from "./backends.js";
import { caseDir, ints, readArray, relErr } from "./models-case.js";

const TOL = 1e-5;

describe("HF Longformer (../shared/models/hf/longformer_tiny)", () => {
  const N = "longformer_tiny";
  for (const be of TEST_BACKENDS) {
    it(`${be.label}: last_hidden_state and pooler_output match HF`, async () => {
      const model = await loadModel(caseDir(N));
      const mask = ints(N, "attention_mask");
      const res = await model.forward(
        { inputIds: ints(N, "input_ids"), attentionMask: mask, globalAttentionMask: ints(N, "global_attention_mask") },
        { backend: be.backend, threads: be.threads, profile: true },
      );
      expect(res.lastHiddenState.shape).toEqual([2, 500, 64]);
      expect(res.profile?.plans).toBe(2); // one plan per distinct window (32, 64), the batch rows in one call
      // the profile names the backends that ran: every attention() call and every linear layer on the one asked for
      const used = res.profile!.backends;
      expect(Object.keys(used.attention)).toEqual([be.backend]);
      expect(Object.keys(used.linear)).toEqual([be.backend]);
      expect(used.threads).toBe(be.threads ?? 1);
      const want = readArray(N, "last_hidden_state").data as Float32Array;
      expect(relErr(res.lastHiddenState.data, want, 64, mask.data)).toBeLessThan(TOL);
      expect(res.poolerOutput?.shape).toEqual([2, 64]);
      const pool = readArray(N, "pooler_output").data as Float32Array;
      expect(relErr(res.poolerOutput?.data as Float32Array, pool, 64)).toBeLessThan(TOL);
      // the global tokens matter: without them, token 0 of each row is far off
      const local = await model.forward(
        { inputIds: ints(N, "input_ids"), attentionMask: mask },
        { backend: be.backend, threads: be.threads },
      );
      expect(relErr(local.lastHiddenState.data.subarray(0, 64), want.subarray(0, 64), 64)).toBeGreaterThan(1e-3);
    });
  }
});

describe("HF BigBird block_sparse (../shared/models/hf/bigbird_tiny)", () => {
  const N = "bigbird_tiny";
  for (const be of TEST_BACKENDS) {
    it(`${be.label}: last_hidden_state matches HF (eval-mode table, block 0 counted 1 + R times)`, async () => {
      const model = await loadModel(caseDir(N));
      const ids = ints(N, "input_ids");
      expect(model.bigBirdAttention(ids.shape[1])).toBe("block_sparse");
      const want = readArray(N, "last_hidden_state").data as Float32Array;
      const res = await model.forward({ inputIds: ids }, { backend: be.backend, threads: be.threads, profile: true });
      expect(res.lastHiddenState.shape).toEqual([1, 512, 64]);
      expect(res.profile?.plans).toBe(2); // the set and the repeated block 0, planned once for both layers
      expect(relErr(res.lastHiddenState.data, want, 64)).toBeLessThan(TOL);
      // HF's own tables, passed explicitly, give the same result
      const tables = [0, 1].map((l) => readArray(N, `rand_attn_layer${l}`).data as Int32Array);
      const explicit = await model.forward(
        { inputIds: ids },
        { backend: be.backend, threads: be.threads, randomAttention: tables },
      );
      expect(relErr(explicit.lastHiddenState.data, want, 64)).toBeLessThan(TOL);
      // a seeded draw (set semantics, real random blocks) is a different model: far from HF
      const seeded = await model.forward(
        { inputIds: ids },
        { backend: be.backend, threads: be.threads, randomAttention: { seed: 3 } },
      );
      expect(relErr(seeded.lastHiddenState.data, want, 64)).toBeGreaterThan(1e-4);
    });
  }

  it("HF's eval table is all zeros, so block 0 is named 1 + R times in every middle row", () => {
    const t = readArray(N, "rand_attn_layer0");
    expect(t.shape).toEqual([4, 30, 2]);
    expect(Array.from(t.data).every((x) => x === 0)).toBe(true);
    const extras = bigBirdExtras(t.data as Int32Array, 4, 32, 2);
    expect(extras.length).toBe(4 * 30);
    expect(extras.every((e) => e.kb === 0 && e.extra === 2)).toBe(true);
  });
});

describe("HF checkpoints on the float64 reference attention", () => {
  it("both match HF with backend 'reference' (attention in float64, linear layers in js)", async () => {
    const lf = await loadModel(caseDir("longformer_tiny"));
    const mask = ints("longformer_tiny", "attention_mask");
    const a = await lf.forward(
      {
        inputIds: ints("longformer_tiny", "input_ids"),
        attentionMask: mask,
        globalAttentionMask: ints("longformer_tiny", "global_attention_mask"),
      },
      { backend: "reference" },
    );
    const wantL = readArray("longformer_tiny", "last_hidden_state").data as Float32Array;
    expect(relErr(a.lastHiddenState.data, wantL, 64, mask.data)).toBeLessThan(TOL);
    const bb = await loadModel(caseDir("bigbird_tiny"));
    const b = await bb.forward({ inputIds: ints("bigbird_tiny", "input_ids") }, { backend: "reference" });
    const wantB = readArray("bigbird_tiny", "last_hidden_state").data as Float32Array;
    expect(relErr(b.lastHiddenState.data, wantB, 64)).toBeLessThan(TOL);
  });
});
