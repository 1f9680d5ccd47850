/**
 * The pipelines on BigBird (no shared BigBird tokenizer: sentencepiece is not available, so a
 * Unigram / Metaspace tokenizer.json is written here with BigBird's special ids [CLS] 65,
 * [SEP] 66, [MASK] 67, <pad> 0): question answering builds [CLS] q [SEP] ctx [SEP] windows and
 * its scores equal those computed from model.forward by hand (HF's −1e6 question logits
 * included); fill-mask fills [MASK]. Together with the pipelines' HF agreement on Longformer,
 * this checks the pipeline is generic over tokenizers and architectures.
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { loadModel, pipeline } from "../src/models/index.js";
import { scoreSpans } from "../src/models/pipeline/postprocess.js";
import { contextWords, qaFeatures } from "../src/models/pipeline/qa.js";
import type { TextTokenizer } from "../src/models/pipeline/text.js";
import { taskDir } from "./tasks-case.js";

/** Unigram over lowercase letters and a few words; ids placed where BigBird's checkpoint has them. */
function bigBirdTokenizer(): { tokenizer: unknown; config: unknown } {
  const vocab: Array<[string, number]> = Array.from({ length: 1000 }, (_, i) => [`<unused${i}>`, -20]);
  const put = (id: number, piece: string, score: number) => {
    vocab[id] = [piece, score];
  };
  put(0, "<pad>", 0);
  put(1, "<s>", 0);
  put(2, "</s>", 0);
  put(100, "<unk>", 0);
  put(65, "[CLS]", 0);
  put(66, "[SEP]", 0);
  put(67, "[MASK]", 0);
  put(5, "▁", -3);
  for (let c = 0; c < 26; c++) put(200 + c, String.fromCharCode(97 + c), -5);
  const words = ["▁the", "▁cat", "▁sat", "▁on", "▁mat", "▁where", "▁did", "▁dog", "▁run", "▁park", "▁in", "▁a"];
  for (const [i, w] of words.entries()) put(300 + i, w, -1);
  const special = (id: number, content: string) => ({
    id,
    content,
    single_word: false,
    lstrip: false,
    rstrip: false,
    normalized: false,
    special: true,
  });
  const tok = (id: string) => ({ SpecialToken: { id, type_id: 0 } });
  return {
    tokenizer: {
      version: "1.0",
      added_tokens: [
        special(0, "<pad>"),
        special(65, "[CLS]"),
        special(66, "[SEP]"),
        special(67, "[MASK]"),
        special(100, "<unk>"),
      ],
      normalizer: null,
      pre_tokenizer: { type: "Metaspace", replacement: "▁", prepend_scheme: "always", split: true },
      post_processor: {
        type: "TemplateProcessing",
        single: [tok("[CLS]"), { Sequence: { id: "A", type_id: 0 } }, tok("[SEP]")],
        pair: [
          tok("[CLS]"),
          { Sequence: { id: "A", type_id: 0 } },
          tok("[SEP]"),
          { Sequence: { id: "B", type_id: 1 } },
          tok("[SEP]"),
        ],
        special_tokens: {
          "[CLS]": { id: "[CLS]", ids: [65], tokens: ["[CLS]"] },
          "[SEP]": { id: "[SEP]", ids: [66], tokens: ["[SEP]"] },
        },
      },
      decoder: { type: "Metaspace", replacement: "▁", prepend_scheme: "always", split: true },
      model: { type: "Unigram", unk_id: 100, vocab, byte_fallback: false },
    },
    config: {
      model_max_length: 4096,
      pad_token: "<pad>",
      unk_token: "<unk>",
      cls_token: "[CLS]",
      sep_token: "[SEP]",
      mask_token: "[MASK]",
    },
  };
}

function source(folder: string) {
  const dir = taskDir(folder);
  return {
    config: JSON.parse(readFileSync(path.join(dir, "config.json"), "utf8")),
    weights: readFileSync(path.join(dir, "model.safetensors")),
    tokenizer: bigBirdTokenizer(),
  };
}

const context = Array.from({ length: 30 }, (_, i) =>
  i % 3 === 0 ? "the cat sat on the mat" : "a dog did run in the park",
).join(" ");

describe("pipelines on BigBird with a Metaspace tokenizer", () => {
  it("question-answering: [CLS] q [SEP] ctx [SEP] in one window; scores equal model.forward's by hand", async () => {
    const qa = await pipeline("question-answering", source("bigbird_qa"), { backend: "js" });
    const words = contextWords(context);
    const feats = qaFeatures(qa.tokenizer as TextTokenizer, "where did the dog run", context, words, {
      maxSeqLen: qa.model.maxLength,
      docStride: 128,
      maxQuestionLen: 64,
    });
    expect(feats.length).toBe(1);
    const ids = feats[0].ids;
    expect(ids[0]).toBe(65);
    expect(ids.filter((x) => x === 66).length).toBe(2);
    expect(ids.length).toBeGreaterThan(160); // block_sparse, not HF's short-input fallback
    const top = (await qa("where did the dog run", context, { topK: 3 })) as Array<{
      score: number;
      start: number;
      end: number;
      answer: string;
    }>;
    expect(top.length).toBe(3);
    const model = await loadModel(source("bigbird_qa"));
    const out = await model.forward(
      { inputIds: { data: Int32Array.from(ids), shape: [1, ids.length] } },
      { backend: "js" },
    );
    const q = ids.indexOf(66);
    for (let i = 1; i < q; i++) expect(out.startLogits?.data[i]).toBeLessThan(-1e5); // HF's question mask
    const { spans } = scoreSpans(
      out.startLogits?.data as Float32Array,
      out.endLogits?.data as Float32Array,
      Array.from(feats[0].word, (w) => w >= 0),
      3,
      15,
    );
    expect(top.map((a) => a.score)).toEqual(spans.map((s) => s.score));
    for (const a of top) {
      expect(context.slice(a.start, a.end)).toBe(a.answer);
      expect(a.answer.length).toBeGreaterThan(0);
    }
  });

  it("fill-mask fills [MASK] and decodes the sequence", async () => {
    const fm = await pipeline("fill-mask", source("bigbird_mlm"));
    const out = (await fm("the cat sat on the [MASK]", { topK: 3 })) as Array<{
      score: number;
      token: number;
      token_str: string;
      sequence: string;
    }>;
    expect(out.length).toBe(3);
    expect(out[0].score).toBeGreaterThanOrEqual(out[1].score);
    for (const r of out) expect(r.sequence.startsWith("the cat sat on the")).toBe(true);
  });
});
