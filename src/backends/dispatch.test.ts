/**
 * The one dispatcher (dispatch.ts, op.ts): notSupportedReasons are pure, "auto" records the
 * reasons of every op it passes over (the GPU's too, in attentionAsync), a forced op that
 * cannot run throws with its reasons, a refusal at run time falls back, and linear() reports
 * what it ran.
 */
import { describe, expect, test } from "vitest";
import { tensor } from "../../test/helpers.js";
import { attentionAsync } from "../async.js";
import { attention, prepare } from "../attention.js";
import { AttentionArgumentError } from "../errors.js";
import * as patterns from "../pattern/index.js";
import { Rng } from "../util/rng.js";
import { ATTENTION_OPS, LINEAR_OPS, type LinearReport, linear, useNativeLinear } from "./dispatch.js";
import { choose, type Op, OpRefusedError, runChoice } from "./op.js";
import { wasmPlansSerialised } from "./wasm/wasm.js";

describe("attention ops", () => {
  test("notSupportedReasons prepare nothing: no key transform, no plan serialised, same answer twice", () => {
    const rng = new Rng(1);
    const q = tensor([1, 2, 64, 8], rng);
    const lsh = patterns.lsh({ buckets: 4, hashes: 2, chunkLength: 16, seed: 3 });
    const { problem } = prepare(q, q, q, { pattern: lsh });
    let transforms = 0;
    const content = problem.pattern.content!;
    problem.pattern = {
      ...problem.pattern,
      content: {
        ...content,
        transformKeys: (k, L, D) => {
          transforms++;
          return content.transformKeys!(k, L, D);
        },
      },
    };
    const before = wasmPlansSerialised();
    const first = ATTENTION_OPS.map((op) => op.notSupportedReasons(problem));
    const second = ATTENTION_OPS.map((op) => op.notSupportedReasons(problem));
    expect(transforms).toBe(0);
    expect(wasmPlansSerialised()).toBe(before);
    expect(second).toEqual(first);
    expect(first[ATTENTION_OPS.findIndex((o) => o.name === "wasm")]).toEqual([]);
    expect(first[ATTENTION_OPS.findIndex((o) => o.name === "reference")][0]).toMatch(/content-dependent/);
  });

  test("attention() never lists the asynchronous GPU as skipped; forcing it names attentionAsync", () => {
    const q = tensor([1, 1, 32, 8], new Rng(2));
    expect(attention(q, q, q).stats.fallbackReasons).toBeUndefined();
    expect(() => attention(q, q, q, { backend: "webgpu" })).toThrow(/"webgpu" cannot: WebGPU runs asynchronously/);
  });

  test('attentionAsync "auto" without a GPU at hand says why in stats.fallbackReasons', async () => {
    const small = tensor([1, 1, 32, 8], new Rng(3));
    const r = await attentionAsync(small, small, small);
    expect(r.stats.backend).toBe("wasm");
    expect(r.stats.fallbackReasons).toEqual([
      "webgpu: 1024 query-key pairs, below 4194304: the upload costs more than the GPU saves",
    ]);
    // large enough for the GPU, but Node has no navigator.gpu and auto loads nothing
    const big = tensor([1, 1, 2048, 4], new Rng(4));
    const pattern = patterns.slidingWindow({ left: 8, right: 8 });
    const b = await attentionAsync(big, big, big, { pattern });
    expect(b.stats.backend).toBe("wasm");
    expect(b.stats.fallbackReasons).toHaveLength(1);
    expect(b.stats.fallbackReasons![0]).toMatch(/^webgpu: no options\.gpu and no navigator\.gpu/);
    const sync = attention(big, big, big, { pattern });
    expect(Array.from(b.out.data)).toEqual(Array.from(sync.out.data));
  });
});

describe("linear ops", () => {
  test("linear() reports the op that ran, its threads and why auto passed others over", () => {
    const rng = new Rng(5);
    const x = Float32Array.from({ length: 6 * 5 }, () => rng.normal());
    const W = Float32Array.from({ length: 3 * 5 }, () => rng.normal());
    const report: LinearReport = {};
    const y = linear(x, 6, 5, W, 3, null, undefined, { report });
    expect(report.backend).toBe("wasm");
    expect(report.threads).toBe(1);
    // the native op (onnxruntime-node) is passed over until the user opts in, and says so
    expect(report.fallbackReasons).toEqual([expect.stringMatching(/^native: (not opted in|the optional package)/)]);
    const js: LinearReport = {};
    const yj = linear(x, 6, 5, W, 3, null, undefined, { backend: "js", report: js });
    expect(js.backend).toBe("js");
    for (let i = 0; i < y.length; i++) expect(Math.abs(y[i] - yj[i])).toBeLessThan(1e-5);
  });

  test("a shape the wasm GEMM cannot take: auto falls back to js saying why, forced wasm throws the reason", () => {
    const outF = 65535 * 8 + 1; // one panel more than a work item can index
    const x = new Float32Array([1]);
    const W = new Float32Array(outF).fill(2);
    const report: LinearReport = {};
    const y = linear(x, 1, 1, W, outF, null, undefined, { report });
    expect(y[outF - 1]).toBe(2);
    expect(report.backend).toBe("js");
    expect(report.fallbackReasons?.slice(1)).toEqual([`wasm: outF ${outF} exceeds 524280`]);
    expect(() => linear(x, 1, 1, W, outF, null, undefined, { backend: "wasm" })).toThrow(AttentionArgumentError);
    expect(() => linear(x, 1, 1, W, outF, null, undefined, { backend: "wasm" })).toThrow(
      /"wasm" cannot: outF 524281 exceeds 524280/,
    );
    expect(() => linear(x, 1, 1, W, outF, null, undefined, { backend: "gpu" as never })).toThrow(
      /"auto", "native", "wasm", "js"/,
    );
  });

  test("native (onnxruntime-node, installed here as a dev dependency): forced, or auto once opted in; within float32 rounding of js", () => {
    const rng = new Rng(9);
    const [rows, inF, outF] = [37, 48, 20];
    const x = Float32Array.from({ length: rows * inF }, () => rng.normal());
    const W = Float32Array.from({ length: outF * inF }, () => rng.normal());
    const b = Float32Array.from({ length: outF }, () => rng.normal());
    const js = linear(x, rows, inF, W, outF, b, undefined, { backend: "js" });
    const forced: LinearReport = {};
    const y = linear(x, rows, inF, W, outF, b, undefined, { backend: "native", report: forced });
    expect(forced.backend).toBe("native");
    for (let i = 0; i < y.length; i++) expect(Math.abs(y[i] - js[i])).toBeLessThan(1e-4 * (1 + Math.abs(js[i])));
    const old = useNativeLinear(true);
    try {
      const auto: LinearReport = {};
      const again = linear(x, rows, inF, W, outF, b, undefined, { report: auto });
      expect(auto).toMatchObject({ backend: "native", fallbackReasons: undefined });
      expect(Array.from(again)).toEqual(Array.from(y)); // the cached session, same bits
    } finally {
      useNativeLinear(old);
    }
  });

  test("the lists name every op once", () => {
    for (const ops of [ATTENTION_OPS.map((o) => o.name), LINEAR_OPS.map((o) => o.name)]) {
      expect(new Set(ops).size).toBe(ops.length);
    }
  });
});

describe("the machinery (op.ts) on a list of made-up ops", () => {
  type P = { n: number };
  const ctx = { async: false, option: "options.backend", what: "this problem" };
  const op = (name: string, can: (p: P) => boolean, run: (p: P) => string, extra: Partial<Op<P, string>> = {}) =>
    ({ name, notSupportedReasons: (p: P) => (can(p) ? [] : [`${name} needs n > 1`]), run, ...extra }) as Op<P, string>;

  test("auto takes the first that can run, forced throws, async ops are no candidates of sync callers", () => {
    const gpu = op(
      "gpu",
      () => true,
      () => "gpu",
      { async: true },
    );
    const fast = op(
      "fast",
      (p) => p.n > 1,
      () => "fast",
    );
    const slow = op(
      "slow",
      () => true,
      () => "slow",
      { autoDeclines: () => [] },
    );
    const ops = [gpu, fast, slow];
    expect(choose(ops, "auto", { n: 2 }, ctx).op.name).toBe("fast");
    const c = choose(ops, "auto", { n: 1 }, ctx);
    expect(c.op.name).toBe("slow");
    expect(c.skipped).toEqual(["fast: fast needs n > 1"]);
    expect(choose(ops, "auto", { n: 1 }, { ...ctx, async: true }).op.name).toBe("gpu");
    expect(() => choose(ops, "fast", { n: 1 }, ctx)).toThrow(/"fast" cannot: fast needs n > 1/);
    expect(() => choose(ops, "gpu", { n: 1 }, ctx)).toThrow(/gpu runs asynchronously/);
    expect(() => choose(ops, "nope", { n: 1 }, ctx)).toThrow(/one of "auto", "fast", "slow", "gpu"/);
  });

  test("autoDeclines only steer auto; a refusal at run time falls back under auto, not when forced", () => {
    const picky = op(
      "picky",
      () => true,
      () => "picky",
      { autoDeclines: () => ["too small for picky"] },
    );
    const refuses = op(
      "refuses",
      () => true,
      () => {
        throw new OpRefusedError("no memory");
      },
    );
    const last = op(
      "last",
      () => true,
      () => "last",
    );
    const ops = [picky, refuses, last];
    const c = choose(ops, "auto", { n: 1 }, ctx);
    let why: string[] = [];
    expect(runChoice(ops, c, { n: 1 }, ctx, true, (_r, w) => (why = w))).toBe("last");
    expect(why).toEqual(["picky: too small for picky", "refuses: no memory"]);
    expect(choose(ops, "picky", { n: 1 }, ctx).op.name).toBe("picky");
    const forced = choose(ops, "refuses", { n: 1 }, ctx);
    expect(() => runChoice(ops, forced, { n: 1 }, ctx, false, () => {})).toThrow(/no memory/);
  });
});
