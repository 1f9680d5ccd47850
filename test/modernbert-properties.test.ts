/**
 * ModernBERT properties on the shared tiny weights (random ids, lengths and padding):
 *  - a window covering the whole input (local_attention >= 2·(L − 1)) with one RoPE base
 *    equals the model whose every layer is global;
 *  - through local layers only (m of them, one-sided width r = window / 2), position i does
 *    not depend on a token farther than m·r from it, and does depend on one exactly m·r away.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { errs, mbModel } from "./modernbert-case.js";

const VOCAB = 995; // ids below [UNK] 995 … [MASK] 999

function batch(ids: number[][], lengths: number[]) {
  const B = ids.length;
  const L = Math.max(...ids.map((r) => r.length));
  const data = new Int32Array(B * L).fill(998); // [B, L], [PAD] 998
  const mask = new Int32Array(B * L);
  ids.forEach((r, b) => {
    data.set(r.slice(0, lengths[b]), b * L);
    mask.fill(1, b * L, b * L + lengths[b]);
  });
  return {
    inputIds: { data, shape: [B, L] as [number, number] },
    attentionMask: { data: mask, shape: [B, L] as [number, number] },
  };
}

describe("ModernBERT properties", () => {
  it("a window covering the input equals every layer global", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 48 }).chain((L) =>
          fc.tuple(
            fc.array(fc.array(fc.integer({ min: 0, max: VOCAB - 1 }), { minLength: L, maxLength: L }), {
              minLength: 1,
              maxLength: 2,
            }),
            fc.array(fc.integer({ min: 1, max: L }), { minLength: 2, maxLength: 2 }),
          ),
        ),
        async ([ids, lens]) => {
          const L = ids[0].length;
          const inputs = batch(
            ids,
            ids.map((_, b) => (b === 0 ? L : lens[b])),
          );
          const theta = { global_rope_theta: 160000, local_rope_theta: 160000 };
          const wide = await mbModel("", { ...theta, local_attention: 2 * L }, "none");
          const global = await mbModel("", { ...theta, global_attn_every_n_layers: 1 }, "none");
          const a = await wide.forward(inputs, { backend: "wasm", threads: 1 });
          const g = await global.forward(inputs, { backend: "wasm", threads: 1 });
          const e = errs(a.lastHiddenState.data, g.lastHiddenState.data, 64, inputs.attentionMask.data);
          expect(e.relMax).toBeLessThan(1e-6);
        },
      ),
      { numRuns: 12, seed: 22 },
    );
  });

  it("through m local layers, a token farther than m · window/2 does not reach a position", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 3 }),
        fc.integer({ min: 2, max: 8 }).map((r) => 2 * r),
        fc.integer({ min: 0, max: 1_000_000 }),
        async (m, window, seed) => {
          const r = window / 2;
          const L = 2 * m * r + 12;
          let s = seed;
          const rnd = () => {
            s = (s * 1103515245 + 12345) % 2147483648;
            return s / 2147483648;
          };
          const ids = Array.from({ length: L }, () => Math.floor(rnd() * VOCAB));
          const i = Math.floor(rnd() * L); // the position watched
          const far = [i - m * r - 1 - Math.floor(rnd() * 4), i + m * r + 1 + Math.floor(rnd() * 4)].filter(
            (j) => j >= 0 && j < L,
          );
          const edge = [i - m * r, i + m * r].filter((j) => j >= 0 && j < L);
          const model = await mbModel(
            "",
            {
              num_hidden_layers: m,
              local_attention: window,
              layer_types: Array.from({ length: m }, () => "sliding_attention"),
            },
            "none",
          );
          const run = async (changed: number | null) => {
            const x = ids.slice();
            if (changed !== null) x[changed] = (x[changed] + 1 + Math.floor(rnd() * (VOCAB - 1))) % VOCAB;
            const out = await model.forward(batch([x], [L]), { backend: "wasm", threads: 1 });
            return out.lastHiddenState.data.slice(i * 64, (i + 1) * 64); // row i of [1, L, 64]
          };
          const base = await run(null);
          for (const j of far) expect(await run(j)).toEqual(base);
          for (const j of edge) expect(errs(await run(j), base, 64).relMax).toBeGreaterThan(1e-7);
        },
      ),
      { numRuns: 10, seed: 7 },
    );
  });
});
