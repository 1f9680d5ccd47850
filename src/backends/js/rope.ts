/**
 * Split + RoPE in plain loops (the js op of splitQkvRope, and the reference the wasm kernel
 * matches bit for bit): for j < D/2, in HF's float32 rounding (each product rounded, then the
 * sum rounded by the Float32Array store),
 *   out[j] = x[j]·cos_j − x[j + D/2]·sin_j,   out[j + D/2] = x[j + D/2]·cos_j + x[j]·sin_j.
 */
const f32 = Math.fround;

export function splitQkvRopeJs(
  qkv: Float32Array,
  q: Float32Array,
  k: Float32Array,
  v: Float32Array,
  B: number,
  L: number,
  H: number,
  D: number,
  cos: Float32Array,
  sin: Float32Array,
): void {
  const HD = H * D;
  const half = D / 2;
  for (let b = 0; b < B; b++) {
    for (let i = 0; i < L; i++) {
      const src = (b * L + i) * 3 * HD; // qkv: [B·L, 3·H·D]
      const t = i * half; // cos, sin: [L, D/2]
      for (let h = 0; h < H; h++) {
        const dst = ((b * H + h) * L + i) * D; // q, k, v: [B, H, L, D]
        const sq = src + h * D;
        const sk = src + HD + h * D;
        const sv = src + 2 * HD + h * D;
        for (let j = 0; j < half; j++) {
          const c = cos[t + j];
          const s = sin[t + j];
          const q1 = qkv[sq + j];
          const q2 = qkv[sq + half + j];
          q[dst + j] = f32(q1 * c) - f32(q2 * s);
          q[dst + half + j] = f32(q2 * c) + f32(q1 * s);
          const k1 = qkv[sk + j];
          const k2 = qkv[sk + half + j];
          k[dst + j] = f32(k1 * c) - f32(k2 * s);
          k[dst + half + j] = f32(k2 * c) + f32(k1 * s);
        }
        for (let d = 0; d < D; d++) v[dst + d] = qkv[sv + d];
      }
    }
  }
}
