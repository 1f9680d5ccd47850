import { describe, expect, it } from "vitest";
import { compile, patterns } from "../index.js";
import { NEARLY_DENSE, nearlyDenseNote } from "./hints.js";

function allowedOf(p: ReturnType<typeof patterns.dense>, n: number): number {
  const c = compile(p, { queryLength: n, headDim: 8 });
  return c.heads[0].reduce((s, x) => s + x.allowedPairs, 0);
}

describe("nearlyDenseNote", () => {
  it("notes BigBird with 16-token blocks at n = 100 (it allows almost every pair there)", () => {
    const p = patterns.bigBird({ blockSize: 16 });
    const note = nearlyDenseNote(p.name, allowedOf(p, 100), 100 * 100);
    expect(note).toMatch(/% of all pairs are allowed/);
    expect(note).toMatch(/larger n/);
  });
  it("is silent for the same pattern at a size where it is sparse, and always for dense", () => {
    const p = patterns.bigBird({ blockSize: 16 });
    expect(nearlyDenseNote(p.name, allowedOf(p, 4096), 4096 * 4096)).toBeUndefined();
    const d = patterns.dense();
    expect(nearlyDenseNote(d.name, allowedOf(d, 64), 64 * 64)).toBeUndefined();
  });
  it("uses the threshold on the allowed fraction", () => {
    expect(nearlyDenseNote("slidingWindow(left=8, right=8)", NEARLY_DENSE * 100, 100)).toBeDefined();
    expect(nearlyDenseNote("slidingWindow(left=8, right=8)", NEARLY_DENSE * 100 - 1, 100)).toBeUndefined();
    expect(nearlyDenseNote("x", 0, 0)).toBeUndefined();
  });
});
