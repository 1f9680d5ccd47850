/**
 * The P·V step of the attention kernel (assembly/kernel.ts), split from it along the seam of
 * the three tile steps (scores, softmax, accumulate): the un-normalised output of a query tile,
 * transposed, times the softmax rescale factor, plus the tile's probabilities times its values.
 */
import { madd } from "./softmax";

/**
 * AccT [rb][d][8] ← AccT · Alpha + P [rb][c][8] · V[cols], 8 rows × 4 d per register block;
 * The pass's values from its first key on: 4 consecutive d of key c at Vp + (d/4)·vGroup +
 * c·vStep (packed Vp [d/4][·][4]: vGroup = its row of groups, vStep = 16; v [Lk, D] read in
 * place: vGroup = 16, vStep = D·4).
 */
export function accumulate(St: usize, Acc: usize, Alpha: usize, Vp: usize, vGroup: usize, vStep: usize, colOff: usize, vPtr: usize, cols: i32, rp: i32, D: i32): void {
  const panel = <usize>cols * 32;
  const d4 = D & ~3;
  for (let rb = 0; rb < rp >> 3; rb++) {
    const al0 = v128.load(Alpha + <usize>rb * 32);
    const al1 = v128.load(Alpha + <usize>rb * 32, 16);
    const pPanel = St + <usize>rb * panel;
    const aPanel = Acc + <usize>rb * <usize>D * 32;
    let d = 0;
    for (; d < d4; d += 4) {
      const ap = aPanel + <usize>d * 32;
      let a00 = f32x4.mul(v128.load(ap, 0), al0);
      let a01 = f32x4.mul(v128.load(ap, 16), al1);
      let a10 = f32x4.mul(v128.load(ap, 32), al0);
      let a11 = f32x4.mul(v128.load(ap, 48), al1);
      let a20 = f32x4.mul(v128.load(ap, 64), al0);
      let a21 = f32x4.mul(v128.load(ap, 80), al1);
      let a30 = f32x4.mul(v128.load(ap, 96), al0);
      let a31 = f32x4.mul(v128.load(ap, 112), al1);
      let pp = pPanel;
      let vp = Vp + <usize>(d >> 2) * vGroup; // Vp [d/4][c][4]
      const vEnd = vp + <usize>cols * vStep;
      for (; vp < vEnd; vp += vStep) {
        const p0 = v128.load(pp, 0);
        const p1 = v128.load(pp, 16);
        let b = v128.load32_splat(vp, 0);
        a00 = madd(a00, p0, b);
        a01 = madd(a01, p1, b);
        b = v128.load32_splat(vp, 4);
        a10 = madd(a10, p0, b);
        a11 = madd(a11, p1, b);
        b = v128.load32_splat(vp, 8);
        a20 = madd(a20, p0, b);
        a21 = madd(a21, p1, b);
        b = v128.load32_splat(vp, 12);
        a30 = madd(a30, p0, b);
        a31 = madd(a31, p1, b);
        pp += 32;
      }
      v128.store(ap, a00, 0);
      v128.store(ap, a01, 16);
      v128.store(ap, a10, 32);
      v128.store(ap, a11, 48);
      v128.store(ap, a20, 64);
      v128.store(ap, a21, 80);
      v128.store(ap, a30, 96);
      v128.store(ap, a31, 112);
    }
    for (; d < D; d++) {
      const ap = aPanel + <usize>d * 32;
      let a0 = f32x4.mul(v128.load(ap, 0), al0);
      let a1 = f32x4.mul(v128.load(ap, 16), al1);
      let pp = pPanel;
      const vd = vPtr + <usize>d * 4;
      for (let c = 0; c < cols; c++) {
        const b = v128.load32_splat(vd + <usize>load<i32>(colOff + <usize>c * 4));
        a0 = madd(a0, v128.load(pp, 0), b);
        a1 = madd(a1, v128.load(pp, 16), b);
        pp += 32;
      }
      v128.store(ap, a0, 0);
      v128.store(ap, a1, 16);
    }
  }
}
