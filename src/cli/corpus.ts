/**
 * Corpus jobs on files: `sparse-attention run <task> --model M --input docs.jsonl --output
 * results.jsonl`. One JSON object per input line (`{"id": …, "text": …}`, or `question` and
 * `context`; without an id, the line number is the id); one `{"id": …, "result": …}` line per
 * document out. Crash-safe by construction:
 *  - each batch's lines are written with one write() and flushed to disk (fdatasync) before the
 *    next batch starts, so a kill loses at most the batch in flight;
 *  - a rerun reads the output back first: every complete line must be a result line (else the
 *    job refuses to append and says which line), a torn last line (no newline: the process died
 *    mid-write) is cut off, and the ids found are skipped;
 *  - Ctrl-C stops after the batch in flight is written.
 * The batching (documents of similar length together) is src/models/corpus.ts.
 */
import {
  closeSync,
  createReadStream,
  existsSync,
  fdatasyncSync,
  ftruncateSync,
  openSync,
  readSync,
  statSync,
  writeSync,
} from "node:fs";
import { createInterface } from "node:readline";
import cliProgress from "cli-progress";
import { type BatchOptions, type CorpusDoc, runBatches } from "../models/corpus.js";
import { UsageError } from "./commands.js";

export interface CorpusJob<I> {
  input: string;
  output: string;
  /** A parsed input line → the document (throw to refuse the line; `where` names it). */
  makeDoc(obj: Record<string, unknown>, id: string | number, lineNo: number, where: string): CorpusDoc<I>;
  process(batch: CorpusDoc<I>[]): Promise<unknown[]>;
  batch?: BatchOptions;
  /** Show the progress bar (stderr, TTY only; default true). */
  progress?: boolean;
  log?: (s: string) => void;
  /** Set to true to stop after the batch in flight (the CLI sets it on SIGINT). */
  signal?: { stop: boolean };
}

export interface CorpusSummary {
  /** Documents in the input. */
  total: number;
  /** Skipped: already in the output. */
  skipped: number;
  /** Processed by this run. */
  done: number;
  tokens: number;
  seconds: number;
  /** Bytes of a torn last line cut from the output before appending. */
  truncated: number;
  interrupted: boolean;
}

/** Result lines as JSON: typed arrays become lists. */
export function resultLine(id: string | number, result: unknown): string {
  return JSON.stringify({ id, result }, (_k, v) => (ArrayBuffer.isView(v) ? Array.from(v as Float32Array) : v));
}

function isId(v: unknown): v is string | number {
  return typeof v === "string" || (typeof v === "number" && Number.isFinite(v));
}

/**
 * Reads an existing output back: the ids of its complete lines. A last line without its
 * newline is torn (the writer died mid-write) and is cut off; any other line that is not
 * `{"id": …, "result": …}` stops the job (never append to a file we do not understand).
 */
export function resumeOutput(path: string): { done: Set<string | number>; truncated: number } {
  const done = new Set<string | number>();
  if (!existsSync(path)) return { done, truncated: 0 };
  const fd = openSync(path, "r+");
  try {
    const size = statSync(path).size;
    const chunk = Buffer.alloc(1 << 20);
    let carry: Buffer = Buffer.alloc(0);
    let pos = 0; // bytes consumed
    let lineStart = 0; // byte offset of the line in `carry`'s first byte
    let lineNo = 0;
    while (pos < size) {
      const n = readSync(fd, chunk, 0, chunk.length, pos);
      if (n === 0) break;
      pos += n;
      let buf = carry.length ? Buffer.concat([carry, chunk.subarray(0, n)]) : chunk.subarray(0, n);
      let at = 0;
      for (let nl = buf.indexOf(10, at); nl >= 0; nl = buf.indexOf(10, at)) {
        lineNo++;
        const text = buf.toString("utf8", at, nl).trim();
        if (text !== "") {
          let obj: unknown;
          try {
            obj = JSON.parse(text);
          } catch {
            obj = undefined;
          }
          const id = (obj as { id?: unknown } | undefined)?.id;
          if (obj === null || typeof obj !== "object" || !isId(id) || !("result" in obj)) {
            throw new UsageError(
              `--output ${path}: line ${lineNo} is not a result line {"id": …, "result": …}; refusing to append to it (move the file away, or fix the line)`,
            );
          }
          done.add(id);
        }
        lineStart += nl + 1 - at;
        at = nl + 1;
      }
      buf = buf.subarray(at);
      carry = Buffer.from(buf);
    }
    const truncated = size - lineStart;
    if (truncated > 0) {
      ftruncateSync(fd, lineStart); // a torn last line: its document is done again
      fdatasyncSync(fd);
    }
    return { done, truncated };
  } finally {
    closeSync(fd);
  }
}

/** Non-empty lines of the input (one pass over its bytes; for the progress bar's total). */
function countLines(path: string): number {
  const fd = openSync(path, "r");
  try {
    const chunk = Buffer.alloc(1 << 20);
    let lines = 0;
    let nonEmpty = false;
    for (let pos = 0; ; ) {
      const n = readSync(fd, chunk, 0, chunk.length, pos);
      if (n === 0) break;
      pos += n;
      for (let i = 0; i < n; i++) {
        const c = chunk[i];
        if (c === 10) {
          if (nonEmpty) lines++;
          nonEmpty = false;
        } else if (c !== 13 && c !== 32 && c !== 9) nonEmpty = true;
      }
    }
    return lines + (nonEmpty ? 1 : 0);
  } finally {
    closeSync(fd);
  }
}

/** Documents of the input file, skipping `done` ids; a bad line is a UsageError naming it. */
async function* readDocs<I>(
  job: CorpusJob<I>,
  done: Set<string | number>,
  counts: { skipped: number },
): AsyncGenerator<CorpusDoc<I>> {
  const lines = createInterface({ input: createReadStream(job.input, "utf8"), crlfDelay: Number.POSITIVE_INFINITY });
  const seen = new Map<string | number, number>();
  let lineNo = 0;
  for await (const line of lines) {
    lineNo++;
    if (line.trim() === "") continue;
    const where = `--input ${job.input} line ${lineNo}`;
    let obj: unknown;
    try {
      obj = JSON.parse(line);
    } catch (e) {
      throw new UsageError(`${where}: not JSON (${(e as Error).message})`);
    }
    if (obj === null || typeof obj !== "object" || Array.isArray(obj)) {
      throw new UsageError(`${where}: expected a JSON object such as {"id": "doc-1", "text": "…"}`);
    }
    const rec = obj as Record<string, unknown>;
    const id = rec.id ?? lineNo;
    if (!isId(id)) throw new UsageError(`${where}: "id" is ${JSON.stringify(id)}; expected a string or a number`);
    const first = seen.get(id);
    if (first !== undefined) {
      throw new UsageError(`${where}: id ${JSON.stringify(id)} was already used on line ${first}; ids must be unique`);
    }
    seen.set(id, lineNo);
    if (done.has(id)) {
      counts.skipped++;
      continue;
    }
    yield job.makeDoc(rec, id, lineNo, where);
  }
}

/** Runs the job; resumes from the output if it exists. */
export async function runCorpusJob<I>(job: CorpusJob<I>): Promise<CorpusSummary> {
  if (!existsSync(job.input)) throw new UsageError(`--input ${job.input}: no such file`);
  const log = job.log ?? (() => undefined);
  const { done, truncated } = resumeOutput(job.output);
  if (truncated > 0) log(`${job.output}: cut a torn last line (${truncated} bytes) left by an interrupted run`);
  const total = countLines(job.input);
  const counts = { skipped: 0 };
  const showBar = (job.progress ?? true) && process.stderr.isTTY === true;
  const bar = showBar
    ? new cliProgress.SingleBar(
        {
          format: "{bar} {value}/{total} docs | {docs} docs/s | {tokens} tokens/s | ETA {eta_formatted}",
          stream: process.stderr,
          hideCursor: true,
          etaBuffer: 50,
        },
        cliProgress.Presets.shades_classic,
      )
    : null;
  bar?.start(total, done.size, { docs: "0.0", tokens: "0" });
  const fd = openSync(job.output, "a");
  const t0 = performance.now();
  let processed = 0;
  let tokens = 0;
  let interrupted = false;
  try {
    for await (const b of runBatches(readDocs(job, done, counts), (batch) => job.process(batch), job.batch)) {
      const text = `${b.results.map((r) => resultLine(r.id, r.result)).join("\n")}\n`;
      const bytes = Buffer.from(text, "utf8");
      // one write per batch (looped only if the OS takes part of it), then flushed to disk
      for (let off = 0; off < bytes.length; ) off += writeSync(fd, bytes, off, bytes.length - off);
      fdatasyncSync(fd);
      processed += b.docs.length;
      tokens += b.tokens;
      const s = (performance.now() - t0) / 1000;
      bar?.update(done.size + processed, { docs: (processed / s).toFixed(1), tokens: Math.round(tokens / s) });
      if (job.signal?.stop) {
        interrupted = true;
        break;
      }
    }
  } finally {
    bar?.stop();
    closeSync(fd);
  }
  const seconds = (performance.now() - t0) / 1000;
  return { total, skipped: counts.skipped, done: processed, tokens, seconds, truncated, interrupted };
}

/** The closing line: how much was done and how fast. */
export function summaryLine(s: CorpusSummary, output: string): string {
  const rate = (x: number) => (s.seconds > 0 ? x / s.seconds : 0);
  const skipped = s.skipped > 0 ? ` (${s.skipped} already in ${output}, skipped)` : "";
  const head = s.interrupted
    ? `interrupted after ${s.done} documents${skipped}; run the same command again to resume`
    : `${s.done} documents${skipped}`;
  return `${head}: ${s.tokens} tokens in ${s.seconds.toFixed(2)} s, ${rate(s.done).toFixed(2)} docs/s, ${Math.round(rate(s.tokens))} tokens/s → ${output}`;
}
