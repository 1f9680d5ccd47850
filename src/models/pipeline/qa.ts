/**
 * Question answering over a context of any length, as HF's QuestionAnsweringPipeline
 * (v4.40.2) on its word-based path (squad_convert_examples_to_features, the path HF takes for
 * the shared checkpoints' tokenizer): the context is split into whitespace words, each word
 * tokenized on its own (with a leading space for byte-level BPE without add_prefix_space, as
 * HF does for RoBERTa / Longformer / BART), the question truncated to maxQuestionLen tokens;
 * windows of the context tokens start every docStride tokens and hold up to
 * maxSeqLen − question − special tokens. Answers are whole words.
 * Our default maxSeqLen is the model's own maximum length: a context that fits is ONE forward.
 */
import { AttentionArgumentError } from "../../errors.js";
import { scoreSpans } from "./postprocess.js";
import type { TextTokenizer } from "./text.js";

export interface QaOptions {
  topK?: number;
  maxAnswerLen?: number;
  handleImpossibleAnswer?: boolean;
  maxSeqLen?: number;
  docStride?: number;
  maxQuestionLen?: number;
  /**
   * Reproduce HF 4.40's word-based (slow-tokenizer) path exactly, including its token → word
   * map, which for tokenizers outside its multi-separator list (Longformer's) is one token late:
   * the answer then starts and ends one token further than the best span's tokens. Default false
   * (the words of the tokens scored); scores are the same either way.
   */
  hfSlowAlignment?: boolean;
}

export interface QaAnswer {
  score: number;
  /** Character offsets of the answer in the context: context.slice(start, end) === answer. */
  start: number;
  end: number;
  answer: string;
}

export interface QaFeature {
  ids: number[];
  /** Where the context tokens start, and where HF's word-based path believes they start. */
  contextStart: number;
  hfContextStart: number;
  /** Per position: the context word it belongs to, or -1 (question, special tokens). */
  word: Int32Array;
}

/** HF SquadExample: whitespace words and where each starts / ends in the context. */
export function contextWords(context: string): { starts: number[]; ends: number[] } {
  const starts: number[] = [];
  const ends: number[] = [];
  let inWord = false;
  for (let i = 0; i < context.length; i++) {
    const c = context[i];
    const ws = c === " " || c === "\t" || c === "\r" || c === "\n" || c.charCodeAt(0) === 0x202f;
    if (ws) {
      if (inWord) ends.push(i);
      inWord = false;
    } else if (!inWord) {
      starts.push(i);
      inWord = true;
    }
  }
  if (inWord) ends.push(context.length);
  return { starts, ends };
}

/** The windows (features) of one question/context pair. */
export function qaFeatures(
  tok: TextTokenizer,
  question: string,
  context: string,
  words: { starts: number[]; ends: number[] },
  o: Required<Pick<QaOptions, "maxSeqLen" | "docStride" | "maxQuestionLen">>,
): QaFeature[] {
  const q = tok.encode(question).ids.slice(0, o.maxQuestionLen);
  const prefix = tok.byteLevel && !tok.addPrefixSpace ? " " : "";
  const docIds: number[] = [];
  const docWord: number[] = [];
  for (let w = 0; w < words.starts.length; w++) {
    const ids = tok.encode(prefix + context.slice(words.starts[w], words.ends[w])).ids;
    for (const id of ids) {
      docIds.push(id);
      docWord.push(w);
    }
  }
  const lay = tok.layout;
  const added = lay.pairBefore.length + lay.pairMiddle.length + lay.pairAfter.length;
  const capacity = o.maxSeqLen - q.length - added;
  if (capacity < 1) {
    throw new AttentionArgumentError(
      "options.maxSeqLen",
      o.maxSeqLen,
      `more than the question's ${q.length} tokens + ${added} special tokens`,
    );
  }
  if (o.docStride > capacity) {
    throw new AttentionArgumentError(
      "options.docStride",
      o.docStride,
      `at most ${capacity}, the context tokens per window (maxSeqLen ${o.maxSeqLen} − question ${q.length} − ${added} special tokens); a larger step would skip context`,
    );
  }
  const feats: QaFeature[] = [];
  const n = docIds.length;
  for (let start = 0; feats.length === 0 || start < n; start += o.docStride) {
    const len = Math.min(n - start, capacity);
    const ids = [...lay.pairBefore, ...q, ...lay.pairMiddle, ...docIds.slice(start, start + len), ...lay.pairAfter];
    const word = new Int32Array(ids.length).fill(-1);
    const c0 = lay.pairBefore.length + q.length + lay.pairMiddle.length;
    for (let k = 0; k < len; k++) word[c0 + k] = docWord[start + k];
    // HF squad features: query + sequence_added_tokens (2, + 1 for roberta / camembert / bart / mpnet tokenizers)
    const cls = String(tok.tokenizerClass ?? "");
    const multiSep = /^(Roberta|Camembert|Bart|MPNet)Tokenizer/i.test(cls);
    const hf0 = q.length + lay.singleBefore.length + lay.singleAfter.length + (multiSep ? 1 : 0);
    feats.push({ ids, word, contextStart: c0, hfContextStart: hf0 });
    if (start + capacity >= n) break; // HF: no overflowing tokens left
  }
  return feats;
}

/** Answers from each feature's start/end logits (HF postprocess on the word-based path). */
export function qaAnswers(
  feats: QaFeature[],
  logits: Array<{ start: Float32Array; end: Float32Array }>,
  context: string,
  words: { starts: number[]; ends: number[] },
  o: Required<Pick<QaOptions, "topK" | "maxAnswerLen" | "handleImpossibleAnswer" | "hfSlowAlignment">>,
): QaAnswer[] {
  const answers: QaAnswer[] = [];
  let minNull = 1e6;
  feats.forEach((f, i) => {
    const answerable = Array.from(f.word, (w) => w >= 0);
    const { spans, nullScore } = scoreSpans(logits[i].start, logits[i].end, answerable, o.topK, o.maxAnswerLen);
    if (o.handleImpossibleAnswer) minNull = Math.min(minNull, nullScore);
    const shift = o.hfSlowAlignment ? f.contextStart - f.hfContextStart : 0;
    const last = f.word.length - 2; // the last context token (before the closing special tokens)
    const wordAt = (p: number) => {
      let q = Math.min(p + shift, last);
      while (q > 0 && f.word[q] < 0) q--; // past the context: its last token
      return f.word[q];
    };
    for (const s of spans) {
      const start = words.starts[wordAt(s.start)];
      const end = words.ends[wordAt(s.end)];
      answers.push({ score: s.score, start, end, answer: context.slice(start, end) });
    }
  });
  if (o.handleImpossibleAnswer) answers.push({ score: minNull, start: 0, end: 0, answer: "" });
  answers.sort((a, b) => b.score - a.score);
  return answers.slice(0, o.topK);
}
