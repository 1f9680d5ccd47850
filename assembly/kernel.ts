/**
 * The tiled attention kernel in WebAssembly SIMD (AssemblyScript, f32x4): the same contract
 * as src/backends/js/tiled.ts (gathered rows/columns, non-uniform tiles, bit masks in partial
 * tiles, selfScore, online softmax, merge into out/lse by log-sum-exp), executed on raw
 * pointers into one linear memory that src/backends/wasm/wasm.ts fills. No allocation, no
 * globals, no runtime: several instances (one per thread) share the memory.
 *
 * Blocking (see docs/performance.md): rows of a query tile sit in SIMD lanes. Per tile the
 * queries are gathered, scaled and packed into panels Qp [rb][d][8] (8 rows per row block
 * rb); scores are packed the same way, St [rb][c][8]; the accumulator AccT [rb][d][8].
 *   scores: an 8-row × 4-key block of scores lives in 8 registers while d runs over D:
 *           2 panel loads + 4 broadcast loads of K feed 8 mul + 8 add per d.
 *   softmax: row max, exp and row sums vectorised over 4 rows at a time.
 *   overflow: scores() sums (s − s) per row into Bad; a row with a non-finite score or
 *           accumulator is marked (lse NaN) for the float64 path (src/backends/nonfinite.ts).
 *   P·V:    an 8-row × 4-d block of AccT lives in 8 registers while c runs over the
 *           pass: 2 panel loads of P + 4 broadcast loads of V feed 8 mul + 8 add per key.
 * Passes: consecutive key tiles of a query tile's CSR row are scored as one pass (up to the
 * part's cap columns). Identity key orders read k / v in place; gathered ones pack K and V
 * into a window of the part's key order that later, overlapping passes reuse.
 * Shapes: q [Lq, D] block of one head at qPtr, k / v [Lk, D] blocks, out [Lq, D], lse [Lq].
 *
 * Descriptors (little-endian i32 words, written by src/backends/wasm/wasm.ts; every offset is a
 * constant of assembly/layout.ts, generated from the one table assembly/layout.mjs):
 *   head (16 words): qPtr, kPtr, vPtr, outPtr, lsePtr, partsPtr, numParts, D, scale (f32),
 *                    records (deferred merges, assembly/merge.ts; 0 = none), Lq
 *   part (16 words): qIndexPtr (0 = identity), kIndexPtr (0 = identity), qTilesPtr, numQT,
 *                    kTilesPtr, rowPtrPtr, colIdxPtr, maskOffPtr (word offsets), maskWordsPtr, hasSelf,
 *                    selfScore (f32), tqMax, tkMax, kWin (columns of the packed key window, a
 *                    multiple of 4, ≥ cap), cap (most columns of one pass, ≥ tkMax); the host
 *                    chooses kWin and cap (passCols, keyWindow in src/backends/wasm/wasm-plan.ts)
 *   item (4 words):  headPtr, part index (-1 = every part, in order; -2 = every part, in order,
 *                    over a row block: word 2 points at [numParts][2] i32 tile ranges;
 *                    -16 - p = part p's tiles to its records; -3 = merge records of rows
 *                    [word 2, word 3), see assembly/merge.ts), qtBegin, qtEnd
 */

import { accumulate } from "./accumulate";
import { maskTile, packK, packV } from "./pack";
import { scores, scoresRows64 } from "./scores";
import { mergeRecords, mergeRow, partRecords, storeRow } from "./merge";
import { LOG2E, madd, softmax } from "./softmax";
import { packQ, unpackAcc } from "./rows";
import {
  HEAD_D,
  HEAD_K,
  HEAD_LSE,
  HEAD_NUM_PARTS,
  HEAD_OUT,
  HEAD_PARTS,
  HEAD_Q,
  HEAD_SCALE,
  HEAD_V,
  ITEM_BYTES,
  ITEM_HEAD,
  ITEM_MERGE,
  ITEM_PART,
  ITEM_QT_BEGIN,
  ITEM_QT_END,
  ITEM_ROW_BLOCK,
  ITEM_STORE,
  PART_BYTES,
  PART_CAP,
  PART_COL_IDX,
  PART_HAS_SELF,
  PART_K_INDEX,
  PART_K_TILES,
  PART_K_WIN,
  PART_MASK_OFF,
  PART_MASK_WORDS,
  PART_NUM_QT,
  PART_Q_INDEX,
  PART_Q_TILES,
  PART_ROW_PTR,
  PART_SELF_SCORE,
  PART_TQ_MAX,
} from "./layout";

export { allFinite } from "./softmax";

const NEG_INF: f32 = -Infinity;

/** Runs `count` consecutive items (16 bytes each) with one thread's scratch. */
export function runItems(items: usize, count: i32, scratch: usize): void {
  for (let i = 0; i < count; i++) runItem(items + <usize>i * ITEM_BYTES, scratch);
}

/** Runs one work item: a query-tile range of one part, every part of a head in order, or every part over a row block. */
export function runItem(item: usize, scratch: usize): void {
  const head = <usize>load<i32>(item, ITEM_HEAD);
  const partIndex = load<i32>(item, ITEM_PART);
  const partsPtr = <usize>load<i32>(head, HEAD_PARTS);
  if (partIndex >= 0) {
    runPart(head, partsPtr + <usize>partIndex * PART_BYTES, load<i32>(item, ITEM_QT_BEGIN), load<i32>(item, ITEM_QT_END), scratch, 0);
    return;
  }
  if (partIndex <= ITEM_STORE) {
    // a deferred part p >= 1: its tiles' rows go to records, merged later by ITEM_MERGE items (merge.ts)
    const p = ITEM_STORE - partIndex;
    runPart(head, partsPtr + <usize>p * PART_BYTES, load<i32>(item, ITEM_QT_BEGIN), load<i32>(item, ITEM_QT_END), scratch, partRecords(head, p));
    return;
  }
  if (partIndex === ITEM_MERGE) {
    mergeRecords(head, load<i32>(item, ITEM_QT_BEGIN), load<i32>(item, ITEM_QT_END));
    return;
  }
  const numParts = load<i32>(head, HEAD_NUM_PARTS);
  if (partIndex === ITEM_ROW_BLOCK) {
    // a row block: every part in order, part p over tiles [ranges[2p], ranges[2p + 1]) (src/backends/wasm/wasm-items.ts rowCuts)
    const ranges = <usize>load<i32>(item, ITEM_QT_BEGIN); // [numParts][2] i32
    for (let p = 0; p < numParts; p++) {
      const r = ranges + <usize>p * 8;
      runPart(head, partsPtr + <usize>p * PART_BYTES, load<i32>(r), load<i32>(r, 4), scratch, 0);
    }
    return;
  }
  for (let p = 0; p < numParts; p++) {
    const part = partsPtr + <usize>p * PART_BYTES;
    runPart(head, part, 0, load<i32>(part, PART_NUM_QT), scratch, 0);
  }
}

/** Bytes of scratch one thread needs for a part (mirrored by wasmScratchBytes in wasm.ts). */
export function scratchBytes(tqMax: i32, cap: i32, kWin: i32, D: i32): i32 {
  const rp = (tqMax + 7) & ~7;
  return (2 * D * rp + cap * rp + 4 * rp + 2 * cap + (kWin + vCols(kWin)) * D) * 4 + 64;
}

/**
 * Columns between two 4-d groups of Vp: kWin, plus 128 when kWin · 16 bytes is a multiple of
 * 4 KiB, so that a pass's 4-d groups (read one after another by accumulate(), again for every
 * row block) do not all fall into the same L1 sets.
 */
function vCols(kWin: i32): i32 {
  return (kWin & 255) === 0 ? kWin + 128 : kWin;
}

/** Runs query tiles [qtBegin, qtEnd) of one part; rec: 0 = merge each tile into out / lse, else the part's records (merge.ts). */
function runPart(head: usize, part: usize, qtBegin: i32, qtEnd: i32, scratch: usize, rec: usize): void {
  const qPtr = <usize>load<i32>(head, HEAD_Q);
  const kPtr = <usize>load<i32>(head, HEAD_K);
  const vPtr = <usize>load<i32>(head, HEAD_V);
  const outPtr = <usize>load<i32>(head, HEAD_OUT);
  const lsePtr = <usize>load<i32>(head, HEAD_LSE);
  const D = load<i32>(head, HEAD_D);
  const scale = load<f32>(head, HEAD_SCALE);
  const qIndex = <usize>load<i32>(part, PART_Q_INDEX);
  const kIndex = <usize>load<i32>(part, PART_K_INDEX);
  const qTiles = <usize>load<i32>(part, PART_Q_TILES);
  const kTiles = <usize>load<i32>(part, PART_K_TILES);
  const rowPtr = <usize>load<i32>(part, PART_ROW_PTR);
  const colIdx = <usize>load<i32>(part, PART_COL_IDX);
  const maskOff = <usize>load<i32>(part, PART_MASK_OFF);
  const maskWords = <usize>load<i32>(part, PART_MASK_WORDS);
  const hasSelf = load<i32>(part, PART_HAS_SELF);
  const selfScore = load<f32>(part, PART_SELF_SCORE);
  const tqMax = load<i32>(part, PART_TQ_MAX);
  const kWin = load<i32>(part, PART_K_WIN);
  const cap = load<i32>(part, PART_CAP); // columns of one pass
  const rpMax = (tqMax + 7) & ~7;
  // scratch layout (16-byte aligned): Qp [D·rp] | AccT [D·rp] | St [cap·rp] | M, L, Alpha, Bad [rp] | colOff, colKi [cap] | Kp [kWin·D] | Vp [vCols·D]
  const base = (scratch + 15) & ~(<usize>15);
  const Qp = base;
  const Acc = Qp + <usize>(D * rpMax) * 4;
  const St = Acc + <usize>(D * rpMax) * 4;
  const M = St + <usize>(cap * rpMax) * 4;
  const L = M + <usize>rpMax * 4;
  const Alpha = L + <usize>rpMax * 4;
  const Bad = Alpha + <usize>rpMax * 4; // Σ (s − s) per row: 0 unless a score overflowed float32
  const colOff = Bad + <usize>rpMax * 4;
  const colKi = colOff + <usize>cap * 4;
  // the packed key window: columns [wBase, wBase + kWin) of the part's key order, K packed in
  // groups of 4 up to hiK, V up to hiV; passes that overlap earlier ones pack only new columns
  const Kp = colKi + <usize>cap * 4; // [kWin/4][D][4]
  const Vp = Kp + <usize>(kWin * D) * 4; // [D/4][vCols][4]
  const vGroup = <usize>vCols(kWin) * 16; // bytes per 4-d group of Vp
  const directV = kIndex === 0; // identity key order: values read in place
  const directK = directV && D === 64; // and keys (scoresRows64's offsets are D = 64 constants)
  let wBase = 0;
  let hiK = -1; // nothing packed yet
  let hiV = -1;
  const dBytes = <usize>D * 4;
  const qScale = scale * LOG2E; // scores in wBase-2 units (see vexp2)
  const self2 = selfScore * LOG2E;

  for (let qt = qtBegin; qt < qtEnd; qt++) {
    const e0 = load<i32>(rowPtr + <usize>qt * 4);
    const e1 = load<i32>(rowPtr + <usize>qt * 4, 4);
    if (e0 === e1) continue;
    const s0 = load<i32>(qTiles + <usize>qt * 4);
    const rows = load<i32>(qTiles + <usize>qt * 4, 4) - s0;
    const rp = (rows + 7) & ~7;
    // gather, scale and pack queries: Qp [rb][d][8]; pad rows are zero; M, L, Bad initialised
    packQ(Qp, qPtr, qIndex, s0, rows, rp, D, qScale, M, L, Bad);
    memory.fill(Acc, 0, <usize>(D * rp) * 4);

    // one pass per run of CSR entries whose key tiles follow each other in the part's key
    // order (colIdx[e + 1] = colIdx[e] + 1), a run longer than `cap` columns cut into passes
    // of about equal width: one pack, scores over the pass, each tile's mask at its column
    // offset, one softmax step and one P·V step
    for (let e = e0; e < e1; ) {
      const kt0 = load<i32>(colIdx + <usize>e * 4);
      const t0 = load<i32>(kTiles + <usize>kt0 * 4);
      let eRun = e + 1;
      while (eRun < e1 && load<i32>(colIdx + <usize>eRun * 4) === kt0 + (eRun - e)) eRun++;
      const runCols = load<i32>(kTiles + <usize>(kt0 + (eRun - e)) * 4) - t0; // kTiles[last + 1] − t0
      const nPass = (runCols + cap - 1) / cap;
      const width = (runCols + nPass - 1) / nPass; // ≤ cap
      let eEnd = e + 1;
      let tEnd = load<i32>(kTiles + <usize>kt0 * 4, 4);
      while (eEnd < eRun) {
        const t1 = load<i32>(kTiles + <usize>(kt0 + (eEnd - e)) * 4, 4);
        if (t1 - t0 > width) break;
        tEnd = t1;
        eEnd++;
      }
      const cols = tEnd - t0;
      for (let c = 0; c < cols; c++) {
        const ki = kIndex === 0 ? t0 + c : load<i32>(kIndex + <usize>(t0 + c) * 4);
        store<i32>(colKi + <usize>c * 4, ki);
        store<i32>(colOff + <usize>c * 4, ki * D * 4); // byte offset of row ki in k / v: [Lk, D]
      }
      // identity key order: V (and K when D = 64) read in place, rows D·4 bytes apart
      let kp = kPtr + <usize>t0 * 256; // k: [Lk, 64], the pass's first key
      let vp = vPtr + <usize>t0 * dBytes; // v: [Lk, D]
      let vg: usize = 16; // bytes from one 4-d group of a key to the next
      let vStep = dBytes; // bytes from one key to the next
      if (!directK) {
        if (t0 < wBase || t0 > hiK || ((t0 - wBase) & 3) !== 0) {
          wBase = t0; // not a continuation of the window: start it here
          hiK = t0;
          hiV = t0;
        } else if (tEnd - wBase > kWin) {
          // slide the window to start at t0, keeping what is packed from t0 on
          memory.copy(Kp, Kp + <usize>((t0 - wBase) >> 2) * <usize>D * 16, <usize>((hiK - t0) >> 2) * <usize>D * 16);
          if (!directV) {
            for (let g = 0; g < D >> 2; g++) {
              const vgp = Vp + <usize>g * vGroup;
              memory.copy(vgp, vgp + <usize>(t0 - wBase) * 16, <usize>(hiV - t0) * 16);
            }
          }
          wBase = t0;
        }
        const c4 = t0 + (cols & ~3); // keys packed in whole groups of 4; the rest read in place
        if (hiK < c4) {
          packK(Kp + <usize>((hiK - wBase) >> 2) * <usize>D * 16, colOff + <usize>(hiK - t0) * 4, kPtr, c4 - hiK, D);
          hiK = c4;
        }
        if (!directV && hiV < tEnd) {
          packV(Vp + <usize>(hiV - wBase) * 16, vGroup, colOff + <usize>(hiV - t0) * 4, vPtr, tEnd - hiV, D);
          hiV = tEnd;
        }
        kp = Kp + <usize>((t0 - wBase) >> 2) * <usize>D * 16; // the pass's first key group
        if (!directV) {
          vp = Vp + <usize>(t0 - wBase) * 16; // the pass's first key in each d group
          vg = vGroup;
          vStep = 16;
        }
      }
      if (directK) scoresRows64(Qp, St, Bad, kp, colOff, kPtr, cols, rp);
      else scores(Qp, St, Bad, kp, colOff, kPtr, cols, rp, D);
      const panel = <usize>cols * 32; // bytes per row block of St [rb][c][8]
      for (let f = e; f < eEnd; f++) {
        const mOff = load<i32>(maskOff + <usize>f * 4);
        if (mOff < 0) continue;
        const kt = kt0 + (f - e);
        const c0 = load<i32>(kTiles + <usize>kt * 4) - t0; // the tile's first column in the pass
        const tc = load<i32>(kTiles + <usize>kt * 4, 4) - t0 - c0;
        maskTile(St + <usize>c0 * 32, panel, maskWords + <usize>mOff * 4, rows, tc);
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
      accumulate(St, Acc, Alpha, vp, vg, vStep, colOff, vPtr, cols, rp, D);
      e = eEnd;
    }
    merge(Acc, Qp, M, L, Bad, qIndex, s0, rows, outPtr, lsePtr, D, rec);
  }
}

/**
 * Merges this tile's rows into out / lse by log-sum-exp (assembly/merge.ts mergeRow), or, when
 * rec is not 0 (a deferred part, see merge.ts), stores each row's state as its record there.
 * The accumulator is first copied row-major into Rows (Qp's space, free once the passes are
 * done) with each row's overflow check in Bad (rows.ts unpackAcc).
 */
function merge(Acc: usize, Rows: usize, M: usize, L: usize, Bad: usize, qIndex: usize, s0: i32, rows: i32, outPtr: usize, lsePtr: usize, D: i32, rec: usize): void {
  unpackAcc(Acc, Rows, Bad, rows, D);
  for (let r = 0; r < rows; r++) {
    const qi = qIndex === 0 ? s0 + r : load<i32>(qIndex + <usize>(s0 + r) * 4);
    const row = Rows + <usize>r * <usize>D * 4; // Rows [r][D]
    const chk = load<f32>(Bad + <usize>r * 4);
    const m = load<f32>(M + <usize>r * 4);
    const l = load<f32>(L + <usize>r * 4);
    if (rec !== 0) storeRow(row, m, l, chk, rec + <usize>qi * <usize>(D + 3) * 4, D); // records [Lq][D + 3]
    else mergeRow(row, m, l, chk, qi, outPtr, lsePtr, D);
  }
}
