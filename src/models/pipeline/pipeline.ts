/**
 * pipeline(task, modelOrName, options): transformers.js's entry point with HF's output fields
 * and option semantics (v4.40.2), options camel-cased. The pipeline only tokenizes, asks the
 * model for its head's outputs (forward → logits / startLogits / endLogits / lastHiddenState)
 * and post-processes; any model implementing PipelineModel runs through it. See docs/tasks.md.
 */
import { AttentionArgumentError, checkInt } from "../../errors.js";
import type { Backend } from "../../types.js";
import { type CorpusResult, type StreamItem, type StreamOptions, streamPipeline } from "../corpus.js";
import type { TaskOutput, TokenizerFiles } from "../encode.js";
import { type LoadOptions, loadModel, type ModelSource } from "../load.js";
import { type HeadKind, TASK_HEADS } from "../tasks/heads.js";
import type { TaskInputs } from "../tasks/prepare.js";
import { idsInput, maskIdOf, pick, tokenNaming, vocabOf } from "./ids.js";
import {
  type AggregationStrategy,
  aggregateEntities,
  type ClassificationFunction,
  classify,
  type EntityGroup,
  type LabelScore,
  type Pooling,
  pool,
  preEntities,
  softmax,
  type TokenEntity,
  topKIndices,
} from "./postprocess.js";
import { contextWords, type QaAnswer, type QaOptions, qaAnswers, qaFeatures } from "./qa.js";
import { TextTokenizer } from "./text.js";

/** What a pipeline needs of a model (Longformer, BigBird, and any architecture with the same surface). */
export interface PipelineModel {
  readonly config: { modelType: string; raw: Record<string, unknown> };
  readonly headKind: HeadKind | null;
  readonly labels: string[];
  readonly tokenizerFiles?: TokenizerFiles;
  /** sentence-transformers' pooling from the model's modules.json (ModernBERT embedding models): feature-extraction's default. */
  readonly sentencePooling?: { mode: "cls" | "mean"; normalize: boolean } | null;
  /** Most tokens per input row. */
  readonly maxLength: number;
  forward(inputs: TaskInputs, options?: RunOptions): Promise<TaskOutput>;
  /** ForMaskedLM: logits [rows.length, vocab] at flat rows b·L + i only (fill-mask); optional. */
  maskedLogitsAt?(inputs: TaskInputs, rows: number[], options?: RunOptions): Promise<Float32Array>;
}

export interface RunOptions {
  backend?: Backend;
  threads?: number;
}

export type PipelineTask =
  | "feature-extraction"
  | "fill-mask"
  | "text-classification"
  | "sentiment-analysis"
  | "token-classification"
  | "ner"
  | "question-answering";

export const PIPELINE_TASKS: readonly PipelineTask[] = [
  "feature-extraction",
  "fill-mask",
  "text-classification",
  "sentiment-analysis",
  "token-classification",
  "ner",
  "question-answering",
];

export interface FeatureExtractionOptions {
  pooling?: Pooling;
  normalize?: boolean;
}
export interface FillMaskOptions {
  topK?: number;
  /** The mask token's id for `{ inputIds }` inputs when the model has no tokenizer and its config no mask_token_id. */
  maskTokenId?: number;
}
export interface TextClassificationOptions {
  /** undefined (HF's default): the best { label, score }; null: every label, sorted; n: the n best. */
  topK?: number | null;
  functionToApply?: ClassificationFunction;
}
export interface TokenClassificationOptions {
  aggregationStrategy?: AggregationStrategy;
  ignoreLabels?: string[];
}

export interface FillMaskResult {
  score: number;
  token: number;
  token_str: string;
  sequence: string;
}

/** Every task's call options (each task reads its own; topK null = every label, text-classification only). */
export type CallOptions = FeatureExtractionOptions &
  TokenClassificationOptions &
  Omit<FillMaskOptions, "topK"> &
  Omit<QaOptions, "topK"> &
  Omit<TextClassificationOptions, "topK"> & { topK?: number | null };

export interface PipelineOptions extends LoadOptions, RunOptions {
  /** Default call options (each call may override them). */
  defaults?: CallOptions;
}

/** A pipeline: call it per input (an array gives an array of results). */
export interface Pipeline {
  // biome-ignore lint/suspicious/noExplicitAny: the result type depends on the task
  (input: unknown, contextOrOptions?: unknown, options?: CallOptions): Promise<any>;
  readonly task: PipelineTask;
  readonly model: PipelineModel;
  /** The model's tokenizer; null for a model without tokenizer.json (then inputs are `{ inputIds }`). */
  readonly tokenizer: TextTokenizer | null;
  /**
   * A whole corpus: results as `{ id, index, result }`, batch by batch (documents of similar
   * length together, so not in input order). Items: texts, `{ id?, text }`, or `{ id?, question, context }`.
   */
  stream(
    source: AsyncIterable<StreamItem> | Iterable<StreamItem>,
    options?: StreamOptions<CallOptions>,
  ): AsyncGenerator<CorpusResult>;
}

export type { EntityGroup, LabelScore, QaAnswer, QaOptions, TokenEntity };

function isModel(x: unknown): x is PipelineModel {
  return x !== null && typeof x === "object" && typeof (x as PipelineModel).forward === "function" && "headKind" in x;
}

function int32(a: number[]): Int32Array {
  return Int32Array.from(a);
}

function single(ids: number[]): TaskInputs {
  return {
    inputIds: { data: int32(ids), shape: [1, ids.length] },
    attentionMask: { data: new Int32Array(ids.length).fill(1), shape: [1, ids.length] },
  };
}

export async function pipeline(
  task: PipelineTask,
  modelOrName: string | PipelineModel | ModelSource,
  options: PipelineOptions = {},
): Promise<Pipeline> {
  if (!(PIPELINE_TASKS as readonly unknown[]).includes(task)) {
    throw new AttentionArgumentError(
      "pipeline(task)",
      task,
      `one of ${PIPELINE_TASKS.map((t) => `"${t}"`).join(", ")}`,
    );
  }
  const { backend, threads, defaults = {}, ...load } = options;
  const needs = TASK_HEADS[task] ?? null;
  const model: PipelineModel = isModel(modelOrName)
    ? modelOrName
    : await loadModel(modelOrName as string | ModelSource, { task: needs ?? "none", ...load });
  if (needs !== null && model.headKind !== needs) {
    throw new AttentionArgumentError(
      `pipeline("${task}", model)`,
      model.headKind ?? "an encoder without a head",
      `a model with the ${needs} head (load it with loadModel(source, { task: "${task}" }))`,
    );
  }
  const files = model.tokenizerFiles;
  const hasTokenizer = files !== undefined && files.tokenizer !== null && typeof files.tokenizer === "object";
  const tokOrNull = hasTokenizer ? new TextTokenizer(files.tokenizer, files.config ?? {}) : null;
  /** The tokenizer, for text inputs: a model without one takes token ids ({ inputIds }) only. */
  const needTok = (): TextTokenizer => {
    if (tokOrNull !== null) return tokOrNull;
    throw new AttentionArgumentError(
      `pipeline("${task}", model) tokenizer`,
      files?.tokenizer,
      task === "question-answering"
        ? "a model with tokenizer.json (and tokenizer_config.json) in its folder or source: question answering reads text only"
        : "a model with tokenizer.json (and tokenizer_config.json) in its folder or source to run on text; without one, give token ids: pipe({ inputIds: [...] }) (CLI: --ids)",
    );
  };
  const run: RunOptions = { backend, threads };
  const maxLen = Math.min(model.maxLength, tokOrNull?.modelMaxLength ?? Number.POSITIVE_INFINITY);
  const id2label = (i: number) => model.labels[i] ?? `LABEL_${i}`;
  const vocab = vocabOf(model.config.raw);
  const { specialIds, tokenOf, decode } = tokenNaming(tokOrNull, model.config.raw);

  /** ids of one text with special tokens, truncated to maxLen (the closing specials kept). */
  const encodeText = (text: string) => {
    const tok = needTok();
    const lay = tok.layout;
    const e = tok.encode(text);
    const room = maxLen - lay.singleBefore.length - lay.singleAfter.length;
    const keep = Math.max(0, Math.min(e.ids.length, room));
    const ids = [...lay.singleBefore, ...e.ids.slice(0, keep), ...lay.singleAfter];
    const tokens = [
      ...lay.singleBefore.map((i) => tok.idToToken(i)),
      ...e.tokens.slice(0, keep),
      ...lay.singleAfter.map((i) => tok.idToToken(i)),
    ];
    const offsets: Array<[number, number]> = [
      ...lay.singleBefore.map((): [number, number] => [0, 0]),
      ...e.offsets.slice(0, keep),
      ...lay.singleAfter.map((): [number, number] => [0, 0]),
    ];
    const special = ids.map((_, i) => i < lay.singleBefore.length || i >= lay.singleBefore.length + keep);
    return { ids, tokens, offsets: offsets as Array<[number, number]> | null, special };
  };

  /** A text, or token ids as given ({ inputIds }: no special tokens added, no offsets). */
  const encodeOne = (input: unknown, where: string) => {
    const given = idsInput(input, vocab, model.maxLength);
    if (given === null) return encodeText(text(input, where));
    return { ids: given, tokens: given.map(tokenOf), offsets: null, special: given.map((id) => specialIds.has(id)) };
  };

  const text = (x: unknown, where: string): string => {
    if (typeof x !== "string") throw new AttentionArgumentError(where, x, "a string");
    return x;
  };

  const one = async (input: unknown, second: unknown, o: CallOptions): Promise<unknown> => {
    switch (task) {
      case "feature-extraction": {
        const e = encodeOne(input, "input");
        const out = await model.forward(single(e.ids), run);
        // an embedding model's own pooling (sentence-transformers' modules.json) unless the call says otherwise
        const st = model.sentencePooling ?? null;
        const pooling = o.pooling ?? st?.mode ?? "none";
        if (!["none", "mean", "cls"].includes(pooling)) {
          throw new AttentionArgumentError("options.pooling", pooling, `"none", "mean" or "cls"`);
        }
        const normalize = o.normalize ?? (o.pooling === undefined ? (st?.normalize ?? false) : false);
        return pool(out.lastHiddenState.data, out.lastHiddenState.shape, null, pooling, normalize === true);
      }
      case "fill-mask": {
        const topK = checkInt("options.topK", o.topK ?? 5, 1);
        const e = encodeOne(input, "input");
        const byIds = e.offsets === null;
        const fromTok = tokOrNull === null ? null : tokOrNull.idOf("<mask>", "[MASK]");
        const maskId = byIds ? maskIdOf(o.maskTokenId, fromTok, model.config.raw) : fromTok;
        const at = e.ids.flatMap((id, i) => (id === maskId ? [i] : []));
        if (maskId === null || at.length === 0) {
          throw new AttentionArgumentError(
            byIds ? "input.inputIds" : "input",
            byIds ? e.ids : input,
            byIds
              ? `ids holding the mask token's id ${maskId}`
              : `a text holding the mask token ${maskId === null ? "" : `"${tokenOf(maskId)}"`}`,
          );
        }
        const inputs = single(e.ids);
        const logits =
          model.maskedLogitsAt !== undefined
            ? await model.maskedLogitsAt(inputs, at, run)
            : pick((await model.forward(inputs, run)).logits?.data as Float32Array, at, e.ids.length);
        const V = logits.length / at.length;
        const padRaw = model.config.raw.pad_token_id;
        const padId =
          tokOrNull !== null ? tokOrNull.idOf("<pad>", "[PAD]") : typeof padRaw === "number" ? padRaw : null;
        const rows = at.map((pos, m) => {
          const probs = softmax(logits, m * V, V);
          return topKIndices(probs, topK).map((p): FillMaskResult => {
            const filled = e.ids.map((id, i) => (i === pos ? p : id)).filter((id) => id !== padId);
            return {
              score: probs[p],
              token: p,
              token_str: decode([p], false),
              sequence: decode(filled, at.length === 1),
            };
          });
        });
        return at.length === 1 ? rows[0] : rows;
      }
      case "text-classification":
      case "sentiment-analysis": {
        let ids: number[];
        if (input !== null && typeof input === "object" && "text" in input) {
          const tok = needTok();
          const lay = tok.layout;
          const pair = input as { text: unknown; textPair?: unknown };
          const a = tok.encode(text(pair.text, "input.text")).ids;
          const b = pair.textPair === undefined ? null : tok.encode(text(pair.textPair, "input.textPair")).ids;
          ids =
            b === null
              ? [...lay.singleBefore, ...a, ...lay.singleAfter]
              : [...lay.pairBefore, ...a, ...lay.pairMiddle, ...b, ...lay.pairAfter];
          if (ids.length > maxLen) ids = [...ids.slice(0, maxLen - 1), ids[ids.length - 1]];
        } else ids = encodeOne(input, "input").ids;
        const out = await model.forward(single(ids), run);
        const logits = out.logits?.data as Float32Array;
        const fn = o.functionToApply;
        if (fn !== undefined && !["softmax", "sigmoid", "none"].includes(fn)) {
          throw new AttentionArgumentError("options.functionToApply", fn, `"softmax", "sigmoid" or "none"`);
        }
        const topK = o.topK === undefined || o.topK === null ? o.topK : checkInt("options.topK", o.topK, 1);
        const pt = model.config.raw.problem_type;
        return classify(
          logits,
          { problemType: typeof pt === "string" ? pt : null, numLabels: logits.length, id2label },
          fn,
          topK,
        );
      }
      case "token-classification":
      case "ner": {
        const given = idsInput(input, vocab, model.maxLength);
        const s = given === null ? text(input, "input") : "";
        const strategy = o.aggregationStrategy ?? "none";
        if (!["none", "simple", "first", "average", "max"].includes(strategy)) {
          throw new AttentionArgumentError(
            "options.aggregationStrategy",
            strategy,
            `"none", "simple", "first", "average" or "max"`,
          );
        }
        if (given !== null && strategy !== "none") {
          throw new AttentionArgumentError(
            "options.aggregationStrategy",
            strategy,
            `"none" for token-id input (grouping tokens into words needs the text)`,
          );
        }
        const e = encodeOne(input, "input");
        const out = await model.forward(single(e.ids), run);
        const logits = out.logits as { data: Float32Array; shape: number[] };
        const unk = tokOrNull?.idOf("<unk>", "[UNK]") ?? null;
        const pre = preEntities(
          s,
          logits.data,
          logits.shape[2],
          e.tokens,
          e.offsets,
          e.special,
          tokOrNull?.subwordPrefix ?? null,
          unk === null ? null : tokenOf(unk),
        );
        return aggregateEntities(pre, strategy, id2label, (t) => needTok().tokensToString(t), o.ignoreLabels ?? ["O"]);
      }
      case "question-answering": {
        let question: unknown = input;
        let context: unknown = second;
        if (input !== null && typeof input === "object" && "question" in input) {
          ({ question, context } = input as { question: unknown; context: unknown });
        }
        const q = text(question, "question");
        const c = text(context, "context");
        const maxSeqLen = checkInt("options.maxSeqLen", o.maxSeqLen ?? maxLen, 8, maxLen);
        const qo = {
          maxSeqLen,
          docStride: checkInt("options.docStride", o.docStride ?? Math.min(Math.floor(maxSeqLen / 2), 128), 1),
          maxQuestionLen: checkInt("options.maxQuestionLen", o.maxQuestionLen ?? 64, 1),
          topK: checkInt("options.topK", o.topK ?? 1, 1),
          maxAnswerLen: checkInt("options.maxAnswerLen", o.maxAnswerLen ?? 15, 1),
          handleImpossibleAnswer: o.handleImpossibleAnswer === true,
          hfSlowAlignment: o.hfSlowAlignment === true,
        };
        const words = contextWords(c);
        const feats = qaFeatures(needTok(), q, c, words, qo);
        const logits: Array<{ start: Float32Array; end: Float32Array }> = [];
        for (const f of feats) {
          const out = await model.forward(single(f.ids), run);
          logits.push({ start: out.startLogits?.data as Float32Array, end: out.endLogits?.data as Float32Array });
        }
        const answers = qaAnswers(feats, logits, c, words, qo);
        return qo.topK === 1 && answers.length === 1 ? answers[0] : answers;
      }
    }
  };

  const pipe = (async (input: unknown, contextOrOptions?: unknown, maybeOptions?: CallOptions) => {
    const qa = task === "question-answering";
    const second = qa ? contextOrOptions : undefined;
    const callOptions = (qa ? maybeOptions : (contextOrOptions as CallOptions | undefined)) ?? {};
    if (callOptions === null || typeof callOptions !== "object") {
      throw new AttentionArgumentError("options", callOptions, "an options object");
    }
    const o = { ...defaults, ...callOptions };
    if (Array.isArray(input)) {
      const results: unknown[] = [];
      for (let i = 0; i < input.length; i++) {
        results.push(await one(input[i], Array.isArray(second) ? second[i] : second, o));
      }
      return results;
    }
    return one(input, second, o);
  }) as Pipeline;
  Object.defineProperties(pipe, {
    task: { value: task, enumerable: true },
    model: { value: model, enumerable: true },
    tokenizer: { value: tokOrNull, enumerable: true },
    stream: {
      value: (source: AsyncIterable<StreamItem> | Iterable<StreamItem>, o?: StreamOptions<CallOptions>) =>
        streamPipeline(pipe, source, o),
      enumerable: true,
    },
  });
  return pipe;
}
