import { describe, expect, it } from "vitest";
import { mechanismById } from "../catalog/mechanisms.js";
import { classOf, costRow } from "./cost.js";
import { combineProcesses, fitOf, fitPoints, logFit, logSlope, sizes } from "./scaling.js";

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

  it("fits use the largest sizes (a factor 16) and ignore memory peaks under the noise floor", () => {
    const m = mechanismById("sliding")!;
    const pts = sizes(256, 65536).map((n, i) => ({
      mechanism: "sliding",
      n,
      seconds: i < 4 ? 0.001 : 1e-6 * n, // flat start-up floor, then linear
      wallSeconds: 0,
      samples: [],
      processSeconds: 0,
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

  it("the interval of a fit is 0 on an exact power law and covers the slope of noisy ones", () => {
    const ns = [8192, 16384, 32768, 65536];
    const exact = logFit(
      ns,
      ns.map((n) => 2e-9 * n),
    );
    expect(exact.slope).toBeCloseTo(1, 10);
    expect(exact.interval).toBeCloseTo(0, 10);
    const noisy = logFit(
      ns,
      ns.map((n, i) => 2e-9 * n * [1, 1.1, 0.93, 1.04][i]),
    );
    expect(noisy.interval).toBeGreaterThan(0.02);
    expect(Math.abs(noisy.slope - 1)).toBeLessThan(noisy.interval);
    expect(logFit([1, 2], [1, 2]).interval).toBeNaN();
  });

  it("a measured exponent outside the counted one's reach is flagged with the reason; one inside is not", () => {
    const m = mechanismById("sliding")!;
    const point = (n: number, seconds: number) => ({
      mechanism: "sliding",
      n,
      seconds,
      wallSeconds: seconds,
      samples: [seconds],
      processSeconds: 1,
      runs: 1,
      peakBytes: 0,
      scoredPairs: 129 * n,
      allowedPairs: 129 * n,
      flops: 0,
      workBytes: 0,
      backend: "wasm",
      threads: 1,
    });
    const ns = sizes(256, 65536);
    const linear = fitOf(
      m,
      ns.map((n) => point(n, 1e-3 + 1e-6 * n)),
      "test",
    );
    expect(linear.flag).toBeUndefined();
    const floor = fitOf(
      m,
      ns.map((n) => point(n, 0.02 + 1e-7 * n)),
      "test",
    );
    expect(floor.timeExponent).toBeLessThan(0.8);
    expect(floor.flag).toMatch(/per-call floor/);
    const cache = fitOf(
      m,
      ns.map((n) => point(n, 1e-9 * n ** 1.4)),
      "test",
    );
    expect(cache.flag).toMatch(/cache effects/);
  });

  it("a point measured by several processes takes the fastest process's median: one slow process does not move it", () => {
    const run = (seconds: number, peakBytes: number) => ({
      mechanism: "sliding",
      n: 16384,
      seconds,
      wallSeconds: seconds,
      samples: [seconds],
      processSeconds: 1,
      runs: 3,
      peakBytes,
      scoredPairs: 1,
      allowedPairs: 1,
      flops: 1,
      workBytes: 1,
      backend: "wasm",
      threads: 1,
    });
    const p = combineProcesses([run(0.054, 10), run(0.025, 11), run(0.026, 12)]);
    expect(p.seconds).toBe(0.025);
    expect(p.processMedians).toEqual([0.054, 0.025, 0.026]);
    expect(p.peakBytes).toBe(10);
    expect(p.processSeconds).toBe(3);
    expect(combineProcesses([run(0.03, 5)]).seconds).toBe(0.03);
  });

  it("fit points: the 5 largest sizes from n = 1,024 up (dense to 8,192: 4 points), else the last ones", () => {
    const ns = (a: number, b: number) => sizes(a, b).map((n) => ({ n }));
    expect(fitPoints(ns(256, 65536)).map((p) => p.n)).toEqual([4096, 8192, 16384, 32768, 65536]);
    expect(fitPoints(ns(256, 8192)).map((p) => p.n)).toEqual([1024, 2048, 4096, 8192]);
    expect(fitPoints(ns(256, 2048)).map((p) => p.n)).toEqual([256, 512, 1024, 2048]); // fewer than 3 from 1,024
    expect(fitPoints(ns(64, 256)).map((p) => p.n)).toEqual([64, 128, 256]); // --quick
  });

  it("a flag below the counted exponent names the floor, and the kernel's rising rate when the floor alone does not explain it", () => {
    const m = mechanismById("strided")!;
    const point = (n: number, seconds: number, flops: number) => ({
      mechanism: "strided",
      n,
      seconds,
      wallSeconds: seconds,
      samples: [seconds],
      processSeconds: 1,
      runs: 3,
      peakBytes: 0,
      scoredPairs: n ** 1.5,
      allowedPairs: n ** 1.5,
      flops,
      workBytes: 0,
      backend: "wasm",
      threads: 1,
    });
    const floor = 1.6e-3;
    // work ∝ n^1.5 done at a rate rising ∝ n^0.25: net time ∝ n^1.25, plus the floor
    const pts = sizes(256, 65536).map((n) => point(n, floor + 1e-9 * n ** 1.25, 1e-9 * n ** 1.5 * 1e9));
    const f = fitOf(m, pts, "test");
    expect(f.countedExponent).toBeCloseTo(1.5, 6);
    expect(f.flag).toMatch(/per-call floor/);
    expect(f.flag).toMatch(/without the floor it is still 1\.2\d: the kernel's rate rises with n/);
    // the floor alone: a constant rate, time = floor + c·n^1.5
    const flat = sizes(256, 65536).map((n) => point(n, 5e-3 + 1e-11 * n ** 1.5, n ** 1.5));
    const g = fitOf(m, flat, "test");
    if (g.flag !== undefined) expect(g.flag).not.toMatch(/rate rises/);
  });
});
