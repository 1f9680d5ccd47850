/** Small tokenizer.json files made in the tests (no download): a byte-level BPE like RoBERTa's and a Unigram/Metaspace one like BigBird's. */
import { cpSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { caseDir } from "./models-case.js";

/** A temp copy of a shared checkpoint folder with a tokenizer written into it. */
export function folderWithTokenizer(name: string, tok: { tokenizer: unknown; config: unknown }): string {
  const dir = mkdtempSync(path.join(tmpdir(), `sa-${name}-`));
  for (const f of ["config.json", "model.safetensors"]) cpSync(path.join(caseDir(name), f), path.join(dir, f));
  writeFileSync(path.join(dir, "tokenizer.json"), JSON.stringify(tok.tokenizer));
  writeFileSync(path.join(dir, "tokenizer_config.json"), JSON.stringify(tok.config));
  return dir;
}

function special(id: number, content: string) {
  return { id, content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true };
}

/** GPT-2's byte → printable character table (the printable bytes map to themselves, the rest to 256 + n). */
function byteChars(): string[] {
  const keep: number[] = [];
  for (let b = 33; b <= 126; b++) keep.push(b);
  for (let b = 161; b <= 172; b++) keep.push(b);
  for (let b = 174; b <= 255; b++) keep.push(b);
  const out: string[] = new Array(256);
  let n = 0;
  for (let b = 0; b < 256; b++) out[b] = String.fromCodePoint(keep.includes(b) ? b : 256 + n++);
  return out;
}

/**
 * Byte-level BPE: <s>=0 <pad>=1 </s>=2 <unk>=3, the 256 byte characters 4 … 259, then merges
 * th=260 the=261 Ġc=262 Ġca=263 Ġcat=264. "the cat" → [0, 261, 264, 2].
 */
export function bpeTokenizer(): { tokenizer: unknown; config: unknown } {
  const vocab: Record<string, number> = { "<s>": 0, "<pad>": 1, "</s>": 2, "<unk>": 3 };
  byteChars().forEach((c, i) => {
    vocab[c] = 4 + i;
  });
  const merges = ["t h", "th e", "Ġ c", "Ġc a", "Ġca t"];
  merges.forEach((m, i) => {
    vocab[m.replace(" ", "")] = 260 + i;
  });
  return {
    tokenizer: {
      version: "1.0",
      truncation: null,
      padding: null,
      added_tokens: [special(0, "<s>"), special(1, "<pad>"), special(2, "</s>"), special(3, "<unk>")],
      normalizer: null,
      pre_tokenizer: { type: "ByteLevel", add_prefix_space: false, trim_offsets: true, use_regex: true },
      post_processor: {
        type: "RobertaProcessing",
        sep: ["</s>", 2],
        cls: ["<s>", 0],
        trim_offsets: true,
        add_prefix_space: false,
      },
      decoder: { type: "ByteLevel", add_prefix_space: true, trim_offsets: true, use_regex: true },
      model: {
        type: "BPE",
        dropout: null,
        unk_token: null,
        continuing_subword_prefix: "",
        end_of_word_suffix: "",
        fuse_unk: false,
        byte_fallback: false,
        vocab,
        merges,
      },
    },
    config: { model_max_length: 4096, bos_token: "<s>", eos_token: "</s>", pad_token: "<pad>", unk_token: "<unk>" },
  };
}

/**
 * Unigram with Metaspace: <pad>=0 <unk>=1 [CLS]=2 [SEP]=3 ▁=4, a … z = 5 … 30, ▁the=31 ▁cat=32.
 * "the cat" → [2, 31, 32, 3].
 */
export function unigramTokenizer(): { tokenizer: unknown; config: unknown } {
  const vocab: Array<[string, number]> = [
    ["<pad>", 0],
    ["<unk>", 0],
    ["[CLS]", 0],
    ["[SEP]", 0],
    ["▁", -3],
  ];
  for (let c = 97; c <= 122; c++) vocab.push([String.fromCharCode(c), -5]);
  vocab.push(["▁the", -1], ["▁cat", -1]);
  const tok = (id: string) => ({ SpecialToken: { id, type_id: 0 } });
  return {
    tokenizer: {
      version: "1.0",
      truncation: null,
      padding: null,
      added_tokens: [special(0, "<pad>"), special(1, "<unk>"), special(2, "[CLS]"), special(3, "[SEP]")],
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
          "[CLS]": { id: "[CLS]", ids: [2], tokens: ["[CLS]"] },
          "[SEP]": { id: "[SEP]", ids: [3], tokens: ["[SEP]"] },
        },
      },
      decoder: { type: "Metaspace", replacement: "▁", prepend_scheme: "always", split: true },
      model: { type: "Unigram", unk_id: 1, vocab, byte_fallback: false },
    },
    config: { model_max_length: 4096, pad_token: "<pad>", unk_token: "<unk>", cls_token: "[CLS]", sep_token: "[SEP]" },
  };
}
