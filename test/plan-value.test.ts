/**
 * Plans are values (issue #9, item 1): compile() once, run many times with no planning,
 * bitwise equal to passing the pattern; shape mismatches name both shapes; explain(plan)
 * equals the counted explain and the stats; content patterns without data say they plan
 * from data; unknown option keys are errors with a "did you mean".
 */
import { describe, expect, test } from "vitest";
import { wasmPlansSerialised } from "../src/backends/wasm/wasm.js";
import { attention, compile, explain, patterns } from "../src/index.js";
import { partsBuilt } from "../src/layout/part.js";
import { planBuilds } from "../src/layout/plan.js";
import { Rng } from "../src/util/rng.js";
import { backendOptions, TEST_BACKENDS } from "./backends.js";
import { tensor } from "./helpers.js";

const { longformer, union, causal, mask, slidingWindow, bigBird, lsh } = patterns;

describe("a compiled plan runs with no planning", () => {
  const B = 2;
  const H = 4;
  const L = 96;
  const D = 16;
  const pattern = union(
    longformer({ window: 5, global: [0, 50] }),
    mask((q, k) => (q * 7 + k) % 11 === 0, { name: "hash", headDependent: false }),
  );
  const rng = new Rng(9);
  const q = tensor([B, H, L, D], rng);
  const k = tensor([B, 2, L, D], rng);
  const v = tensor([B, 2, L, D], rng);

  test.each(TEST_BACKENDS)("100 runs of one plan on $label: zero plans built, bitwise equal to { pattern }", (b) => {
    const plan = compile(pattern, { queryLength: L, heads: H, headDim: D, batch: B });
    const want = attention(q, k, v, { pattern, ...backendOptions(b) });
    const plans0 = planBuilds();
    const parts0 = partsBuilt();
    const serial0 = wasmPlansSerialised();
    for (let i = 0; i < 100; i++) {
      const got = attention(q, k, v, { plan, ...backendOptions(b) });
      expect(got.out.data).toEqual(want.out.data);
      expect(got.lse).toEqual(want.lse);
      expect(got.stats.scoredPairs).toBe(want.stats.scoredPairs);
    }
    expect(planBuilds() - plans0, "plans built by 100 runs").toBe(0);
    expect(partsBuilt() - parts0, "parts built by 100 runs").toBe(0);
    expect(wasmPlansSerialised() - serial0, "plan written into wasm memory at most once").toBeLessThanOrEqual(1);
  });

  test("the plan is frozen; explain(plan) equals explain(pattern, dims) and the stats", () => {
    const dims = { queryLength: L, heads: H, headDim: D, batch: B };
    const plan = compile(pattern, dims);
    expect(Object.isFrozen(plan)).toBe(true);
    expect(Object.isFrozen(plan.rows)).toBe(true);
    expect(Object.isFrozen(plan.rows[0])).toBe(true);
    expect(Object.isFrozen(plan.rows[0][0])).toBe(true);
    expect(() => {
      (plan as { batch: number }).batch = 3;
    }).toThrow(TypeError);
    const a = explain(plan);
    const c = explain(pattern, dims);
    const s = attention(q, k, v, { plan, backend: "js" }).stats;
    for (const e of [a, c]) {
      expect(e.allowedPairs).toBe(s.allowedPairs);
      expect(e.scoredPairs).toBe(s.scoredPairs);
      expect(e.tiles).toBe(s.tiles);
      expect(e.bytes).toBe(s.bytes);
      expect(e.parts.length).toBe(s.parts);
    }
    expect(plan.heads.length).toBe(H);
    expect(plan.heads[1]).toBe(plan.rows[1]);
  });

  test("a plan for other shapes is refused, naming both shapes", () => {
    const plan = compile(causal(), { queryLength: 64, heads: H, headDim: D, batch: B });
    expect(() => attention(q, k, v, { plan })).toThrow(
      /plan compiled for q \[2, 4, 64, 16\].*q\.shape \[2, 4, 96, 16\], k\.shape \[2, 2, 96, 16\]/,
    );
    expect(() => attention(q, k, v, { plan, pattern: causal() })).toThrow(
      /options\.pattern.*no pattern with options\.plan/,
    );
    expect(() => attention(q, k, v, { plan: { kind: "nope" } as never })).toThrow(/options\.plan.*compile/);
  });

  test("a model's forward: compile each distinct pattern once, reuse it across 12 layers", () => {
    const perRow = patterns.perBatch([
      longformer({ window: 4, global: [0] }),
      longformer({ window: 4, global: [0, 7] }),
    ]);
    const padded = patterns.intersect(perRow, patterns.keyPadding([96, 60]));
    const before = planBuilds();
    const plan = compile(padded, { queryLength: L, heads: H, headDim: D, batch: B });
    let x = q;
    for (let layer = 0; layer < 12; layer++) x = attention(x, k, v, { plan, backend: "js" }).out;
    expect(planBuilds() - before).toBe(1);
  });

  test("content-dependent patterns plan from data: compile/explain without q, k say so", () => {
    const p = lsh({ buckets: 4, hashes: 1, chunkLength: 8 });
    expect(() => compile(p, { queryLength: 32, headDim: 8 })).toThrow(
      /content-dependent \(it plans from q and k\).*pass \{ q, k \}/,
    );
    expect(() => explain(p, { queryLength: 32, headDim: 8 })).toThrow(/content-dependent/);
    const qk = tensor([1, 1, 32, 8], new Rng(1));
    const plan = compile(p, { queryLength: 32, headDim: 8, q: qk, k: qk });
    expect(plan.fromData).toBe(true);
    const want = attention(qk, qk, qk, { pattern: p, backend: "js" });
    const got = attention(qk, qk, qk, { plan, backend: "js" });
    expect(got.out.data).toEqual(want.out.data);
    expect(explain(plan).bytes).toBe(got.stats.bytes);
    expect(explain(p, { queryLength: 32, headDim: 8, q: qk, k: qk }).bytes).toBe(got.stats.bytes);
  });
});

describe("unknown option keys are errors with a did-you-mean", () => {
  test.each([
    [() => longformer({ window: 4, globl: [0] } as never), /unknown option "globl".*did you mean "global"/],
    [() => slidingWindow({ left: 2, rigth: 1 } as never), /unknown option "rigth".*did you mean "right"/],
    [() => bigBird({ blockSize: 4, randomBlock: 1 } as never), /did you mean "randomBlocks"/],
    [() => causal({ allign: "top-left" } as never), /did you mean "align"/],
    [() => patterns.strided({ stride: 4, factorised: true } as never), /did you mean "factorized"/],
    [() => patterns.fixed({ block: 4, summary: 1, sumary: 2 } as never), /did you mean "summary"/],
    [() => patterns.dilatedWindow({ left: 1, right: 1, dilation: 2, dilaton: 3 } as never), /did you mean "dilation"/],
    [() => mask(() => true, { tilekind: () => 1 } as never), /did you mean "tileKind"/],
    [() => compile(causal(), { queryLength: 8, headDim: 4, head: 2 } as never), /did you mean "heads"/],
    [() => explain(causal(), { queryLenght: 8, headDim: 4 } as never), /did you mean "queryLength"/],
    [() => compile(causal(), { queryLength: 8, headDim: 4 }, { chek: true } as never), /did you mean "check"/],
  ])("%#", (run, message) => {
    expect(run).toThrow(message);
  });

  test("attention({ pattren }) is an error, not dense", () => {
    const t = tensor([1, 1, 4, 4], new Rng(2));
    expect(() => attention(t, t, t, { pattren: causal() } as never)).toThrow(
      /unknown option "pattren".*did you mean "pattern"/,
    );
    expect(() => attention(t, t, t, { backnd: "js" } as never)).toThrow(/did you mean "backend"/);
  });
});
