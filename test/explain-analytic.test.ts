/**
 * Cheap, honest accounting (issue #9, items 4 and 5): explain() counts the analytic patterns
 * without building plans or scanning masks (work is counted, never timed), its counts equal the
 * built plan's, a mask without tileKind is refused beyond its scan limit, compile({ check })
 * catches classifiers that lie, and counts that would overflow the plan's Int32 offsets or
 * float64 exactness are refused.
 */
import { describe, expect, test } from "vitest";
import { compile, explain, patterns } from "../src/index.js";
import { checkInt32Count, countPart, partsBuilt, tilesScanned } from "../src/layout/part.js";
import { type Dims, PARTIAL, type Pattern } from "../src/types.js";

const p = patterns;

interface Case {
  name: string;
  pattern: Pattern;
  dims: Dims;
  /** explain may scan this many partial tiles (0 for purely analytic patterns). */
  scans?: number;
}

const CASES: Case[] = [
  {
    name: "window",
    pattern: p.slidingWindow({ left: 37, right: 5 }),
    dims: { queryLength: 1000, keyLength: 1000, heads: 1, headDim: 8 },
  },
  {
    name: "dilated",
    pattern: p.dilatedWindow({ left: 9, right: 9, dilation: [1, 3] }),
    dims: { queryLength: 700, keyLength: 700, heads: 2, headDim: 8 },
  },
  {
    name: "strided",
    pattern: p.strided({ stride: 17 }),
    dims: { queryLength: 900, keyLength: 900, heads: 1, headDim: 8 },
  },
  {
    name: "strided factorized",
    pattern: p.strided({ stride: 11, factorized: true, window: "code" }),
    dims: { queryLength: 500, keyLength: 500, heads: 2, headDim: 8 },
  },
  {
    name: "fixed",
    pattern: p.fixed({ block: 32, summary: 4 }),
    dims: { queryLength: 1000, keyLength: 1000, heads: 1, headDim: 8 },
  },
  {
    name: "bigBird",
    pattern: p.bigBird({ blockSize: 16, randomBlocks: 2, seed: 3 }),
    dims: { queryLength: 600, keyLength: 600, heads: 2, headDim: 8 },
  },
  { name: "causal", pattern: p.causal(), dims: { queryLength: 1000, keyLength: 1300, heads: 1, headDim: 8 } },
  { name: "dense", pattern: p.dense(), dims: { queryLength: 300, keyLength: 500, heads: 1, headDim: 8 } },
  {
    name: "longformer",
    pattern: p.longformer({ window: 16 }),
    dims: { queryLength: 1000, keyLength: 1000, heads: 1, headDim: 8 },
  },
  {
    name: "keyPadding",
    pattern: p.keyPadding([700, 93]),
    dims: { queryLength: 300, keyLength: 700, heads: 1, headDim: 8, batch: 2 },
  },
  {
    name: "window ∩ keyPadding",
    pattern: p.intersect(p.slidingWindow({ left: 30, right: 30 }), p.keyPadding([1000, 500])),
    dims: { queryLength: 1000, keyLength: 1000, heads: 1, headDim: 8, batch: 2 },
    scans: 40,
  },
  {
    name: "longformer + globals",
    pattern: p.longformer({ window: 16, global: [0, 500] }),
    dims: { queryLength: 1000, keyLength: 1000, heads: 1, headDim: 8 },
    scans: 40,
  },
];

describe("explain() counts without building or scanning; counts equal the built plan", () => {
  test.each(CASES)("$name", ({ pattern, dims, scans }) => {
    const opts = { ...dims, batch: dims.batch ?? 1 };
    const built0 = partsBuilt();
    const scanned0 = tilesScanned();
    const e = explain(pattern, opts);
    expect(partsBuilt() - built0, "explain builds no part").toBe(0);
    expect(tilesScanned() - scanned0, "partial tiles scanned by explain").toBeLessThanOrEqual(scans ?? 0);
    const plan = compile(pattern, opts);
    const fromPlan = explain(plan);
    expect(e).toEqual(fromPlan);
  });

  test("sliding window at n = 10,000,000: exact counts, no part built, no tile scanned", () => {
    const n = 10_000_000;
    const w = 256;
    const built0 = partsBuilt();
    const scanned0 = tilesScanned();
    const t0 = performance.now();
    const e = explain(p.slidingWindow({ left: w, right: w }), { queryLength: n, headDim: 64 });
    const ms = performance.now() - t0;
    expect(partsBuilt() - built0).toBe(0);
    expect(tilesScanned() - scanned0).toBe(0);
    const allowed = n * (2 * w + 1) - w * (w + 1); // rows minus the clipped triangles at both ends
    expect(e.allowedPairs).toBe(allowed);
    expect(e.density).toBe(allowed / n / n);
    expect(e.scoredPairs).toBeLessThan(1.1 * allowed);
    console.log(`explain(slidingWindow(${w}, ${w})) at n = ${n}: ${ms.toFixed(0)} ms (not asserted)`);
  });
});

describe("masks without tileKind are scanned: refused beyond scanLimit", () => {
  test("the error names tileKind and scanLimit; raising the limit scans", () => {
    const m = p.mask((q, k) => k <= q);
    expect(() => explain(m, { queryLength: 9000, headDim: 8 })).toThrow(/tileKind.*scanLimit/);
    expect(() =>
      explain(p.union(p.slidingWindow({ left: 4, right: 0 }), m), { queryLength: 9000, headDim: 8 }),
    ).toThrow(/tileKind/);
    const raised = p.mask((q, k) => k <= q, { scanLimit: 200 * 200 });
    expect(explain(raised, { queryLength: 200, headDim: 8 }).allowedPairs).toBe((200 * 201) / 2);
    expect(() => explain(raised, { queryLength: 201, headDim: 8 })).toThrow(/scanLimit \} \(now 40000\)/);
    const classified = p.mask((q, k) => k <= q, {
      tileKind: (q0, q1, k0, k1) => (k1 - 1 <= q0 ? 2 : k0 > q1 - 1 ? 0 : 1),
    });
    expect(explain(classified, { queryLength: 20000, headDim: 8 }).allowedPairs).toBe((20000 * 20001) / 2);
  });
});

describe("no silent wrong result: masks, classifiers, counts", () => {
  test("a mask returning 1 or a string is an error naming the pair", () => {
    expect(() =>
      compile(
        p.mask(() => 1 as unknown as boolean),
        { queryLength: 4, headDim: 2 },
      ),
    ).toThrow(/mask\(q=0, k=0, h=0, b=0\): got 1; expected true or false/);
    expect(() =>
      compile(
        p.mask((q) => (q === 2 ? ("yes" as unknown as boolean) : true)),
        { queryLength: 4, headDim: 2 },
      ),
    ).toThrow(/mask\(q=2, k=0, h=0, b=0\): got "yes"/);
  });

  test("a classifier returning 3 or undefined is an error naming the tile", () => {
    const bad = (x: unknown) => p.mask(() => true, { tileKind: () => x as 0 });
    expect(() => compile(bad(3), { queryLength: 100, headDim: 2 })).toThrow(
      /tileKind\(q0=0, q1=64, k0=0, k1=64, h=0, b=0\): got 3/,
    );
    expect(() => explain(bad(undefined), { queryLength: 100, headDim: 2 })).toThrow(/tileKind\(.*\): got undefined/);
  });

  test("compile(…, { check: true }) catches a classifier that lies, naming the tile", () => {
    // claims every tile is full, but the mask is causal
    const liar = p.mask((q, k) => k <= q, { tileKind: () => 2, name: "liar" });
    expect(() => compile(liar, { queryLength: 100, headDim: 2 })).not.toThrow(); // trusted without check
    expect(() => compile(liar, { queryLength: 100, headDim: 2 }, { check: true })).toThrow(
      /liar: classifier on tile q ∈ \[0, 64\), k ∈ \[0, 64\), h = 0, b = 0: got "FULL \(2\)".*forbids \(q=0, k=1\)/,
    );
    const hides = p.mask((q, k) => k === 70 && q === 3, { tileKind: () => 0, name: "hides" });
    expect(() => compile(p.union(p.causal(), hides), { queryLength: 100, headDim: 2 }, { check: true })).toThrow(
      /hides: classifier.*EMPTY/,
    );
  });

  test("every seed classifier agrees with its mask under check", () => {
    for (const c of CASES) {
      expect(() => compile(c.pattern, { ...c.dims, batch: c.dims.batch ?? 1 }, { check: true }), c.name).not.toThrow();
    }
  });

  test("Int32 boundary: a synthetic part with 2^31 mask words is refused, 2^31 - 2^13 counted", () => {
    expect(() => checkInt32Count("mask words", 2 ** 31 - 1)).not.toThrow();
    expect(() => checkInt32Count("mask words", 2 ** 31)).toThrow(
      /plan mask words: got 2147483648; expected at most 2147483647/,
    );
    const synthetic = (cols: number) =>
      countPart({
        label: "synthetic",
        head: 0,
        batch: 0,
        qIndex: null,
        kIndex: null,
        qTiles: Int32Array.of(0, 2 ** 18),
        kTiles: Int32Array.of(0, cols),
        mask: () => true,
        count: () => 1, // one allowed pair: a partial tile whose mask is stored
        tilesFor: (_qt, visit) => visit(0, PARTIAL),
      });
    expect(synthetic(2 ** 18 - 1).bytes).toBeGreaterThan(4 * (2 ** 31 - 2 ** 13) - 1);
    expect(() => synthetic(2 ** 18)).toThrow(/mask words.*2147483648/);
  });

  test("lengths above 2^31 - 1 and more than 2^53 pairs are refused", () => {
    expect(() => explain(p.slidingWindow({ left: 1, right: 1 }), { queryLength: 2 ** 31, headDim: 8 })).toThrow(
      /options\.queryLength: got 2147483648; expected an integer in \[1, 2147483647\]/,
    );
    expect(() => explain(p.causal(), { queryLength: 2 ** 31 - 1, heads: 4096, headDim: 8 })).toThrow(/2\^53/);
  });
});
