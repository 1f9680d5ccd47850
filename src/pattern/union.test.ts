/**
 * Issue #11: the union of BigBird's own members (global ∪ window ∪ random) scored more pairs
 * than dense at n = 64 (the report's Figure 3(e) said "9984 scored"). A union drops a member's
 * tiles that an earlier member covers fully, and a union of user masks that would score more
 * than dense runs as one grid part: never above dense, and with block classifiers exactly as
 * efficient as bigBird().
 */
import { expect, test } from "vitest";
import { bigBirdPanels } from "../catalog/figures.js";
import { compile, explain, patterns } from "../index.js";

test("figure 3(e): union(global, window, random) scores no pair twice, no more than dense, like bigBird()", () => {
  const n = 64;
  const panels = bigBirdPanels(n, 8, 2, 3);
  const bird = panels.find((p) => p.title.startsWith("(d)"))!.pattern;
  const u = panels.find((p) => p.title.startsWith("(e)"))!.pattern;
  const e = explain(u, { queryLength: n, headDim: 8 });
  const b = explain(bird, { queryLength: n, headDim: 8 });
  expect(e.allowedPairs).toBe(b.allowedPairs);
  expect(e.scoredPairs).toBeLessThanOrEqual(n * n);
  expect(e.scoredPairs).toBe(e.allowedPairs); // no pair scored twice, no padding
  expect(e.efficiency).toBeGreaterThanOrEqual(b.efficiency - 1e-12);
});

test("a union of unclassified masks never scores more than dense", () => {
  const n = 64;
  const a = patterns.mask((q, k) => Math.abs(q - k) < 9, { headDependent: false });
  const c = patterns.mask((q, k) => (q * 3 + k) % 7 === 0, { headDependent: false });
  const u = patterns.union(patterns.globalTokens([0, 63]), a, c);
  const e = explain(u, { queryLength: n, headDim: 8 });
  expect(e.scoredPairs).toBeLessThanOrEqual(n * n);
  const plan = compile(u, { queryLength: n, headDim: 8 });
  expect(plan.scoredPairs).toBe(e.scoredPairs);
  expect(plan.allowedPairs).toBe(e.allowedPairs);
});

test("a union member's tiles that an earlier member covers fully are dropped", () => {
  const u = patterns.union(patterns.dense(), patterns.slidingWindow({ left: 3, right: 3 }));
  const e = explain(u, { queryLength: 200, headDim: 8 });
  expect(e.scoredPairs).toBe(200 * 200);
});
