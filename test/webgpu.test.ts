/**
 * The WebGPU backend in Node (Dawn, on Chromium's SwiftShader Vulkan driver where no GPU
 * driver is installed): its error paths, the bit-packed masks it uploads, dispatch splitting,
 * plan caching, options.gpu, "auto", and stats equal to attention()'s. The kernel's numbers
 * are checked against the oracle by every property and conformance suite (test/backends.ts).
 * No adapter is a failure here, never a skip.
 */
import { describe, expect, test } from "vitest";
import { defaultGpu, type GpuContext } from "../src/backends/webgpu/device.js";
import { packPartMasks } from "../src/backends/webgpu/pack.js";
import { runWebGPU } from "../src/backends/webgpu/run.js";
import {
  AttentionArgumentError,
  attention,
  attentionAsync,
  compile,
  patterns,
  webgpuNotSupportedReasons,
} from "../src/index.js";
import { Rng } from "../src/util/rng.js";
import { expectMatchesOracle, oracle, randomMask, tensor } from "./helpers.js";

async function gpu(): Promise<GpuContext> {
  const ctx = await defaultGpu();
  if (typeof ctx === "string") throw new Error(`no WebGPU adapter: ${ctx}`);
  return ctx;
}

describe("webgpu backend", () => {
  test("an adapter is found (Dawn; SwiftShader where no GPU driver is installed)", async () => {
    const ctx = await gpu();
    expect(ctx.adapterName.length).toBeGreaterThan(0);
    const rng = new Rng(1);
    const q = tensor([1, 1, 4, 8], rng);
    expect(await webgpuNotSupportedReasons(q, q, q)).toEqual([]);
  });

  test("attention() with backend webgpu throws and points to attentionAsync", () => {
    const q = tensor([1, 1, 4, 8], new Rng(2));
    expect(() => attention(q, q, q, { backend: "webgpu" })).toThrow(AttentionArgumentError);
    expect(() => attention(q, q, q, { backend: "webgpu" })).toThrow(/attentionAsync/);
  });

  test("bad options.gpu and a head dimension above the kernel's limit are clear errors", async () => {
    const q = tensor([1, 1, 4, 8], new Rng(3));
    await expect(attentionAsync(q, q, q, { backend: "webgpu", gpu: {} })).rejects.toThrow(/options\.gpu.*GPUDevice/);
    const big = tensor([1, 1, 2, 1100], new Rng(4));
    await expect(attentionAsync(big, big, big, { backend: "webgpu" })).rejects.toThrow(/headDim 1100 is above/);
  });

  test("results and stats equal attention()'s accounting; options.gpu runs on the caller's device", async () => {
    const ctx = await gpu();
    const rng = new Rng(5);
    const [B, H, Hkv, Lq, Lk, D] = [2, 4, 2, 150, 97, 24];
    const q = tensor([B, H, Lq, D], rng);
    const k = tensor([B, Hkv, Lk, D], rng);
    const v = tensor([B, Hkv, Lk, D], rng);
    const pattern = patterns.union(patterns.causal({ align: "top-left" }), patterns.mask(randomMask(9, 0.05, true)));
    const cpu = attention(q, k, v, { pattern, backend: "js" });
    for (const options of [{ backend: "webgpu" as const }, { backend: "webgpu" as const, gpu: ctx.device }]) {
      const got = await attentionAsync(q, k, v, { pattern, ...options });
      const want = oracle(
        q,
        k,
        v,
        1 / Math.sqrt(D),
        pattern.bind({ queryLength: Lq, keyLength: Lk, heads: H, headDim: D }).mask,
      );
      expectMatchesOracle({ out: got.out.data, lse: got.lse }, want, D, 1);
      const { backend, backendBytes, threads, adapter, ...rest } = got.stats;
      const { backend: _b, backendBytes: _bb, threads: _t, ...cpuRest } = cpu.stats;
      expect(rest).toEqual(cpuRest);
      expect(backend).toBe("webgpu");
      expect(threads).toBe(1);
      expect(backendBytes).toBeGreaterThan(0);
      expect(adapter).toBe(options.gpu ? "caller's GPUDevice" : ctx.adapterName);
    }
  });

  test("NaN in one query row does not crash and leaves every other row exact", async () => {
    const rng = new Rng(9);
    const [Lq, D] = [70, 4];
    const q = tensor([1, 1, Lq, D], rng);
    const k = tensor([1, 1, Lq, D], rng);
    const v = tensor([1, 1, Lq, D], rng);
    q.data[5] = Number.NaN; // row 1
    const got = await attentionAsync(q, k, v, { backend: "webgpu", pattern: patterns.causal() });
    const want = oracle(q, k, v, 1 / Math.sqrt(D), (i, j) => j <= i);
    for (let r = 0; r < Lq; r++) {
      if (r === 1) continue;
      expect(Math.abs(got.lse[r] - want.lse[r]), `row ${r}`).toBeLessThanOrEqual(1e-5);
      for (let d = 0; d < D; d++) {
        expect(Math.abs(got.out.data[r * D + d] - want.out[r * D + d]), `row ${r}`).toBeLessThanOrEqual(1e-5);
      }
    }
  });

  test("problems larger than a binding are split into dispatches that fit, with the same result", async () => {
    const ctx = await gpu();
    const rng = new Rng(6);
    const [B, H, Hkv, Lq, Lk, D] = [2, 3, 1, 130, 70, 16];
    const q = tensor([B, H, Lq, D], rng);
    const k = tensor([B, Hkv, Lk, D], rng);
    const v = tensor([B, Hkv, Lk, D], rng);
    const pattern = patterns.slidingWindow({ left: 20, right: 5 });
    const shapes = { B, H, Hkv, Lq, Lk, D };
    const plan = compile(pattern, { batch: B, heads: H, queryLength: Lq, keyLength: Lk, headDim: D });
    const one = await runWebGPU(ctx, { shapes, q: q.data, k: k.data, v: v.data, plan, scale: 0.25 });
    // one head's q rows are 130 * 16 * 4 = 8320 bytes: at most one head per chunk
    const split = await runWebGPU(ctx, {
      shapes,
      q: q.data,
      k: k.data,
      v: v.data,
      plan,
      scale: 0.25,
      maxBindingBytes: 9000,
    });
    expect(one.dispatches).toBe(2);
    expect(split.dispatches).toBe(2 * B * H);
    expect(Array.from(split.out)).toEqual(Array.from(one.out));
    expect(Array.from(split.lse)).toEqual(Array.from(one.lse));
    const want = oracle(q, k, v, 0.25, pattern.bind({ queryLength: Lq, keyLength: Lk, heads: H, headDim: D }).mask);
    expectMatchesOracle({ out: split.out, lse: split.lse }, want, D, 1);
    await expect(
      runWebGPU(ctx, { shapes, q: q.data, k: k.data, v: v.data, plan, scale: 0.25, maxBindingBytes: 4000 }),
    ).rejects.toThrow(/maxStorageBufferBindingSize/);
  });

  test("a plan reused across calls stays on the GPU (cached by the parts arrays' identity)", async () => {
    const ctx = await gpu();
    const rng = new Rng(7);
    const [Lq, D] = [90, 8];
    const q = tensor([1, 2, Lq, D], rng);
    const plan = compile(patterns.slidingWindow({ left: 7, right: 7 }), { queryLength: Lq, heads: 2, headDim: D });
    const shapes = { B: 1, H: 2, Hkv: 2, Lq, Lk: Lq, D };
    const a = await runWebGPU(ctx, { shapes, q: q.data, k: q.data, v: q.data, plan, scale: 1 });
    const b = await runWebGPU(ctx, { shapes, q: q.data, k: q.data, v: q.data, plan, scale: 1 });
    expect(a.planUploads).toBe(1);
    expect(b.planUploads).toBe(0);
    expect(Array.from(b.out)).toEqual(Array.from(a.out));
  });

  test('"auto" takes webgpu only for a hardware adapter and a large problem; wasm here otherwise', async () => {
    const ctx = await gpu();
    const q = tensor([1, 1, 64, 8], new Rng(8));
    expect((await attentionAsync(q, q, q)).stats.backend).toBe("wasm");
    expect((await attentionAsync(q, q, q, { gpu: ctx.device })).stats.backend).toBe("wasm");
  });
});

describe("packPartMasks: the bit-packed mask format", () => {
  test("bit r * cols + c of each partial tile is the mask's answer, full tiles -1; the plan's own words", () => {
    for (const seed of [1, 2, 3]) {
      const fn = randomMask(seed, 0.4, true);
      const plan = compile(patterns.mask(fn), { queryLength: 150, keyLength: 77, headDim: 4 });
      const part = plan.heads[0][0];
      const { maskWords, maskOff } = packPartMasks(part);
      let partial = 0;
      for (let qt = 0; qt + 1 < part.qTiles.length; qt++) {
        const rows = part.qTiles[qt + 1] - part.qTiles[qt];
        for (let e = part.rowPtr[qt]; e < part.rowPtr[qt + 1]; e++) {
          expect(maskOff[e] < 0).toBe(part.maskOff[e] < 0);
          if (part.maskOff[e] < 0) continue;
          partial++;
          const kt = part.colIdx[e];
          const cols = part.kTiles[kt + 1] - part.kTiles[kt];
          for (let i = 0; i < rows * cols; i++) {
            const bit = (maskWords[maskOff[e] + (i >>> 5)] >>> (i & 31)) & 1;
            const sr = part.qTiles[qt] + Math.floor(i / cols); // gathered row, then original position
            const sc = part.kTiles[kt] + (i % cols);
            const qi = part.qIndex === null ? sr : part.qIndex[sr];
            const ki = part.kIndex === null ? sc : part.kIndex[sc];
            expect(bit).toBe(fn(qi, ki, 0) ? 1 : 0);
          }
        }
      }
      expect(partial).toBeGreaterThan(0);
      expect(maskWords).toBe(part.maskWords);
      expect(maskOff).toBe(part.maskOff);
    }
  });
});
