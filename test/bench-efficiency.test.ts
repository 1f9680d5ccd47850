// The pure table-building functions of bench/time-efficiency.mjs (bench/efficiency.mjs): the
// bench times, these only turn measured numbers and plans into rows, so they are tested here
// on made-up measurements and on compiled plans (no timing in tests).
import { describe, expect, it } from "vitest";
import { efficiencyCells, efficiencyRows, type PartLike, planShape } from "../bench/efficiency.mjs";
import { compile, explain, patterns } from "../src/index.js";

describe("efficiencyRows", () => {
  const dense = { 1: { pairs: 1000, ms: [10, 20, 30], cpuMs: [10, 20, 30] } };
  const c = {
    label: "p",
    threads: 1,
    heads: 8,
    allowedPairs: 800,
    scoredPairs: 1000,
    ms: [20, 40, 30],
    cpuMs: [16, 16, 16],
  };

  it("divides the pattern's allowed-pair rate by the dense pair rate of the same thread count", () => {
    const [r] = efficiencyRows(dense, [c]);
    // dense: 1000 pairs / 20 ms (median) = 50 pairs/ms; pattern: 800 / 30 ms = 26.67 pairs/ms
    expect(r.timeEff).toBeCloseTo(26.6667 / 50, 4);
    expect(r.workEff).toBe(0.8);
    expect(r.medianMs).toBe(30);
    expect(r.minMs).toBe(20);
    expect(r.maxMs).toBe(40);
    expect(r.repeats).toBe(3);
    expect(r.mpairsPerS).toBeCloseTo(800 / 30 / 1e3, 9);
    // repeat i against dense repeat i: (800/20)/(1000/10) = 0.4, (800/40)/(1000/20) = 0.4, (800/30)/(1000/30) = 0.8
    expect(r.effMin).toBeCloseTo(0.4, 12);
    expect(r.effMax).toBeCloseTo(0.8, 12);
    // CPU time: (800 / 16) / (1000 / 20) = 1
    expect(r.cpuEff).toBeCloseTo(1, 12);
    const cells = efficiencyCells(r);
    expect(cells[0]).toBe("p");
    expect(cells[7]).toBe("0.53");
    expect(cells[8]).toBe("0.40–0.80");
  });

  it("takes the per-call floor off both times, scaled to the heads the case ran on", () => {
    const floor = { 1: { heads: 8, ms: [5, 6, 4], denseMs: [10, 10, 10] } };
    const [r, half] = efficiencyRows(dense, [c, { ...c, heads: 4 }], floor);
    // (800 / (30 − 5)) / (1000 / (20 − 10)) = 32 / 100
    expect(r.kernelEff).toBeCloseTo(0.32, 12);
    // floor on 4 of 8 heads: 2.5 ms
    expect(half.kernelEff).toBeCloseTo(800 / 27.5 / 100, 12);
    expect(efficiencyCells(r)[10]).toBe("0.32");
    expect(Number.isNaN(efficiencyRows(dense, [c])[0].kernelEff)).toBe(true);
    // a time not above its floor gives no number
    expect(Number.isNaN(efficiencyRows(dense, [c], { 1: { heads: 8, ms: [40], denseMs: [1] } })[0].kernelEff)).toBe(
      true,
    );
  });

  it("pairs each thread count with its own dense reference and refuses a missing one", () => {
    const two = { ...dense, 2: { pairs: 1000, ms: [5, 5, 5] } };
    const rows = efficiencyRows(two, [c, { ...c, threads: 2, cpuMs: undefined }]);
    expect(rows[1].timeEff).toBeCloseTo(800 / 30 / (1000 / 5), 12);
    expect(Number.isNaN(rows[1].cpuEff)).toBe(true);
    expect(() => efficiencyRows(dense, [{ ...c, threads: 3 }])).toThrow(/3 thread/);
    expect(() => efficiencyRows(dense, [{ ...c, ms: [] }])).toThrow(/no repeats/);
  });
});

describe("planShape", () => {
  it("counts partial tiles, their scored share, tile sizes and gathers of a hand-built part", () => {
    // 2 query tiles of 2 rows; key tiles of 2 and 1 columns; tiles (0,0) full, (0,1) and (1,1) partial
    const part: PartLike = {
      label: "x",
      qIndex: null,
      kIndex: Int32Array.of(0, 1, 2),
      qTiles: Int32Array.of(0, 2, 4),
      kTiles: Int32Array.of(0, 2, 3),
      rowPtr: Int32Array.of(0, 2, 3),
      colIdx: Int32Array.of(0, 1, 1),
      maskOff: Int32Array.of(-1, 0, 1),
      allowedPairs: 6,
      scoredPairs: 8,
    };
    const [s] = planShape([part]);
    expect(s.tiles).toBe(3);
    expect(s.partialTiles).toBe(2);
    expect(s.partialTileShare).toBeCloseTo(2 / 3, 12);
    expect(s.partialScoredShare).toBe(0.5); // (2·1 + 2·1) of 8
    expect(s.meanTileArea).toBeCloseTo(8 / 3, 12);
    expect(s.qTileSizes).toEqual([2]);
    expect(s.kTileSizes).toEqual([2, 1]);
    expect(s.gatherQ).toBe(false);
    expect(s.gatherK).toBe(true);
  });

  it("agrees with explain() on compiled seed patterns", () => {
    const n = 1024;
    const causal = compile(patterns.causal(), { queryLength: n, headDim: 64 });
    const [c] = planShape(causal.heads[0]);
    expect(c.tiles).toBe(explain(causal).tiles);
    expect(c.partialTiles).toBe(n / 64); // one diagonal tile per 64-row query tile
    expect(c.qTileSizes).toEqual([64]);
    const fixed = compile(patterns.fixed({ block: 128, summary: 16 }), { queryLength: n, headDim: 64 });
    const shape = planShape(fixed.heads[0]);
    expect(shape.length).toBe(fixed.heads[0].length);
    expect(shape.reduce((a, p) => a + p.tiles, 0)).toBe(explain(fixed).tiles);
    expect(shape.reduce((a, p) => a + p.scoredPairs, 0)).toBe(explain(fixed).scoredPairs);
  });
});
