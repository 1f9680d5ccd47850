import { describe, expect, it } from "vitest";
import { AttentionArgumentError, explain } from "../index.js";
import { PatternExpressionError, parsePattern } from "./pattern-expr.js";

const count = (src: string, n = 97) => explain(parsePattern(src), { queryLength: n, headDim: 4 }).allowedPairs;

describe("patterns written as the API call", () => {
  it("named arguments, an options object and a bare name build the same patterns as the API", () => {
    expect(count("slidingWindow(left=3, right=0)")).toBe(count("slidingWindow({left: 3, right: 0})"));
    expect(count("dense")).toBe(97 * 97);
    expect(count("causal(align=top-left)")).toBe((97 * 98) / 2);
    expect(count('causal({"align": "bottom-right"})')).toBe((97 * 98) / 2);
  });

  it("nested calls, arrays and positional pattern arguments compose", () => {
    const a = count("union(causal(), globalTokens([0, 5]))");
    const b = count("union(causal, globalTokens([0,5]))");
    expect(a).toBe(b);
    expect(a).toBeGreaterThan((97 * 98) / 2);
    expect(count("intersect(causal(), slidingWindow(left=2, right=2))")).toBe(count("slidingWindow(left=2, right=0)"));
  });

  it("syntax errors say where and give the accepted form", () => {
    expect(() => parsePattern("causal(")).toThrow(PatternExpressionError);
    expect(() => parsePattern("causal(")).toThrow(/character 8.*expected a pattern call/);
    expect(() => parsePattern("causal() x")).toThrow(/text after the pattern/);
    expect(() => parsePattern("42")).toThrow(/expected a pattern call/);
  });

  it("unknown names list the factories; mask is refused with the reason", () => {
    expect(() => parsePattern("foo(1)")).toThrow(/unknown pattern "foo".*slidingWindow/);
    expect(() => parsePattern("foo(1)")).not.toThrow(/did you mean/); // nothing near
    // a typo or the wrong case names the factory meant
    expect(() => parsePattern("longfromer(window=4)")).toThrow(
      /unknown pattern "longfromer".*: did you mean "longformer"\?$/,
    );
    expect(() => parsePattern("bigbird(blockSize=16)")).toThrow(/did you mean "bigBird"\?$/);
    expect(() => parsePattern("slidingwindow(left=1, right=1)")).toThrow(/did you mean "slidingWindow"\?$/);
    expect(() => parsePattern("mask()")).toThrow(/needs a JavaScript function/);
  });

  it("misspelled option names are errors with a did-you-mean, not ignored", () => {
    expect(() => parsePattern("longformer(window=4, globl=[0])")).toThrow(
      /unknown option "globl".*did you mean "global"/,
    );
    expect(() => parsePattern("slidingWindow(left=2, rigth=1)")).toThrow(/did you mean "right"/);
    expect(() => parsePattern("union(causal(allign=top-left))")).toThrow(/did you mean "align"/);
  });

  it("bad parameters surface the factory's own error", () => {
    expect(() => parsePattern("slidingWindow(left=-1, right=0)")).toThrow(AttentionArgumentError);
  });
});
