/**
 * The QKᵀ step of the attention kernel (assembly/kernel.ts), split from it along the seam of
 * the three tile steps (scores, softmax, accumulate). Two forms of the same arithmetic: keys
 * packed [c/4][d][4] (any D, gathered key orders), and keys read in place from k [Lk, 64]
 * (identity key order, D = 64: the four keys' broadcasts sit at immediate offsets 0, 256,
 * 512, 768 from one pointer, so no packing is needed).
 */
import { madd } from "./softmax";

/**
 * St [rb][c][8] = Qp [rb][d][8] · K[col c]ᵀ for every row block and key of the tile. Bad [rp]
 * gains Σ (s − s) over the row's scores (of four-key sums): 0 for finite scores, NaN when one
 * overflowed float32 (the inputs are finite here, see src/backends/nonfinite.ts).
 */
export function scores(Qp: usize, St: usize, Bad: usize, Kp: usize, colOff: usize, kPtr: usize, cols: i32, rp: i32, D: i32): void {
  const panel = <usize>cols * 32;
  const c4 = cols & ~3;
  const dBytes = <usize>D * 16;
  const nrb = rp >> 3;
  // key groups outside, row blocks inside: a group of Kp (D·16 bytes) stays in L1 while every
  // row block reads it, and Qp (D·rp·4 bytes) is re-read from L1
  for (let c = 0; c < c4; c += 4) {
    const kGroup = Kp + <usize>(c >> 2) * dBytes;
    const kEnd = kGroup + dBytes;
    for (let rb = 0; rb < nrb; rb++) {
      let a00 = f32x4.splat(0);
      let a01 = f32x4.splat(0);
      let a10 = f32x4.splat(0);
      let a11 = f32x4.splat(0);
      let a20 = f32x4.splat(0);
      let a21 = f32x4.splat(0);
      let a30 = f32x4.splat(0);
      let a31 = f32x4.splat(0);
      let qp = Qp + <usize>rb * <usize>D * 32;
      let kp = kGroup;
      // one d per iteration: unrolling makes V8 hoist every broadcast and spill (docs/performance.md)
      for (; kp < kEnd; kp += 16) {
        const q0 = v128.load(qp, 0);
        const q1 = v128.load(qp, 16);
        let b = v128.load32_splat(kp, 0);
        a00 = madd(a00, q0, b);
        a01 = madd(a01, q1, b);
        b = v128.load32_splat(kp, 4);
        a10 = madd(a10, q0, b);
        a11 = madd(a11, q1, b);
        b = v128.load32_splat(kp, 8);
        a20 = madd(a20, q0, b);
        a21 = madd(a21, q1, b);
        b = v128.load32_splat(kp, 12);
        a30 = madd(a30, q0, b);
        a31 = madd(a31, q1, b);
        qp += 32;
      }
      const sp = St + <usize>rb * panel + <usize>c * 32; // St [rb][c][8]
      v128.store(sp, a00, 0);
      v128.store(sp, a01, 16);
      v128.store(sp, a10, 32);
      v128.store(sp, a11, 48);
      v128.store(sp, a20, 64);
      v128.store(sp, a21, 80);
      v128.store(sp, a30, 96);
      v128.store(sp, a31, 112);
      const u0 = f32x4.add(f32x4.add(a00, a10), f32x4.add(a20, a30));
      const u1 = f32x4.add(f32x4.add(a01, a11), f32x4.add(a21, a31));
      const bp = Bad + <usize>rb * 32; // Bad [rp]
      v128.store(bp, f32x4.add(v128.load(bp), f32x4.sub(u0, u0)));
      v128.store(bp, f32x4.add(v128.load(bp, 16), f32x4.sub(u1, u1)), 16);
    }
  }
  for (let rb = 0; rb < nrb; rb++) {
    const qPanel = Qp + <usize>rb * <usize>D * 32;
    const sPanel = St + <usize>rb * panel;
    let chk0 = f32x4.splat(0);
    let chk1 = f32x4.splat(0);
    for (let c = c4; c < cols; c++) {
      let k0 = kPtr + <usize>load<i32>(colOff + <usize>c * 4);
      let a0 = f32x4.splat(0);
      let a1 = f32x4.splat(0);
      let qp = qPanel;
      for (let d = 0; d < D; d++) {
        const b = v128.load32_splat(k0);
        a0 = madd(a0, v128.load(qp, 0), b);
        a1 = madd(a1, v128.load(qp, 16), b);
        qp += 32;
        k0 += 4;
      }
      const sp = sPanel + <usize>c * 32;
      v128.store(sp, a0, 0);
      v128.store(sp, a1, 16);
      chk0 = f32x4.add(chk0, f32x4.sub(a0, a0));
      chk1 = f32x4.add(chk1, f32x4.sub(a1, a1));
    }
    const bp = Bad + <usize>rb * 32; // Bad [rp]
    v128.store(bp, f32x4.add(v128.load(bp), chk0));
    v128.store(bp, f32x4.add(v128.load(bp, 16), chk1), 16);
  }
}

/**
 * scores() for an identity key order and D = 64: keys c..c+3 of the pass read in place from
 * K0 = k + t0·256 (k: [Lk, 64]); the same sums in the same order as scores() on packed keys.
 */
export function scoresRows64(Qp: usize, St: usize, Bad: usize, K0: usize, colOff: usize, kPtr: usize, cols: i32, rp: i32): void {
  const D = 64;
  const panel = <usize>cols * 32;
  const c4 = cols & ~3;
  const nrb = rp >> 3;
  // key groups outside, row blocks inside (as scores())
  for (let c = 0; c < c4; c += 4) {
    const kGroup = K0 + <usize>c * 256; // k: [Lk, 64], keys c..c+3 of the pass 256 bytes apart
    const kEnd = kGroup + 256;
    for (let rb = 0; rb < nrb; rb++) {
      let a00 = f32x4.splat(0);
      let a01 = f32x4.splat(0);
      let a10 = f32x4.splat(0);
      let a11 = f32x4.splat(0);
      let a20 = f32x4.splat(0);
      let a21 = f32x4.splat(0);
      let a30 = f32x4.splat(0);
      let a31 = f32x4.splat(0);
      let qp = Qp + <usize>rb * <usize>D * 32;
      let kp = kGroup;
      // one d per iteration: unrolling makes V8 hoist every broadcast and spill (docs/performance.md)
      for (; kp < kEnd; kp += 4) {
        const q0 = v128.load(qp, 0);
        const q1 = v128.load(qp, 16);
        let b = v128.load32_splat(kp, 0);
        a00 = madd(a00, q0, b);
        a01 = madd(a01, q1, b);
        b = v128.load32_splat(kp, 256);
        a10 = madd(a10, q0, b);
        a11 = madd(a11, q1, b);
        b = v128.load32_splat(kp, 512);
        a20 = madd(a20, q0, b);
        a21 = madd(a21, q1, b);
        b = v128.load32_splat(kp, 768);
        a30 = madd(a30, q0, b);
        a31 = madd(a31, q1, b);
        qp += 32;
      }
      const sp = St + <usize>rb * panel + <usize>c * 32; // St [rb][c][8]
      v128.store(sp, a00, 0);
      v128.store(sp, a01, 16);
      v128.store(sp, a10, 32);
      v128.store(sp, a11, 48);
      v128.store(sp, a20, 64);
      v128.store(sp, a21, 80);
      v128.store(sp, a30, 96);
      v128.store(sp, a31, 112);
      const u0 = f32x4.add(f32x4.add(a00, a10), f32x4.add(a20, a30));
      const u1 = f32x4.add(f32x4.add(a01, a11), f32x4.add(a21, a31));
      const bp = Bad + <usize>rb * 32; // Bad [rp]
      v128.store(bp, f32x4.add(v128.load(bp), f32x4.sub(u0, u0)));
      v128.store(bp, f32x4.add(v128.load(bp, 16), f32x4.sub(u1, u1)), 16);
    }
  }
  for (let rb = 0; rb < nrb; rb++) {
    const qPanel = Qp + <usize>rb * <usize>D * 32;
    const sPanel = St + <usize>rb * panel;
    let chk0 = f32x4.splat(0);
    let chk1 = f32x4.splat(0);
    for (let c = c4; c < cols; c++) {
      let k0 = kPtr + <usize>load<i32>(colOff + <usize>c * 4);
      let a0 = f32x4.splat(0);
      let a1 = f32x4.splat(0);
      let qp = qPanel;
      for (let d = 0; d < D; d++) {
        const b = v128.load32_splat(k0);
        a0 = madd(a0, v128.load(qp, 0), b);
        a1 = madd(a1, v128.load(qp, 16), b);
        qp += 32;
        k0 += 4;
      }
      const sp = sPanel + <usize>c * 32;
      v128.store(sp, a0, 0);
      v128.store(sp, a1, 16);
      chk0 = f32x4.add(chk0, f32x4.sub(a0, a0));
      chk1 = f32x4.add(chk1, f32x4.sub(a1, a1));
    }
    const bp = Bad + <usize>rb * 32; // Bad [rp]
    v128.store(bp, f32x4.add(v128.load(bp), chk0));
    v128.store(bp, f32x4.add(v128.load(bp, 16), chk1), 16);
  }
}
