/**
 * `sparse-attention run <task> --model <folder|owner/name> (--text T | --question Q --context C)`:
 * one input through pipeline(task, model) and its result printed (a table, or --json). Text
 * may come from a file (--text-file, --context-file; "-" = standard input). Other modes (the
 * corpus mode: --input/--output) plug in as RunMode objects given to registerRun.
 */
import { readFileSync } from "node:fs";
import { Argument, type Command, InvalidArgumentError, Option } from "commander";
import { type CallOptions, isRepoId, type Pipeline, type PipelineTask, pipeline } from "../models/index.js";
import { modelLoadError, UsageError } from "./commands.js";
import { checkIds, intList, type TypedInt } from "./encode.js";
import { createHubProgress } from "./hub-progress.js";

export const RUN_TASKS: readonly PipelineTask[] = [
  "question-answering",
  "text-classification",
  "token-classification",
  "fill-mask",
  "feature-extraction",
];

/** The parsed options of `run` (commander camel-cases them). */
export interface RunCliOptions {
  model: string;
  text?: string;
  textFile?: string;
  ids?: TypedInt[];
  maskId?: number;
  question?: string;
  context?: string;
  contextFile?: string;
  json?: boolean;
  backend: "auto" | "wasm" | "js";
  threads?: number;
  topK?: number;
  allLabels?: boolean;
  functionToApply?: "softmax" | "sigmoid" | "none";
  aggregationStrategy?: "none" | "simple" | "first" | "average" | "max";
  maxSeqLen?: number;
  docStride?: number;
  maxAnswerLen?: number;
  handleImpossibleAnswer?: boolean;
  pooling?: "none" | "mean" | "cls";
  normalize?: boolean;
  [extra: string]: unknown;
}

/** Another way to run a task (e.g. a corpus: --input/--output), chosen by its options. */
export interface RunMode {
  /** Adds the mode's options to the command. */
  options(cmd: Command): void;
  /** True when the parsed options select this mode. */
  selected(o: RunCliOptions): boolean;
  run(
    task: PipelineTask,
    o: RunCliOptions,
    io: { out: (s: string) => void; err: (s: string) => void; load: () => Promise<Pipeline> },
  ): Promise<void>;
}

function int(min: number, example: string) {
  return (v: string): number => {
    const n = Number(v);
    if (!/^\s*\d+\s*$/.test(v) || !Number.isSafeInteger(n) || n < min) {
      throw new InvalidArgumentError(`got "${v}"; expected an integer >= ${min}, e.g. ${example}`);
    }
    return n;
  };
}

/** The pipeline call options the flags ask for (unset flags: the pipeline's defaults). */
export function callOptionsFrom(task: PipelineTask, o: RunCliOptions): CallOptions {
  const c: CallOptions = {};
  if (o.topK !== undefined) c.topK = o.topK;
  if (task === "text-classification" && o.allLabels) c.topK = null;
  if (o.functionToApply !== undefined) c.functionToApply = o.functionToApply;
  if (o.aggregationStrategy !== undefined) c.aggregationStrategy = o.aggregationStrategy;
  if (o.maxSeqLen !== undefined) c.maxSeqLen = o.maxSeqLen;
  if (o.docStride !== undefined) c.docStride = o.docStride;
  if (o.maxAnswerLen !== undefined) c.maxAnswerLen = o.maxAnswerLen;
  if (o.handleImpossibleAnswer) c.handleImpossibleAnswer = true;
  if (o.pooling !== undefined) c.pooling = o.pooling;
  if (o.normalize) c.normalize = true;
  if (o.maskId !== undefined) c.maskTokenId = o.maskId;
  return c;
}

/** Loads the pipeline of `task` on --model (Hub progress bars on stderr); model errors as usage errors. */
export async function loadPipeline(task: PipelineTask, o: RunCliOptions): Promise<Pipeline> {
  const hub = isRepoId(o.model) ? createHubProgress() : null;
  try {
    const backend = o.backend === "auto" ? undefined : o.backend;
    const pipe = await pipeline(task, o.model, {
      backend,
      threads: o.threads,
      ...(hub ? { onProgress: hub.onProgress } : {}),
    });
    hub?.stop();
    return pipe;
  } catch (e) {
    hub?.stop();
    throw modelLoadError(e);
  }
}

function readText(flag: string, file: string): string {
  try {
    return readFileSync(file === "-" ? 0 : file, "utf8");
  } catch (e) {
    throw new UsageError(`${flag} ${file}: cannot read it (${(e as Error).message})`);
  }
}

const fmt = (x: number) => (Math.abs(x) >= 1e-3 || x === 0 ? x.toFixed(4) : x.toExponential(3));

/** The result as a few readable lines. */
export function formatResult(task: PipelineTask, result: unknown): string {
  const rows = (Array.isArray(result) ? result : [result]) as Array<Record<string, unknown>>;
  switch (task) {
    case "question-answering":
      if (rows.length === 0) return "no answer";
      return rows
        .map(
          (a) => `answer: ${JSON.stringify(a.answer)}  score ${fmt(a.score as number)}  characters ${a.start}–${a.end}`,
        )
        .join("\n");
    case "text-classification":
      return rows.map((r) => `${String(r.label).padEnd(16)} ${fmt(r.score as number)}`).join("\n");
    case "token-classification":
      if (rows.length === 0) return "no entities";
      return rows
        .map(
          (r) =>
            // token-id input has no character offsets (start/end null): the token index instead
            `${String(r.entity_group ?? r.entity).padEnd(10)} ${fmt(r.score as number)}  ${JSON.stringify(r.word)}  ${r.start === null ? `token ${r.index}` : `[${r.start}, ${r.end})`}`,
        )
        .join("\n");
    case "fill-mask": {
      const masks = Array.isArray(rows[0]) ? (rows as unknown as Array<Array<Record<string, unknown>>>) : [rows];
      return masks
        .map((m, i) =>
          [
            ...(masks.length > 1 ? [`mask ${i + 1}:`] : []),
            ...m.map((r) => `${fmt(r.score as number)}  ${JSON.stringify(r.token_str).padEnd(14)} ${r.sequence}`),
          ].join("\n"),
        )
        .join("\n");
    }
    default: {
      const t = result as { data: Float32Array; shape: number[] };
      const head = Array.from(t.data.subarray(0, 4), (x) => x.toFixed(4)).join(", ");
      return `shape [${t.shape.join(", ")}]; starts [${head}, …] (--json for every value)`;
    }
  }
}

function toJson(result: unknown): string {
  return JSON.stringify(result, (_k, v) => (v instanceof Float32Array ? Array.from(v) : v));
}

export function registerRun(
  prog: Command,
  out: (s: string) => void,
  err: (s: string) => void,
  modes: readonly RunMode[] = [],
): Command {
  const cmd = prog
    .command("run")
    .description(
      "run a task model (Longformer, BigBird or ModernBERT with a head) on one input: answer, classify, tag, fill, embed",
    )
    .addArgument(new Argument("<task>", RUN_TASKS.join(" | ")).choices(RUN_TASKS as string[]))
    .requiredOption(
      "--model <dir|owner/name>",
      "model folder (config.json, model.safetensors, tokenizer.json) or a Hugging Face Hub id",
    )
    .option("--text <text>", "the input text")
    .option("--text-file <file>", "read the input text from a file (- = standard input)")
    .option(
      "--ids <list>",
      "token ids instead of text, used as given (include the model's special tokens; no tokenizer needed), e.g. 996,5,999,997",
      intList("996,5,999,997"),
    )
    .option(
      "--mask-id <n>",
      "fill-mask with --ids: the mask token's id (default: the tokenizer's, else config mask_token_id)",
      int(0, "999"),
    )
    .option("--question <text>", "question-answering: the question")
    .option("--context <text>", "question-answering: the context")
    .option("--context-file <file>", "question-answering: read the context from a file (- = standard input)")
    .option("--json", "print the result as JSON (HF's field names)")
    .addOption(new Option("--backend <name>", "backend").choices(["auto", "wasm", "js"]).default("auto"))
    .option("--threads <n>", "threads (default: the cores available)", int(1, "2"))
    .option("--top-k <n>", "answers / labels / tokens to return (topK)", int(1, "3"))
    .option("--all-labels", "text-classification: every label, sorted (topK null)")
    .addOption(
      new Option("--function-to-apply <f>", "text-classification: scores from logits").choices([
        "softmax",
        "sigmoid",
        "none",
      ]),
    )
    .addOption(
      new Option("--aggregation-strategy <s>", "token-classification: how tokens become entities").choices([
        "none",
        "simple",
        "first",
        "average",
        "max",
      ]),
    )
    .option("--max-seq-len <n>", "question-answering: tokens per window (default: the model's maximum)", int(8, "384"))
    .option(
      "--doc-stride <n>",
      "question-answering: step between windows, in context tokens (default 128)",
      int(1, "128"),
    )
    .option("--max-answer-len <n>", "question-answering: longest answer in tokens (default 15)", int(1, "30"))
    .option("--handle-impossible-answer", "question-answering: allow the empty answer")
    .addOption(new Option("--pooling <p>", "feature-extraction: pooling").choices(["none", "mean", "cls"]))
    .option("--normalize", "feature-extraction: L2-normalise the vectors")
    .addHelpText(
      "after",
      `\nExamples:\n  sparse-attention run question-answering --model ./my-longformer-qa --question "Who?" --context "$(cat long.txt)"\n  sparse-attention run text-classification --model ./my-classifier --text "A fine day." --all-labels --json\n  sparse-attention run fill-mask --model ./folder-without-tokenizer --ids 996,17,999,42,997 --mask-id 999`,
    );
  for (const m of modes) m.options(cmd);
  cmd.action(async (task: PipelineTask, o: RunCliOptions) => {
    const mode = modes.find((m) => m.selected(o));
    if (mode !== undefined) {
      await mode.run(task, o, { out, err, load: () => loadPipeline(task, o) });
      return;
    }
    const qa = task === "question-answering";
    if (o.maskId !== undefined && task !== "fill-mask") throw new UsageError("--mask-id is for fill-mask only");
    if (o.ids !== undefined) {
      if (qa)
        throw new UsageError("question-answering reads --question and --context text; --ids is for the other tasks");
      if (o.text !== undefined || o.textFile !== undefined) {
        throw new UsageError(`${task} needs exactly one of --text TEXT, --text-file FILE or --ids LIST`);
      }
      const pipe = await loadPipeline(task, o);
      const vocab = pipe.model.config.raw.vocab_size;
      const ids = checkIds(o.ids, typeof vocab === "number" ? vocab : Number.MAX_SAFE_INTEGER);
      await runOnce(pipe, task, o, { inputIds: Array.from(ids) }, undefined, out, err);
      return;
    }
    let first: string;
    let second: string | undefined;
    if (qa) {
      if (o.question === undefined) throw new UsageError("question-answering needs --question TEXT");
      if ((o.context === undefined) === (o.contextFile === undefined)) {
        throw new UsageError("question-answering needs exactly one of --context TEXT or --context-file FILE");
      }
      first = o.question;
      second = o.context ?? readText("--context-file", o.contextFile as string);
    } else {
      if ((o.text === undefined) === (o.textFile === undefined)) {
        throw new UsageError(`${task} needs exactly one of --text TEXT, --text-file FILE or --ids LIST`);
      }
      first = o.text ?? readText("--text-file", o.textFile as string);
    }
    const pipe = await loadPipeline(task, o);
    if (pipe.tokenizer === null) throw new UsageError(noTokenizer(task, o));
    await runOnce(pipe, task, o, first, qa ? second : undefined, out, err);
  });
  return cmd;
}

/** A text input on a model folder without tokenizer.json: what to add, or (not for QA) --ids. */
export function noTokenizer(task: PipelineTask, o: RunCliOptions): string {
  const flag =
    task === "question-answering"
      ? `--question/${o.context !== undefined ? "--context" : `--context-file ${o.contextFile}`}`
      : o.text !== undefined
        ? "--text"
        : `--text-file ${o.textFile}`;
  const fix =
    task === "question-answering"
      ? "put tokenizer.json (and tokenizer_config.json) beside config.json: question-answering reads text only"
      : "put tokenizer.json (and tokenizer_config.json) beside config.json, or give the token ids yourself with --ids, e.g. --ids 0,261,264,2";
  return `${flag}: the model ${o.model} has no tokenizer.json, so text cannot be turned into token ids here; ${fix}`;
}

/** One input through the pipeline, its result printed (stdout) and its time (stderr). */
async function runOnce(
  pipe: Pipeline,
  task: PipelineTask,
  o: RunCliOptions,
  first: unknown,
  second: string | undefined,
  out: (s: string) => void,
  err: (s: string) => void,
): Promise<void> {
  const t0 = performance.now();
  const call = callOptionsFrom(task, o);
  const result = task === "question-answering" ? await pipe(first, second, call) : await pipe(first, call);
  const seconds = (performance.now() - t0) / 1000;
  out(o.json ? toJson(result) : formatResult(task, result));
  err(`${pipe.model.config.modelType} ${task}: ${seconds.toFixed(2)} s`);
}
