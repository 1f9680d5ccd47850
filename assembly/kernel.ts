/**
 * The tiled attention kernel in WebAssembly SIMD (AssemblyScript, f32x4): the same contract
 * as src/kernels/tiled.ts (gathered rows/columns, non-uniform tiles, bit masks in partial
 * tiles, selfScore, online softmax, merge into out/lse by log-sum-exp), executed on raw
 * pointers into one linear memory that src/kernels/wasm.ts fills. No allocation, no
 * globals, no runtime: several instances (one per thread) share the memory.
 *
 * Blocking (see docs/performance.md): rows of a query tile sit in SIMD lanes. Per tile the
 * queries are gathered, scaled and packed into panels Qp [rb][d][8] (8 rows per row block
 * rb); scores are packed the same way, St [rb][c][8]; the accumulator AccT [rb][d][8].
 *   scores: an 8-row × 4-key block of scores lives in 8 registers while d runs over D:
 *           2 panel loads + 4 broadcast loads of K feed 8 mul + 8 add per d.
 *   softmax: row max, exp and row sums vectorised over 4 rows at a time.
 *   overflow: scores() sums (s − s) per row into Bad; a row with a non-finite score or
 *           accumulator is marked (lse NaN) for the float64 path (src/kernels/nonfinite.ts).
 *   P·V:    an 8-row × 4-d block of AccT lives in 8 registers while c runs over the key
 *           tile: 2 panel loads of P + 4 broadcast loads of V feed 8 mul + 8 add per key.
 * Shapes: q [Lq, D] block of one head at qPtr, k / v [Lk, D] blocks, out [Lq, D], lse [Lq].
 *
 * Descriptors (little-endian i32 words, written by src/kernels/wasm.ts):
 *   head (16 words): qPtr, kPtr, vPtr, outPtr, lsePtr, partsPtr, numParts, D, scale (f32),
 *                    records (deferred merges, assembly/merge.ts; 0 = none), Lq
 *   part (16 words): qIndexPtr (0 = identity), kIndexPtr (0 = identity), qTilesPtr, numQT,
 *                    kTilesPtr, rowPtrPtr, colIdxPtr, maskOffPtr (word offsets), maskWordsPtr, hasSelf,
 *                    selfScore (f32), tqMax, tkMax
 *   item (4 words):  headPtr, part index (-1 = every part, in order; -2 = every part, in order,
 *                    over a row block: word 2 points at [numParts][2] i32 tile ranges;
 *                    -16 - p = part p's tiles to its records; -3 = merge records of rows
 *                    [word 2, word 3), see assembly/merge.ts), qtBegin, qtEnd
 */

import { accumulate } from "./accumulate";
import { mergeRecords, mergeRow, partRecords, storeRow } from "./merge";
import { LOG2E, madd, softmax } from "./softmax";

export { allFinite } from "./softmax";

const NEG_INF: f32 = -Infinity;
const HEAD_WORDS: usize = 16;
const PART_BYTES: usize = 64;
const ITEM_BYTES: usize = 16;
const ITEM_MERGE: i32 = -3; // merge records of rows [qtBegin, qtEnd) (src/kernels/wasm-items.ts)
const ITEM_STORE: i32 = -16; // -16 - p: part p's tiles [qtBegin, qtEnd) to records

/** Runs `count` consecutive items (16 bytes each) with one thread's scratch. */
export function runItems(items: usize, count: i32, scratch: usize): void {
  for (let i = 0; i < count; i++) runItem(items + <usize>i * ITEM_BYTES, scratch);
}

/** Runs one work item: a query-tile range of one part, every part of a head in order, or every part over a row block. */
export function runItem(item: usize, scratch: usize): void {
  const head = <usize>load<i32>(item);
  const partIndex = load<i32>(item, 4);
  const partsPtr = <usize>load<i32>(head, 20);
  if (partIndex >= 0) {
    runPart(head, partsPtr + <usize>partIndex * PART_BYTES, load<i32>(item, 8), load<i32>(item, 12), scratch, 0);
    return;
  }
  if (partIndex <= ITEM_STORE) {
    // a deferred part p >= 1: its tiles' rows go to records, merged later by ITEM_MERGE items (merge.ts)
    const p = ITEM_STORE - partIndex;
    runPart(head, partsPtr + <usize>p * PART_BYTES, load<i32>(item, 8), load<i32>(item, 12), scratch, partRecords(head, p));
    return;
  }
  if (partIndex === ITEM_MERGE) {
    mergeRecords(head, load<i32>(item, 8), load<i32>(item, 12));
    return;
  }
  const numParts = load<i32>(head, 24);
  if (partIndex === -2) {
    // a row block: every part in order, part p over tiles [ranges[2p], ranges[2p + 1]) (src/kernels/wasm-items.ts rowCuts)
    const ranges = <usize>load<i32>(item, 8); // [numParts][2] i32
    for (let p = 0; p < numParts; p++) {
      const r = ranges + <usize>p * 8;
      runPart(head, partsPtr + <usize>p * PART_BYTES, load<i32>(r), load<i32>(r, 4), scratch, 0);
    }
    return;
  }
  for (let p = 0; p < numParts; p++) {
    const part = partsPtr + <usize>p * PART_BYTES;
    runPart(head, part, 0, load<i32>(part, 12), scratch, 0);
  }
}

/** Bytes of scratch one thread needs for a part (mirrored by wasmScratchBytes in wasm.ts). */
export function scratchBytes(tqMax: i32, tkMax: i32, D: i32): i32 {
  const rp = (tqMax + 7) & ~7;
  return (2 * D * rp + tkMax * rp + 4 * rp + 2 * tkMax + 2 * tkMax * D) * 4 + 64;
}

/** Runs query tiles [qtBegin, qtEnd) of one part; rec: 0 = merge each tile into out / lse, else the part's records (merge.ts). */
function runPart(head: usize, part: usize, qtBegin: i32, qtEnd: i32, scratch: usize, rec: usize): void {
  const qPtr = <usize>load<i32>(head, 0);
  const kPtr = <usize>load<i32>(head, 4);
  const vPtr = <usize>load<i32>(head, 8);
  const outPtr = <usize>load<i32>(head, 12);
  const lsePtr = <usize>load<i32>(head, 16);
  const D = load<i32>(head, 28);
  const scale = load<f32>(head, 32);
  const qIndex = <usize>load<i32>(part, 0);
  const kIndex = <usize>load<i32>(part, 4);
  const qTiles = <usize>load<i32>(part, 8);
  const kTiles = <usize>load<i32>(part, 16);
  const rowPtr = <usize>load<i32>(part, 20);
  const colIdx = <usize>load<i32>(part, 24);
  const maskOff = <usize>load<i32>(part, 28);
  const maskWords = <usize>load<i32>(part, 32);
  const hasSelf = load<i32>(part, 36);
  const selfScore = load<f32>(part, 40);
  const tqMax = load<i32>(part, 44);
  const tkMax = load<i32>(part, 48);
  const rpMax = (tqMax + 7) & ~7;
  // scratch layout (16-byte aligned): Qp [D·rp] | AccT [D·rp] | St [tk·rp] | M, L, Alpha, Bad [rp] | colOff, colKi [tk] | Kp, Vp [tk·D]
  const base = (scratch + 15) & ~(<usize>15);
  const Qp = base;
  const Acc = Qp + <usize>(D * rpMax) * 4;
  const St = Acc + <usize>(D * rpMax) * 4;
  const M = St + <usize>(tkMax * rpMax) * 4;
  const L = M + <usize>rpMax * 4;
  const Alpha = L + <usize>rpMax * 4;
  const Bad = Alpha + <usize>rpMax * 4; // Σ (s − s) per row: 0 unless a score overflowed float32
  const colOff = Bad + <usize>rpMax * 4;
  const colKi = colOff + <usize>tkMax * 4;
  const Kp = colKi + <usize>tkMax * 4; // [tk/4][D][4]
  const Vp = Kp + <usize>(tkMax * D) * 4; // [D/4][tk][4]
  const dBytes = <usize>D * 4;
  const qScale = scale * LOG2E; // scores in base-2 units (see vexp2)
  const self2 = selfScore * LOG2E;

  for (let qt = qtBegin; qt < qtEnd; qt++) {
    const e0 = load<i32>(rowPtr + <usize>qt * 4);
    const e1 = load<i32>(rowPtr + <usize>qt * 4, 4);
    if (e0 === e1) continue;
    const s0 = load<i32>(qTiles + <usize>qt * 4);
    const rows = load<i32>(qTiles + <usize>qt * 4, 4) - s0;
    const rp = (rows + 7) & ~7;
    // gather, scale and pack queries: Qp [rb][d][8]; pad rows are zero
    for (let r = 0; r < rp; r++) {
      const lane = Qp + (<usize>(r >> 3) * <usize>D * 8 + <usize>(r & 7)) * 4;
      if (r < rows) {
        const qi = qIndex === 0 ? s0 + r : load<i32>(qIndex + <usize>(s0 + r) * 4);
        const src = qPtr + <usize>qi * dBytes; // q: [Lq, D]
        for (let d = 0; d < D; d++) store<f32>(lane + <usize>d * 32, load<f32>(src + <usize>d * 4) * qScale);
      } else {
        for (let d = 0; d < D; d++) store<f32>(lane + <usize>d * 32, 0);
      }
      store<f32>(M + <usize>r * 4, NEG_INF);
      store<f32>(L + <usize>r * 4, 0);
      store<f32>(Bad + <usize>r * 4, 0);
    }
    memory.fill(Acc, 0, <usize>(D * rp) * 4);

    for (let e = e0; e < e1; e++) {
      const kt = load<i32>(colIdx + <usize>e * 4);
      const t0 = load<i32>(kTiles + <usize>kt * 4);
      const cols = load<i32>(kTiles + <usize>kt * 4, 4) - t0;
      const mOff = load<i32>(maskOff + <usize>e * 4);
      for (let c = 0; c < cols; c++) {
        const ki = kIndex === 0 ? t0 + c : load<i32>(kIndex + <usize>(t0 + c) * 4);
        store<i32>(colKi + <usize>c * 4, ki);
        store<i32>(colOff + <usize>c * 4, ki * D * 4); // byte offset of row ki in k / v: [Lk, D]
      }
      pack(Kp, Vp, colOff, kPtr, vPtr, cols, D);
      scores(Qp, St, Bad, Kp, colOff, kPtr, cols, rp, D);
      const panel = <usize>cols * 32; // bytes per row block of St
      if (mOff >= 0) {
        const tileWords = maskWords + <usize>mOff * 4; // bit-packed mask: bit i = r·cols + c at word i >>> 5, bit i & 31
        for (let r = 0; r < rows; r++) {
          const bRow = r * cols;
          const sRow = St + <usize>(r >> 3) * panel + <usize>(r & 7) * 4;
          for (let c = 0; c < cols; c++) {
            const i = bRow + c;
            if (((load<u32>(tileWords + <usize>(i >>> 5) * 4) >>> (i & 31)) & 1) === 0) {
              store<f32>(sRow + <usize>c * 32, NEG_INF);
            }
          }
        }
      }
      if (hasSelf !== 0) {
        for (let r = 0; r < rows; r++) {
          const qi = qIndex === 0 ? s0 + r : load<i32>(qIndex + <usize>(s0 + r) * 4);
          const sRow = St + <usize>(r >> 3) * panel + <usize>(r & 7) * 4;
          for (let c = 0; c < cols; c++) {
            const sp = sRow + <usize>c * 32;
            if (load<i32>(colKi + <usize>c * 4) === qi && load<f32>(sp) !== NEG_INF) store<f32>(sp, self2);
          }
        }
      }
      softmax(St, M, L, Alpha, cols, rp);
      accumulate(St, Acc, Alpha, Vp, colOff, vPtr, cols, rp, D);
    }
    merge(Acc, M, L, Bad, qIndex, s0, rows, outPtr, lsePtr, D, rec);
  }
}

/**
 * Packs the key tile for scores(): Kp [c/4][d][4] (four keys side by side per d, so one
 * pointer and immediate offsets address the 4 broadcasts), via 4×4 transposes; and the value
 * tile for accumulate(): Vp [d/4][c][4]. Columns past the last multiple of 4 (keys) and
 * values past the last multiple of 4 (d) are read in place through colOff.
 */
function pack(Kp: usize, Vp: usize, colOff: usize, kPtr: usize, vPtr: usize, cols: i32, D: i32): void {
  const c4 = cols & ~3;
  const d4 = D & ~3;
  const dBytes = <usize>D * 16; // bytes per 4-key group of Kp
  for (let c = 0; c < c4; c += 4) {
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
  const vGroup = <usize>cols * 16; // bytes per 4-d group of Vp
  for (let c = 0; c < cols; c++) {
    const src = vPtr + <usize>load<i32>(colOff + <usize>c * 4);
    const dst = Vp + <usize>c * 16;
    for (let d = 0; d < d4; d += 4) v128.store(dst + <usize>(d >> 2) * vGroup, v128.load(src + <usize>d * 4));
  }
}

/**
 * St [rb][c][8] = Qp [rb][d][8] · K[col c]ᵀ for every row block and key of the tile. Bad [rp]
 * gains Σ (s − s) over the row's scores (of four-key sums): 0 for finite scores, NaN when one
 * overflowed float32 (the inputs are finite here, see src/kernels/nonfinite.ts).
 */
function scores(Qp: usize, St: usize, Bad: usize, Kp: usize, colOff: usize, kPtr: usize, cols: i32, rp: i32, D: i32): void {
  const panel = <usize>cols * 32;
  const c4 = cols & ~3;
  const dBytes = <usize>D * 16;
  for (let rb = 0; rb < rp >> 3; rb++) {
    const qPanel = Qp + <usize>rb * <usize>D * 32;
    const sPanel = St + <usize>rb * panel;
    let chk0 = f32x4.splat(0);
    let chk1 = f32x4.splat(0);
    for (let c = 0; c < c4; c += 4) {
      let a00 = f32x4.splat(0);
      let a01 = f32x4.splat(0);
      let a10 = f32x4.splat(0);
      let a11 = f32x4.splat(0);
      let a20 = f32x4.splat(0);
      let a21 = f32x4.splat(0);
      let a30 = f32x4.splat(0);
      let a31 = f32x4.splat(0);
      let qp = qPanel;
      let kp = Kp + <usize>(c >> 2) * dBytes;
      const kEnd = kp + dBytes;
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
      const sp = sPanel + <usize>c * 32; // St [rb][c][8]
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
      chk0 = f32x4.add(chk0, f32x4.sub(u0, u0));
      chk1 = f32x4.add(chk1, f32x4.sub(u1, u1));
    }
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
 * Merges this tile's rows into out / lse by log-sum-exp (assembly/merge.ts mergeRow), or, when
 * rec is not 0 (a deferred part, see merge.ts), stores each row's state as its record there.
 */
function merge(Acc: usize, M: usize, L: usize, Bad: usize, qIndex: usize, s0: i32, rows: i32, outPtr: usize, lsePtr: usize, D: i32, rec: usize): void {
  for (let r = 0; r < rows; r++) {
    const qi = qIndex === 0 ? s0 + r : load<i32>(qIndex + <usize>(s0 + r) * 4);
    const lane = Acc + (<usize>(r >> 3) * <usize>D * 8 + <usize>(r & 7)) * 4; // AccT [rb][d][8]
    let chk = load<f32>(Bad + <usize>r * 4);
    for (let d = 0; d < D; d++) {
      const a = load<f32>(lane + <usize>d * 32);
      chk += a - a;
    }
    const m = load<f32>(M + <usize>r * 4);
    const l = load<f32>(L + <usize>r * 4);
    if (rec !== 0) storeRow(lane, m, l, chk, rec + <usize>qi * <usize>(D + 3) * 4, D); // records [Lq][D + 3]
    else mergeRow(lane, 32, m, l, chk, qi, outPtr, lsePtr, D);
  }
}
