/**
 * Longformer's global rows across a batch: key_global / value_global / query_global run as one
 * product each over the batch when every row has a global token, row by row otherwise. Either
 * way each row must equal the same row run alone (B = 1): rows with different numbers of global
 * tokens, a row without any, trailing padding, on wasm (1 and 2 threads) and js.
 */
import { expect, it } from "vitest";
import { loadModel } from "../src/models/index.js";
import { randomIds, tinyCheckpoint } from "./models-fixtures.js";

const L = 48;
const h = 32;

async function check(globalRows: number[][], lengths: number[]): Promise<void> {
  const model = await loadModel(tinyCheckpoint({ modelType: "longformer", layers: 2, hidden: h, heads: 4 }));
  const B = globalRows.length;
  const ids = randomIds(B, L, 100, 11);
  const mask = new Int32Array(B * L);
  const global = new Int32Array(B * L);
  for (let b = 0; b < B; b++) {
    for (let i = 0; i < lengths[b]; i++) mask[b * L + i] = 1;
    for (let i = lengths[b]; i < L; i++) ids.data[b * L + i] = 1; // pad id
    for (const i of globalRows[b]) global[b * L + i] = 1;
  }
  const row = (a: Int32Array, b: number) => ({ data: a.slice(b * L, (b + 1) * L), shape: [1, L] as [number, number] });
  for (const opts of [
    { backend: "wasm" as const, threads: 1 },
    { backend: "wasm" as const, threads: 2 },
    { backend: "js" as const },
  ]) {
    const all = await model.forward(
      {
        inputIds: ids,
        attentionMask: { data: mask, shape: [B, L] },
        globalAttentionMask: { data: global, shape: [B, L] },
      },
      opts,
    );
    for (let b = 0; b < B; b++) {
      const one = await model.forward(
        { inputIds: row(ids.data, b), attentionMask: row(mask, b), globalAttentionMask: row(global, b) },
        opts,
      );
      let worst = 0;
      for (let i = 0; i < lengths[b] * h; i++) {
        worst = Math.max(worst, Math.abs(all.lastHiddenState.data[b * L * h + i] - one.lastHiddenState.data[i]));
      }
      expect(worst).toBeLessThan(1e-5);
    }
  }
}

it("every row has global tokens (one product per projection over the batch): each row as if alone", async () => {
  await check([[0], [0, 5, 17], [2, 40]], [L, 30, 45]);
});

it("a row without global tokens (row by row): each row as if alone", async () => {
  await check([[0, 9], [], [1]], [L, 20, 41]);
});
