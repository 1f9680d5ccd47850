/**
 * The reference kernel: the oracle every other kernel and plan is tested against. It
 * materialises each head's [Lq, Lk] score matrix and accumulates in float64. It knows only
 * a mask function on original positions, never a plan. It stays forever.
 *
 * Non-finite inputs (docs/semantics.md, "NaN, infinity and overflow"), defined here first:
 * a row i that has at least one allowed key, and where q row i holds a NaN or ±∞, or some
 * allowed key j has a NaN or ±∞ in k row j or v row j, gets out row i = NaN (all D entries)
 * and lse i = NaN. A row with no allowed key is 0 / −∞ whatever its inputs; every other row
 * is computed as if the non-finite entries were not there (it never reads them). Scores are
 * float64, so q, k entries of 1e20 (products beyond float32) are exact here; the float32
 * store of lse may then be ±∞.
 */
import type { MaskFn } from "../../types.js";
import type { Shapes } from "../../validate.js";

export interface ReferenceArgs extends Shapes {
  q: Float32Array; // [B, H, Lq, D]
  k: Float32Array; // [B, Hkv, Lk, D]
  v: Float32Array; // [B, Hkv, Lk, D]
  scale: number;
  /** Allowed pairs; default all. */
  mask?: MaskFn;
  /** Score used where query and key position coincide (Reformer's self mask). */
  selfScore?: number;
  /** Arrays to write the result into ([B, H, Lq, D] and [B, H, Lq]; every entry is written); default new ones. */
  out?: Float32Array;
  lse?: Float32Array;
}

/** True when the D entries of x from `off` are all finite (Σ (x − x) is 0 unless one is NaN / ±∞). */
function finite(x: Float32Array, off: number, D: number): boolean {
  let c = 0;
  for (let d = 0; d < D; d++) c += x[off + d] - x[off + d];
  return c === 0;
}

export function referenceAttention(a: ReferenceArgs): { out: Float32Array; lse: Float32Array } {
  const { q, k, v, B, H, Hkv, Lq, Lk, D, scale, mask } = a;
  const group = H / Hkv;
  const out = a.out ?? new Float32Array(B * H * Lq * D);
  const lse = a.lse ?? new Float32Array(B * H * Lq);
  const s = new Float64Array(Lk);
  const acc = new Float64Array(D);
  const keyBad = new Uint8Array(Lk); // [Lk] k or v row holds NaN / ±∞
  for (let b = 0; b < B; b++) {
    for (let h = 0; h < H; h++) {
      const kvh = Math.floor(h / group);
      const qBase = (b * H + h) * Lq * D; // q: [B, H, Lq, D]
      const kBase = (b * Hkv + kvh) * Lk * D; // k, v: [B, Hkv, Lk, D]
      for (let j = 0; j < Lk; j++) keyBad[j] = finite(k, kBase + j * D, D) && finite(v, kBase + j * D, D) ? 0 : 1;
      for (let i = 0; i < Lq; i++) {
        const rowLse = (b * H + h) * Lq + i; // lse: [B, H, Lq]
        const qBad = !finite(q, qBase + i * D, D);
        let m = Number.NEGATIVE_INFINITY;
        let any = false;
        let poisoned = false;
        for (let j = 0; j < Lk; j++) {
          if (mask !== undefined && !mask(i, j, h, b)) {
            s[j] = Number.NEGATIVE_INFINITY;
            continue;
          }
          any = true;
          if (qBad || keyBad[j] !== 0) {
            poisoned = true;
            break;
          }
          let dot = 0;
          for (let d = 0; d < D; d++) dot += q[qBase + i * D + d] * k[kBase + j * D + d];
          s[j] = a.selfScore !== undefined && i === j ? a.selfScore : dot * scale;
          if (s[j] > m) m = s[j];
        }
        if (poisoned) {
          out.fill(Number.NaN, qBase + i * D, qBase + (i + 1) * D); // out: [B, H, Lq, D]
          lse[rowLse] = Number.NaN;
          continue;
        }
        if (!any || m === Number.NEGATIVE_INFINITY) {
          out.fill(0, qBase + i * D, qBase + (i + 1) * D); // fully masked row: out 0
          lse[rowLse] = Number.NEGATIVE_INFINITY;
          continue;
        }
        let l = 0;
        acc.fill(0);
        for (let j = 0; j < Lk; j++) {
          if (s[j] === Number.NEGATIVE_INFINITY) continue;
          const p = Math.exp(s[j] - m);
          l += p;
          for (let d = 0; d < D; d++) acc[d] += p * v[kBase + j * D + d];
        }
        for (let d = 0; d < D; d++) out[qBase + i * D + d] = acc[d] / l;
        lse[rowLse] = m + Math.log(l);
      }
    }
  }
  return { out, lse };
}
