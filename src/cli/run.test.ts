import { describe, expect, it } from "vitest";
import { formatResult } from "./run.js";

describe("formatResult (what `run` prints)", () => {
  it("token-classification: character offsets for text input, the token index for token-id input", () => {
    const text = formatResult("token-classification", [
      { entity: "LOC", score: 0.5, index: 1, word: "Paris", start: 7, end: 12 },
    ]);
    expect(text).toBe('LOC        0.5000  "Paris"  [7, 12)');
    const ids = formatResult("token-classification", [
      { entity: "LABEL_4", score: 0.3578, index: 1, word: "#5", start: null, end: null },
    ]);
    expect(ids).toBe('LABEL_4    0.3578  "#5"  token 1');
    expect(ids).not.toContain("null");
  });
});
