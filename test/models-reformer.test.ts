/**
 * The whole Reformer LM against HuggingFace v4.40.2's own outputs (../shared/models/hf/reformer_tiny):
 * logits, last_hidden_state and every X2 hidden state to <= 1e-5 relative, the LSH buckets exactly,
 * and greedy generation with and without HF's cache id for id (cases c and d), on js and wasm with
 * 1 and 2 threads.
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, test } from "vitest";
import { loadReformer } from "../src/models/reformer/index.js";

const REFORMER_DIR = path.resolve(__dirname, "../../shared/models/hf/reformer_tiny");
const DIR = REFORMER_DIR;
const arrays = JSON.parse(readFileSync(path.join(DIR, "arrays.json"), "utf8")) as Record<string, { shape: number[] }>;
function f32(name: string): Float32Array {
  const b = readFileSync(path.join(DIR, `${name}.f32`));
  return new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
}
function i32(name: string): Int32Array {
  const b = readFileSync(path.join(DIR, `${name}.i32`));
  return new Int32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
}
/** Relative Frobenius error. */
function rel(got: ArrayLike<number>, want: ArrayLike<number>): number {
  expect(got.length).toBe(want.length);
  let num = 0;
  let den = 0;
  for (let i = 0; i < want.length; i++) {
    num += (got[i] - want[i]) ** 2;
    den += want[i] ** 2;
  }
  return Math.sqrt(num / den);
}

const model = await loadReformer(DIR);

const RUNS = [
  { backend: "js", threads: 1 },
  { backend: "js", threads: 2 },
  { backend: "wasm", threads: 1 },
  { backend: "wasm", threads: 2 },
] as const;

describe("Reformer LM vs HF v4.40.2 (reformer_tiny)", () => {
  for (const run of RUNS) {
    for (const cs of ["a", "b"]) {
      test(`case ${cs} forward, ${run.backend} ${run.threads} thread(s): logits, hidden states <= 1e-5, buckets exact`, async () => {
        const shape = arrays[`${cs}_input_ids`].shape as [number, number];
        const out = await model.forward(
          { inputIds: { data: i32(`${cs}_input_ids`), shape } },
          { ...run, hiddenStates: true, lshBuckets: true },
        );
        expect(out.logits?.shape).toEqual([shape[0], shape[1], 320]);
        expect(rel(out.logits?.data ?? [], f32(`${cs}_logits`))).toBeLessThan(1e-5);
        expect(out.lastHiddenState.shape).toEqual([shape[0], shape[1], 128]);
        expect(rel(out.lastHiddenState.data, f32(`${cs}_last_hidden_state`))).toBeLessThan(1e-5);
        const hs = f32(`${cs}_hidden_states`);
        const states = out.hiddenStates ?? [];
        expect(states.length).toBe(5);
        const n = shape[0] * shape[1] * 64;
        for (const [k, s] of states.entries()) expect(rel(s.data, hs.subarray(k * n, (k + 1) * n))).toBeLessThan(1e-5);
        for (const layer of [1, 3]) {
          const got = out.lshBuckets?.[layer];
          expect(got?.shape).toEqual([shape[0], 4, 2, shape[1]]);
          expect(Array.from(got?.data ?? [])).toEqual(Array.from(i32(`${cs}_lsh_buckets_layer${layer}`)));
        }
        expect(out.lshBuckets?.[0]).toBeNull();
      });
    }
    for (const cs of ["c", "d"]) {
      for (const useCache of [true, false]) {
        const mode = useCache ? "cache" : "nocache";
        test(`case ${cs} greedy generate, ${mode}, ${run.backend} ${run.threads} thread(s): HF's ids, scores <= 1e-5`, async () => {
          const prompt = i32(`${cs}_prompt_ids`);
          const out = await model.generate(
            { inputIds: { data: prompt, shape: [1, prompt.length] } },
            { maxNewTokens: 16, useCache, eosTokenId: null, outputScores: true, ...run },
          );
          expect(out.sequences.shape).toEqual([1, 48]);
          expect(Array.from(out.sequences.data)).toEqual(Array.from(i32(`${cs}_generated_${mode}`)));
          expect(out.scores?.shape).toEqual([1, 16, 320]);
          expect(rel(out.scores?.data ?? [], f32(`${cs}_scores_${mode}`))).toBeLessThan(1e-5);
        });
      }
    }
  }

  test("case d: cached and uncached generation differ from new token 6 on, as in HF", async () => {
    const prompt = i32("d_prompt_ids");
    const inputs = { inputIds: { data: prompt, shape: [1, 32] as [number, number] } };
    const a = await model.generate(inputs, { maxNewTokens: 8, useCache: true, eosTokenId: null });
    const b = await model.generate(inputs, { maxNewTokens: 8, useCache: false, eosTokenId: null });
    expect(Array.from(a.sequences.data.slice(32, 38))).toEqual(Array.from(b.sequences.data.slice(32, 38)));
    expect(a.sequences.data[38]).not.toBe(b.sequences.data[38]);
  });

  test("the stored rotations are what hash_seed 1234 gives, and explicit rotations override it", async () => {
    const R = f32("lsh_random_rotations");
    const shape: [number, number] = [1, 64];
    const inputs = { inputIds: { data: i32("b_input_ids"), shape } };
    const seeded = await model.forward(inputs, { lshBuckets: true });
    const given = await model.forward(inputs, { lshBuckets: true, lshRotations: [null, R, null, R] });
    expect(Array.from(given.lshBuckets?.[1]?.data ?? [])).toEqual(Array.from(seeded.lshBuckets?.[1]?.data ?? []));
    const other = await model.forward(inputs, { lshBuckets: true, lshRotations: [null, R.map((x) => -x), null, R] });
    expect(Array.from(other.lshBuckets?.[1]?.data ?? [])).not.toEqual(Array.from(seeded.lshBuckets?.[1]?.data ?? []));
  });

  describe("more HF cases (test/fixtures/reformer-extra.json): short and padded prompts, a masked batch", () => {
    interface Extra {
      kind: "generate" | "forward";
      prompt: number[];
      cache: boolean;
      sequence: number[];
      scoreSteps: number[];
      scores: string;
      ids: number[];
      mask: number[];
      shape: [number, number];
      positions: number[];
      logits: string;
      buckets1: number[];
      buckets3: number[];
    }
    const extra = JSON.parse(readFileSync(path.resolve(__dirname, "fixtures/reformer-extra.json"), "utf8")) as {
      cases: Extra[];
    };
    const b64 = (s: string) => {
      const buf = Buffer.from(s, "base64");
      return new Float32Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength));
    };
    for (const e of extra.cases.filter((x) => x.kind === "generate")) {
      const what = `prompt of ${e.prompt.length} tokens, ${e.cache ? "cache" : "no cache"}`;
      test(`greedy generate, ${what}: HF's ids and scores`, async () => {
        const out = await model.generate(
          { inputIds: { data: Int32Array.from(e.prompt), shape: [1, e.prompt.length] } },
          { maxNewTokens: 12, useCache: e.cache, eosTokenId: null, outputScores: true },
        );
        expect(Array.from(out.sequences.data)).toEqual(e.sequence);
        const want = b64(e.scores);
        const scores = out.scores?.data ?? new Float32Array(0);
        e.scoreSteps.forEach((s, k) => {
          expect(rel(scores.subarray(s * 320, (s + 1) * 320), want.subarray(k * 320, (k + 1) * 320))).toBeLessThan(
            1e-5,
          );
        });
      });
    }
    for (const e of extra.cases.filter((x) => x.kind === "forward")) {
      test("a batch of 2 × 40 with row 1 left-padded by 7: logits and buckets (extra padding bucket)", async () => {
        const out = await model.forward(
          {
            inputIds: { data: Int32Array.from(e.ids), shape: e.shape },
            attentionMask: { data: Int32Array.from(e.mask), shape: e.shape },
          },
          { lshBuckets: true },
        );
        const want = b64(e.logits);
        const got = out.logits?.data ?? new Float32Array(0);
        let k = 0;
        for (let b = 0; b < 2; b++) {
          for (const p of e.positions) {
            const row = (b * 40 + p) * 320;
            if (e.mask[b * 40 + p] === 1) {
              expect(rel(got.subarray(row, row + 320), want.subarray(k * 320, (k + 1) * 320))).toBeLessThan(1e-5);
            }
            k++;
          }
        }
        expect(Array.from(out.lshBuckets?.[1]?.data ?? [])).toEqual(e.buckets1);
        expect(Array.from(out.lshBuckets?.[3]?.data ?? [])).toEqual(e.buckets3);
      });
    }
  });
});
