/**
 * ModernBERT conformance: the shared tiny checkpoints (../shared/models/modernbert: 6 layers,
 * window 16, global every 3rd, HF v4.48's own eager outputs) run on js and wasm with 1 and 2
 * threads match every hidden state, the MLM logits, both sequence-classification poolings and
 * the token-classification logits to <= 1e-5 relative (max |Δ| / max |HF| and relative
 * Frobenius), on the real (attention_mask 1) positions. Case a is a padded batch [2, 600],
 * b its second row alone without a mask, c six tokens inside one window.
 */
import { describe, expect, it } from "vitest";
import { TEST_BACKENDS } from "./backends.js";
import { errs, mbArray, mbInts, mbModel } from "./modernbert-case.js";

const TOL = 1e-5;
const CASES = ["a", "b", "c"] as const;

function expectClose(got: Float32Array, want: Float32Array, width: number, use?: ArrayLike<number>) {
  const e = errs(got, want, width, use);
  expect(e.relMax).toBeLessThan(TOL);
  expect(e.relFro).toBeLessThan(TOL);
}

/** Case b is run as HF ran it: no attention_mask (all ones). */
function inputsOf(c: string) {
  const ids = mbInts(`${c}_input_ids`);
  const mask = mbInts(`${c}_attention_mask`);
  return { ids, mask, inputs: c === "b" ? { inputIds: ids } : { inputIds: ids, attentionMask: mask } };
}

describe("ModernBERT vs HF (../shared/models/modernbert)", () => {
  const mlm = mbModel();
  const cls = mbModel("seqcls_cls");
  const mean = mbModel("seqcls_mean");
  const tok = mbModel("tokcls");
  for (const be of TEST_BACKENDS) {
    const o = { backend: be.backend, threads: be.threads };
    it(`${be.label}: hidden states of every layer, last_hidden_state and MLM logits`, async () => {
      for (const c of CASES) {
        const { ids, mask, inputs } = inputsOf(c);
        const [B, T] = ids.shape;
        const res = await (await mlm).forward(inputs, { ...o, outputHiddenStates: true, profile: true });
        expect(res.lastHiddenState.shape).toEqual([B, T, 64]);
        expect(res.logits?.shape).toEqual([B, T, 1000]);
        expect(res.hiddenStates?.length).toBe(7);
        const hs = mbArray(`${c}_hidden_states`).data as Float32Array; // [7, B, T, 64]
        for (let l = 0; l < 7; l++) {
          expectClose(
            res.hiddenStates?.[l] as Float32Array,
            hs.subarray(l * B * T * 64, (l + 1) * B * T * 64),
            64,
            mask.data,
          );
        }
        expectClose(res.lastHiddenState.data, mbArray(`${c}_last_hidden_state`).data as Float32Array, 64, mask.data);
        expectClose(res.logits?.data as Float32Array, mbArray(`${c}_mlm_logits`).data as Float32Array, 1000, mask.data);
        // one plan per attention kind: the window (local layers) and dense (global layers)
        expect(res.profile?.plans).toBe(2);
      }
    });
    it(`${be.label}: sequence classification (cls and mean pooling) and token classification`, async () => {
      for (const c of CASES) {
        const { ids, mask, inputs } = inputsOf(c);
        const [B, T] = ids.shape;
        const rc = await (await cls).forward(inputs, o);
        expect(rc.logits?.shape).toEqual([B, 3]);
        expectClose(rc.logits?.data as Float32Array, mbArray(`${c}_seqcls_cls_logits`).data as Float32Array, 3);
        // HF v4.48's mean pooling needs the mask: every case passed it to the mean model
        const rm = await (await mean).forward({ inputIds: ids, attentionMask: mask }, o);
        expectClose(rm.logits?.data as Float32Array, mbArray(`${c}_seqcls_mean_logits`).data as Float32Array, 3);
        const rt = await (await tok).forward(inputs, o);
        expect(rt.logits?.shape).toEqual([B, T, 5]);
        expectClose(rt.logits?.data as Float32Array, mbArray(`${c}_tokcls_logits`).data as Float32Array, 5, mask.data);
      }
    });
  }

  it("MLM logits at chosen rows equal those rows of the full logits", async () => {
    const { inputs } = inputsOf("a");
    const m = await mlm;
    const full = (await m.forward(inputs, { backend: "wasm" })).logits?.data as Float32Array;
    const rows = [0, 5, 599, 600, 799];
    const some = await m.maskedLogitsAt(inputs, rows, { backend: "wasm" });
    expect(some.length).toBe(5 * 1000);
    rows.forEach((r, i) => {
      expect(some.subarray(i * 1000, (i + 1) * 1000)).toEqual(full.subarray(r * 1000, (r + 1) * 1000));
    });
  });

  it("the mistakes the shared README lists are caught: a window one too narrow or one too wide, swapped thetas, every layer global", async () => {
    const { mask, inputs } = inputsOf("a");
    const want = mbArray("a_last_hidden_state").data as Float32Array;
    for (const patch of [
      { local_attention: 14 },
      { local_attention: 18 },
      { global_rope_theta: 10000, local_rope_theta: 160000 },
      { global_attn_every_n_layers: 1 },
    ]) {
      const r = await (await mbModel("", patch, "none")).forward(inputs, { backend: "wasm" });
      expect(errs(r.lastHiddenState.data, want, 64, mask.data).relMax).toBeGreaterThan(1e-2);
    }
  });

  it("a task the checkpoint cannot serve is refused: a head ModernBERT lacks, or a head whose tensors are missing", async () => {
    await expect(mbModel("", {}, "text-classification")).rejects.toThrow(/missing tensor "classifier.weight"/);
    await expect(mbModel("", {}, "question-answering")).rejects.toThrow(/options.task.*"fill-mask"/);
  });
});
