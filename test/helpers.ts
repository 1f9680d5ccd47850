import { expect } from "vitest";
import { referenceAttention } from "../src/backends/reference/reference.js";
import type { LshRotations } from "../src/pattern/lsh.js";
import type { MaskFn, Tensor } from "../src/types.js";
import { Rng } from "../src/util/rng.js";

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

/** A [B, H, L, D] tensor of normals (times `scale`) drawn from `rng`. */
export function tensor(shape: [number, number, number, number], rng: Rng, scale = 1): Tensor {
  const data = new Float32Array(shape[0] * shape[1] * shape[2] * shape[3]);
  for (let i = 0; i < data.length; i++) data[i] = rng.normal() * scale;
  return { data, shape };
}

/** A deterministic pseudo-random mask with the given density; rows q % 7 == 3 fully masked when `holes`. */
export function randomMask(seed: number, density: number, holes: boolean): MaskFn {
  return (q: number, k: number, h: number) => {
    if (holes && q % 7 === 3) return false;
    let x = Math.imul(q + 1, 0x9e3779b1) ^ Math.imul(k + 7, 0x85ebca6b) ^ Math.imul(h + 3 + seed, 0xc2b2ae35);
    x = Math.imul(x ^ (x >>> 15), 0x2c1b3c6d);
    return ((x >>> 0) % 1000) / 1000 < density;
  };
}

/** Random Gaussian rotations of shape (heads, headDim, hashes, buckets/2). */
export function randomRotations(seed: number, H: number, D: number, hashes: number, buckets: number): LshRotations {
  const rng = new Rng(seed);
  const data = new Float32Array(H * D * hashes * (buckets / 2));
  for (let i = 0; i < data.length; i++) data[i] = rng.normal();
  return { data, shape: [H, D, hashes, buckets / 2] };
}

/**
 * A kernel's result against the oracle's: no NaN; out and lse within 1e-5 absolute on unit-normal
 * inputs, or 1e-6 of the largest |logit| when logits are scaled up (`lseFloor` also allows lse that
 * much on unit-normal inputs); fully masked rows give out exactly 0 and lse -Infinity.
 */
export function expectMatchesOracle(
  got: { out: Float32Array; lse: Float32Array },
  want: { out: Float32Array; lse: Float32Array },
  D: number,
  logitScale: number,
  lseFloor = false,
): void {
  expect(hasNaN(got.out)).toBe(false);
  expect(hasNaN(got.lse)).toBe(false);
  let maxLogit = 0;
  for (const x of want.lse) if (Number.isFinite(x)) maxLogit = Math.max(maxLogit, Math.abs(x));
  const tol = logitScale === 1 ? 1e-5 : Math.max(1e-5, 1e-6 * maxLogit);
  expect(maxAbsDiff(got.out, want.out)).toBeLessThanOrEqual(tol);
  expect(maxAbsDiff(got.lse, want.lse)).toBeLessThanOrEqual(lseFloor ? Math.max(tol, 1e-6 * maxLogit) : tol);
  for (let r = 0; r < want.lse.length; r++) {
    if (want.lse[r] === Number.NEGATIVE_INFINITY) {
      expect(got.lse[r]).toBe(Number.NEGATIVE_INFINITY);
      for (let d = 0; d < D; d++) expect(got.out[r * D + d]).toBe(0);
    }
  }
}
