/**
 * Per-pass data movement of the attention kernel (assembly/kernel.ts), split from it along the
 * seam between moving data and arithmetic: packing keys and values into the layouts the
 * scores and P·V loops read, and applying a partial tile's bit mask to its scores.
 */
const NEG_INF: f32 = -Infinity;

/**
 * Sets to −∞ the scores of a partial tile's disallowed pairs: its bit-packed mask (bit
 * i = r·tc + c at word i >>> 5, bit i & 31; 1 = allowed) over `rows` × `tc`, the tile's column
 * 0 at St0 in St [rb][c][8] (`panel` bytes per row block). Only the zero bits are visited (ctz).
 */
export function maskTile(St0: usize, panel: usize, words: usize, rows: i32, tc: i32): void {
  const bits = rows * tc;
  const nw = (bits + 31) >>> 5;
  for (let w = 0; w < nw; w++) {
    let z = ~load<u32>(words + <usize>w * 4);
    const left = bits - (w << 5);
    if (left < 32) z &= (<u32>1 << <u32>left) - 1;
    while (z !== 0) {
      const i = (w << 5) + <i32>ctz(z);
      const r = i / tc;
      const c = i - r * tc;
      store<f32>(St0 + <usize>(r >> 3) * panel + <usize>(r & 7) * 4 + <usize>c * 32, NEG_INF);
      z &= z - 1;
    }
  }
}

/**
 * Packs `n` keys (a multiple of 4) for scores(): Kp [c/4][d][4] (four keys side by side per d,
 * so one pointer and immediate offsets address the 4 broadcasts), via 4×4 transposes. Keys
 * past the last multiple of 4 of a pass are read in place through colOff.
 */
export function packK(Kp: usize, colOff: usize, kPtr: usize, n: i32, D: i32): void {
  const d4 = D & ~3;
  const dBytes = <usize>D * 16; // bytes per 4-key group of Kp
  for (let c = 0; c < n; c += 4) {
    const r0 = kPtr + <usize>load<i32>(colOff + <usize>c * 4);
    const r1 = kPtr + <usize>load<i32>(colOff + <usize>c * 4, 4);
    const r2 = kPtr + <usize>load<i32>(colOff + <usize>c * 4, 8);
    const r3 = kPtr + <usize>load<i32>(colOff + <usize>c * 4, 12);
    const g = Kp + <usize>(c >> 2) * dBytes;
    let d = 0;
    for (; d < d4; d += 4) {
      const x0 = v128.load(r0 + <usize>d * 4);
      const x1 = v128.load(r1 + <usize>d * 4);
      const x2 = v128.load(r2 + <usize>d * 4);
      const x3 = v128.load(r3 + <usize>d * 4);
      const t0 = v128.shuffle<f32>(x0, x1, 0, 4, 1, 5);
      const t1 = v128.shuffle<f32>(x0, x1, 2, 6, 3, 7);
      const t2 = v128.shuffle<f32>(x2, x3, 0, 4, 1, 5);
      const t3 = v128.shuffle<f32>(x2, x3, 2, 6, 3, 7);
      const o = g + <usize>d * 16;
      v128.store(o, v128.shuffle<f32>(t0, t2, 0, 1, 4, 5), 0);
      v128.store(o, v128.shuffle<f32>(t0, t2, 2, 3, 6, 7), 16);
      v128.store(o, v128.shuffle<f32>(t1, t3, 0, 1, 4, 5), 32);
      v128.store(o, v128.shuffle<f32>(t1, t3, 2, 3, 6, 7), 48);
    }
    for (; d < D; d++) {
      const o = g + <usize>d * 16;
      store<f32>(o, load<f32>(r0 + <usize>d * 4), 0);
      store<f32>(o, load<f32>(r1 + <usize>d * 4), 4);
      store<f32>(o, load<f32>(r2 + <usize>d * 4), 8);
      store<f32>(o, load<f32>(r3 + <usize>d * 4), 12);
    }
  }
}

/**
 * Packs `n` values for accumulate(): Vp [d/4][window][4], `vGroup` bytes per 4-d group; values
 * past the last multiple of 4 of d are read in place through colOff.
 */
export function packV(Vp: usize, vGroup: usize, colOff: usize, vPtr: usize, n: i32, D: i32): void {
  const d4 = D & ~3;
  for (let c = 0; c < n; c++) {
    const src = vPtr + <usize>load<i32>(colOff + <usize>c * 4);
    const dst = Vp + <usize>c * 16;
    for (let d = 0; d < d4; d += 4) v128.store(dst + <usize>(d >> 2) * vGroup, v128.load(src + <usize>d * 4));
  }
}
