/**
 * TextTokenizer: ids equal @huggingface/tokenizers' (and so the Python slow tokenizer's, on the
 * shared cases); character offsets cover exactly each token's text (byte-level: its bytes
 * without the leading space; Metaspace: its surface); pair layouts of RoBERTa and template
 * post-processors; HF's Rust byte-level convert_tokens_to_string.
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { unigramTokenizer } from "../../../test/models-tokenizers.js";
import { TextTokenizer } from "./text.js";

const TASKS = path.resolve(__dirname, "../../../../shared/models/tasks");
const json = (p: string) => JSON.parse(readFileSync(path.join(TASKS, p), "utf8"));
const longformer = () =>
  new TextTokenizer(json("longformer_qa/tokenizer.json"), json("longformer_qa/tokenizer_config.json"));

interface Case {
  text: string;
  no_special_ids: number[];
}

describe("TextTokenizer on the shared byte-level BPE (Longformer folders)", () => {
  const tok = longformer();
  const cases = json("tokenizer_cases.json").singles as Case[];

  it("ids equal the Python slow tokenizer's on every shared case", () => {
    for (const c of cases) expect(tok.encode(c.text).ids, c.text).toEqual(c.no_special_ids);
  });

  it("offsets: each token's slice of the text is its own text (leading space trimmed); in order, inside the text", () => {
    let checked = 0;
    for (const c of cases) {
      const e = tok.encode(c.text);
      let last = 0;
      e.tokens.forEach((t, i) => {
        const [s, end] = e.offsets[i];
        expect(s).toBeGreaterThanOrEqual(0);
        expect(end).toBeLessThanOrEqual(c.text.length);
        expect(s).toBeLessThanOrEqual(end);
        expect(s).toBeGreaterThanOrEqual(Math.min(last, s));
        last = end;
        const surface = tok.special.has(e.ids[i]) ? t : tok.tokensToString([t]);
        if (surface.includes("\ufffd")) return; // a part of a multi-byte character: offsets cover the character
        const slice = c.text.slice(s, end);
        if (tok.special.has(e.ids[i])) expect(slice.trim()).toBe(t);
        else expect(slice).toBe(surface.trim());
        checked++;
      });
    }
    expect(checked).toBeGreaterThan(100);
  });

  it("unicode: an emoji and accented letters keep UTF-16 offsets", () => {
    const text = "café 😀 naïve";
    const e = tok.encode(text);
    const joined = e.offsets.map(([s, end]) => text.slice(s, end)).join("");
    expect(joined.replace(/ /g, "")).toContain("café");
    expect(e.offsets[e.offsets.length - 1][1]).toBe(text.length);
    const emoji = text.indexOf("😀");
    expect(e.offsets.some(([s, end]) => s === emoji && end === emoji + 2)).toBe(true);
  });

  it("layout: <s> A </s> and <s> A </s></s> B </s>; convert_tokens_to_string keeps decoded words (HF's Rust decoder)", () => {
    expect(tok.layout.singleBefore).toEqual([0]);
    expect(tok.layout.singleAfter).toEqual([2]);
    expect([tok.layout.pairBefore, tok.layout.pairMiddle, tok.layout.pairAfter]).toEqual([[0], [2, 2], [2]]);
    expect(tok.tokensToString(["ĠL", "opez"])).toBe(" Lopez");
    expect(tok.tokensToString([" Lopez", "ĠSmith"])).toBe(" Lopez Smith");
  });
});

describe("TextTokenizer on a Unigram / Metaspace tokenizer with a template post-processor", () => {
  const { tokenizer, config } = unigramTokenizer();
  const tok = new TextTokenizer(tokenizer, config);

  it("pair layout [CLS] A [SEP] B [SEP] with type 1 on B; offsets by surface", () => {
    expect(tok.byteLevel).toBe(false);
    expect([tok.layout.pairBefore, tok.layout.pairMiddle, tok.layout.pairAfter, tok.layout.pairTypeB]).toEqual([
      [2],
      [3],
      [3],
      1,
    ]);
    const text = "the  cat";
    const e = tok.encode(text);
    expect(e.ids).toEqual([31, 4, 32]); // the second space is a "▁" of its own
    expect(e.offsets[0]).toEqual([0, 3]);
    expect(e.offsets[1][0]).toBe(e.offsets[1][1]); // a whitespace-only token: empty
    expect(e.offsets[2]).toEqual([5, 8]);
  });
});
