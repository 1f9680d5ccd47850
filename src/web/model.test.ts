import { describe, expect, it } from "vitest";
import { parsePattern } from "../catalog/pattern-expr.js";
import { chartLengths, clampN, formatBytes, fromQuery, MECHANISMS, recognise, stateFor, toQuery } from "./model.js";

describe("explorer state", () => {
  it.each(MECHANISMS.map((m) => [m.id]))("%s: its expression parses, and is recognised back with its values", (id) => {
    const m = MECHANISMS.find((x) => x.id === id)!;
    const values = Object.fromEntries(m.params.map((p) => [p.key, p.pow2 ? p.min * 2 : p.min + 1]));
    const s = stateFor(id, 1000, 32, values);
    expect(() => parsePattern(s.expr)).not.toThrow();
    const r = recognise(s.expr);
    expect(r.mechanism).toBe(id);
    expect(m.expr(r.values)).toBe(s.expr);
  });

  it("?pattern=&n= sets the state; the URL of a state gives it back", () => {
    const s = fromQuery(`?pattern=${encodeURIComponent("strided(stride=64)")}&n=4096`);
    expect(s).toMatchObject({ mechanism: "strided", expr: "strided(stride=64)", n: 4096, headDim: 64 });
    expect(s.values.stride).toBe(64);
    expect(fromQuery(toQuery(s))).toEqual(s);
    const custom = fromQuery(`?pattern=${encodeURIComponent("union(causal(), globalTokens([3]))")}&n=100&d=32`);
    expect(custom).toMatchObject({
      mechanism: "custom",
      expr: "union(causal(), globalTokens([3]))",
      n: 100,
      headDim: 32,
    });
    expect(fromQuery(toQuery(custom))).toEqual(custom);
  });

  it("n is clamped to 1 … 65,536; nonsense falls back to the default", () => {
    expect(clampN(0)).toBe(1);
    expect(clampN(1e9)).toBe(65536);
    expect(clampN(Number.NaN)).toBe(4096);
    expect(fromQuery("?n=abc").n).toBe(4096);
  });

  it("chart lengths include n; LSH stops at 16,384", () => {
    expect(chartLengths(3000)).toContain(3000);
    expect(Math.max(...chartLengths(1000))).toBe(65536);
    expect(Math.max(...chartLengths(1000, true))).toBe(16384);
  });

  it("memory in binary units", () => {
    expect(formatBytes(512)).toBe("512 B");
    expect(formatBytes(3 * 2 ** 20)).toBe("3.0 MiB");
  });
});
