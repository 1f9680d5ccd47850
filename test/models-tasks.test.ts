/**
 * Task heads: the shared tiny Longformer and BigBird task checkpoints (../shared/models/tasks,
 * HF transformers 4.40.2, float32, eval) run by loadModel + forward on js, wasm 1 thread and
 * wasm 2 threads match HF's logits to relative Frobenius error <= 1e-5 on real tokens, with the
 * inputs HF derives (Longformer global attention, BigBird QA token types and question mask).
 */
import { describe, expect, it } from "vitest";
import { CheckpointError, loadModel, type Model, type TaskInputs } from "../src/models/index.js";
import { TEST_BACKENDS } from "./backends.js";
import { relErr } from "./models-case.js";
import { taskArray, taskDir, taskInts } from "./tasks-case.js";

const TOL = 1e-5;

function inputs(folder: string, c: string, extra: string[] = []): TaskInputs {
  const x: TaskInputs = {
    inputIds: taskInts(folder, `${c}_input_ids`),
    attentionMask: taskInts(folder, `${c}_attention_mask`),
  };
  for (const e of extra) {
    const key = e === "global_attention_mask" ? "globalAttentionMask" : "tokenTypeIds";
    (x as unknown as Record<string, unknown>)[key] = taskInts(folder, `${c}_${e}`);
  }
  return x;
}

/** Rows of `width` values flagged by the attention mask (1 = real). */
function maskRows(folder: string, c: string): Int32Array {
  return taskInts(folder, `${c}_attention_mask`).data;
}

const cache = new Map<string, Promise<Model>>();
const model = (f: string) => {
  let m = cache.get(f);
  if (m === undefined) {
    m = loadModel(taskDir(f));
    cache.set(f, m);
  }
  return m;
};

for (const be of TEST_BACKENDS) {
  const opts = { backend: be.backend, threads: be.threads };
  describe(`task heads on ${be.label}`, () => {
    for (const fam of ["longformer", "bigbird"]) {
      it(`${fam}_mlm: logits at the stored positions (case a) and full logits (case b)`, async () => {
        const f = `${fam}_mlm`;
        const m = await model(f);
        expect(m.headKind).toBe("ForMaskedLM");
        const a = await m.forward(inputs(f, "a"), opts);
        const logits = a.logits as { data: Float32Array; shape: number[] };
        const [B, L, V] = logits.shape;
        expect([B, V]).toEqual([2, 1000]);
        const pos = taskInts(f, "a_logits_positions");
        const P = pos.shape[1];
        const got = new Float32Array(B * P * V);
        for (let b = 0; b < B; b++) {
          for (let j = 0; j < P; j++) {
            const r = b * L + pos.data[b * P + j]; // logits: [B, L, V]
            got.set(logits.data.subarray(r * V, (r + 1) * V), (b * P + j) * V);
          }
        }
        expect(relErr(got, taskArray(f, "a_logits_at_positions").data as Float32Array, V)).toBeLessThan(TOL);
        const bIn = inputs(f, "b", fam === "longformer" ? ["global_attention_mask"] : []);
        const bOut = await m.forward(bIn, opts);
        expect(
          relErr(bOut.logits?.data as Float32Array, taskArray(f, "b_logits").data as Float32Array, V),
        ).toBeLessThan(TOL);
      });

      for (const f of [`${fam}_seqcls`, `${fam}_seqcls_multilabel`]) {
        it(`${f}: logits [2, 3] (HF's global attention on token 0 for Longformer)`, async () => {
          const m = await model(f);
          expect(m.headKind).toBe("ForSequenceClassification");
          expect(m.labels).toEqual(["negative", "neutral", "positive"]);
          const out = await m.forward(inputs(f, "a"), opts);
          expect(out.logits?.shape).toEqual([2, 3]);
          expect(
            relErr(out.logits?.data as Float32Array, taskArray(f, "a_logits").data as Float32Array, 3),
          ).toBeLessThan(TOL);
          if (fam === "longformer") {
            // without token 0 global the logits differ: the automatic mask is what HF ran
            const local = await m.forward(
              { ...inputs(f, "a"), globalAttentionMask: { data: new Int32Array(2 * 450), shape: [2, 450] } },
              opts,
            );
            expect(
              relErr(local.logits?.data as Float32Array, taskArray(f, "a_logits").data as Float32Array, 3),
            ).toBeGreaterThan(1e-4);
          }
        });
      }

      it(`${fam}_tokcls: logits [2, L, 5] on real tokens`, async () => {
        const f = `${fam}_tokcls`;
        const m = await model(f);
        expect(m.labels).toEqual(["O", "B-PER", "I-PER", "B-LOC", "I-LOC"]);
        const out = await m.forward(inputs(f, "a"), opts);
        const want = taskArray(f, "a_logits");
        expect(out.logits?.shape).toEqual(want.shape);
        expect(relErr(out.logits?.data as Float32Array, want.data as Float32Array, 5, maskRows(f, "a"))).toBeLessThan(
          TOL,
        );
      });

      it(`${fam}_qa: start and end logits with HF's derived inputs`, async () => {
        const f = `${fam}_qa`;
        const m = await model(f);
        expect(m.headKind).toBe("ForQuestionAnswering");
        const out = await m.forward(inputs(f, "a"), opts);
        const mask = maskRows(f, "a");
        for (const [k, name] of [
          ["startLogits", "a_start_logits"],
          ["endLogits", "a_end_logits"],
        ] as const) {
          const got = out[k]?.data as Float32Array;
          const want = taskArray(f, name).data as Float32Array;
          expect(out[k]?.shape).toEqual(taskArray(f, name).shape);
          // BigBird: question positions carry − 1e6; compare them apart (float32 spacing 0.0625 there)
          const far = Uint8Array.from(want, (v) => (v < -1e5 ? 1 : 0));
          const near = Int32Array.from(mask, (v, i) => (v === 1 && far[i] === 0 ? 1 : 0));
          expect(relErr(got, want, 1, near)).toBeLessThan(TOL);
          for (let i = 0; i < want.length; i++)
            if (far[i] && mask[i]) expect(Math.abs(got[i] - want[i])).toBeLessThan(0.25);
          if (fam === "bigbird") expect(far.reduce((s, v) => s + v, 0)).toBeGreaterThan(20);
        }
      });

      it(`${fam}_mc: logits [2, 3] from inputs [2, 3, L]`, async () => {
        const f = `${fam}_mc`;
        const m = await model(f);
        const out = await m.forward(inputs(f, "a", fam === "bigbird" ? ["token_type_ids"] : []), opts);
        expect(out.logits?.shape).toEqual([2, 3]);
        expect(relErr(out.logits?.data as Float32Array, taskArray(f, "a_logits").data as Float32Array, 3)).toBeLessThan(
          TOL,
        );
        expect(
          relErr(out.poolerOutput?.data as Float32Array, taskArray(f, "a_pooler_output").data as Float32Array, 64),
        ).toBeLessThan(TOL);
      });
    }
  });
}

describe("task heads: choosing and errors", () => {
  it("config.architectures picks the head; { task } overrides it; 'none' is the encoder", async () => {
    const qa = await loadModel(taskDir("longformer_qa"), { task: "none" });
    expect(qa.headKind).toBeNull();
    const out = await qa.forward(inputs("longformer_qa", "a"));
    expect(out.startLogits).toBeUndefined();
    expect(out.lastHiddenState.shape).toEqual([2, 520, 64]);
    const viaTask = await loadModel(taskDir("bigbird_mlm"), { task: "fill-mask" });
    expect(viaTask.headKind).toBe("ForMaskedLM");
  });

  it("a head whose weights are missing is an error naming them", async () => {
    await expect(loadModel(taskDir("longformer_mlm"), { task: "question-answering" })).rejects.toThrow(
      /ForQuestionAnswering head needs tensors "qa_outputs.weight", "qa_outputs.bias"/,
    );
    await expect(loadModel(taskDir("bigbird_qa"), { task: "ForSequenceClassification" })).rejects.toThrow(
      CheckpointError,
    );
    await expect(loadModel(taskDir("bigbird_qa"), { task: "summarization" })).rejects.toThrow(/options.task/);
  });

  it("Longformer QA without a global mask needs three separators per row; multiple choice needs [B, C, L]", async () => {
    const m = await model("longformer_qa");
    const ids = Int32Array.from([0, 5, 6, 2, 7, 8, 2]);
    await expect(m.forward({ inputIds: { data: ids, shape: [1, 7] } })).rejects.toThrow(/exactly three/);
    const mc = await model("longformer_mc");
    await expect(mc.forward({ inputIds: { data: ids, shape: [1, 7] } })).rejects.toThrow(/\[batch, choices, length\]/);
  });
});

describe("encode() stays the encoder whatever the head", () => {
  it("model.encode on a ForMaskedLM checkpoint returns hidden states and no vocabulary logits", async () => {
    const m = await model("longformer_mlm");
    expect(m.headKind).toBe("ForMaskedLM");
    const out = (await m.encode("The capital of France is <mask>.")) as unknown as Record<string, unknown>;
    expect(out.logits).toBeUndefined();
    expect((out.lastHiddenState as { shape: number[] }).shape[2]).toBe(64);
  });
});
