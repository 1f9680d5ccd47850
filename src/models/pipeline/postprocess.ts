/**
 * The pipelines' post-processing as pure functions over logits (HF transformers v4.40.2
 * semantics, src/transformers/pipelines/*.py): softmax / sigmoid, fill-mask top-k,
 * text-classification's function_to_apply and top_k, token-classification's aggregation
 * strategies, question answering's span scoring, and feature-extraction pooling. Scores are
 * computed in float64 from float32 logits.
 */

export type ClassificationFunction = "softmax" | "sigmoid" | "none";
export type AggregationStrategy = "none" | "simple" | "first" | "average" | "max";

/** Numerically stable softmax of row [o, o + n) of `x` into a new Float64Array. */
export function softmax(x: ArrayLike<number>, o = 0, n = x.length - o): Float64Array {
  let max = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < n; i++) if (x[o + i] > max) max = x[o + i];
  const out = new Float64Array(n);
  let sum = 0;
  for (let i = 0; i < n; i++) {
    out[i] = Math.exp(x[o + i] - max);
    sum += out[i];
  }
  for (let i = 0; i < n; i++) out[i] /= sum;
  return out;
}

export function sigmoid(x: ArrayLike<number>): Float64Array {
  const out = new Float64Array(x.length);
  for (let i = 0; i < x.length; i++) out[i] = 1 / (1 + Math.exp(-x[i]));
  return out;
}

/** Indices of the k largest values, largest first (ties: lower index first). */
export function topKIndices(x: ArrayLike<number>, k: number): number[] {
  const idx = Array.from({ length: x.length }, (_, i) => i);
  idx.sort((a, b) => x[b] - x[a] || a - b);
  return idx.slice(0, Math.max(0, Math.min(k, x.length)));
}

// ---- text classification -------------------------------------------------------------

export interface ClassificationConfig {
  problemType?: string | null;
  numLabels: number;
  id2label: (i: number) => string;
}

/** HF's default function_to_apply: sigmoid for multi-label or one label, softmax otherwise. */
export function defaultFunction(c: ClassificationConfig): ClassificationFunction {
  if (c.problemType === "multi_label_classification" || c.numLabels === 1) return "sigmoid";
  return "softmax";
}

export interface LabelScore {
  label: string;
  score: number;
}

/**
 * HF TextClassificationPipeline.postprocess on one row of logits. topK undefined (HF's
 * default): the best { label, score }; null: every label sorted by score; n: the n best, sorted.
 */
export function classify(
  logits: ArrayLike<number>,
  c: ClassificationConfig,
  fn: ClassificationFunction | undefined,
  topK: number | null | undefined,
): LabelScore | LabelScore[] {
  const f = fn ?? defaultFunction(c);
  const scores = f === "softmax" ? softmax(logits) : f === "sigmoid" ? sigmoid(logits) : Float64Array.from(logits);
  if (topK === undefined) {
    const best = topKIndices(scores, 1)[0];
    return { label: c.id2label(best), score: scores[best] };
  }
  const all = Array.from(scores, (score, i) => ({ label: c.id2label(i), score }));
  all.sort((a, b) => b.score - a.score);
  return topK === null ? all : all.slice(0, topK);
}

// ---- token classification ------------------------------------------------------------

export interface PreEntity {
  /** The raw token string (HF: convert_ids_to_tokens). */
  word: string;
  /** Probabilities over labels. */
  scores: Float64Array;
  start: number | null;
  end: number | null;
  /** Token position in the model's input (special tokens counted). */
  index: number;
  isSubword: boolean;
}

export interface TokenEntity {
  entity: string;
  score: number;
  index: number;
  word: string;
  start: number | null;
  end: number | null;
}

export interface EntityGroup {
  entity_group: string;
  score: number;
  word: string;
  start: number | null;
  end: number | null;
}

/**
 * HF gather_pre_entities: one entry per non-special token with softmax scores. `subwordPrefix`
 * non-null (WordPiece "##"): a token is a subword when its string is longer than its text;
 * otherwise (byte-level BPE) HF's heuristic: it starts after a non-space character.
 */
export function preEntities(
  text: string,
  logits: Float32Array,
  numLabels: number,
  tokens: string[],
  offsets: Array<[number, number]> | null,
  special: boolean[],
  subwordPrefix: string | null,
  unkToken: string | null,
): PreEntity[] {
  const out: PreEntity[] = [];
  for (let i = 0; i < tokens.length; i++) {
    if (special[i]) continue;
    const scores = softmax(logits, i * numLabels, numLabels); // logits: [L, numLabels]
    let word = tokens[i];
    let start: number | null = null;
    let end: number | null = null;
    let isSubword = false;
    if (offsets !== null) {
      [start, end] = offsets[i];
      const ref = text.slice(start, end);
      if (subwordPrefix !== null) isSubword = word.length !== ref.length;
      else isSubword = start > 0 && !text.slice(start - 1, start + 1).includes(" ");
      if (unkToken !== null && word === unkToken) {
        word = ref;
        isSubword = false;
      }
    }
    out.push({ word, scores, start, end, index: i, isSubword });
  }
  return out;
}

function argmax(x: ArrayLike<number>): number {
  let b = 0;
  for (let i = 1; i < x.length; i++) if (x[i] > x[b]) b = i;
  return b;
}

function tagOf(name: string): [string, string] {
  if (name.startsWith("B-")) return ["B", name.slice(2)];
  if (name.startsWith("I-")) return ["I", name.slice(2)];
  return ["I", name];
}

/**
 * HF aggregate + group_entities + the ignore_labels filter. `join` is the tokenizer's
 * convert_tokens_to_string.
 */
export function aggregateEntities(
  pre: PreEntity[],
  strategy: AggregationStrategy,
  id2label: (i: number) => string,
  join: (tokens: string[]) => string,
  ignoreLabels: readonly string[] = ["O"],
): TokenEntity[] | EntityGroup[] {
  let entities: Array<TokenEntity | Omit<TokenEntity, "index">>;
  if (strategy === "none" || strategy === "simple") {
    entities = pre.map((p) => {
      const k = argmax(p.scores);
      return { entity: id2label(k), score: p.scores[k], index: p.index, word: p.word, start: p.start, end: p.end };
    });
  } else {
    entities = [];
    let group: PreEntity[] = [];
    const flush = () => {
      if (group.length > 0) entities.push(aggregateWord(group, strategy, id2label, join));
    };
    for (const p of pre) {
      if (group.length > 0 && p.isSubword) group.push(p);
      else {
        flush();
        group = [p];
      }
    }
    flush();
  }
  if (strategy === "none") return (entities as TokenEntity[]).filter((e) => !ignoreLabels.includes(e.entity));
  const groups: EntityGroup[] = [];
  let run: Array<Omit<TokenEntity, "index">> = [];
  const close = () => {
    if (run.length === 0) return;
    let s = 0;
    for (const e of run) s += e.score;
    groups.push({
      entity_group: run[0].entity.split("-").slice(1).join("-") || run[0].entity,
      score: s / run.length,
      word: join(run.map((e) => e.word)),
      start: run[0].start,
      end: run[run.length - 1].end,
    });
  };
  for (const e of entities) {
    if (run.length === 0) {
      run = [e];
      continue;
    }
    const [bi, tag] = tagOf(e.entity);
    const [, lastTag] = tagOf(run[run.length - 1].entity);
    if (tag === lastTag && bi !== "B") run.push(e);
    else {
      close();
      run = [e];
    }
  }
  close();
  return groups.filter((g) => !ignoreLabels.includes(g.entity_group));
}

function aggregateWord(
  group: PreEntity[],
  strategy: AggregationStrategy,
  id2label: (i: number) => string,
  join: (tokens: string[]) => string,
): Omit<TokenEntity, "index"> {
  let scores: ArrayLike<number>;
  if (strategy === "first") scores = group[0].scores;
  else if (strategy === "max") {
    let best = group[0];
    let bestMax = Math.max(...best.scores);
    for (const g of group) {
      const m = Math.max(...g.scores);
      if (m > bestMax) {
        best = g;
        bestMax = m;
      }
    }
    scores = best.scores;
  } else {
    const avg = new Float64Array(group[0].scores.length);
    for (const g of group) for (let i = 0; i < avg.length; i++) avg[i] += g.scores[i] / group.length;
    scores = avg;
  }
  const k = argmax(scores);
  return {
    entity: id2label(k),
    score: scores[k],
    word: join(group.map((g) => g.word)),
    start: group[0].start,
    end: group[group.length - 1].end,
  };
}

// ---- question answering --------------------------------------------------------------

export interface SpanCandidate {
  /** Token positions in the feature (inclusive). */
  start: number;
  end: number;
  score: number;
}

/**
 * HF select_starts_ends + decode_spans on one feature: logits of tokens that cannot answer
 * (`answerable[i]` false: question, special and padding tokens; the first token is kept in
 * the softmax and then zeroed, as HF) become -10000; softmax over the feature; the best topK
 * (start, end) with start <= end < start + maxAnswerLen by start·end probability, then those
 * whose both ends are answerable. Also returns the null score start[0]·end[0].
 */
export function scoreSpans(
  startLogits: ArrayLike<number>,
  endLogits: ArrayLike<number>,
  answerable: ArrayLike<boolean | number>,
  topK: number,
  maxAnswerLen: number,
): { spans: SpanCandidate[]; nullScore: number } {
  const n = startLogits.length;
  const s0 = new Float64Array(n);
  const e0 = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const ok = i === 0 || Boolean(answerable[i]); // HF: p_mask[cls] = 0
    s0[i] = ok ? startLogits[i] : -10000;
    e0[i] = ok ? endLogits[i] : -10000;
  }
  const sp = softmax(s0);
  const ep = softmax(e0);
  const nullScore = sp[0] * ep[0];
  sp[0] = 0;
  ep[0] = 0;
  // the band start <= end <= start + maxAnswerLen - 1, best first (HF's flattened order on ties)
  const cands: SpanCandidate[] = [];
  const keep = Math.max(1, topK);
  for (let s = 0; s < n; s++) {
    const hi = Math.min(n - 1, s + maxAnswerLen - 1);
    for (let e = s; e <= hi; e++) {
      const score = sp[s] * ep[e];
      if (cands.length === keep && score <= cands[keep - 1].score) continue;
      let at = cands.length;
      while (at > 0 && cands[at - 1].score < score) at--;
      cands.splice(at, 0, { start: s, end: e, score });
      if (cands.length > keep) cands.pop();
    }
  }
  const spans = cands.filter((c) => c.start > 0 && Boolean(answerable[c.start]) && Boolean(answerable[c.end]));
  return { spans, nullScore };
}

// ---- feature extraction --------------------------------------------------------------

export type Pooling = "none" | "mean" | "cls";

/**
 * Pools hidden states [B, L, h] (mean over real tokens by `mask` [B, L], or token 0) and
 * optionally L2-normalises each vector (the last axis).
 */
export function pool(
  hidden: Float32Array,
  shape: readonly number[],
  mask: ArrayLike<number> | null,
  pooling: Pooling,
  normalize: boolean,
): { data: Float32Array; shape: number[] } {
  const [B, L, h] = shape;
  let data: Float32Array;
  let outShape: number[];
  if (pooling === "none") {
    data = hidden.slice();
    outShape = [B, L, h];
  } else if (pooling === "cls") {
    data = new Float32Array(B * h);
    for (let b = 0; b < B; b++) data.set(hidden.subarray(b * L * h, b * L * h + h), b * h); // [B, L, h] token 0
    outShape = [B, h];
  } else {
    data = new Float32Array(B * h);
    const acc = new Float64Array(h);
    for (let b = 0; b < B; b++) {
      acc.fill(0);
      let count = 0;
      for (let i = 0; i < L; i++) {
        if (mask !== null && !mask[b * L + i]) continue;
        count++;
        const o = (b * L + i) * h; // [B, L, h]
        for (let d = 0; d < h; d++) acc[d] += hidden[o + d];
      }
      for (let d = 0; d < h; d++) data[b * h + d] = count === 0 ? 0 : acc[d] / count;
    }
    outShape = [B, h];
  }
  if (normalize) {
    for (let o = 0; o < data.length; o += h) {
      let sq = 0;
      for (let d = 0; d < h; d++) sq += data[o + d] * data[o + d];
      const inv = 1 / Math.max(Math.sqrt(sq), 1e-12); // torch.nn.functional.normalize's eps
      for (let d = 0; d < h; d++) data[o + d] *= inv;
    }
  }
  return { data, shape: outShape };
}
