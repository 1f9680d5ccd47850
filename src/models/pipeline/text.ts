/**
 * The tokenizer as the pipelines need it: ids, token strings and CHARACTER OFFSETS into the
 * caller's string (UTF-16 indices, as String.prototype.slice takes them), special-token
 * layout of single texts and pairs, and the special ids. @huggingface/tokenizers gives ids and
 * tokens but no offsets; they are recovered here by aligning tokens to the text:
 * - byte-level BPE (GPT-2/RoBERTa/Longformer/ModernBERT): each token's bytes (through the
 *   inverse byte-to-unicode map) follow the text's UTF-8 bytes exactly; a leading space is
 *   trimmed from the offsets when the pre-tokenizer has trim_offsets (HF fast tokenizers' rule);
 * - other models (WordPiece "##", Metaspace "▁"): the token's surface is searched from the
 *   cursor, skipping whitespace, case-insensitively.
 * Added tokens that occur in the text (e.g. "<mask>") are matched literally (lstrip: the
 * whitespace before them belongs to them, as in HF).
 */
import { Tokenizer } from "@huggingface/tokenizers";
import { AttentionArgumentError } from "../../errors.js";

export interface Encoded {
  ids: number[];
  tokens: string[];
  /** [start, end) character offsets in the text; [0, 0] for tokens that are not in it. */
  offsets: Array<[number, number]>;
}

export interface SpecialLayout {
  /** Ids before a single text, and after it. */
  singleBefore: number[];
  singleAfter: number[];
  /** Ids before A, between A and B, after B of a pair. */
  pairBefore: number[];
  pairMiddle: number[];
  pairAfter: number[];
  /** Token type of the second sequence's tokens (0 for RoBERTa-style, 1 for BERT-style). */
  pairTypeB: number;
}

/** GPT-2's bytes_to_unicode: printable bytes map to themselves, the rest to 256 + n. */
function byteDecoder(): Map<string, number> {
  const bs: number[] = [];
  for (let b = 33; b <= 126; b++) bs.push(b);
  for (let b = 161; b <= 172; b++) bs.push(b);
  for (let b = 174; b <= 255; b++) bs.push(b);
  const cs = bs.slice();
  let n = 0;
  for (let b = 0; b < 256; b++) {
    if (!bs.includes(b)) {
      bs.push(b);
      cs.push(256 + n);
      n++;
    }
  }
  const m = new Map<string, number>();
  for (let i = 0; i < bs.length; i++) m.set(String.fromCodePoint(cs[i]), bs[i]);
  return m;
}
let BYTE_DECODER: Map<string, number> | null = null;

type Json = Record<string, unknown>;

export class TextTokenizer {
  private readonly tokenizer: Tokenizer; // private: its types stay out of the published .d.ts (strict nodenext consumers)
  readonly byteLevel: boolean;
  readonly trimOffsets: boolean;
  /** The byte-level pre-tokenizer's add_prefix_space. */
  readonly addPrefixSpace: boolean;
  readonly lowercase: boolean;
  /** HF: the model's continuing_subword_prefix ("##" for WordPiece), null for byte-level BPE. */
  readonly subwordPrefix: string | null;
  readonly layout: SpecialLayout;
  /** tokenizer_config.json model_max_length (null when absent or absurd). */
  readonly modelMaxLength: number | null;
  /** tokenizer_config.json tokenizer_class ("LongformerTokenizer", …). */
  readonly tokenizerClass: string | null;
  readonly special: Set<number>;
  private readonly added: Array<{ id: number; content: string; lstrip: boolean; rstrip: boolean }>;

  constructor(tokenizerJson: unknown, config: unknown = {}) {
    if (tokenizerJson === null || typeof tokenizerJson !== "object") {
      throw new AttentionArgumentError("tokenizer", tokenizerJson, "a parsed tokenizer.json object");
    }
    const tj = tokenizerJson as Json;
    const cfg = (config ?? {}) as Json;
    this.tokenizer = new Tokenizer(tj, cfg);
    const pre = tj.pre_tokenizer as Json | null;
    const pres = pre?.type === "Sequence" ? ((pre.pretokenizers as Json[]) ?? []) : pre ? [pre] : [];
    const bl = pres.find((p) => p.type === "ByteLevel");
    const dec = tj.decoder as Json | null;
    this.byteLevel = bl !== undefined || dec?.type === "ByteLevel";
    this.trimOffsets = bl === undefined ? this.byteLevel : bl.trim_offsets !== false;
    this.addPrefixSpace = bl?.add_prefix_space === true;
    const norm = JSON.stringify(tj.normalizer ?? null);
    this.lowercase = /"lowercase":true|"Lowercase"/.test(norm);
    const model = (tj.model ?? {}) as Json;
    const csp = model.continuing_subword_prefix;
    this.subwordPrefix = typeof csp === "string" && csp !== "" ? csp : null;
    const mml = cfg.model_max_length;
    this.tokenizerClass = typeof cfg.tokenizer_class === "string" ? cfg.tokenizer_class : null;
    this.modelMaxLength = typeof mml === "number" && mml > 0 && mml < 1e9 ? mml : null;
    this.added = ((tj.added_tokens as Json[] | undefined) ?? []).map((t) => ({
      id: t.id as number,
      content: t.content as string,
      lstrip: t.lstrip === true,
      rstrip: t.rstrip === true,
    }));
    this.special = new Set(
      ((tj.added_tokens as Json[] | undefined) ?? []).filter((t) => t.special).map((t) => t.id as number),
    );
    this.layout = layoutOf(tj.post_processor as Json | null, (t) => this.tokenizer.token_to_id(t));
  }

  /** Id of a special token named in tokenizer_config.json or by its usual spellings. */
  idOf(...names: string[]): number | null {
    for (const n of names) {
      const id = this.tokenizer.token_to_id(n);
      if (id !== undefined) return id;
    }
    return null;
  }

  /** Tokens of `text` without special tokens added, with character offsets. */
  encode(text: string): Encoded {
    const enc = this.tokenizer.encode(text, { add_special_tokens: false });
    return { ids: enc.ids, tokens: enc.tokens, offsets: this.align(text, enc.tokens, enc.ids) };
  }

  /**
   * HF convert_tokens_to_string: the decoder over token strings. Byte-level as HF's Rust
   * decoder: a token with a character outside the byte map (an already decoded word, as
   * token-classification's grouping passes) keeps its own UTF-8 bytes.
   */
  tokensToString(tokens: string[]): string {
    if (this.byteLevel) {
      BYTE_DECODER ??= byteDecoder();
      const bytes: number[] = [];
      const enc = new TextEncoder();
      for (const t of tokens) {
        const mapped: number[] = [];
        for (const ch of t) {
          const b = BYTE_DECODER.get(ch);
          if (b === undefined) {
            mapped.length = 0;
            mapped.push(...enc.encode(t));
            break;
          }
          mapped.push(b);
        }
        bytes.push(...mapped);
      }
      return new TextDecoder("utf-8").decode(Uint8Array.from(bytes));
    }
    const d = this.tokenizer.decoder;
    return d === null ? tokens.join(" ") : d.decode(tokens);
  }

  decode(ids: number[], skipSpecial = false): string {
    return this.tokenizer.decode(ids, { skip_special_tokens: skipSpecial });
  }

  idToToken(id: number): string {
    return this.tokenizer.id_to_token(id) ?? "";
  }

  private align(text: string, tokens: string[], ids: number[]): Array<[number, number]> {
    return this.byteLevel ? this.alignBytes(text, tokens, ids) : this.alignSurface(text, tokens, ids);
  }

  private addedAt(text: string, pos: number, id: number): [number, number] | null {
    const a = this.added.find((t) => t.id === id);
    if (a === undefined) return null;
    let p = pos;
    if (a.lstrip) while (p < text.length && /\s/.test(text[p])) p++;
    if (text.startsWith(a.content, p)) {
      let e = p + a.content.length;
      if (a.rstrip) while (e < text.length && /\s/.test(text[e])) e++;
      return [pos, e];
    }
    const q = text.indexOf(a.content, pos);
    return q < 0 ? null : [q, q + a.content.length];
  }

  /** Byte-level: walk the text's UTF-8 bytes with each token's bytes. */
  private alignBytes(text: string, tokens: string[], ids: number[]): Array<[number, number]> {
    BYTE_DECODER ??= byteDecoder();
    const dec = BYTE_DECODER;
    // charOfByte[b] = UTF-16 index of the character holding byte b of the text's UTF-8
    const utf8 = new TextEncoder().encode(text);
    const charOfByte = new Int32Array(utf8.length + 1);
    let b = 0;
    for (let i = 0; i < text.length; i++) {
      const cp = text.codePointAt(i) as number;
      const n = cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
      for (let k = 0; k < n; k++) charOfByte[b + k] = i;
      b += n;
      if (cp >= 0x10000) i++; // surrogate pair: two UTF-16 units
    }
    charOfByte[utf8.length] = text.length;
    const charStart = (byte: number) => charOfByte[byte];
    // end: one past the character holding byte `byte - 1`
    const charEnd = (byte: number) => {
      if (byte <= 0) return 0;
      const c = charOfByte[byte - 1];
      return c + ((text.codePointAt(c) as number) >= 0x10000 ? 2 : 1);
    };
    const out: Array<[number, number]> = [];
    let cur = 0; // byte cursor
    for (let t = 0; t < tokens.length; t++) {
      if (this.special.has(ids[t]) || this.added.some((a) => a.id === ids[t])) {
        const at = this.addedAt(text, charStart(Math.min(cur, utf8.length)), ids[t]);
        if (at !== null) {
          out.push(at);
          cur = new TextEncoder().encode(text.slice(0, at[1])).length;
          continue;
        }
      }
      const bytes: number[] = [];
      for (const ch of tokens[t]) {
        const v = dec.get(ch);
        if (v === undefined) {
          bytes.length = 0;
          break;
        }
        bytes.push(v);
      }
      if (bytes.length === 0) {
        out.push([charStart(Math.min(cur, utf8.length)), charStart(Math.min(cur, utf8.length))]);
        continue;
      }
      let s = cur;
      let matches = true;
      for (let k = 0; k < bytes.length; k++) if (utf8[s + k] !== bytes[k]) matches = false;
      if (!matches) {
        // not contiguous (a normalizer changed the text): search forward
        s = indexOfBytes(utf8, bytes, cur);
        if (s < 0) {
          out.push([charStart(Math.min(cur, utf8.length)), charStart(Math.min(cur, utf8.length))]);
          continue;
        }
      }
      let e = s + bytes.length;
      cur = e;
      if (this.trimOffsets) {
        while (s < e && isSpaceByte(utf8[s])) s++;
        while (e > s && isSpaceByte(utf8[e - 1])) e--;
        if (s === e) s = e = cur; // a whitespace-only token: empty offsets at its end (HF)
      }
      out.push([charStart(s), charEnd(e)]);
    }
    return out;
  }

  /** WordPiece / Metaspace / others: find each token's surface in the text. */
  private alignSurface(text: string, tokens: string[], ids: number[]): Array<[number, number]> {
    const hay = this.lowercase ? text.toLowerCase() : text;
    const out: Array<[number, number]> = [];
    let cur = 0;
    for (let t = 0; t < tokens.length; t++) {
      const a = this.added.find((x) => x.id === ids[t]);
      if (a !== undefined) {
        const at = this.addedAt(text, cur, ids[t]);
        if (at !== null) {
          out.push(at);
          cur = at[1];
          continue;
        }
      }
      let s = tokens[t];
      if (this.subwordPrefix !== null && s.startsWith(this.subwordPrefix)) s = s.slice(this.subwordPrefix.length);
      s = s.replace(/▁/g, " ").trim();
      if (this.lowercase) s = s.toLowerCase();
      while (cur < text.length && /\s/.test(text[cur])) cur++;
      const q = s === "" ? -1 : hay.indexOf(s, cur);
      if (q < 0) {
        out.push([cur, cur]);
        continue;
      }
      out.push([q, q + s.length]);
      cur = q + s.length;
    }
    return out;
  }
}

function isSpaceByte(b: number): boolean {
  return b === 0x20 || b === 0x09 || b === 0x0a || b === 0x0d || b === 0x0b || b === 0x0c;
}

function indexOfBytes(hay: Uint8Array, needle: number[], from: number): number {
  outer: for (let i = from; i + needle.length <= hay.length; i++) {
    for (let k = 0; k < needle.length; k++) if (hay[i + k] !== needle[k]) continue outer;
    return i;
  }
  return -1;
}

/** The special tokens a post-processor adds around one text and around a pair. */
function layoutOf(pp: Json | null, id: (t: string) => number | undefined): SpecialLayout {
  const none: SpecialLayout = {
    singleBefore: [],
    singleAfter: [],
    pairBefore: [],
    pairMiddle: [],
    pairAfter: [],
    pairTypeB: 0,
  };
  if (pp === null || pp === undefined) return none;
  const pick = (v: unknown): number => (Array.isArray(v) ? (v[1] as number) : (id(String(v)) ?? 0));
  if (pp.type === "RobertaProcessing") {
    const cls = pick(pp.cls);
    const sep = pick(pp.sep);
    return {
      singleBefore: [cls],
      singleAfter: [sep],
      pairBefore: [cls],
      pairMiddle: [sep, sep],
      pairAfter: [sep],
      pairTypeB: 0,
    };
  }
  if (pp.type === "BertProcessing") {
    const cls = pick(pp.cls);
    const sep = pick(pp.sep);
    return {
      singleBefore: [cls],
      singleAfter: [sep],
      pairBefore: [cls],
      pairMiddle: [sep],
      pairAfter: [sep],
      pairTypeB: 1,
    };
  }
  if (pp.type === "TemplateProcessing") {
    const specials = (pp.special_tokens ?? {}) as Record<string, { ids: number[] }>;
    const split = (tpl: unknown, seqs: string[]) => {
      const parts: number[][] = seqs.map(() => []);
      parts.push([]);
      let seg = 0;
      let typeB = 0;
      for (const item of (tpl as Json[]) ?? []) {
        if ("Sequence" in item) {
          const s = item.Sequence as { id: string; type_id: number };
          if (s.id === "B") typeB = s.type_id;
          seg++;
        } else if ("SpecialToken" in item) {
          const s = item.SpecialToken as { id: string };
          parts[seg].push(...(specials[s.id]?.ids ?? []));
        }
      }
      return { parts, typeB };
    };
    const single = split(pp.single, ["A"]);
    const pair = split(pp.pair, ["A", "B"]);
    return {
      singleBefore: single.parts[0],
      singleAfter: single.parts[1],
      pairBefore: pair.parts[0],
      pairMiddle: pair.parts[1],
      pairAfter: pair.parts[2],
      pairTypeB: pair.typeB,
    };
  }
  if (pp.type === "Sequence") {
    const inner = ((pp.processors as Json[]) ?? []).find((p) => p.type !== "ByteLevel");
    return inner === undefined ? none : layoutOf(inner, id);
  }
  return none;
}
