/**
 * Corpus jobs without files: documents from any (async) iterable, batched by similar length,
 * each batch handed to one function, results yielded per batch. `pipeline.stream` and the CLI's
 * `run --input/--output` (src/cli/corpus.ts, which adds the JSONL files, resume and the progress
 * bar) are built on this. Nothing here touches Node's modules, so it runs in browsers too.
 *
 * Batching: up to `window` documents are read ahead, sorted by length (stable: ties keep their
 * input order) and cut into batches of `batchSize`; so a batch holds documents of similar
 * length and results come back per batch, not in input order (each carries its id and index).
 */
import { AttentionArgumentError, checkInt, describe } from "../errors.js";

/** One document of a corpus: a stable id (what resume matches on) and the task's input. */
export interface CorpusDoc<I = unknown> {
  id: string | number;
  /** Position in the input (0-based, counting skipped documents too). */
  index: number;
  input: I;
  /** Tokens (or any length measure) used to group documents of similar length. */
  length: number;
}

export interface CorpusResult<R = unknown> {
  id: string | number;
  index: number;
  result: R;
}

export interface BatchOptions {
  /** Documents per call of the batch function (default 8). */
  batchSize?: number;
  /** Documents read ahead and sorted by length before they are cut into batches (default 16 × batchSize). */
  window?: number;
}

export interface Batch<I, R> {
  docs: CorpusDoc<I>[];
  results: CorpusResult<R>[];
  /** Sum of the documents' lengths (tokens). */
  tokens: number;
  /** Wall-clock milliseconds the batch function took. */
  ms: number;
}

function checkBatchOptions(o: BatchOptions): { batchSize: number; window: number } {
  const batchSize = checkInt("options.batchSize", o.batchSize ?? 8, 1, 1 << 20);
  const window = checkInt("options.window", o.window ?? 16 * batchSize, 1, 1 << 24);
  if (window < batchSize) {
    throw new AttentionArgumentError("options.window", window, `an integer >= batchSize (${batchSize})`);
  }
  return { batchSize, window };
}

/** Cuts the read-ahead window, sorted by length, into batches (sort is stable). */
function cut<I>(pending: CorpusDoc<I>[], batchSize: number): CorpusDoc<I>[][] {
  const sorted = pending.slice().sort((a, b) => a.length - b.length);
  const out: CorpusDoc<I>[][] = [];
  for (let i = 0; i < sorted.length; i += batchSize) out.push(sorted.slice(i, i + batchSize));
  return out;
}

/**
 * Runs `process` on batches of similar length and yields each batch with its results. The
 * function must return one result per document, in the batch's order.
 */
export async function* runBatches<I, R>(
  docs: AsyncIterable<CorpusDoc<I>> | Iterable<CorpusDoc<I>>,
  process: (batch: CorpusDoc<I>[]) => Promise<R[]>,
  options: BatchOptions = {},
): AsyncGenerator<Batch<I, R>> {
  const { batchSize, window } = checkBatchOptions(options);
  let pending: CorpusDoc<I>[] = [];
  const flush = async function* (): AsyncGenerator<Batch<I, R>> {
    const batches = cut(pending, batchSize);
    pending = [];
    for (const batch of batches) {
      const t0 = performance.now();
      const results = await process(batch);
      const ms = performance.now() - t0;
      if (!Array.isArray(results) || results.length !== batch.length) {
        throw new AttentionArgumentError(
          "the batch function's result",
          describe(results),
          `an array of ${batch.length} results, one per document of the batch`,
        );
      }
      yield {
        docs: batch,
        results: batch.map((d, i) => ({ id: d.id, index: d.index, result: results[i] })),
        tokens: batch.reduce((a, d) => a + d.length, 0),
        ms,
      };
    }
  };
  for await (const doc of docs) {
    pending.push(doc);
    if (pending.length >= window) yield* flush();
  }
  if (pending.length > 0) yield* flush();
}

/** What `pipeline.stream` accepts per item: a text, a { question, context } pair, or either with an id. */
export type StreamItem = string | { id?: string | number; text?: string; question?: string; context?: string };

export interface StreamOptions<C = unknown> extends BatchOptions {
  /** The pipeline's call options for every document. */
  callOptions?: C;
  /** Ids to skip (already done, e.g. read back from a previous run's output). */
  skip?: ReadonlySet<string | number>;
}

/** The surface of a pipeline that streaming needs (pipeline() returns one). */
export interface StreamablePipeline {
  // biome-ignore lint/suspicious/noExplicitAny: the options and the result type depend on the task
  (input: unknown, contextOrOptions?: any, options?: any): Promise<any>;
  readonly task: string;
  /** null for a model without tokenizer.json: a corpus of texts cannot run on it. */
  readonly tokenizer: { encode(text: string): { ids: ArrayLike<number> } } | null;
  /** Tokens per row at most: a longer text is truncated (except by question answering, which slides windows). */
  readonly model?: { readonly maxLength: number };
}

/** An item as a document: its id (the item's, else its index) and its token count. */
export function toDoc(
  pipe: StreamablePipeline,
  item: StreamItem,
  index: number,
  where = `item ${index}`,
): CorpusDoc<StreamItem> {
  const qa = pipe.task === "question-answering";
  const obj = typeof item === "string" ? { text: item } : item;
  if (obj === null || typeof obj !== "object" || Array.isArray(obj)) {
    throw new AttentionArgumentError(
      where,
      item,
      qa ? "{ question, context } (and an optional id)" : "a string or { text, id? }",
    );
  }
  const id = obj.id ?? index;
  if (!(typeof id === "string" || (typeof id === "number" && Number.isFinite(id)))) {
    throw new AttentionArgumentError(`${where} "id"`, id, "a string or a finite number");
  }
  const fields = qa ? (["question", "context"] as const) : (["text"] as const);
  let length = 0;
  for (const f of fields) {
    const v = obj[f];
    if (typeof v !== "string") {
      throw new AttentionArgumentError(`${where} "${f}"`, v, `a string (${pipe.task} reads ${fields.join(" and ")})`);
    }
    if (pipe.tokenizer === null) {
      throw new AttentionArgumentError(
        `${where} "${f}"`,
        v,
        "a model with tokenizer.json beside its weights: a corpus of texts needs a tokenizer (this model has none)",
      );
    }
    length += pipe.tokenizer.encode(v).ids.length;
  }
  // the tokens the model will read: a single text is truncated to the model's length (specials included)
  if (!qa && pipe.model !== undefined) length = Math.min(length, pipe.model.maxLength);
  return { id, index, input: obj, length };
}

/** The batch function of a pipeline: its documents one after another, with the call options. */
export function pipelineBatch<C>(pipe: StreamablePipeline, callOptions?: C) {
  return async (batch: CorpusDoc<StreamItem>[]): Promise<unknown[]> => {
    const out: unknown[] = [];
    for (const d of batch) {
      const x = d.input as { text?: string; question?: string; context?: string };
      out.push(
        pipe.task === "question-answering"
          ? await pipe(x.question, x.context, callOptions ?? {})
          : await pipe(x.text, callOptions ?? {}),
      );
    }
    return out;
  };
}

/**
 * `pipeline.stream(source, options)`: results of a whole corpus as an async iterable of
 * `{ id, index, result }`, batch by batch (documents of similar length together; see above).
 */
export async function* streamPipeline<C>(
  pipe: StreamablePipeline,
  source: AsyncIterable<StreamItem> | Iterable<StreamItem>,
  options: StreamOptions<C> = {},
): AsyncGenerator<CorpusResult> {
  if (source === null || typeof source !== "object" || !(Symbol.asyncIterator in source || Symbol.iterator in source)) {
    throw new AttentionArgumentError("pipeline.stream(source)", source, "an iterable or async iterable of inputs");
  }
  const skip = options.skip;
  async function* docs(): AsyncGenerator<CorpusDoc<StreamItem>> {
    const seen = new Set<string | number>();
    let index = 0;
    for await (const item of source) {
      const doc = toDoc(pipe, item, index);
      index++;
      if (seen.has(doc.id)) {
        throw new AttentionArgumentError(`item ${doc.index}.id`, doc.id, "an id no earlier item has");
      }
      seen.add(doc.id);
      if (skip?.has(doc.id)) continue;
      yield doc;
    }
  }
  for await (const batch of runBatches(docs(), pipelineBatch(pipe, options.callOptions), options)) {
    yield* batch.results;
  }
}
