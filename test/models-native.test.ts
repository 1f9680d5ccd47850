/**
 * The native path (linear layers on onnxruntime-node, opted in with useNativeLinear(true)):
 * the shared tiny HF checkpoints still match HF's outputs to relative Frobenius error <= 1e-5,
 * and the linear layers really ran natively (linear()'s report says which op ran).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type LinearReport, linear } from "../src/backends/dispatch.js";
import { loadModel, useNativeLinear } from "../src/models/index.js";
import { caseDir, ints, readArray, relErr } from "./models-case.js";

const TOL = 1e-5;
let old = false;
beforeAll(() => {
  old = useNativeLinear(true);
});
afterAll(() => {
  useNativeLinear(old);
});

describe("the native linear path on the shared HF checkpoints", () => {
  it("auto takes the native op once opted in", () => {
    const report: LinearReport = {};
    linear(new Float32Array(8), 2, 4, new Float32Array(12), 3, null, undefined, { report });
    expect(report.backend).toBe("native");
  });

  it("Longformer: last_hidden_state and pooler_output match HF", async () => {
    const N = "longformer_tiny";
    const model = await loadModel(caseDir(N));
    const mask = ints(N, "attention_mask");
    const res = await model.forward({
      inputIds: ints(N, "input_ids"),
      attentionMask: mask,
      globalAttentionMask: ints(N, "global_attention_mask"),
    });
    expect(
      relErr(res.lastHiddenState.data, readArray(N, "last_hidden_state").data as Float32Array, 64, mask.data),
    ).toBeLessThan(TOL);
    const pool = readArray(N, "pooler_output").data as Float32Array;
    expect(relErr(res.poolerOutput?.data as Float32Array, pool, 64)).toBeLessThan(TOL);
  });

  it("BigBird block_sparse: last_hidden_state matches HF", async () => {
    const N = "bigbird_tiny";
    const model = await loadModel(caseDir(N));
    const res = await model.forward({ inputIds: ints(N, "input_ids") });
    expect(relErr(res.lastHiddenState.data, readArray(N, "last_hidden_state").data as Float32Array, 64)).toBeLessThan(
      TOL,
    );
  });
});
