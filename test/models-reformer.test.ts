import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, test } from "vitest";
import { reformerFromBytes } from "../src/models/reformer/index.js";

const DIR = path.resolve(__dirname, "../../shared/models/hf/reformer_tiny");
const arrays = JSON.parse(readFileSync(path.join(DIR, "arrays.json"), "utf8")) as Record<string, { shape: number[]; dtype: string }>;
function f32(name: string): Float32Array {
  const b = readFileSync(path.join(DIR, `${name}.f32`));
  return new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
}
function i32(name: string): Int32Array {
  const b = readFileSync(path.join(DIR, `${name}.i32`));
  return new Int32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
}
function rel(got: ArrayLike<number>, want: ArrayLike<number>): number {
  let num = 0;
  let den = 0;
  for (let i = 0; i < want.length; i++) {
    num += (got[i] - want[i]) ** 2;
    den += want[i] ** 2;
  }
  return Math.sqrt(num / den);
}
const model = reformerFromBytes(JSON.parse(readFileSync(path.join(DIR, "config.json"), "utf8")), [readFileSync(path.join(DIR, "model.safetensors"))], DIR);

describe("reformer_tiny forward", () => {
  for (const cs of ["a", "b"]) {
    test(`case ${cs}`, async () => {
      const ids = i32(`${cs}_input_ids`);
      const shape = arrays[`${cs}_input_ids`].shape as [number, number];
      const out = await model.forward({ inputIds: { data: ids, shape } }, { hiddenStates: true, lshBuckets: true, backend: "js" });
      console.log(cs, "logits", rel(out.logits!.data, f32(`${cs}_logits`)), "last", rel(out.lastHiddenState.data, f32(`${cs}_last_hidden_state`)));
      const hs = f32(`${cs}_hidden_states`);
      const n = out.hiddenStates![0].data.length;
      out.hiddenStates!.forEach((s, k) => console.log("hs", k, rel(s.data, hs.subarray(k * n, (k + 1) * n))));
      for (const l of [1, 3]) {
        const want = i32(`${cs}_lsh_buckets_layer${l}`);
        const got = out.lshBuckets![l]!.data;
        let bad = 0;
        for (let i = 0; i < want.length; i++) if (want[i] !== got[i]) bad++;
        console.log("buckets", l, bad, want.length);
      }
    });
  }
});

describe("reformer_tiny generate", () => {
  for (const cs of ["c", "d"]) {
    for (const useCache of [false, true]) {
      test(`case ${cs} cache=${useCache}`, async () => {
        const prompt = i32(`${cs}_prompt_ids`);
        const out = await model.generate({ inputIds: { data: prompt, shape: [1, prompt.length] } }, { maxNewTokens: 16, useCache, eosTokenId: null, outputScores: true, backend: "js" });
        const want = i32(`${cs}_generated_${useCache ? "cache" : "nocache"}`);
        const ws = f32(`${cs}_scores_${useCache ? "cache" : "nocache"}`);
        console.log(cs, useCache, Array.from(out.sequences.data.slice(32)).join(" "), "|", Array.from(want.slice(32)).join(" "));
        for (let s = 0; s < 16; s++) console.log(" step", s, rel(out.scores!.data.subarray(s * 320, (s + 1) * 320), ws.subarray(s * 320, (s + 1) * 320)));
      });
    }
  }
});
