/**
 * Properties of the model forward on random small checkpoints (made in memory, loaded from
 * safetensors bytes): windows that cover everything equal dense attention; Longformer's
 * receptive field is layers × one-sided window; BigBird original_full and HF's short-input
 * fallback equal dense.
 */
import { describe, expect, it } from "vitest";
import { loadModel } from "../src/models/index.js";
import { relErr } from "./models-case.js";
import { randomIds, tinyCheckpoint } from "./models-fixtures.js";

const opts = [{ backend: "js" as const }, { backend: "wasm" as const, threads: 2 }];

describe("model properties", () => {
  for (const o of opts) {
    it(`${o.backend}: a Longformer whose window covers the input equals dense attention (with padding)`, async () => {
      const L = 40;
      const model = await loadModel(
        tinyCheckpoint({ modelType: "longformer", attentionWindow: [2 * L, 2 * L + 4], seed: 2 }),
      );
      const ids = randomIds(2, L, 100, 7);
      const mask = new Int32Array(2 * L).fill(1);
      mask.fill(0, L + 31, 2 * L); // row 1: 31 real tokens
      for (let i = L + 31; i < 2 * L; i++) ids.data[i] = 1; // pad id
      const inputs = { inputIds: ids, attentionMask: { data: mask, shape: [2, L] as [number, number] } };
      const sparse = await model.forward(inputs, o);
      const dense = await model.forward(inputs, { ...o, attention: "dense" });
      expect(relErr(sparse.lastHiddenState.data, dense.lastHiddenState.data, 32, mask)).toBeLessThan(1e-5);
      // and a narrow window is a different model
      const narrow = await loadModel(tinyCheckpoint({ modelType: "longformer", attentionWindow: [4, 4], seed: 2 }));
      const n = await narrow.forward(inputs, o);
      expect(relErr(n.lastHiddenState.data, dense.lastHiddenState.data, 32, mask)).toBeGreaterThan(1e-3);
    });

    it(`${o.backend}: tokens farther than layers × one-sided window (not global) do not change a token's output`, async () => {
      const L = 120;
      const model = await loadModel(tinyCheckpoint({ modelType: "longformer", attentionWindow: [8, 12], seed: 3 }));
      const reach = 4 + 6; // one-sided windows summed over the layers
      const ids = randomIds(1, L, 100, 11);
      const i = 60;
      const edit = (pick: (j: number) => boolean) => {
        const data = ids.data.slice();
        for (let j = 0; j < L; j++) if (pick(j)) data[j] = 5 + ((data[j] + 17) % 95);
        return { data, shape: ids.shape };
      };
      const row = (r: { lastHiddenState: { data: Float32Array } }) =>
        r.lastHiddenState.data.subarray(i * 32, (i + 1) * 32);
      const base = await model.forward({ inputIds: ids }, o);
      const far = edit((j) => Math.abs(j - i) > reach);
      expect(relErr(row(await model.forward({ inputIds: far }, o)), row(base), 32)).toBeLessThan(1e-6);
      // a token just inside the reach does change it
      const near = edit((j) => j === i + reach);
      expect(relErr(row(await model.forward({ inputIds: near }, o)), row(base), 32)).toBeGreaterThan(1e-4);
      // with a global token (far away), far tokens reach i through it in two layers
      const g = new Int32Array(L);
      g[3] = 1;
      const global = { data: g, shape: [1, L] as [number, number] };
      const gBase = await model.forward({ inputIds: ids, globalAttentionMask: global }, o);
      const gFar = await model.forward({ inputIds: edit((j) => j === 100), globalAttentionMask: global }, o);
      expect(relErr(row(gFar), row(gBase), 32)).toBeGreaterThan(1e-6);
    });

    it(`${o.backend}: BigBird original_full and the short-input fallback equal dense`, async () => {
      const full = await loadModel(tinyCheckpoint({ modelType: "big_bird", attentionType: "original_full", seed: 4 }));
      const ids = randomIds(2, 200, 100, 5);
      const a = await full.forward({ inputIds: ids }, o);
      const d = await full.forward({ inputIds: ids }, { ...o, attention: "dense" });
      expect(relErr(a.lastHiddenState.data, d.lastHiddenState.data, 32)).toBeLessThan(1e-5);
      // block_sparse, block 8, 2 random blocks: HF switches to full for L <= (5 + 2·2)·8 = 72
      const bs = await loadModel(tinyCheckpoint({ modelType: "big_bird", attentionType: "block_sparse", seed: 4 }));
      expect(bs.bigBirdAttention(72)).toBe("original_full");
      expect(bs.bigBirdAttention(73)).toBe("block_sparse");
      const short = randomIds(1, 72, 100, 6);
      const s = await bs.forward({ inputIds: short }, { ...o, profile: true });
      expect(s.profile?.attention).toBe("original_full");
      const sd = await bs.forward({ inputIds: short }, { ...o, attention: "dense" });
      expect(relErr(s.lastHiddenState.data, sd.lastHiddenState.data, 32)).toBeLessThan(1e-5);
      // above the threshold, block-sparse (padded to 80) differs from dense
      const long = randomIds(1, 75, 100, 6);
      const l = await bs.forward({ inputIds: long }, { ...o, profile: true });
      expect(l.profile?.attention).toBe("block_sparse");
      expect(l.profile?.length).toBe(80);
      expect(l.lastHiddenState.shape).toEqual([1, 75, 32]);
      const ld = await bs.forward({ inputIds: long }, { ...o, attention: "dense" });
      expect(relErr(l.lastHiddenState.data, ld.lastHiddenState.data, 32)).toBeGreaterThan(1e-4);
    });
  }

  it("user padding leaves real tokens unchanged (Longformer: any amount; BigBird: up to its block multiple), task-model prefixes load", async () => {
    for (const modelType of ["longformer", "big_bird"] as const) {
      const model = await loadModel(
        tinyCheckpoint({ modelType, seed: 9, prefix: modelType === "longformer" ? "longformer." : "bert." }),
      );
      const L = 150;
      // BigBird pads 150 to 152 itself (block 8); its block layout depends on the padded length, as in HF
      const P = modelType === "longformer" ? 30 : 2;
      const ids = randomIds(1, L, 100, 12);
      const alone = await model.forward({ inputIds: ids }, { backend: "js" });
      const padId = modelType === "longformer" ? 1 : 0;
      const W = L + P;
      const both = new Int32Array(2 * W).fill(padId); // [2, W]
      const m = new Int32Array(2 * W);
      both.set(randomIds(1, W, 100, 13).data, 0);
      m.fill(1, 0, W);
      both.set(ids.data, W); // row 1 = the same tokens, then P pads
      m.fill(1, W, W + L);
      const res = await model.forward(
        { inputIds: { data: both, shape: [2, W] }, attentionMask: { data: m, shape: [2, W] } },
        { backend: "js" },
      );
      const row1 = res.lastHiddenState.data.subarray(W * 32, (W + L) * 32);
      expect(relErr(row1, alone.lastHiddenState.data, 32), modelType).toBeLessThan(1e-6);
    }
  });

  it("scattered padding: a masked token is never seen (its id does not matter), an unmasked one is", async () => {
    for (const modelType of ["longformer", "big_bird"] as const) {
      const model = await loadModel(tinyCheckpoint({ modelType, seed: 21 }));
      const L = 120;
      const ids = randomIds(2, L, 100, 22);
      const g = new Int32Array(2 * L);
      if (modelType === "longformer") g[L + 7] = 1; // a global token in row 1
      const mask = new Int32Array(2 * L).fill(1);
      const holes = [30, 31, 77, L + 50, L + 90];
      for (const i of holes) mask[i] = 0;
      const run = (data: Int32Array, m: Int32Array) =>
        model.forward(
          {
            inputIds: { data, shape: [2, L] },
            attentionMask: { data: m, shape: [2, L] },
            ...(modelType === "longformer"
              ? { globalAttentionMask: { data: g, shape: [2, L] as [number, number] } }
              : {}),
          },
          { backend: "js", profile: true },
        );
      const base = await run(ids.data, mask);
      expect(base.profile?.attention).toBe(modelType === "longformer" ? "longformer" : "block_sparse");
      const other = ids.data.slice();
      for (const i of holes) other[i] = 5 + ((other[i] + 11) % 95);
      const same = await run(other, mask);
      const real = Array.from(mask, (x) => x);
      expect(relErr(same.lastHiddenState.data, base.lastHiddenState.data, 32, real), modelType).toBeLessThan(1e-6);
      const unmasked = await run(other, new Int32Array(2 * L).fill(1));
      expect(relErr(unmasked.lastHiddenState.data, base.lastHiddenState.data, 32, real), modelType).toBeGreaterThan(
        1e-4,
      );
    }
  });
});
