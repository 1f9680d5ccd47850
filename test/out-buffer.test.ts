/**
 * options.out / options.lse: the result written into the caller's buffers (PyTorch's `out=`).
 * On every backend (reference, js, wasm on 1 and 2 threads, webgpu through attentionAsync) and
 * whatever the buffers held before (NaN with an odd payload, random values, an earlier
 * result), the result is bit for bit that of a call without them, returned as the same
 * objects; fully masked rows (out 0, lse −∞), rows merged across union parts and LSH rounds,
 * NaN-poisoned rows and rows recomputed in float64 (overflow) included. A view into a larger
 * buffer is written exactly in its range. Every misuse is an AttentionArgumentError that names
 * the argument and the fix.
 */
import { describe, expect, test } from "vitest";
import { AttentionArgumentError, attention, attentionAsync, patterns } from "../src/index.js";
import type { AttentionOptions, AttentionResult, Pattern, Tensor } from "../src/types.js";
import { Rng } from "../src/util/rng.js";
import { randomMask, tensor } from "./helpers.js";

interface Runner {
  label: string;
  options: AttentionOptions;
  async: boolean;
  /** Runs content-dependent patterns (LSH): every backend but the reference. */
  content: boolean;
}

const RUNNERS: Runner[] = [
  { label: "reference", options: { backend: "reference" }, async: false, content: false },
  { label: "js", options: { backend: "js" }, async: false, content: true },
  { label: "wasm 1 thread", options: { backend: "wasm", threads: 1 }, async: false, content: true },
  { label: "wasm 2 threads", options: { backend: "wasm", threads: 2 }, async: false, content: true },
  { label: "webgpu", options: { backend: "webgpu" }, async: true, content: true },
  { label: "attentionAsync wasm", options: { backend: "wasm", threads: 2 }, async: true, content: true },
];

function run(r: Runner, q: Tensor, k: Tensor, v: Tensor, o: AttentionOptions): Promise<AttentionResult> {
  const options = { ...o, ...r.options };
  return r.async ? attentionAsync(q, k, v, options) : Promise.resolve(attention(q, k, v, options));
}

function bits(a: Float32Array): Buffer {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength);
}

/** A NaN whose payload no computation produces: a leftover entry is seen even in a NaN row. */
const ODD_NAN = new Float32Array(new Uint32Array([0x7fc0dead]).buffer)[0];

type Fill = "odd NaN" | "random" | "earlier result";
const FILLS: Fill[] = ["odd NaN", "random", "earlier result"];

function filled(n: number, how: Fill, seed: number, earlier: Float32Array): Float32Array {
  const a = new Float32Array(n);
  if (how === "odd NaN") {
    new Uint32Array(a.buffer).fill(0x7fc0dead);
    expect(Number.isNaN(a[0])).toBe(true);
  } else if (how === "random") {
    const rng = new Rng(seed);
    for (let i = 0; i < n; i++) a[i] = (rng.next() - 0.5) * 1e6;
  } else {
    a.set(earlier.subarray(0, n));
  }
  return a;
}

interface Case {
  name: string;
  pattern: Pattern;
  content?: boolean;
  inputs(): { q: Tensor; k: Tensor; v: Tensor };
}

const [B, H, Hkv, Lq, Lk, D] = [2, 4, 2, 75, 90, 16];

function plainInputs(seed: number, lq = Lq, lk = Lk, hkv = Hkv): { q: Tensor; k: Tensor; v: Tensor } {
  const rng = new Rng(seed);
  return { q: tensor([B, H, lq, D], rng), k: tensor([B, hkv, lk, D], rng), v: tensor([B, hkv, lk, D], rng) };
}

const CASES: Case[] = [
  {
    name: "random mask with fully masked rows (GQA)",
    pattern: patterns.mask(randomMask(4, 0.2, true)),
    inputs: () => plainInputs(1),
  },
  {
    name: "union of a window and a mask (rows merged across parts)",
    pattern: patterns.union(
      patterns.slidingWindow({ left: 5, right: 3 }),
      patterns.mask((_q, k) => k % 13 === 4),
    ),
    inputs: () => plainInputs(2),
  },
  {
    name: "NaN and infinity in q, k, v (poisoned rows) and 1e20 entries (float64 rows)",
    pattern: patterns.union(patterns.causal(), patterns.mask(randomMask(5, 0.1, true))),
    inputs: () => {
      const x = plainInputs(3);
      x.q.data[(1 * Lq + 6) * D + 3] = Number.NaN; // batch 0, head 1, row 6
      x.k.data[(2 * Lk + 40) * D] = Number.POSITIVE_INFINITY; // batch 1, kv head 0, key 40
      x.v.data[(1 * Lk + 17) * D + 5] = Number.NaN; // batch 0, kv head 1, key 17
      for (let d = 0; d < D; d++) {
        x.q.data[(5 * Lq + 30) * D + d] = 1e20; // batch 1, head 1, row 30: scores beyond float32
        x.k.data[(0 * Lk + 12) * D + d] = 1e20;
      }
      return x;
    },
  },
  {
    name: "LSH (gathered rows, rounds merged; shared q and k)",
    pattern: patterns.lsh({ buckets: 4, hashes: 2, chunkLength: 8, seed: 7 }),
    content: true,
    inputs: () => {
      const x = plainInputs(4, 96, 96, H);
      return { q: x.q, k: x.q, v: x.v };
    },
  },
];

describe.each(RUNNERS)("options.out on $label", (r) => {
  for (const c of CASES) {
    if (c.content && !r.content) continue;
    test(`${c.name}: bit for bit the call without out, whatever the buffers held`, async () => {
      const { q, k, v } = c.inputs();
      const want = await run(r, q, k, v, { pattern: c.pattern });
      const [, , lq] = q.shape;
      const size = B * H * lq * D;
      // an earlier result of another call (another pattern) on these shapes
      const other = await run(r, q, k, v, { pattern: patterns.slidingWindow({ left: 2, right: 2 }) });
      let seed = 10;
      for (const how of FILLS) {
        const out: Tensor = { data: filled(size, how, seed++, other.out.data), shape: [B, H, lq, D] };
        const lse = filled(B * H * lq, how, seed++, other.lse);
        const got = await run(r, q, k, v, { pattern: c.pattern, out, lse });
        expect(got.out, how).toBe(out);
        expect(got.lse, how).toBe(lse);
        expect(bits(out.data).equals(bits(want.out.data)), `${how}: out`).toBe(true);
        expect(bits(lse).equals(bits(want.lse)), `${how}: lse`).toBe(true);
        expect(got.stats).toEqual(want.stats);
        // out alone, then lse alone
        const out2: Tensor = { data: filled(size, how, seed++, other.out.data), shape: [B, H, lq, D] };
        const onlyOut = await run(r, q, k, v, { pattern: c.pattern, out: out2 });
        expect(onlyOut.out).toBe(out2);
        expect(bits(out2.data).equals(bits(want.out.data)), `${how}: out alone`).toBe(true);
        expect(bits(onlyOut.lse).equals(bits(want.lse))).toBe(true);
        const lse2 = filled(B * H * lq, how, seed++, other.lse);
        const onlyLse = await run(r, q, k, v, { pattern: c.pattern, lse: lse2 });
        expect(onlyLse.lse).toBe(lse2);
        expect(bits(lse2).equals(bits(want.lse)), `${how}: lse alone`).toBe(true);
        expect(bits(onlyLse.out.data).equals(bits(want.out.data))).toBe(true);
      }
      // the case's special rows are there: fully masked rows (out 0, lse −∞) where the mask has holes
      if (c.name.startsWith("random mask")) {
        const empty = [...want.lse].filter((x) => x === Number.NEGATIVE_INFINITY).length;
        expect(empty).toBeGreaterThan(0);
      }
      if (c.name.startsWith("NaN")) expect([...want.lse].some(Number.isNaN)).toBe(true);
    });
  }

  test("a view into a larger buffer: exactly its range is written", async () => {
    const { q, k, v } = plainInputs(8);
    const pattern = patterns.mask(randomMask(6, 0.3, true));
    const want = await run(r, q, k, v, { pattern });
    const size = B * H * Lq * D;
    const big = new Float32Array(size + 11).fill(ODD_NAN);
    const lseBig = new Float32Array(B * H * Lq + 5).fill(-7.5);
    const out: Tensor = { data: big.subarray(3, 3 + size), shape: [B, H, Lq, D] };
    const lse = lseBig.subarray(2, 2 + B * H * Lq);
    await run(r, q, k, v, { pattern, out, lse });
    expect(bits(out.data).equals(bits(want.out.data))).toBe(true);
    expect(bits(lse).equals(bits(want.lse))).toBe(true);
    for (const i of [0, 1, 2, size + 3, size + 10])
      expect(bits(big.subarray(i, i + 1)).readUInt32LE(0)).toBe(0x7fc0dead);
    for (const i of [0, 1, B * H * Lq + 2, B * H * Lq + 4]) expect(lseBig[i]).toBe(-7.5);
  });
});

describe("options.out with a compiled plan and on auto", () => {
  test("one buffer reused across calls of different plans and inputs", () => {
    const out: Tensor = { data: new Float32Array(B * H * Lq * D).fill(ODD_NAN), shape: [B, H, Lq, D] };
    for (const [seed, pattern] of [
      [20, patterns.causal()],
      [21, patterns.mask(randomMask(2, 0.05, true))],
      [22, patterns.dense()],
    ] as const) {
      const { q, k, v } = plainInputs(seed);
      const want = attention(q, k, v, { pattern });
      const got = attention(q, k, v, { pattern, out });
      expect(got.out).toBe(out);
      expect(bits(out.data).equals(bits(want.out.data))).toBe(true);
    }
  });
});

describe("options.out / options.lse errors", () => {
  const { q, k, v } = plainInputs(30);
  const size = B * H * Lq * D;
  const rows = B * H * Lq;
  const call = (o: AttentionOptions) => () => attention(q, k, v, o);

  test("wrong shape names both shapes", () => {
    const out: Tensor = { data: new Float32Array(size), shape: [B, H, Lq, D + 1] };
    expect(call({ out })).toThrow(AttentionArgumentError);
    expect(call({ out })).toThrow(
      `options.out.shape: got [2, 4, 75, 17]; expected [2, 4, 75, 16], the result's shape [B, H, Lq, D] (q.shape [2, 4, 75, 16], v.shape [2, 2, 90, 16])`,
    );
    // a shape with the right size but the wrong order is still the wrong shape
    expect(call({ out: { data: new Float32Array(size), shape: [B, Lq, H, D] } })).toThrow(/options\.out\.shape/);
    expect(call({ out: { data: new Float32Array(size), shape: [B, H, Lq] as never } })).toThrow(
      /options\.out\.shape: got \[2, 4, 75\]/,
    );
  });

  test("wrong length, not a Float32Array, not a tensor", () => {
    const out: Tensor = { data: new Float32Array(size - 1), shape: [B, H, Lq, D] };
    expect(call({ out })).toThrow(`options.out.data.length: got ${size - 1}; expected ${size}`);
    expect(call({ out: { data: new Float64Array(size) as never, shape: [B, H, Lq, D] } })).toThrow(
      /options\.out\.data: got Float64Array\(9600\); expected a Float32Array of 9600 entries/,
    );
    expect(call({ out: { data: [] as never, shape: [B, H, Lq, D] } })).toThrow(/options\.out\.data: got \[\]/);
    expect(call({ out: new Float32Array(size) as never })).toThrow(/options\.out\.data: got undefined/);
    expect(call({ out: 5 as never })).toThrow(/options\.out: got 5; expected a tensor \{ data: Float32Array\(9600\)/);
  });

  test("a buffer that overlaps q, k or v is refused, saying why", () => {
    const shared = new Float32Array(size * 2);
    const q2: Tensor = { data: shared.subarray(0, size), shape: [B, H, Lq, D] };
    // overlapping by one float
    const out: Tensor = { data: shared.subarray(size - 1, 2 * size - 1), shape: [B, H, Lq, D] };
    expect(() => attention(q2, k, v, { out })).toThrow(AttentionArgumentError);
    expect(() => attention(q2, k, v, { out })).toThrow(
      `options.out.data: got Float32Array(9600); expected a Float32Array that shares no memory with q.data: both view the same ArrayBuffer and its bytes [38396, 76796) intersect q.data's [0, 38400)`,
    );
    expect(() => attention(q2, k, v, { out })).toThrow(/Pass a separate buffer/);
    // the same buffer, next to q: allowed
    const beside: Tensor = { data: shared.subarray(size, 2 * size), shape: [B, H, Lq, D] };
    const want = attention(q2, k, v, { backend: "js" });
    expect(attention(q2, k, v, { out: beside, backend: "js" }).out).toBe(beside);
    expect(bits(beside.data).equals(bits(want.out.data))).toBe(true);
    // out is v (self-attention with q = k = v written in place)
    const x = plainInputs(31, Lq, Lq, H);
    expect(() => attention(x.q, x.q, x.q, { out: x.q })).toThrow(/shares no memory with q\.data/);
    expect(() => attention(x.q, x.k, x.v, { out: { data: x.k.data, shape: [B, H, Lq, D] } })).toThrow(
      /shares no memory with k\.data/,
    );
    expect(() => attention(x.q, x.k, x.v, { out: { data: x.v.data, shape: [B, H, Lq, D] } })).toThrow(
      /shares no memory with v\.data/,
    );
  });

  test("a SharedArrayBuffer shared with an input is refused too", () => {
    const sab = new SharedArrayBuffer(size * 4 * 2);
    const q2: Tensor = { data: new Float32Array(sab, 0, size), shape: [B, H, Lq, D] };
    q2.data.set(q.data);
    const out: Tensor = { data: new Float32Array(sab, 4 * 16, size), shape: [B, H, Lq, D] };
    expect(() => attention(q2, k, v, { out })).toThrow(/same SharedArrayBuffer/);
  });

  test("options.lse: wrong length, wrong type, overlapping an input or out", () => {
    expect(call({ lse: new Float32Array(rows + 1) })).toThrow(
      `options.lse.length: got ${rows + 1}; expected ${rows} = B·H·Lq, the log-sum-exp's shape [2, 4, 75]`,
    );
    expect(call({ lse: new Float64Array(rows) as never })).toThrow(/options\.lse: got Float64Array\(600\)/);
    expect(call({ lse: q.data.subarray(0, rows) })).toThrow(/options\.lse: .*shares no memory with q\.data/);
    const data = new Float32Array(size + rows);
    const out: Tensor = { data: data.subarray(0, size), shape: [B, H, Lq, D] };
    expect(call({ out, lse: data.subarray(size - 1, size - 1 + rows) })).toThrow(
      /options\.lse: .*shares no memory with options\.out\.data/,
    );
    const ok = call({ out, lse: data.subarray(size, size + rows) })();
    expect(ok.out).toBe(out);
  });

  test("the keys are known options (a near miss says so)", () => {
    expect(call({ outt: 1 } as never)).toThrow(/unknown option "outt".*did you mean "out"/);
  });

  test("errors reach attentionAsync's promise", async () => {
    const out: Tensor = { data: new Float32Array(size), shape: [B, H, Lq, D - 1] };
    await expect(attentionAsync(q, k, v, { out })).rejects.toThrow(/options\.out\.shape/);
    await expect(attentionAsync(q, k, v, { backend: "webgpu", lse: new Float32Array(1) })).rejects.toThrow(
      /options\.lse\.length/,
    );
  });
});
