import { referenceAttention } from "../src/kernels/reference.js";
import type { MaskFn, Tensor } from "../src/types.js";

export function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  if (a.length !== b.length) throw new Error(`length ${a.length} != ${b.length}`);
  let m = 0;
  for (let i = 0; i < a.length; i++) {
    const x = a[i];
    const y = b[i];
    if (x === y) continue; // also equal infinities
    const d = Math.abs(x - y);
    if (!(d <= m)) m = d; // NaN propagates as a huge difference
    if (Number.isNaN(d)) return Number.POSITIVE_INFINITY;
  }
  return m;
}

export function hasNaN(a: Float32Array): boolean {
  for (let i = 0; i < a.length; i++) if (Number.isNaN(a[i])) return true;
  return false;
}

/** The oracle with a mask on original positions. */
export function oracle(q: Tensor, k: Tensor, v: Tensor, scale: number, mask?: MaskFn) {
  const [B, H, Lq, D] = q.shape;
  const [, Hkv, Lk] = k.shape;
  return referenceAttention({ q: q.data, k: k.data, v: v.data, B, H, Hkv, Lq, Lk, D, scale, mask });
}
