/**
 * Per-row work of a query tile that does not depend on the keys (assembly/kernel.ts runPart),
 * done 4 rows at a time with 4×4 transposes (issue #12: 8- and 16-row band tiles pay these per
 * row where a 64-row dense tile amortises them):
 *   packQ    gather, scale and pack the tile's queries into Qp [rb][d][8]; init M, L, Bad.
 *   unpackAcc  AccT [rb][d][8] → row-major rows [r][D] (for mergeRow / storeRow, which then read
 *            contiguous rows like the records do) and each row's overflow check into Bad.
 * Both give the same bits as the scalar loops they replace: the same f32 products, and the
 * check Σ (a − a) summed per row in the same d order.
 */

/**
 * Gathers, scales (qScale) and packs rows [0, rows) of the tile starting at s0 (qIndex: the
 * part's query order, 0 = identity) into Qp [rb][d][8]; rows [rows, rp) are zero. Sets
 * M = −∞, L = 0, Bad = 0 for the rp rows (rp: a multiple of 8).
 */
export function packQ(Qp: usize, qPtr: usize, qIndex: usize, s0: i32, rows: i32, rp: i32, D: i32, qScale: f32, M: usize, L: usize, Bad: usize): void {
  const d4 = D & ~3;
  const dBytes = <usize>D * 4;
  const sc = f32x4.splat(qScale);
  let r = 0;
  for (; r + 4 <= rows; r += 4) {
    // source rows of q [Lq, D]
    const x = qIndex + <usize>(s0 + r) * 4; // qIndex[s0 + r ..]
    const q0 = qPtr + <usize>(qIndex === 0 ? s0 + r : load<i32>(x)) * dBytes;
    const q1 = qPtr + <usize>(qIndex === 0 ? s0 + r + 1 : load<i32>(x, 4)) * dBytes;
    const q2 = qPtr + <usize>(qIndex === 0 ? s0 + r + 2 : load<i32>(x, 8)) * dBytes;
    const q3 = qPtr + <usize>(qIndex === 0 ? s0 + r + 3 : load<i32>(x, 12)) * dBytes;
    // lanes r & 7 .. +3 of row block r >> 3 at d = 0: Qp + ((r >> 3) · D · 8 + (r & 7)) · 4
    const blk = Qp + (<usize>(r >> 3) * <usize>D * 8 + <usize>(r & 7)) * 4;
    let d = 0;
    for (; d < d4; d += 4) {
      const x0 = f32x4.mul(v128.load(q0 + <usize>d * 4), sc);
      const x1 = f32x4.mul(v128.load(q1 + <usize>d * 4), sc);
      const x2 = f32x4.mul(v128.load(q2 + <usize>d * 4), sc);
      const x3 = f32x4.mul(v128.load(q3 + <usize>d * 4), sc);
      const t0 = v128.shuffle<f32>(x0, x1, 0, 4, 1, 5);
      const t1 = v128.shuffle<f32>(x0, x1, 2, 6, 3, 7);
      const t2 = v128.shuffle<f32>(x2, x3, 0, 4, 1, 5);
      const t3 = v128.shuffle<f32>(x2, x3, 2, 6, 3, 7);
      const o = blk + <usize>d * 32; // d's 8 lanes are 32 bytes apart
      v128.store(o, v128.shuffle<f32>(t0, t2, 0, 1, 4, 5), 0);
      v128.store(o, v128.shuffle<f32>(t0, t2, 2, 3, 6, 7), 32);
      v128.store(o, v128.shuffle<f32>(t1, t3, 0, 1, 4, 5), 64);
      v128.store(o, v128.shuffle<f32>(t1, t3, 2, 3, 6, 7), 96);
    }
    for (; d < D; d++) {
      const o = blk + <usize>d * 32;
      store<f32>(o, load<f32>(q0 + <usize>d * 4) * qScale, 0);
      store<f32>(o, load<f32>(q1 + <usize>d * 4) * qScale, 4);
      store<f32>(o, load<f32>(q2 + <usize>d * 4) * qScale, 8);
      store<f32>(o, load<f32>(q3 + <usize>d * 4) * qScale, 12);
    }
  }
  // the last rows % 4 rows, then the zero pad rows
  for (; r < rp; r++) {
    const lane = Qp + (<usize>(r >> 3) * <usize>D * 8 + <usize>(r & 7)) * 4; // Qp [rb][d][8]: row r at d = 0
    if (r < rows) {
      const qi = qIndex === 0 ? s0 + r : load<i32>(qIndex + <usize>(s0 + r) * 4);
      const src = qPtr + <usize>qi * dBytes; // q: [Lq, D]
      for (let d = 0; d < D; d++) store<f32>(lane + <usize>d * 32, load<f32>(src + <usize>d * 4) * qScale);
    } else {
      for (let d = 0; d < D; d++) store<f32>(lane + <usize>d * 32, 0);
    }
  }
  const ninf = f32x4.splat(-Infinity);
  const zero = f32x4.splat(0);
  for (let i = 0; i < rp; i += 4) {
    v128.store(M + <usize>i * 4, ninf);
    v128.store(L + <usize>i * 4, zero);
    v128.store(Bad + <usize>i * 4, zero);
  }
}

/**
 * Copies rows [0, rows rounded up to 4) of AccT [rb][d][8] into row-major Out [r][D] (Out holds
 * D · rp floats) and adds each row's Σ (a − a) over d to Bad[r] (in d order, as a scalar loop).
 */
export function unpackAcc(Acc: usize, Out: usize, Bad: usize, rows: i32, D: i32): void {
  const d4 = D & ~3;
  const rowBytes = <usize>D * 4;
  for (let r = 0; r < rows; r += 4) {
    const blk = Acc + (<usize>(r >> 3) * <usize>D * 8 + <usize>(r & 7)) * 4; // lanes r..r+3 at d = 0
    const o0 = Out + <usize>r * rowBytes; // Out [r][D]: row r
    const o1 = o0 + rowBytes;
    const o2 = o1 + rowBytes;
    const o3 = o2 + rowBytes;
    let chk = v128.load(Bad + <usize>r * 4);
    let d = 0;
    for (; d < d4; d += 4) {
      const a = blk + <usize>d * 32; // d's 8 lanes are 32 bytes apart
      const y0 = v128.load(a, 0);
      const y1 = v128.load(a, 32);
      const y2 = v128.load(a, 64);
      const y3 = v128.load(a, 96);
      chk = f32x4.add(chk, f32x4.sub(y0, y0));
      chk = f32x4.add(chk, f32x4.sub(y1, y1));
      chk = f32x4.add(chk, f32x4.sub(y2, y2));
      chk = f32x4.add(chk, f32x4.sub(y3, y3));
      const t0 = v128.shuffle<f32>(y0, y1, 0, 4, 1, 5);
      const t1 = v128.shuffle<f32>(y0, y1, 2, 6, 3, 7);
      const t2 = v128.shuffle<f32>(y2, y3, 0, 4, 1, 5);
      const t3 = v128.shuffle<f32>(y2, y3, 2, 6, 3, 7);
      v128.store(o0 + <usize>d * 4, v128.shuffle<f32>(t0, t2, 0, 1, 4, 5));
      v128.store(o1 + <usize>d * 4, v128.shuffle<f32>(t0, t2, 2, 3, 6, 7));
      v128.store(o2 + <usize>d * 4, v128.shuffle<f32>(t1, t3, 0, 1, 4, 5));
      v128.store(o3 + <usize>d * 4, v128.shuffle<f32>(t1, t3, 2, 3, 6, 7));
    }
    for (; d < D; d++) {
      const y = v128.load(blk + <usize>d * 32);
      chk = f32x4.add(chk, f32x4.sub(y, y));
      store<f32>(o0 + <usize>d * 4, f32x4.extract_lane(y, 0));
      store<f32>(o1 + <usize>d * 4, f32x4.extract_lane(y, 1));
      store<f32>(o2 + <usize>d * 4, f32x4.extract_lane(y, 2));
      store<f32>(o3 + <usize>d * 4, f32x4.extract_lane(y, 3));
    }
    v128.store(Bad + <usize>r * 4, chk);
  }
}
