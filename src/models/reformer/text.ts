/**
 * Text ↔ token ids for a Reformer LM: a tokenizer.json through @huggingface/tokenizers (e.g.
 * google/reformer-crime-and-punishment's SentencePiece), or enwik8-style bytes (no tokenizer:
 * id = UTF-8 byte + 2, per google/reformer-enwik8's model card; ids 0 and 1 are pad / eos-like
 * specials and decode to nothing). Streaming decoders turn generated ids into text as they come.
 */
import { Tokenizer } from "@huggingface/tokenizers";
import { AttentionArgumentError } from "../../errors.js";
import type { TokenizerFiles } from "../encode.js";

export interface TextCodec {
  readonly kind: "tokenizer.json" | "bytes";
  encode(text: string): Int32Array;
  decode(ids: ArrayLike<number>): string;
  /** A decoder fed one id at a time: push returns the text the new id completes (possibly ""), end the rest. */
  stream(): { push(id: number): string; end(): string };
}

/** enwik8's byte encoding: UTF-8 bytes + 2. */
export function byteCodec(vocab: number): TextCodec {
  if (vocab < 258) {
    throw new AttentionArgumentError(
      "tokenizer",
      "bytes",
      `a model with vocab_size >= 258 for byte ids (this one has ${vocab})`,
    );
  }
  const toBytes = (ids: ArrayLike<number>): Uint8Array => {
    const out: number[] = [];
    for (let i = 0; i < ids.length; i++) if (ids[i] >= 2 && ids[i] < 258) out.push(ids[i] - 2);
    return Uint8Array.from(out);
  };
  return {
    kind: "bytes",
    encode: (text) => Int32Array.from(new TextEncoder().encode(text), (b) => b + 2),
    decode: (ids) => new TextDecoder().decode(toBytes(ids)),
    stream: () => {
      const dec = new TextDecoder();
      return {
        push: (id) => (id >= 2 && id < 258 ? dec.decode(Uint8Array.of(id - 2), { stream: true }) : ""),
        end: () => dec.decode(),
      };
    },
  };
}

/** A tokenizer.json (+ tokenizer_config.json) codec; special tokens are skipped when decoding. */
export function tokenizerCodec(files: TokenizerFiles): TextCodec {
  const tok = new Tokenizer(files.tokenizer as object, (files.config ?? {}) as object);
  const decode = (ids: ArrayLike<number>) => tok.decode(Array.from(ids), { skip_special_tokens: true });
  return {
    kind: "tokenizer.json",
    encode: (text) => Int32Array.from(tok.encode(text, { add_special_tokens: false }).ids),
    decode,
    stream: () => {
      const ids: number[] = [];
      let shown = "";
      const take = (final: boolean): string => {
        const text = decode(ids);
        // hold back a trailing replacement character (the next id may complete it) and rewrites
        if (!final && (text.endsWith("\uFFFD") || !text.startsWith(shown))) return "";
        const add = text.startsWith(shown) ? text.slice(shown.length) : "";
        shown = text;
        return add;
      };
      return {
        push: (id) => {
          ids.push(id);
          return take(false);
        },
        end: () => take(true),
      };
    },
  };
}
