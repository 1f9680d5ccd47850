/**
 * Every label the product prints (pattern.name: `show`'s heading, the explorer's title and
 * chart legend, explain's "pattern", union part labels) is the call that rebuilds the pattern:
 * parsePattern(p.name) has the same name and the same plan. Cases: every factory with every
 * option (data-built ones — mask functions, randomTable, rotations — excepted: they print a
 * marker the parser refuses), every mechanism of the catalog at several lengths, every
 * figure preset, and compositions (causal inside union, perBatch, intersect).
 */
import { describe, expect, it } from "vitest";
import { compile, patterns as P, type Pattern } from "../index.js";
import { randomTensor } from "../util/rng.js";
import { FIGURE_SPECS } from "./figure-specs.js";
import { defaults, exprAt, MECHANISMS } from "./mechanisms.js";
import { factoryNames, PatternExpressionError, parsePattern } from "./pattern-expr.js";

/** Dims to compare plans at: Lq ≠ Lk where the pattern allows it, heads and batch rows for the dependent ones. */
function dimsFor(p: Pattern): { queryLength: number; keyLength: number; heads: number; batch: number } {
  if (p.content !== undefined) return { queryLength: 96, keyLength: 96, heads: 2, batch: 1 };
  if (p.name.startsWith("bigBird")) return { queryLength: 80, keyLength: 96, heads: 2, batch: 1 };
  const batch = p.name.startsWith("perBatch([")
    ? p.name.split("causal").length - 1 + p.name.split("globalTokens").length - 1
    : 1;
  return { queryLength: 70, keyLength: 90, heads: 2, batch: p.name.includes("keyPadding") ? 2 : batch };
}

/** The plan's parts as comparable values (labels, tiles, masks, orders). */
function planOf(p: Pattern) {
  const d = dimsFor(p);
  const headDim = 4;
  const data =
    p.content === undefined
      ? {}
      : (() => {
          const q = randomTensor([d.batch, d.heads, d.queryLength, headDim], 5);
          return { q, k: q };
        })();
  const plan = compile(p, { ...d, headDim, ...data });
  return {
    allowed: plan.allowedPairs,
    scored: plan.scoredPairs,
    rows: plan.rows.map((parts) =>
      parts.map((x) => ({
        label: x.label,
        qIndex: x.qIndex === null ? null : Array.from(x.qIndex),
        kIndex: x.kIndex === null ? null : Array.from(x.kIndex),
        qTiles: Array.from(x.qTiles),
        kTiles: Array.from(x.kTiles),
        colIdx: Array.from(x.colIdx),
        maskWords: Array.from(x.maskWords),
      })),
    ),
  };
}

function expectRoundTrip(p: Pattern): void {
  const back = parsePattern(p.name);
  expect(back.name).toBe(p.name);
  expect(planOf(back)).toEqual(planOf(p));
}

const cases: [string, () => Pattern][] = [
  ["dense", () => P.dense()],
  ["causal", () => P.causal()],
  ["causal", () => P.causal({ align: "top-left" })],
  ["causal", () => P.causal({ align: "bottom-right" })],
  ["slidingWindow", () => P.slidingWindow({ left: 5, right: 2 })],
  ["slidingWindow", () => P.slidingWindow({ left: 0, right: 7, tile: 16, align: "top-left" })],
  ["dilatedWindow", () => P.dilatedWindow({ left: 3, right: 1, dilation: 3 })],
  ["dilatedWindow", () => P.dilatedWindow({ left: 2, right: 2, dilation: [1, 4], tile: 8, align: "top-left" })],
  ["globalTokens", () => P.globalTokens([0, 3, 11, 12, 13, 20, 21, 30, 40, 50])],
  ["globalTokens", () => P.globalTokens([1, 2], { align: "top-left" })],
  ["longformer", () => P.longformer({ window: 4 })],
  ["longformer", () => P.longformer({ window: 3, global: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9] })],
  ["longformer", () => P.longformer({ window: 2, dilation: 2, global: [5], align: "top-left" })],
  ["longformer", () => P.longformer({ window: 2, dilation: [1, 3], global: [0] })],
  ["strided", () => P.strided({ stride: 8 })],
  ["strided", () => P.strided({ stride: 6, window: "code", factorized: true, align: "top-left" })],
  ["fixed", () => P.fixed({ block: 8, summary: 2 })],
  ["fixed", () => P.fixed({ block: 10, summary: 3, factorized: true, align: "top-left" })],
  ["bigBird", () => P.bigBird({ blockSize: 8 })],
  ["bigBird", () => P.bigBird({ blockSize: 8, randomBlocks: 2, seed: 9, global: [33, 34], align: "top-left" })],
  ["lsh", () => P.lsh({ buckets: 4, hashes: 1, chunkLength: 8 })],
  [
    "lsh",
    () => P.lsh({ buckets: 8, hashes: 2, chunkLength: 8, chunksBefore: 2, chunksAfter: 1, causal: true, seed: 4 }),
  ],
  ["lsh", () => P.lsh({ buckets: [4, 6], hashes: 1, chunkLength: 16, seed: 2 })],
  ["union", () => P.union(P.causal(), P.globalTokens([0, 5]))],
  ["union", () => P.union(P.causal({ align: "top-left" }), P.strided({ stride: 4 }))],
  ["intersect", () => P.intersect(P.slidingWindow({ left: 3, right: 3 }), P.causal())],
  ["keyPadding", () => P.intersect(P.causal(), P.keyPadding([50, 90]))],
  ["perBatch", () => P.perBatch([P.causal(), P.globalTokens([2]), P.causal()])],
];

describe("every printed label parses back to the same pattern", () => {
  it("the cases cover every factory the command line can write", () => {
    const covered = new Set(cases.map(([f]) => f));
    expect(factoryNames().filter((f) => !covered.has(f))).toEqual([]);
  });

  it.each(cases.map(([f, make], i) => [`${f} #${i}: ${make().name}`, make] as const))("%s", (_, make) => {
    expectRoundTrip(make());
  });

  it.each(MECHANISMS.flatMap((m) => [m.expr(defaults(m)), exprAt(m, 256), exprAt(m, 4096)]))(
    "catalog mechanism %s",
    (expr) => expectRoundTrip(parsePattern(expr)),
  );

  it.each(FIGURE_SPECS.flatMap((f) => f.presets.map((x) => x.expr)))("figure preset %s", (expr) => {
    expectRoundTrip(parsePattern(expr));
  });

  it("patterns built from data print a marker the parser refuses with a clear error", () => {
    const rot = { data: new Float32Array(2 * 4 * 1 * 2), shape: [2, 4, 1, 2] as [number, number, number, number] };
    expect(P.lsh({ chunkLength: 4, rotations: rot }).name).toContain("rotations");
    expect(() => parsePattern(P.lsh({ chunkLength: 4, rotations: rot }).name)).toThrow(/rotations/);
    const table = P.bigBird({ blockSize: 4, randomTable: [[[3], [0], [1]]] });
    expect(() => parsePattern(table.name)).toThrow(/randomTable/);
    expect(() => parsePattern(P.mask(() => true, { name: "mine" }).name)).toThrow(PatternExpressionError);
  });
});
