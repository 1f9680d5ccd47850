/**
 * Host-side packing for the WebGPU kernel: plan parts into one u32 buffer (a descriptor per
 * part, then its arrays), partial-tile masks as bits, the task table (one task = one query
 * tile of one part of one (batch, head)) and the merge CSR (for each output row, the scratch
 * rows that hold its partial results, in plan order). Plain loops over typed arrays.
 */
import type { PlanPart } from "../../types.js";
import { DESC_WORDS, NONE, TASK_WORDS } from "./wgsl.js";

export interface PackedMasks {
  /** Bit-packed partial-tile masks; bit `i = r * cols + c` of a tile at word `maskOff[e] + (i >>> 5)`, bit `i & 31`. */
  maskWords: Uint32Array;
  /** Word offset of each entry's mask in maskWords, -1 for a full tile. */
  maskOff: Int32Array;
}

/** The plan format the GPU reads: the plan's own bit masks (each tile on a word boundary) and word offsets. */
export function packPartMasks(part: PlanPart): PackedMasks {
  return { maskWords: part.maskWords, maskOff: part.maskOff };
}

/** Distinct parts packed into one u32 array; `desc.get(part)` is the word offset of its descriptor. */
export interface PackedPlan {
  words: Uint32Array;
  desc: Map<PlanPart, number>;
}

function partWords(p: PlanPart, masks: PackedMasks): number {
  let n = DESC_WORDS + p.qTiles.length + p.kTiles.length + p.rowPtr.length + p.colIdx.length;
  n += masks.maskOff.length + masks.maskWords.length;
  if (p.qIndex) n += p.qIndex.length;
  if (p.kIndex) n += p.kIndex.length;
  return n;
}

/**
 * Descriptor (DESC_WORDS u32, offsets absolute in the packed array, NONE when absent):
 * [qIndex, kIndex, qTiles, kTiles, rowPtr, colIdx, maskOff, maskWords, hasSelf, selfScore f32 bits, 0, 0].
 */
export function packParts(parts: readonly PlanPart[]): PackedPlan {
  const masks = parts.map(packPartMasks);
  let total = 0;
  for (let i = 0; i < parts.length; i++) total += partWords(parts[i], masks[i]);
  const words = new Uint32Array(Math.max(total, 4));
  const f32 = new Float32Array(1);
  const bits = new Uint32Array(f32.buffer);
  const desc = new Map<PlanPart, number>();
  let at = 0;
  const put = (a: Int32Array | Uint32Array): number => {
    const off = at;
    words.set(a, at); // Int32 -> Uint32 keeps the bits (-1 -> NONE)
    at += a.length;
    return off;
  };
  for (let i = 0; i < parts.length; i++) {
    const p = parts[i];
    const d = at;
    desc.set(p, d);
    at += DESC_WORDS;
    words[d] = p.qIndex ? put(p.qIndex) : NONE;
    words[d + 1] = p.kIndex ? put(p.kIndex) : NONE;
    words[d + 2] = put(p.qTiles);
    words[d + 3] = put(p.kTiles);
    words[d + 4] = put(p.rowPtr);
    words[d + 5] = put(p.colIdx);
    words[d + 6] = put(masks[i].maskOff);
    words[d + 7] = put(masks[i].maskWords);
    words[d + 8] = p.selfScore === undefined ? 0 : 1;
    f32[0] = p.selfScore ?? 0;
    words[d + 9] = bits[0];
  }
  return { words, desc };
}

/** Bytes packParts will need for these parts (without packing). */
export function packedPlanBytes(parts: readonly PlanPart[]): number {
  let n = 0;
  for (const p of parts) {
    n += DESC_WORDS + p.qTiles.length + p.kTiles.length + p.rowPtr.length + 2 * p.colIdx.length;
    n += p.maskWords.length;
    if (p.qIndex) n += p.qIndex.length;
    if (p.kIndex) n += p.kIndex.length;
  }
  return 4 * n;
}

/** The parts each (batch, head) runs, in bh = b * H + h order, and its kv row b * Hkv + h / group. */
export interface HeadPlan {
  parts: PlanPart[];
  kvRow: number;
}

export interface ChunkWork {
  /** [numTasks, TASK_WORDS]: descriptor, bh - bh0, kvRow - kv0, qt, first scratch row. */
  tasks: Uint32Array;
  numTasks: number;
  scratchRows: number;
  /** [rows + 1] and [entries]: each output row's scratch rows, plan order. */
  mergePtr: Uint32Array;
  mergeIdx: Uint32Array;
}

/** Tasks and merge CSR of heads [bh0, bh1) (rows of a tile with no key tile produce no task). */
export function chunkWork(
  heads: readonly HeadPlan[],
  bh0: number,
  bh1: number,
  kv0: number,
  Lq: number,
  plan: PackedPlan,
): ChunkWork {
  let numTasks = 0;
  let scratchRows = 0;
  for (let bh = bh0; bh < bh1; bh++) {
    for (const p of heads[bh].parts) {
      const numQT = p.qTiles.length - 1;
      for (let qt = 0; qt < numQT; qt++) {
        if (p.rowPtr[qt + 1] === p.rowPtr[qt]) continue;
        numTasks++;
        scratchRows += p.qTiles[qt + 1] - p.qTiles[qt];
      }
    }
  }
  const rows = (bh1 - bh0) * Lq;
  const tasks = new Uint32Array(Math.max(numTasks * TASK_WORDS, 4));
  const mergePtr = new Uint32Array(rows + 1);
  const mergeIdx = new Uint32Array(Math.max(scratchRows, 1));
  // pass 1: tasks, and how many scratch rows each output row gets
  let t = 0;
  let s = 0;
  for (let bh = bh0; bh < bh1; bh++) {
    const rowBase = (bh - bh0) * Lq; // out: [nbh, Lq, D] rows
    for (const p of heads[bh].parts) {
      const d = plan.desc.get(p)!;
      const numQT = p.qTiles.length - 1;
      for (let qt = 0; qt < numQT; qt++) {
        if (p.rowPtr[qt + 1] === p.rowPtr[qt]) continue;
        const tb = t * TASK_WORDS; // tasks: [numTasks, TASK_WORDS]
        tasks[tb] = d;
        tasks[tb + 1] = bh - bh0;
        tasks[tb + 2] = heads[bh].kvRow - kv0;
        tasks[tb + 3] = qt;
        tasks[tb + 4] = s;
        t++;
        for (let si = p.qTiles[qt]; si < p.qTiles[qt + 1]; si++) {
          const qi = p.qIndex === null ? si : p.qIndex[si];
          mergePtr[rowBase + qi + 1]++;
        }
        s += p.qTiles[qt + 1] - p.qTiles[qt];
      }
    }
  }
  for (let r = 0; r < rows; r++) mergePtr[r + 1] += mergePtr[r];
  // pass 2: fill each output row's scratch rows in plan order
  const fill = mergePtr.slice(0, rows);
  s = 0;
  for (let bh = bh0; bh < bh1; bh++) {
    const rowBase = (bh - bh0) * Lq;
    for (const p of heads[bh].parts) {
      const numQT = p.qTiles.length - 1;
      for (let qt = 0; qt < numQT; qt++) {
        if (p.rowPtr[qt + 1] === p.rowPtr[qt]) continue;
        for (let si = p.qTiles[qt]; si < p.qTiles[qt + 1]; si++) {
          const qi = p.qIndex === null ? si : p.qIndex[si];
          mergeIdx[fill[rowBase + qi]++] = s++;
        }
      }
    }
  }
  return { tasks, numTasks, scratchRows, mergePtr, mergeIdx };
}
