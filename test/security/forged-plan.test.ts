/**
 * Issue 19, item 8: only plans made by compile() run. A plan's rows and dims index the
 * kernels' memory, so a copy (JSON round trip, structured clone, spread), a hand-made object or
 * an edited plan is refused on every backend and by explain(), and the error says why.
 */
import { describe, expect, test } from "vitest";
import { attention, attentionAsync, compile, explain, patterns } from "../../src/index.js";
import { Rng } from "../../src/util/rng.js";
import { tensor } from "../helpers.js";

const B = 1;
const H = 2;
const L = 40;
const D = 8;
const rng = new Rng(19);
const q = tensor([B, H, L, D], rng);
const k = tensor([B, H, L, D], rng);
const v = tensor([B, H, L, D], rng);
const plan = compile(patterns.slidingWindow({ left: 3, right: 3 }), { queryLength: L, heads: H, headDim: D, batch: B });

const forgeries: [string, () => unknown][] = [
  ["a JSON round trip", () => JSON.parse(JSON.stringify(plan))],
  ["a structured clone", () => structuredClone({ ...plan, source: undefined })],
  ["a spread with the same fields", () => ({ ...plan })],
  ["a spread with edited dims", () => ({ ...plan, dims: { ...plan.dims, queryLength: L * 2 } })],
  ["an object inheriting from the plan", () => Object.create(plan)],
  ["a proxy of the plan", () => new Proxy(plan, {})],
];

describe("forged plans are refused with an error that says only compile()'s plans run", () => {
  const FORGED = /options\.plan: .*compile\(\) did not make.*only plans made by compile\(\) are accepted/;
  for (const backend of ["auto", "js", "wasm", "reference"] as const) {
    test.each(forgeries)(`${backend}: %s`, (_label, forge) => {
      expect(() => attention(q, k, v, { plan: forge() as typeof plan, backend })).toThrow(FORGED);
    });
  }
  test.each(forgeries)("attentionAsync: %s", async (_label, forge) => {
    await expect(attentionAsync(q, k, v, { plan: forge() as typeof plan })).rejects.toThrow(FORGED);
  });
  test.each(forgeries)("explain: %s", (_label, forge) => {
    expect(() => explain(forge() as typeof plan)).toThrow(/explain\(plan\): .*compile\(\) did not make/);
  });
  test("something that is no plan at all is still named as such", () => {
    expect(() => attention(q, k, v, { plan: { rows: [] } as unknown as typeof plan })).toThrow(
      /options\.plan: got an object with keys \{rows\}; expected a plan from compile/,
    );
  });
});

test("the plan compile() made runs, and equals planning from the pattern", () => {
  const want = attention(q, k, v, { pattern: plan.source, backend: "js" });
  for (const backend of ["js", "wasm", "reference"] as const) {
    expect(attention(q, k, v, { plan, backend }).out.data).toEqual(
      backend === "js" ? want.out.data : attention(q, k, v, { pattern: plan.source, backend }).out.data,
    );
  }
  expect(explain(plan).allowedPairs).toBe(plan.allowedPairs);
});
