/**
 * A word-level tokenizer.json for the shared tiny ModernBERT (../shared/models/modernbert has
 * none): "w0" … "w994" are ids 0 … 994, then ModernBERT's specials in its order, [UNK] 995,
 * [CLS] 996, [SEP] 997, [PAD] 998, [MASK] 999; "[CLS] $A [SEP]" around every text.
 */
import { copyFileSync, mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { mbDir } from "./modernbert-case.js";

const SPECIALS = ["[UNK]", "[CLS]", "[SEP]", "[PAD]", "[MASK]"];

export function tinyTokenizer(): { tokenizer: unknown; config: unknown } {
  const vocab: Record<string, number> = {};
  for (let i = 0; i < 995; i++) vocab[`w${i}`] = i;
  SPECIALS.forEach((t, i) => {
    vocab[t] = 995 + i;
  });
  const tokenizer = {
    version: "1.0",
    truncation: null,
    padding: null,
    added_tokens: SPECIALS.map((t, i) => ({
      id: 995 + i,
      content: t,
      single_word: false,
      lstrip: false,
      rstrip: false,
      normalized: false,
      special: true,
    })),
    normalizer: null,
    pre_tokenizer: { type: "WhitespaceSplit" },
    post_processor: {
      type: "TemplateProcessing",
      single: [
        { SpecialToken: { id: "[CLS]", type_id: 0 } },
        { Sequence: { id: "A", type_id: 0 } },
        { SpecialToken: { id: "[SEP]", type_id: 0 } },
      ],
      pair: [
        { SpecialToken: { id: "[CLS]", type_id: 0 } },
        { Sequence: { id: "A", type_id: 0 } },
        { SpecialToken: { id: "[SEP]", type_id: 0 } },
        { Sequence: { id: "B", type_id: 0 } },
        { SpecialToken: { id: "[SEP]", type_id: 0 } },
      ],
      special_tokens: {
        "[CLS]": { id: "[CLS]", ids: [996], tokens: ["[CLS]"] },
        "[SEP]": { id: "[SEP]", ids: [997], tokens: ["[SEP]"] },
      },
    },
    decoder: { type: "WordPiece", prefix: "##", cleanup: false },
    model: { type: "WordLevel", vocab, unk_token: "[UNK]" },
  };
  const config = {
    cls_token: "[CLS]",
    sep_token: "[SEP]",
    pad_token: "[PAD]",
    mask_token: "[MASK]",
    unk_token: "[UNK]",
    model_max_length: 1024,
    tokenizer_class: "PreTrainedTokenizerFast",
  };
  return { tokenizer, config };
}

/** A copy of a tiny checkpoint folder ("" MLM, "tokcls", …) with the tokenizer, and optional extra files. */
export function tinyFolder(sub = "", extra: Record<string, unknown> = {}): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), "sa-mb-"));
  for (const f of ["config.json", "model.safetensors"]) copyFileSync(path.join(mbDir(sub), f), path.join(dir, f));
  const { tokenizer, config } = tinyTokenizer();
  writeFileSync(path.join(dir, "tokenizer.json"), JSON.stringify(tokenizer));
  writeFileSync(path.join(dir, "tokenizer_config.json"), JSON.stringify(config));
  for (const [name, body] of Object.entries(extra)) {
    mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
    writeFileSync(path.join(dir, name), JSON.stringify(body));
  }
  return dir;
}
