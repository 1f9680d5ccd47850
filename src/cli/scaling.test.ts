import { describe, expect, it } from "vitest";
import { mechanismById } from "../catalog/mechanisms.js";
import { classOf, costRow } from "./cost.js";
import { fitOf, logSlope, sizes } from "./scaling.js";

describe("fits and classes", () => {
  it("logSlope recovers the exponent of a power law", () => {
    const ns = sizes(256, 8192);
    expect(ns).toEqual([256, 512, 1024, 2048, 4096, 8192]);
    expect(
      logSlope(
        ns,
        ns.map((n) => 3e-9 * n ** 1.5),
      ),
    ).toBeCloseTo(1.5, 10);
    expect(logSlope([1], [1])).toBeNaN();
  });

  it("fits use the upper half of the sizes and ignore memory peaks under the noise floor", () => {
    const m = mechanismById("sliding")!;
    const pts = sizes(256, 65536).map((n, i) => ({
      mechanism: "sliding",
      n,
      seconds: i < 4 ? 0.001 : 1e-6 * n, // flat start-up floor, then linear
      runs: 1,
      peakBytes: i < 4 ? 1000 : 1000 * n,
      scoredPairs: 129 * n,
      allowedPairs: 129 * n,
      flops: 0,
      workBytes: 0,
      backend: "js",
      threads: 1,
    }));
    const f = fitOf(m, pts, "test");
    expect(f.timeExponent).toBeCloseTo(1, 6);
    expect(f.memoryExponent).toBeCloseTo(1, 6);
    expect(f.countedExponent).toBeCloseTo(1, 6);
    expect(f.maxN).toBe(65536);
  });

  it("counted exponents from explain(): dense 2, sliding window 1, strided with stride √n 1.5", () => {
    expect(classOf(1.04)).toBe("O(n)");
    expect(classOf(1.45)).toBe("O(n√n)");
    expect(classOf(1.9)).toBe("O(n²)");
    const row = (id: string) => costRow(mechanismById(id)!, 4096, 16, 4096 * 4096);
    expect(row("dense").countedExponent).toBeCloseTo(2, 6);
    expect(row("dense").lessWork).toBe(1);
    expect(row("sliding").asymptotic).toBe("O(n)");
    expect(row("strided").asymptotic).toBe("O(n√n)");
    expect(row("lsh").asymptotic).toBe("O(n)");
  });
});
