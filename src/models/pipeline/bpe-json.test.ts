/**
 * byteLevelBpeJson: a tokenizer.json built from a Longformer folder's slow files (vocab.json,
 * merges.txt, tokenizer_config.json, special_tokens_map.json) gives the Python slow
 * tokenizer's ids on every shared case, singles and pairs (@huggingface/tokenizers encodes the
 * pair); a folder without tokenizer.json loads with it and answers as with tokenizer.json.
 */
import { copyFileSync, mkdtempSync, readFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { Tokenizer } from "@huggingface/tokenizers";
import { describe, expect, it } from "vitest";
import { pipeline } from "../index.js";
import { byteLevelBpeJson } from "./bpe-json.js";

const TASKS = path.resolve(__dirname, "../../../../shared/models/tasks");
const DIR = path.join(TASKS, "longformer_qa");
const read = (f: string) => readFileSync(path.join(DIR, f), "utf8");

interface Case {
  text: string;
  text_pair?: string;
  input_ids: number[];
}

describe("tokenizer.json from vocab.json + merges.txt", () => {
  const config = JSON.parse(read("tokenizer_config.json"));
  const json = byteLevelBpeJson(
    JSON.parse(read("vocab.json")),
    read("merges.txt"),
    config,
    JSON.parse(read("special_tokens_map.json")),
  );

  it("the slow tokenizer's ids on every shared single and pair", () => {
    const tok = new Tokenizer(json, config);
    const cases = JSON.parse(readFileSync(path.join(TASKS, "tokenizer_cases.json"), "utf8")) as {
      singles: Case[];
      pairs: Case[];
    };
    for (const c of cases.singles) expect(tok.encode(c.text).ids, c.text).toEqual(c.input_ids);
    for (const c of cases.pairs)
      expect(tok.encode(c.text, { text_pair: c.text_pair }).ids, c.text).toEqual(c.input_ids);
  });

  it("without special_tokens_map / added_tokens_decoder the named special tokens are found in the vocabulary", () => {
    const bare = byteLevelBpeJson(JSON.parse(read("vocab.json")), read("merges.txt"), {
      tokenizer_class: "LongformerTokenizer",
      mask_token: "<mask>",
      bos_token: "<s>",
      eos_token: "</s>",
      sep_token: "</s>",
      cls_token: "<s>",
      pad_token: "<pad>",
      unk_token: "<unk>",
    });
    const added = bare.added_tokens as Array<{ id: number; content: string; lstrip: boolean }>;
    expect(added.map((a) => a.id)).toEqual([0, 1, 2, 3, 999]);
    expect(added.find((a) => a.content === "<mask>")?.lstrip).toBe(true);
    expect(() => byteLevelBpeJson([1, 2], "")).toThrow(/vocab\.json/);
  });

  it("a folder with only the slow files runs the pipeline as with tokenizer.json", async () => {
    const tmp = mkdtempSync(path.join(os.tmpdir(), "sa-slowtok-"));
    for (const f of [
      "config.json",
      "model.safetensors",
      "vocab.json",
      "merges.txt",
      "tokenizer_config.json",
      "special_tokens_map.json",
    ]) {
      copyFileSync(path.join(DIR, f), path.join(tmp, f));
    }
    const q = "Where does Maria work?";
    const ctx = "Maria Lopez lives in Madrid and works as a doctor at a large hospital near the centre of the city.";
    const slow = await (await pipeline("question-answering", tmp))(q, ctx, { topK: 2 });
    const fast = await (await pipeline("question-answering", DIR))(q, ctx, { topK: 2 });
    expect(slow).toEqual(fast);
  });
});
