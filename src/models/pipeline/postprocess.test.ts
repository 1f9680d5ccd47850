/** The pipelines' pure post-processing against hand-computed HF semantics (v4.40.2). */
import { describe, expect, it } from "vitest";
import { aggregateEntities, classify, type PreEntity, pool, preEntities, scoreSpans, softmax } from "./postprocess.js";

const labels = ["O", "B-PER", "I-PER", "B-LOC", "I-LOC"];
const id2label = (i: number) => labels[i];
const join = (t: string[]) => t.join("").replace(/Ġ/g, " ");

function pre(word: string, label: number, p: number, index: number, isSubword = false): PreEntity {
  const scores = new Float64Array(5).fill((1 - p) / 4);
  scores[label] = p;
  return { word, scores, start: index * 2, end: index * 2 + 1, index, isSubword };
}

describe("softmax and classification", () => {
  it("softmax is stable at huge logits and sums to 1", () => {
    const p = softmax([1000, 1000, -1000]);
    expect(Array.from(p)).toEqual([0.5, 0.5, 0]);
  });

  it("HF's function_to_apply default: softmax for several labels, sigmoid for multi-label or one label", () => {
    const cfg = { numLabels: 3, id2label: (i: number) => ["a", "b", "c"][i] };
    expect(classify([0, 0, Math.log(2)], cfg, undefined, undefined)).toEqual({ label: "c", score: 0.5 });
    const multi = classify([0, 0, 0], { ...cfg, problemType: "multi_label_classification" }, undefined, null);
    expect(multi).toEqual([
      { label: "a", score: 0.5 },
      { label: "b", score: 0.5 },
      { label: "c", score: 0.5 },
    ]);
    const one = classify([0], { numLabels: 1, id2label: () => "LABEL_0" }, undefined, undefined);
    expect(one).toEqual({ label: "LABEL_0", score: 0.5 });
    expect(classify([3, 1, 2], cfg, "none", 2)).toEqual([
      { label: "a", score: 3 },
      { label: "c", score: 2 },
    ]);
  });
});

describe("token classification aggregation", () => {
  const ents = [
    pre("John", 1, 0.9, 1),
    pre("ĠSmith", 2, 0.8, 2),
    pre("Ġin", 0, 0.7, 3),
    pre("ĠBer", 3, 0.6, 4),
    pre("lin", 4, 0.5, 5, true),
  ];

  it("none: one entity per token, O filtered", () => {
    const out = aggregateEntities(ents, "none", id2label, join) as unknown as Array<{ entity: string; index: number }>;
    expect(out.map((e) => [e.entity, e.index])).toEqual([
      ["B-PER", 1],
      ["I-PER", 2],
      ["B-LOC", 4],
      ["I-LOC", 5],
    ]);
  });

  it("simple: B- starts a group, I- of the same type continues it; scores averaged; words joined", () => {
    const out = aggregateEntities(ents, "simple", id2label, join) as unknown as Array<Record<string, unknown>>;
    expect(out.map((g) => [g.entity_group, g.word, g.start, g.end])).toEqual([
      ["PER", "John Smith", 2, 5],
      ["LOC", " Berlin", 8, 11],
    ]);
    expect(out[0].score).toBeCloseTo((0.9 + 0.8) / 2, 12);
    // two B- of one type are two groups
    const twoB = aggregateEntities([pre("A", 1, 0.9, 1), pre("B", 1, 0.9, 2)], "simple", id2label, join);
    expect(twoB.length).toBe(2);
  });

  it("first / max / average decide a word's label from its tokens", () => {
    const word = [pre("ĠBer", 3, 0.6, 4), pre("lin", 0, 0.9, 5, true)];
    const first = aggregateEntities(word, "first", id2label, join, []) as unknown as Array<Record<string, unknown>>;
    expect(first.map((g) => [g.entity_group, g.word])).toEqual([["LOC", " Berlin"]]);
    const max = aggregateEntities(word, "max", id2label, join, []) as unknown as Array<Record<string, unknown>>;
    expect(max.map((g) => [g.entity_group, g.score])).toEqual([["O", 0.9]]);
    const avg = aggregateEntities(word, "average", id2label, join, []) as unknown as Array<Record<string, unknown>>;
    expect(avg[0].entity_group).toBe("O"); // O: (0.1 + 0.9) / 2 = 0.5 beats LOC (0.6 + 0.025) / 2
    expect(avg[0].score).toBeCloseTo(0.5, 12);
  });

  it("subwords: HF's heuristic without a subword prefix (no space before), the length rule with '##'", () => {
    const text = "New York";
    const logits = new Float32Array(3 * 5);
    const offsets: Array<[number, number]> = [
      [0, 3],
      [4, 6],
      [6, 8],
    ];
    const bpe = preEntities(text, logits, 5, ["New", "ĠYo", "rk"], offsets, [false, false, false], null, null);
    expect(bpe.map((p) => p.isSubword)).toEqual([false, false, true]);
    const wp = preEntities(text, logits, 5, ["New", "Yo", "##rk"], offsets, [false, false, false], "##", null);
    expect(wp.map((p) => p.isSubword)).toEqual([false, false, true]);
  });
});

describe("question answering span scores", () => {
  it("the best span by start·end probability within maxAnswerLen; question tokens never answer", () => {
    // positions: 0 CLS, 1 question, 2..5 context
    const start = [0, 9, 3, 0, 0, 0];
    const end = [0, 9, 0, 0, 0, 3];
    const answerable = [false, false, true, true, true, true];
    const wide = scoreSpans(start, end, answerable, 1, 15);
    expect(wide.spans.map((s) => [s.start, s.end])).toEqual([[2, 5]]);
    const sp = softmax([0, -10000, 3, 0, 0, 0]);
    const ep = softmax([0, -10000, 0, 0, 0, 3]);
    expect(wide.spans[0].score).toBeCloseTo(sp[2] * ep[5], 15);
    expect(wide.nullScore).toBeCloseTo(sp[0] * ep[0], 15);
    // at most 2 tokens long: (2, 5) is out of reach
    const short = scoreSpans(start, end, answerable, 3, 2);
    for (const s of short.spans) expect(s.end - s.start).toBeLessThan(2);
    expect(short.spans.length).toBe(3);
    expect(short.spans[0].score).toBeGreaterThanOrEqual(short.spans[1].score);
  });
});

describe("feature-extraction pooling", () => {
  it("mean over real tokens, cls, L2 normalisation", () => {
    const hidden = Float32Array.from([1, 2, 3, 4, 100, 100]); // [1, 3, 2]
    expect(Array.from(pool(hidden, [1, 3, 2], [1, 1, 0], "mean", false).data)).toEqual([2, 3]);
    expect(Array.from(pool(hidden, [1, 3, 2], null, "cls", false).data)).toEqual([1, 2]);
    const n = pool(Float32Array.from([3, 4]), [1, 1, 2], null, "cls", true);
    expect(Array.from(n.data)).toEqual([Math.fround(0.6), Math.fround(0.8)]);
    expect(pool(hidden, [1, 3, 2], null, "none", false).shape).toEqual([1, 3, 2]);
  });
});
