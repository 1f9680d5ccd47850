/**
 * `sparse-attention run <task>` as a user runs it (the built dist/cli/main.js in a child
 * process) on the shared task folders: the printed result equals the API's, --json carries
 * HF's field names, bad calls exit 2 with the reason.
 */
import { execFile } from "node:child_process";
import { existsSync, mkdtempSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { pipeline } from "../src/models/index.js";
import { type PipelineCall, pipelineCalls, taskDir } from "./tasks-case.js";

const MAIN = path.resolve(__dirname, "../dist/cli/main.js");

function cli(args: string[], input?: string): Promise<{ code: number; stdout: string; stderr: string }> {
  if (!existsSync(MAIN)) throw new Error(`${MAIN} is missing: run "npm run build" first (npm test does)`);
  return new Promise((resolve) => {
    const child = execFile(process.execPath, [MAIN, ...args], { maxBuffer: 64 << 20 }, (e, stdout, stderr) => {
      resolve({ code: e ? (typeof e.code === "number" ? e.code : 1) : 0, stdout, stderr });
    });
    child.stdin?.end(input ?? "");
  });
}

const qaCall = pipelineCalls().find((c) => c.task === "question-answering") as PipelineCall;
const { question, context } = qaCall.call_kwargs as { question: string[]; context: string[] };

describe("sparse-attention run", () => {
  it("question-answering: --question/--context prints the answer; --json equals the API's result", async () => {
    const dir = taskDir("longformer_qa");
    const r = await cli([
      "run",
      "question-answering",
      "--model",
      dir,
      "--question",
      question[1],
      "--context",
      context[1],
    ]);
    expect(r.stderr).toMatch(/longformer question-answering: \d+\.\d+ s/);
    expect(r.code).toBe(0);
    const api = (await (await pipeline("question-answering", dir))(question[1], context[1])) as { answer: string };
    expect(r.stdout).toContain(`answer: ${JSON.stringify(api.answer)}`);
    const tmp = mkdtempSync(path.join(os.tmpdir(), "sa-run-"));
    const file = path.join(tmp, "long.txt");
    writeFileSync(file, context[1]);
    const j = await cli([
      "run",
      "question-answering",
      "--model",
      dir,
      "--question",
      question[1],
      "--context-file",
      file,
      "--top-k",
      "2",
      "--max-seq-len",
      "384",
      "--doc-stride",
      "128",
      "--json",
      "--backend",
      "js",
    ]);
    expect(j.code).toBe(0);
    const got = JSON.parse(j.stdout) as Array<Record<string, unknown>>;
    expect(got.length).toBe(2);
    expect(Object.keys(got[0]).sort()).toEqual(["answer", "end", "score", "start"]);
    expect(context[1].slice(got[0].start as number, got[0].end as number)).toBe(got[0].answer);
  });

  it("text-classification, token-classification, fill-mask and feature-extraction print their results", async () => {
    const tc = await cli([
      "run",
      "text-classification",
      "--model",
      taskDir("longformer_seqcls_multilabel"),
      "--text",
      "The food was wonderful and the staff were very friendly.",
      "--all-labels",
      "--json",
    ]);
    expect(tc.code).toBe(0);
    const ml = pipelineCalls().find((c) => c.model_folder.endsWith("multilabel")) as PipelineCall;
    const want = (ml.output as unknown[][])[0];
    const got = JSON.parse(tc.stdout) as Array<{ label: string; score: number }>;
    expect(got.map((x) => x.label)).toEqual((want as Array<{ label: string }>).map((x) => x.label));
    const ner = await cli(
      [
        "run",
        "token-classification",
        "--model",
        taskDir("longformer_tokcls"),
        "--text-file",
        "-",
        "--aggregation-strategy",
        "simple",
      ],
      "John Smith moved from London to Berlin in the spring.",
    );
    expect(ner.code).toBe(0);
    expect(ner.stdout).toMatch(/^LOC +0\.\d{4} {2}"John Smith" {2}\[0, 10\)$/m);
    const fm = await cli([
      "run",
      "fill-mask",
      "--model",
      taskDir("longformer_mlm"),
      "--text",
      "The capital of France is <mask>.",
    ]);
    expect(fm.stdout.split("\n")[0]).toMatch(/^0\.0125 {2}" Berlin" +The capital of France is Berlin\.$/);
    const fe = await cli([
      "run",
      "feature-extraction",
      "--model",
      taskDir("longformer_qa"),
      "--text",
      "hi",
      "--pooling",
      "cls",
    ]);
    expect(fe.stdout).toMatch(/^shape \[1, 64\]/);
  });

  it("bad calls exit 2 naming the problem", async () => {
    const dir = taskDir("longformer_qa");
    const noQ = await cli(["run", "question-answering", "--model", dir, "--context", "x"]);
    expect(noQ.code).toBe(2);
    expect(noQ.stderr).toContain("needs --question");
    const wrongHead = await cli(["run", "fill-mask", "--model", dir, "--text", "a <mask>"]);
    expect(wrongHead.code).toBe(2);
    expect(wrongHead.stderr).toContain('the ForMaskedLM head needs tensors "lm_head.dense.weight"');
    const badTask = await cli(["run", "summarization", "--model", dir, "--text", "x"]);
    expect(badTask.code).toBe(2);
    const noText = await cli(["run", "text-classification", "--model", taskDir("longformer_seqcls")]);
    expect(noText.code).toBe(2);
    expect(noText.stderr).toContain("exactly one of --text");
  });

  it("text on a folder without tokenizer.json names the flag, the folder and the fix (--ids but not for QA)", async () => {
    // the shared BigBird task folders ship no tokenizer
    const qaDir = taskDir("bigbird_qa");
    const mlmDir = taskDir("bigbird_mlm");
    const tmp = mkdtempSync(path.join(os.tmpdir(), "sa-run-notok-"));
    const docs = path.join(tmp, "docs.jsonl");
    writeFileSync(docs, `${JSON.stringify({ id: "a", text: "word ".repeat(5000) })}\n`);
    const [qa, fm, file, corpus] = await Promise.all([
      cli(["run", "question-answering", "--model", qaDir, "--question", "Who?", "--context", "Anna."]),
      cli(["run", "fill-mask", "--model", mlmDir, "--text", "a [MASK]."]),
      cli(["run", "fill-mask", "--model", mlmDir, "--text-file", "-"], "a [MASK]."),
      cli(["run", "fill-mask", "--model", mlmDir, "--input", docs, "--output", path.join(tmp, "out.jsonl")]),
    ]);
    for (const r of [qa, fm, file, corpus]) {
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr).toContain("has no tokenizer.json");
      expect(r.stderr).toContain("put tokenizer.json (and tokenizer_config.json) beside config.json");
      expect(r.stderr).not.toContain("got undefined");
      expect(r.stderr.length).toBeLessThan(600); // never the whole document
    }
    expect(qa.stderr).toContain(`--question/--context: the model ${qaDir} has no tokenizer.json`);
    expect(qa.stderr).not.toContain("--ids");
    expect(fm.stderr).toContain(`--text: the model ${mlmDir} has no tokenizer.json`);
    expect(fm.stderr).toContain("--ids");
    expect(file.stderr).toContain("--text-file -: the model");
    expect(corpus.stderr).toContain(`--input ${docs}: the model ${mlmDir} has no tokenizer.json`);
    expect(existsSync(path.join(tmp, "out.jsonl"))).toBe(false);
  });
});
