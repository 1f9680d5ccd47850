/**
 * PyTorch's CPU generator, bit for bit: `torch.manual_seed(s)` then `torch.randn(...)` /
 * `torch.rand(...)` of float32 give the same numbers here as in PyTorch (checked against
 * stored PyTorch outputs in torch-random.test.ts). HuggingFace's Reformer draws its LSH
 * rotations this way when `hash_seed` is set, so a seeded checkpoint hashes as in HF.
 *
 * What PyTorch does (ATen, CPUGeneratorImpl + cpu/DistributionTemplates.h):
 * - the engine is MT19937 seeded with the low 32 bits of the seed (standard init_genrand);
 * - a float uniform in [0, 1) takes ONE 32-bit draw: (u32 & 0xFFFFFF) · 2^-24;
 *   a double uniform takes TWO draws, hi then lo: (((hi << 32) | lo) & (2^53 - 1)) · 2^-53;
 * - `randn` of a contiguous float tensor with >= 16 elements (`normal_fill`): first every
 *   element gets a float uniform, then each block of 16 becomes 16 normals by Box–Muller,
 *   u1 = 1 - data[j], u2 = data[j + 8] (j < 8), radius = sqrt(-2 log u1), theta = 2π u2,
 *   data[j] = radius cos theta, data[j + 8] = radius sin theta. When the size is not a
 *   multiple of 16, the LAST 16 elements are refilled with 16 fresh uniforms and transformed
 *   again (overwriting normals already made: the "tail rule"). On x86-64 builds with AVX2
 *   kernels (the dispatch PyTorch picks on AVX2 and AVX-512 machines) log/sin/cos are the
 *   float32 Cephes polynomials of ATen's avx_mathfun.h, evaluated here operation by
 *   operation in float32 (`Math.fround` after each step);
 * - smaller tensors (< 16 elements) take the scalar path: per element a double normal from
 *   two double uniforms (u1 for the angle, u2 for the radius: r = sqrt(-2 log(1 - u2)),
 *   θ = 2π u1), returning r cos θ and keeping r sin θ for the next element (that cached
 *   sample survives across calls until the next manual_seed), cast to float.
 */
import { AttentionArgumentError } from "../errors.js";

const N = 624;
const M = 397;
const f32 = Math.fround;

/** How `randn` of >= 16 floats evaluates log / sin / cos: PyTorch's AVX2 kernel (default) or its scalar fallback (libm). */
export type NormalFillKernel = "avx2" | "scalar";

export class TorchGenerator {
  private readonly mt = new Uint32Array(N);
  private index = N;
  private nextDoubleNormal: number | null = null;

  /** PyTorch's default seed (67280421310721) unless given. */
  constructor(seed: number | bigint = 67280421310721n) {
    this.manualSeed(seed);
  }

  /** torch.manual_seed(seed): a non-negative integer below 2^64; the engine uses its low 32 bits. */
  manualSeed(seed: number | bigint): this {
    let s: bigint;
    if (typeof seed === "bigint") s = seed;
    else if (typeof seed === "number" && Number.isSafeInteger(seed)) s = BigInt(seed);
    else throw new AttentionArgumentError("seed", seed, "a non-negative integer below 2^64 (as torch.manual_seed)");
    if (s < 0n || s >= 1n << 64n) {
      throw new AttentionArgumentError("seed", seed, "a non-negative integer below 2^64 (as torch.manual_seed)");
    }
    const mt = this.mt;
    mt[0] = Number(s & 0xffffffffn);
    for (let i = 1; i < N; i++) {
      const p = mt[i - 1] ^ (mt[i - 1] >>> 30);
      mt[i] = (Math.imul(1812433253, p) + i) >>> 0;
    }
    this.index = N;
    this.nextDoubleNormal = null;
    return this;
  }

  /** The next 32-bit output of the engine (as an unsigned number). */
  random(): number {
    const mt = this.mt;
    if (this.index >= N) {
      for (let i = 0; i < N; i++) {
        const y = (mt[i] & 0x80000000) | (mt[(i + 1) % N] & 0x7fffffff);
        mt[i] = mt[(i + M) % N] ^ (y >>> 1) ^ (y & 1 ? 0x9908b0df : 0);
      }
      this.index = 0;
    }
    let y = mt[this.index++];
    y ^= y >>> 11;
    y ^= (y << 7) & 0x9d2c5680;
    y ^= (y << 15) & 0xefc60000;
    y ^= y >>> 18;
    return y >>> 0;
  }

  /** A float32 uniform in [0, 1) (24 bits of one draw). */
  uniformFloat(): number {
    return (this.random() & 0xffffff) * 2 ** -24;
  }

  /** A float64 uniform in [0, 1) (53 bits of two draws, the first the high word). */
  uniformDouble(): number {
    const hi = this.random();
    const lo = this.random();
    return ((hi & 0x1fffff) * 2 ** 32 + lo) * 2 ** -53;
  }

  /** One double normal (at::normal_distribution<double>), with PyTorch's cached second sample. */
  normalDouble(): number {
    if (this.nextDoubleNormal !== null) {
      const v = this.nextDoubleNormal;
      this.nextDoubleNormal = null;
      return v;
    }
    const u1 = this.uniformDouble();
    const u2 = this.uniformDouble();
    const r = Math.sqrt(-2 * Math.log(1 - u2));
    const theta = 2 * Math.PI * u1;
    this.nextDoubleNormal = r * Math.sin(theta);
    return r * Math.cos(theta);
  }

  /** torch.rand(size) (float32). */
  rand(size: number): Float32Array {
    const out = new Float32Array(checkSize(size));
    for (let i = 0; i < size; i++) out[i] = this.uniformFloat();
    return out;
  }

  /** torch.randn(size) (float32, contiguous), row-major over whatever shape `size` elements have. */
  randn(size: number, kernel: NormalFillKernel = "avx2"): Float32Array {
    const n = checkSize(size);
    const out = new Float32Array(n);
    if (n < 16) {
      for (let i = 0; i < n; i++) out[i] = this.normalDouble();
      return out;
    }
    const fill16 = kernel === "scalar" ? normalFill16Scalar : normalFill16Avx2;
    for (let i = 0; i < n; i++) out[i] = this.uniformFloat();
    for (let i = 0; i + 16 <= n; i += 16) fill16(out, i);
    if (n % 16 !== 0) {
      // the tail rule: the last 16 elements get fresh uniforms and are transformed again
      const start = n - 16;
      for (let i = 0; i < 16; i++) out[start + i] = this.uniformFloat();
      fill16(out, start);
    }
    return out;
  }
}

function checkSize(size: number): number {
  if (!Number.isSafeInteger(size) || size < 0 || size > 2 ** 31 - 1) {
    throw new AttentionArgumentError("size", size, "a non-negative integer below 2^31 (the number of elements)");
  }
  return size;
}

const TWO_PI_F = f32(2 * Math.PI);

/** float32 fused multiply-add a·b + c with one rounding (a, b, c floats; a·b is exact in float64). */
export function fmaf(a: number, b: number, c: number): number {
  const p = a * b;
  const s = p + c;
  const bb = s - p;
  const e = p - (s - bb) + (c - bb); // s + e = p + c exactly
  const r = f32(s);
  if (e === 0 || s === r) return r;
  const other = r + 2 * (s - r); // when s is a float midpoint, the float on its other side
  if (f32(other) !== other) return r; // s is not a midpoint: rounding s is rounding p + c
  return e > 0 === other > r ? other : r;
}

/** normal_fill_16 of the scalar kernel: float math through libm (here: double results rounded to float). */
function normalFill16Scalar(d: Float32Array, o: number): void {
  for (let j = 0; j < 8; j++) {
    const u1 = f32(1 - d[o + j]);
    const u2 = d[o + j + 8];
    const radius = f32(Math.sqrt(f32(-2 * f32(Math.log(u1)))));
    const theta = f32(2 * Math.PI * u2);
    d[o + j] = f32(radius * f32(Math.cos(theta)));
    d[o + j + 8] = f32(radius * f32(Math.sin(theta)));
  }
}

/** normal_fill_16_AVX2: radius = sqrt(-2 · log256_ps(1 - u1)), θ = (float)2π · u2, sincos256_ps(θ). */
function normalFill16Avx2(d: Float32Array, o: number): void {
  for (let j = 0; j < 8; j++) {
    const u1 = f32(1 - d[o + j]);
    const u2 = d[o + j + 8];
    const radius = f32(Math.sqrt(f32(-2 * logCephes(u1))));
    const theta = f32(TWO_PI_F * u2);
    sincosCephes(theta);
    d[o + j] = f32(radius * SC[1]);
    d[o + j + 8] = f32(radius * SC[0]);
  }
}

// Cephes float32 constants (avx_mathfun.h, after Julien Pommier's sse_mathfun), rounded to float.
const SQRTHF = f32(Math.SQRT1_2);
const LOG_P = [
  7.0376836292e-2, -1.151461031e-1, 1.167699874e-1, -1.2420140846e-1, 1.4249322787e-1, -1.6668057665e-1,
  2.0000714765e-1, -2.4999993993e-1, 3.3333331174e-1,
].map(f32);
const LOG_Q1 = f32(-2.1219444e-4);
const LOG_Q2 = f32(0.693359375);
const MIN_NORM = 2 ** -126;
const BITS = new DataView(new ArrayBuffer(4));

/** log256_ps for one float x > 0, every step rounded to float32. */
export function logCephes(xIn: number): number {
  if (!(xIn > 0)) return Number.NaN;
  const xc = Math.max(xIn, MIN_NORM);
  BITS.setFloat32(0, xc, true);
  const bits = BITS.getUint32(0, true);
  let e = f32((bits >>> 23) - 127 + 1); // exponent field - 127, then + 1
  BITS.setUint32(0, (bits & ~0x7f800000) | 0x3f000000, true); // mantissa in [0.5, 1)
  let x = BITS.getFloat32(0, true);
  const below = x < SQRTHF;
  const tmp = below ? x : 0;
  x = f32(x - 1);
  if (below) e = f32(e - 1);
  x = f32(x + tmp);
  const z = f32(x * x);
  let y = LOG_P[0];
  for (let i = 1; i < 9; i++) y = fmaf(y, x, LOG_P[i]);
  y = f32(y * x);
  y = fmaf(y, z, f32(e * LOG_Q1));
  y = fmaf(-z, 0.5, y);
  x = f32(x + y);
  x = fmaf(e, LOG_Q2, x);
  return x;
}

const DP1 = f32(-0.78515625);
const DP2 = f32(-0.00024187564849853516);
const DP3 = f32(-3.774894977445941e-8);
const SIN_P = [-1.9515295891e-4, 8.3321608736e-3, -1.6666654611e-1].map(f32);
const COS_P = [2.443315711809948e-5, -1.388731625493765e-3, 4.166664568298827e-2].map(f32);
const FOPI = f32(1.27323954473516);
/** [sin, cos] of the last sincosCephes call. */
const SC = new Float64Array(2);

/** sincos256_ps for one float; results in SC = [sin, cos]. */
export function sincosCephes(xIn: number): Float64Array {
  const negative = xIn < 0 || Object.is(xIn, -0);
  let x = Math.abs(xIn);
  let j = Math.trunc(f32(x * FOPI)) | 0; // cvttps_epi32
  j = (j + 1) & ~1;
  const y = j; // exact in float
  const swapSin = (j & 4) !== 0;
  const polyIsSin = (j & 2) === 0; // poly_mask: the sine polynomial gives sin
  const signCos = ((j - 2) & 4) === 0; // andnot(j - 2, 4): cos negative when bit 2 of j - 2 is clear
  x = fmaf(y, DP1, x);
  x = fmaf(y, DP2, x);
  x = fmaf(y, DP3, x);
  const z = f32(x * x);
  let c = COS_P[0];
  c = fmaf(c, z, COS_P[1]);
  c = fmaf(c, z, COS_P[2]);
  c = f32(c * z);
  c = fmaf(c, z, -f32(z * 0.5));
  c = f32(c + 1);
  let s = SIN_P[0];
  s = fmaf(s, z, SIN_P[1]);
  s = fmaf(s, z, SIN_P[2]);
  s = f32(s * z);
  s = fmaf(s, x, x);
  let sin = polyIsSin ? s : c;
  let cos = polyIsSin ? c : s;
  if (negative !== swapSin) sin = -sin;
  if (signCos) cos = -cos;
  SC[0] = sin;
  SC[1] = cos;
  return SC;
}
