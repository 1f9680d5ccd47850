/**
 * A tokenizer.json for a byte-level BPE tokenizer that ships only its slow files (vocab.json +
 * merges.txt, e.g. allenai/longformer-large-4096-finetuned-triviaqa), as HF's
 * convert_slow_tokenizer (RobertaConverter / GPT2Converter) builds it: BPE over the vocabulary
 * and merges, ByteLevel pre-tokenizer and decoder (add_prefix_space from tokenizer_config.json),
 * RobertaProcessing for RoBERTa-family classes (<s> A </s>, <s> A </s></s> B </s>), and the
 * special tokens of tokenizer_config.json / special_tokens_map.json as added tokens
 * (<mask> with lstrip, as RoBERTa's).
 */
import { AttentionArgumentError } from "../../errors.js";

type Json = Record<string, unknown>;

const ROBERTA_FAMILY = /^(Roberta|Longformer|Bart|Camembert|MPNet|Led|XLMRoberta)Tokenizer/i;

function content(v: unknown): string | null {
  if (typeof v === "string") return v;
  if (v !== null && typeof v === "object" && typeof (v as Json).content === "string")
    return (v as Json).content as string;
  return null;
}

/**
 * tokenizer.json (as an object) from vocab.json, merges.txt and the tokenizer's configs.
 * `config`: tokenizer_config.json; `specialMap`: special_tokens_map.json (either may be {}).
 */
export function byteLevelBpeJson(vocab: unknown, merges: string, config: unknown = {}, specialMap: unknown = {}): Json {
  if (vocab === null || typeof vocab !== "object" || Array.isArray(vocab)) {
    throw new AttentionArgumentError("vocab.json", vocab, "an object mapping token strings to ids");
  }
  const v = vocab as Record<string, number>;
  const cfg = (config ?? {}) as Json;
  const map = (specialMap ?? {}) as Json;
  const mergeList = merges
    .split(/\r?\n/)
    .filter((l) => l.trim() !== "" && !l.startsWith("#version"))
    .map((l) => l.trim());
  const prefixSpace = cfg.add_prefix_space === true;
  // special tokens: tokenizer_config's added_tokens_decoder (exact flags), else the named ones
  const added: Json[] = [];
  const decoder = cfg.added_tokens_decoder as Record<string, Json> | undefined;
  if (decoder !== undefined && typeof decoder === "object") {
    for (const [id, t] of Object.entries(decoder)) {
      added.push({
        id: Number(id),
        content: t.content,
        single_word: t.single_word === true,
        lstrip: t.lstrip === true,
        rstrip: t.rstrip === true,
        normalized: t.normalized !== false,
        special: t.special !== false,
      });
    }
  } else {
    const names = ["bos_token", "eos_token", "unk_token", "sep_token", "pad_token", "cls_token", "mask_token"];
    const seen = new Set<number>();
    for (const n of names) {
      const c = content(cfg[n]) ?? content(map[n]);
      if (c === null || !(c in v) || seen.has(v[c])) continue;
      seen.add(v[c]);
      added.push({
        id: v[c],
        content: c,
        single_word: false,
        lstrip: n === "mask_token",
        rstrip: false,
        normalized: n !== "mask_token",
        special: true,
      });
    }
  }
  added.sort((a, b) => (a.id as number) - (b.id as number));
  const cls = String(cfg.tokenizer_class ?? "");
  const tok = (n: string, fallback: string) => {
    const c = content(cfg[n]) ?? content(map[n]) ?? fallback;
    return [c, v[c] ?? 0];
  };
  const roberta = ROBERTA_FAMILY.test(cls) || (cls === "" && "<s>" in v && "</s>" in v);
  return {
    version: "1.0",
    truncation: null,
    padding: null,
    added_tokens: added,
    normalizer: null,
    pre_tokenizer: { type: "ByteLevel", add_prefix_space: prefixSpace, trim_offsets: true, use_regex: true },
    post_processor: roberta
      ? {
          type: "RobertaProcessing",
          sep: tok("sep_token", "</s>"),
          cls: tok("cls_token", "<s>"),
          trim_offsets: true,
          add_prefix_space: prefixSpace,
        }
      : null,
    decoder: { type: "ByteLevel", add_prefix_space: true, trim_offsets: true, use_regex: true },
    model: {
      type: "BPE",
      dropout: null,
      unk_token: null,
      continuing_subword_prefix: "",
      end_of_word_suffix: "",
      fuse_unk: false,
      byte_fallback: false,
      vocab: v,
      merges: mergeList,
    },
  };
}
