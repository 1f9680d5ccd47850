/**
 * `run <task> --input docs.jsonl --output results.jsonl`: the corpus mode of `run` (a RunMode,
 * see run.ts). Documents go through pipeline(task, model) in batches of similar length (by token
 * count), results are appended per batch and flushed; a rerun resumes (src/cli/corpus.ts).
 */
import { Option } from "commander";
import { pipelineBatch, type StreamItem, toDoc } from "../models/corpus.js";
import { UsageError } from "./commands.js";
import { runCorpusJob, summaryLine } from "./corpus.js";
import { callOptionsFrom, type RunMode } from "./run.js";

function int(min: number) {
  return (v: string): number => {
    const n = Number(v);
    if (!/^\s*\d+\s*$/.test(v) || !Number.isSafeInteger(n) || n < min) {
      throw new UsageError(`got "${v}"; expected an integer >= ${min}`);
    }
    return n;
  };
}

export const corpusMode: RunMode = {
  options(cmd) {
    cmd
      .option(
        "--input <file.jsonl>",
        'corpus mode: one JSON object per line, {"id": …, "text": …} (QA: question, context)',
      )
      .option("--output <file.jsonl>", 'corpus mode: one {"id": …, "result": …} line per document; a rerun resumes it')
      .addOption(
        new Option("--batch-size <n>", "corpus mode: documents per batch (written and flushed together)")
          .argParser(int(1))
          .default(8),
      )
      .option("--no-progress", "corpus mode: no progress bar");
    cmd.addHelpText(
      "after",
      "  sparse-attention run text-classification --model ./my-classifier --input docs.jsonl --output out.jsonl   (kill it, run it again: it resumes)",
    );
  },
  selected: (o) => o.input !== undefined || o.output !== undefined,
  async run(task, o, io) {
    if (typeof o.input !== "string" || typeof o.output !== "string") {
      throw new UsageError("corpus mode needs both --input FILE.jsonl and --output FILE.jsonl");
    }
    for (const flag of ["text", "textFile", "question", "context", "contextFile"] as const) {
      if (o[flag] !== undefined) {
        throw new UsageError(
          `--${flag.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)} cannot be combined with --input/--output (each line of --input holds the inputs)`,
        );
      }
    }
    const pipe = await io.load();
    if (pipe.tokenizer === null) {
      throw new UsageError(
        `--input ${o.input}: the model ${o.model} has no tokenizer.json, so the documents' text cannot be turned into token ids here; put tokenizer.json (and tokenizer_config.json) beside config.json (a corpus is read as text)`,
      );
    }
    const process = pipelineBatch(pipe, callOptionsFrom(task, o));
    const signal = { stop: false };
    const onInt = () => {
      if (signal.stop) return;
      signal.stop = true;
      io.err("\nstopping after the batch in flight (Ctrl-C again to stop at once; a rerun resumes either way)");
      globalThis.process.once("SIGINT", () => globalThis.process.exit(130));
    };
    globalThis.process.once("SIGINT", onInt);
    try {
      const summary = await runCorpusJob<StreamItem>({
        input: o.input,
        output: o.output,
        batch: { batchSize: o.batchSize as number },
        progress: o.progress !== false,
        signal,
        log: io.err,
        makeDoc: (obj, id, lineNo, where) => {
          try {
            return toDoc(pipe, { ...(obj as StreamItem & object), id }, lineNo - 1, where);
          } catch (e) {
            throw new UsageError((e as Error).message);
          }
        },
        process: (batch) => process(batch),
      });
      io.err(summaryLine(summary, o.output));
      if (summary.interrupted) globalThis.process.exitCode = 130;
    } finally {
      globalThis.process.removeListener("SIGINT", onInt);
    }
  },
};
