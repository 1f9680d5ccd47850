/**
 * A forward keeps its activations in the wasm memory (workBuffer: the wasm ops read and write
 * them in place) and gives every buffer back when it ends, also when it ends by an error; the
 * output it returns is a plain array that outlives the forward. Longformer (global rows, which
 * stage through the attention buffers), BigBird and ModernBERT (split + RoPE in place) agree with js.
 */
import { expect, it } from "vitest";
import { wasmRuntime } from "../src/backends/wasm/wasm.js";
import { loadModel } from "../src/models/index.js";
import { randomIds, tinyCheckpoint } from "./models-fixtures.js";
import { mbModel } from "./modernbert-case.js";

const resident = () => wasmRuntime()?.mem.residentBytes ?? 0;

for (const modelType of ["longformer", "big_bird"] as const) {
  it(`${modelType}: no resident buffer outlives a forward, finished or thrown; results match js`, async () => {
    const model = await loadModel(tinyCheckpoint({ modelType, layers: 2, hidden: 32, heads: 4 }));
    const L = modelType === "big_bird" ? 2 * 64 + 5 * 16 : 60;
    const inputIds = randomIds(2, L, 100, 3);
    const global = new Int32Array(2 * L);
    global[0] = 1;
    global[L + 3] = 1;
    const inputs =
      modelType === "longformer"
        ? { inputIds, globalAttentionMask: { data: global, shape: [2, L] as [number, number] } }
        : { inputIds };
    const before = resident();
    const js = await model.forward(inputs, { backend: "js" });
    for (const threads of [1, 2]) {
      let during = 0;
      const out = await model.forward(inputs, {
        backend: "wasm",
        threads,
        onLayer: () => {
          during = Math.max(during, resident());
        },
      });
      expect(during).toBeGreaterThan(before); // the activations were in wasm memory
      expect(resident()).toBe(before);
      const a = out.lastHiddenState.data;
      expect(wasmRuntime()!.mem.residentPtr(a)).toBe(-1); // the caller's own array
      let worst = 0;
      for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i] - js.lastHiddenState.data[i]));
      expect(worst).toBeLessThan(1e-4);
    }
    const stop = new Error("stop");
    await expect(
      model.forward(inputs, {
        backend: "wasm",
        onLayer: (done) => {
          if (done === 1) throw stop;
        },
      }),
    ).rejects.toBe(stop);
    expect(resident()).toBe(before);
  });
}

it("modernbert: the forward's buffers are resident while it runs and all given back; results match js", async () => {
  const model = await mbModel();
  const L = 40;
  const inputIds = {
    data: Int32Array.from({ length: 2 * L }, (_, i) => 5 + ((i * 37) % 90)),
    shape: [2, L] as [number, number],
  };
  const before = resident();
  const js = await model.forward({ inputIds }, { backend: "js" });
  let during = 0;
  const out = await model.forward(
    { inputIds },
    {
      backend: "wasm",
      threads: 2,
      onLayer: () => {
        during = Math.max(during, resident());
      },
    },
  );
  expect(during).toBeGreaterThan(before);
  expect(resident()).toBe(before);
  let worst = 0;
  const a = out.lastHiddenState.data;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i] - js.lastHiddenState.data[i]));
  expect(worst).toBeLessThan(1e-4);
});
