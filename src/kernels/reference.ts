/**
 * The reference kernel: the oracle every other kernel and plan is tested against. It
 * materialises each head's [Lq, Lk] score matrix and accumulates in float64. It knows only
 * a mask function on original positions, never a plan. It stays forever.
 */
import type { MaskFn } from "../types.js";
import type { Shapes } from "../validate.js";

export interface ReferenceArgs extends Shapes {
  q: Float32Array; // [B, H, Lq, D]
  k: Float32Array; // [B, Hkv, Lk, D]
  v: Float32Array; // [B, Hkv, Lk, D]
  scale: number;
  /** Allowed pairs; default all. */
  mask?: MaskFn;
  /** Score used where query and key position coincide (Reformer's self mask). */
  selfScore?: number;
}

export function referenceAttention(a: ReferenceArgs): { out: Float32Array; lse: Float32Array } {
  const { q, k, v, B, H, Hkv, Lq, Lk, D, scale, mask } = a;
  const group = H / Hkv;
  const out = new Float32Array(B * H * Lq * D);
  const lse = new Float32Array(B * H * Lq);
  const s = new Float64Array(Lk);
  const acc = new Float64Array(D);
  for (let b = 0; b < B; b++) {
    for (let h = 0; h < H; h++) {
      const kvh = Math.floor(h / group);
      const qBase = (b * H + h) * Lq * D; // q: [B, H, Lq, D]
      const kBase = (b * Hkv + kvh) * Lk * D; // k, v: [B, Hkv, Lk, D]
      for (let i = 0; i < Lq; i++) {
        let m = Number.NEGATIVE_INFINITY;
        for (let j = 0; j < Lk; j++) {
          if (mask !== undefined && !mask(i, j, h, b)) {
            s[j] = Number.NEGATIVE_INFINITY;
            continue;
          }
          let dot = 0;
          for (let d = 0; d < D; d++) dot += q[qBase + i * D + d] * k[kBase + j * D + d];
          s[j] = a.selfScore !== undefined && i === j ? a.selfScore : dot * scale;
          if (s[j] > m) m = s[j];
        }
        const rowLse = (b * H + h) * Lq + i; // lse: [B, H, Lq]
        if (m === Number.NEGATIVE_INFINITY) {
          lse[rowLse] = Number.NEGATIVE_INFINITY; // fully masked row: out stays 0
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
