/** The public referenceAttention: attention()'s tensors in, attention()'s result out, the float64 oracle underneath. */
import { describe, expect, it } from "vitest";
import { attention } from "./attention.js";
import { referenceAttention as kernel } from "./backends/reference/reference.js";
import { slidingWindow } from "./pattern/longformer.js";
import { referenceAttention } from "./reference.js";
import { randomTensor } from "./util/rng.js";

describe("referenceAttention(q, k, v, options)", () => {
  it("takes attention()'s tensors and options and returns its result, computed by the float64 kernel", () => {
    const [B, H, Hkv, Lq, Lk, D] = [2, 4, 2, 37, 53, 16];
    const q = randomTensor([B, H, Lq, D], 1);
    const k = randomTensor([B, Hkv, Lk, D], 2);
    const v = randomTensor([B, Hkv, Lk, D], 3);
    const pattern = slidingWindow({ left: 5, right: 3 });
    const r = referenceAttention(q, k, v, { pattern, scale: 0.3 });
    expect(r.out.shape).toEqual([B, H, Lq, D]);
    expect(r.lse.length).toBe(B * H * Lq);
    expect(r.stats.backend).toBe("reference");
    const mask = pattern.bind({ queryLength: Lq, keyLength: Lk, heads: H, headDim: D, batch: B }).mask;
    const flat = kernel({ q: q.data, k: k.data, v: v.data, B, H, Hkv, Lq, Lk, D, scale: 0.3, mask });
    expect(Array.from(r.out.data)).toEqual(Array.from(flat.out));
    expect(Array.from(r.lse)).toEqual(Array.from(flat.lse));
    const js = attention(q, k, v, { pattern, scale: 0.3, backend: "js" });
    for (let i = 0; i < js.out.data.length; i++) expect(Math.abs(js.out.data[i] - r.out.data[i])).toBeLessThan(1e-5);
  });

  it("refuses a backend or thread count by name; bad tensors get attention()'s errors", () => {
    const q = randomTensor([1, 1, 4, 8], 1);
    expect(() => referenceAttention(q, q, q, { backend: "js" } as never)).toThrow(/options\.backend: got "js"/);
    expect(() => referenceAttention(q, q, q, { threads: 2 } as never)).toThrow(/options\.threads: got 2/);
    expect(() => referenceAttention(q, { data: q.data, shape: [1, 1, 4, 7] }, q)).toThrow(/k/);
    expect(() => referenceAttention(q, q, q, 5 as never)).toThrow(/options/);
  });
});
