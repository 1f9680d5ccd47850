/**
 * Regrouping between HF's projection layout [B·L, H·D] (head h in columns h·D … h·D + D - 1)
 * and the library's tensors [B, H, L, D], and the padding patterns of the models: which
 * tokens are real (valid), as patterns attention() can intersect with.
 */
import { type NormOptions, regroupHeads } from "../backends/dispatch.js";
import { type BoundPattern, EMPTY, FULL, PARTIAL, type Pattern, type Tensor } from "../types.js";

/** [L, H·D] rows r0 … r0 + L - 1 of `m` → tensor [1, H, L, D] (into `into` when given: H·L·D long). */
export function toHeads(m: Float32Array, r0: number, L: number, H: number, D: number, into?: Float32Array): Tensor {
  const data = into ?? new Float32Array(H * L * D);
  const HD = H * D;
  for (let i = 0; i < L; i++) {
    const src = (r0 + i) * HD; // m: [rows, H·D]
    for (let h = 0; h < H; h++) {
      const dst = (h * L + i) * D; // data: [1, H, L, D]
      for (let d = 0; d < D; d++) data[dst + d] = m[src + h * D + d];
    }
  }
  return { data, shape: [1, H, L, D] };
}

/** Tensor [1, H, L, D] → rows r0 … of `dst` [rows, H·D]; `rows` (optional) picks the destination row of each i. */
export function fromHeads(
  t: Float32Array,
  dst: Float32Array,
  r0: number,
  L: number,
  H: number,
  D: number,
  rows?: Int32Array,
): void {
  const HD = H * D;
  for (let i = 0; i < L; i++) {
    const o = (r0 + (rows === undefined ? i : rows[i])) * HD; // dst: [rows, H·D]
    for (let h = 0; h < H; h++) {
      const s = (h * L + i) * D; // t: [1, H, L, D]
      for (let d = 0; d < D; d++) dst[o + h * D + d] = t[s + d];
    }
  }
}

/** The regrouping's options from an attention or linear backend name: wasm and js as named, else "auto". */
function regroupOptions(o?: { backend?: string; threads?: number }): NormOptions {
  const backend = o?.backend === "wasm" ? "wasm" : o?.backend === "js" || o?.backend === "reference" ? "js" : "auto";
  return { backend, threads: o?.threads };
}

/**
 * [B·L, H·D] → tensor [B, H, L, D] (into `into` when given: B·H·L·D long), by the dispatcher's
 * regroupHeads (wasm SIMD on the pool for large inputs, in place for resident arrays).
 */
export function toHeadsBatch(
  m: Float32Array,
  B: number,
  L: number,
  H: number,
  D: number,
  into?: Float32Array,
  options?: { backend?: string; threads?: number },
): Tensor {
  const data = into ?? new Float32Array(B * H * L * D);
  regroupHeads(m, data, B, L, H, D, true, null, regroupOptions(options));
  return { data, shape: [B, H, L, D] };
}

/** Tensor [B, H, L, D] → dst [B·L, H·D], padded query rows (valid 0) set to 0 (regroupHeads). */
export function fromHeadsBatch(
  t: Float32Array,
  dst: Float32Array,
  B: number,
  L: number,
  H: number,
  D: number,
  valid: Uint8Array,
  options?: { backend?: string; threads?: number },
): void {
  regroupHeads(dst, t, B, L, H, D, false, valid, regroupOptions(options));
}

/** Both query and key must be real tokens: valid[q] and valid[k] (1 = real, 0 = padding). */
export function validPairs(valid: Uint8Array): Pattern {
  const n = valid.length;
  const prefix = new Int32Array(n + 1); // prefix[i] = real tokens in [0, i)
  for (let i = 0; i < n; i++) prefix[i + 1] = prefix[i] + valid[i];
  const count = (a: number, b: number) => prefix[Math.min(b, n)] - prefix[Math.min(a, n)];
  const bound: BoundPattern = {
    mask: (q, k) => valid[q] === 1 && valid[k] === 1,
    classify: (q0, q1, k0, k1) => {
      const cq = count(q0, q1);
      const ck = count(k0, k1);
      if (cq === 0 || ck === 0) return EMPTY;
      return cq === q1 - q0 && ck === k1 - k0 ? FULL : PARTIAL;
    },
  };
  return { name: "validPairs", headDependent: false, children: [], bind: () => bound };
}

/** Keys that are real tokens (any query). For rectangular calls (global rows × all keys). */
export function validKeys(valid: Uint8Array): Pattern {
  const n = valid.length;
  const prefix = new Int32Array(n + 1);
  for (let i = 0; i < n; i++) prefix[i + 1] = prefix[i] + valid[i];
  const bound: BoundPattern = {
    mask: (_q, k) => valid[k] === 1,
    classify: (_q0, _q1, k0, k1) => {
      const c = prefix[Math.min(k1, n)] - prefix[Math.min(k0, n)];
      return c === 0 ? EMPTY : c === k1 - k0 ? FULL : PARTIAL;
    },
  };
  return { name: "validKeys", headDependent: false, children: [], bind: () => bound };
}

/** Where the real tokens are: all, a prefix of `length`, or scattered (a mask). */
export function realExtent(valid: Uint8Array): { prefix: number; scattered: boolean } {
  let n = 0;
  while (n < valid.length && valid[n] === 1) n++;
  for (let i = n; i < valid.length; i++) if (valid[i] === 1) return { prefix: n, scattered: true };
  return { prefix: n, scattered: false };
}
