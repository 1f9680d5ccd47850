/**
 * Issue 19, item 4: weights edited in place are seen on every backend. The wasm GEMM keeps no
 * copy of a weight: every call packs W afresh (docs/security.md, "Weights edited in place").
 * Before, a cache checked by a 16-sample fingerprint missed single edits and the old weights
 * ran silently.
 */
import { expect, it } from "vitest";
import { loadModel } from "../../src/models/index.js";
import { linear } from "../../src/models/ops.js";
import { randomIds, tinyCheckpoint } from "../models-fixtures.js";

it("model.weights.layers[0].query.W[1] += 5, then forward again on wasm: the edit is seen, as on js", async () => {
  const model = await loadModel(tinyCheckpoint({ modelType: "longformer", layers: 2, hidden: 32, heads: 4 }));
  const inputs = { inputIds: randomIds(1, 40, 100, 3) };
  const before = await model.forward(inputs, { backend: "wasm", threads: 1 });
  const W = (model.weights.layers[0] as unknown as { query: { W: Float32Array } }).query.W; // a Longformer layer
  const original = W[1];
  W[1] += 5; // one element no fingerprint sample lands on
  const wasm = await model.forward(inputs, { backend: "wasm", threads: 1 });
  const js = await model.forward(inputs, { backend: "js" });
  let changed = 0;
  for (let i = 0; i < wasm.lastHiddenState.data.length; i++) {
    if (wasm.lastHiddenState.data[i] !== before.lastHiddenState.data[i]) changed++;
    expect(Math.abs(wasm.lastHiddenState.data[i] - js.lastHiddenState.data[i])).toBeLessThan(1e-4);
  }
  expect(changed).toBeGreaterThan(0);
  // and back: undoing the edit gives the first answer bit for bit
  W[1] = original;
  const again = await model.forward(inputs, { backend: "wasm", threads: 1 });
  expect(again.lastHiddenState.data).toEqual(before.lastHiddenState.data);
});

it("linear() on wasm sees an edit of any single element, NaN payloads and -0 included", () => {
  const [rows, inF, outF] = [3, 37, 19];
  const x = Float32Array.from({ length: rows * inF }, (_, i) => ((i * 7) % 11) - 5);
  const W = Float32Array.from({ length: outF * inF }, (_, i) => ((i * 5) % 13) - 6);
  const opt = { backend: "wasm" as const, threads: 1 };
  for (const at of [0, 1, W.length >> 1, W.length - 2, W.length - 1]) {
    linear(x, rows, inF, W, outF, null, undefined, opt);
    const old = W[at];
    W[at] = old + 1;
    const got = linear(x, rows, inF, W, outF, null, undefined, opt);
    const want = linear(x, rows, inF, W, outF, null, undefined, { backend: "js" });
    expect(got).toEqual(want);
    W[at] = old;
  }
  // an edit to a NaN is carried, not compared away
  W[5] = Number.NaN;
  const nan = linear(x, rows, inF, W, outF, null, undefined, opt);
  expect(Number.isNaN(nan[Math.floor(5 / inF)])).toBe(true);
});
