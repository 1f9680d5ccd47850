import { describe, expect, it } from "vitest";
import { AttentionArgumentError, compile, explain, patterns, type Tensor } from "./index.js";
import { randomTensor } from "./util/rng.js";

describe("compile()", () => {
  it("gives one plan per head whose pairs add up to explain()'s, for a head-dependent pattern", () => {
    const p = patterns.bigBird({ blockSize: 8, randomBlocks: 2, seed: 9 });
    const c = compile(p, { queryLength: 100, heads: 3, headDim: 4 });
    const e = explain(p, { queryLength: 100, heads: 3, headDim: 4 });
    expect(c.heads.length).toBe(3);
    const sum = (f: (x: { allowedPairs: number; scoredPairs: number }) => number) =>
      c.heads.flat().reduce((s, part) => s + f(part), 0);
    expect(sum((x) => x.allowedPairs)).toBe(e.allowedPairs);
    expect(sum((x) => x.scoredPairs)).toBe(e.scoredPairs);
    expect(c.allowedPairs).toBe(e.allowedPairs);
    expect(c.heads[0]).not.toBe(c.heads[1]);
  });

  it("plans a content-dependent pattern from q and k, and says how when they are missing", () => {
    const p = patterns.lsh({ buckets: 4, hashes: 2, chunkLength: 8, seed: 1 });
    const q = randomTensor([1, 2, 40, 4], 3) as Tensor;
    const c = compile(p, { queryLength: 40, heads: 2, headDim: 4, q, k: q });
    expect(c.allowedPairs).toBe(explain(p, { queryLength: 40, heads: 2, headDim: 4, q, k: q }).allowedPairs);
    expect(c.heads[0][0].qIndex?.length).toBe(80); // two rounds of 40 tokens
    expect(() => compile(p, { queryLength: 40, heads: 2, headDim: 4 })).toThrow(/pass \{ q, k \}|q, k/);
    expect(() => compile(p, { queryLength: 40, heads: 2, headDim: 4, q })).toThrow(AttentionArgumentError);
    expect(() => compile(p, { queryLength: 41, heads: 2, headDim: 4, q, k: q })).toThrow(/shape/);
  });

  it("rejects bad sizes by name", () => {
    expect(() => compile(patterns.causal(), { queryLength: 0, headDim: 4 })).toThrow(/options.queryLength/);
    expect(() => compile(patterns.causal(), { queryLength: 4, headDim: 1.5 })).toThrow(/options.headDim/);
  });
});
