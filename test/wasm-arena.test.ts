/**
 * The wasm module's memory keeps compiled attention plans across calls (src/backends/wasm/wasm-plan.ts);
 * a GEMM call lays out its packed weights above them for that call only (src/backends/wasm/gemm.ts).
 * Interleaving the two must never let one overwrite the other: a plan reused after many
 * linear() calls, and a weight used again after a plan was placed, give the same bits as a
 * fresh run.
 */
import { describe, expect, it } from "vitest";
import { linear } from "../src/backends/dispatch.js";
import { attention, compile, patterns, releaseWasm } from "../src/index.js";
import { Rng, randomTensor } from "../src/util/rng.js";

function randomArray(n: number, seed: number): Float32Array {
  const rng = new Rng(seed);
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = rng.normal();
  return a;
}

describe("wasm memory: GEMM calls and the plan arena side by side", () => {
  it("a reused plan and reused weights give the same bits after the other kind grew", () => {
    const [B, H, L, D] = [1, 2, 300, 16];
    const q = randomTensor([B, H, L, D], 1);
    const k = randomTensor([B, H, L, D], 2);
    const v = randomTensor([B, H, L, D], 3);
    const plan = compile(patterns.slidingWindow({ left: 20, right: 20 }), {
      batch: B,
      heads: H,
      queryLength: L,
      headDim: D,
    });
    for (const threads of [1, 2]) {
      releaseWasm();
      const first = attention(q, k, v, { plan, backend: "wasm", threads });
      const x = randomArray(64 * 48, 4);
      const W1 = randomArray(96 * 48, 5);
      const y1 = linear(x, 64, 48, W1, 96, null, undefined, { backend: "wasm", threads });
      // more weights packed after the plan was placed, each in its own call's layout
      for (let i = 0; i < 4; i++)
        linear(x, 64, 48, randomArray(96 * 48, 10 + i), 96, null, undefined, { backend: "wasm", threads });
      const again = attention(q, k, v, { plan, backend: "wasm", threads });
      expect(Buffer.from(again.out.data.buffer).equals(Buffer.from(first.out.data.buffer))).toBe(true);
      expect(Buffer.from(again.lse.buffer).equals(Buffer.from(first.lse.buffer))).toBe(true);
      // the first weight, packed again after the plan was placed, gives the same bits
      const y1again = linear(x, 64, 48, W1, 96, null, undefined, { backend: "wasm", threads });
      expect(Buffer.from(y1again.buffer).equals(Buffer.from(y1.buffer))).toBe(true);
      const js = linear(x, 64, 48, W1, 96, null, undefined, { backend: "js" });
      let err = 0;
      for (let i = 0; i < js.length; i++) err = Math.max(err, Math.abs(js[i] - y1[i]));
      expect(err).toBeLessThan(1e-4);
    }
  });
});
