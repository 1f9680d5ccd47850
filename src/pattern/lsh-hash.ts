/**
 * The numerical core of Reformer LSH planning: random rotations, angular hashing, the stable
 * bucket sort of all rounds, and the chunk boundaries over the sorted sequence.
 *
 * Shapes (named once):
 *   n   tokens of one (batch, head)       D      head dimension
 *   nr  hash rounds ("hashes")            nb     buckets per round
 *   factors: nb as a product of even factors (one factor = plain angular LSH)
 *   half = sum(factors) / 2 rotated values per round
 *   rotations: [heads, D, nr, half], row-major (HuggingFace's layout)
 *   buckets:   [nr, n], round r's buckets offset by r·nb
 *   sorted:    [nr·n] original positions, all rounds, ordered by (bucket, position)
 */
import { Rng } from "../util/rng.js";

/** Seeded standard-normal rotations [heads, D, nr, half], drawn in row-major order. */
export function seededRotations(seed: number, heads: number, D: number, nr: number, half: number): Float64Array {
  const rng = new Rng(seed);
  const out = new Float64Array(heads * D * nr * half);
  for (let i = 0; i < out.length; i++) out[i] = rng.normal();
  return out;
}

/**
 * Angular LSH of one head's vectors: `buckets[r·n + i] = argmax([x_i R_r, -x_i R_r]) + r·nb`,
 * first maximum on ties (as torch.argmax). Accumulates in float64. With several factors
 * (HuggingFace's factorised `num_buckets`), factor f takes the next f/2 columns of x_i R_r
 * and the bucket is sum_f argmax_f · prod(earlier factors).
 * x: [n, D] block; rot: [heads, D, nr, half]. Cost n·D·nr·half multiply-adds: the head's
 * rotations are transposed once to rotT [nr·half, D] so each projection is a contiguous dot
 * product, and four tokens share each rotation row.
 */
export function hashHead(
  x: Float32Array,
  n: number,
  D: number,
  rot: ArrayLike<number>,
  head: number,
  nr: number,
  factors: readonly number[],
): Int32Array {
  let half = 0;
  let nb = 1;
  for (const f of factors) {
    half += f / 2;
    nb *= f;
  }
  const width = nr * half; // projections per token: [nr, half]
  const rotT = new Float64Array(width * D); // [width, D]
  const rotHead = head * D * width; // rot: [heads, D, nr, half]
  for (let d = 0; d < D; d++) {
    for (let c = 0; c < width; c++) rotT[c * D + d] = rot[rotHead + d * width + c];
  }
  const proj = new Float64Array(4 * width); // [4 tokens, width]
  const buckets = new Int32Array(nr * n); // [nr, n]
  for (let i0 = 0; i0 < n; i0 += 4) {
    const block = Math.min(4, n - i0);
    // rows past n repeat the last token (their projections are never read)
    const x0 = i0 * D; // x: [n, D]
    const x1 = Math.min(i0 + 1, n - 1) * D;
    const x2 = Math.min(i0 + 2, n - 1) * D;
    const x3 = Math.min(i0 + 3, n - 1) * D;
    for (let c = 0; c < width; c++) {
      const rOff = c * D; // rotT: [width, D]
      let s0 = 0;
      let s1 = 0;
      let s2 = 0;
      let s3 = 0;
      for (let d = 0; d < D; d++) {
        const rv = rotT[rOff + d];
        s0 += x[x0 + d] * rv;
        s1 += x[x1 + d] * rv;
        s2 += x[x2 + d] * rv;
        s3 += x[x3 + d] * rv;
      }
      proj[c] = s0; // proj: [4, width]
      proj[width + c] = s1;
      proj[2 * width + c] = s2;
      proj[3 * width + c] = s3;
    }
    for (let t = 0; t < block; t++) {
      for (let r = 0; r < nr; r++) {
        let pOff = t * width + r * half; // proj: [4, nr, half]
        let bucket = 0;
        let radix = 1;
        for (let fi = 0; fi < factors.length; fi++) {
          const fh = factors[fi] / 2;
          let best = 0;
          let bestVal = proj[pOff];
          for (let j = 1; j < fh; j++) {
            if (proj[pOff + j] > bestVal) {
              bestVal = proj[pOff + j];
              best = j;
            }
          }
          for (let j = 0; j < fh; j++) {
            if (-proj[pOff + j] > bestVal) {
              bestVal = -proj[pOff + j];
              best = fh + j;
            }
          }
          bucket += radix * best;
          radix *= factors[fi];
          pOff += fh;
        }
        buckets[r * n + i0 + t] = bucket + r * nb; // buckets: [nr, n]
      }
    }
  }
  return buckets;
}

/**
 * Stable sort of all rounds together by `bucket·n + position` (HuggingFace's
 * `_stable_argsort`). Round r's offset buckets all precede round r+1's, so this is a
 * counting sort per round; positions come out ascending inside each bucket.
 * Returns sorted: [nr·n] original positions.
 */
export function sortByBucket(buckets: Int32Array, n: number, nr: number, nb: number): Int32Array {
  const sorted = new Int32Array(nr * n);
  const start = new Int32Array(nb + 1);
  for (let r = 0; r < nr; r++) {
    const bOff = r * n; // buckets: [nr, n]
    const base = r * nb;
    start.fill(0);
    for (let i = 0; i < n; i++) start[buckets[bOff + i] - base + 1]++;
    for (let b = 0; b < nb; b++) start[b + 1] += start[b];
    for (let i = 0; i < n; i++) sorted[bOff + start[buckets[bOff + i] - base]++] = i;
  }
  return sorted;
}

/**
 * Chunk boundaries over the sorted sequence of real tokens. Each round is padded to
 * `nPad = ceil(n / C)·C` slots, the padding sorted after the round's real tokens (as
 * HuggingFace's ReformerModel pads: padding hashes to the last bucket, positions last), and
 * cut into chunks of C slots; padding slots are then dropped, so every chunk lies inside one
 * round and the last chunk of a round holds `n - (nPad/C - 1)·C` real tokens.
 * Returns [nr·nPad/C + 1] boundaries into sorted.
 */
export function chunkTiles(n: number, nr: number, C: number): Int32Array {
  const perRound = Math.ceil(n / C);
  const tiles = new Int32Array(nr * perRound + 1);
  for (let r = 0; r < nr; r++) {
    for (let j = 0; j < perRound; j++) tiles[r * perRound + j] = r * n + Math.min(j * C, n);
  }
  tiles[nr * perRound] = nr * n;
  return tiles;
}

/**
 * HuggingFace's shared-QK key normalisation `_len_and_dim_norm`, per vector:
 * `k / sqrt(mean(k²) + 1e-6) / sqrt(D)`. k: [Lk, D]; returns a new [Lk, D] array.
 */
export function normaliseKeys(k: Float32Array, Lk: number, D: number): Float32Array {
  const out = new Float32Array(Lk * D);
  const invSqrtD = 1 / Math.sqrt(D);
  for (let i = 0; i < Lk; i++) {
    const off = i * D; // k: [Lk, D]
    let ss = 0;
    for (let d = 0; d < D; d++) ss += k[off + d] * k[off + d];
    const f = invSqrtD / Math.sqrt(ss / D + 1e-6);
    for (let d = 0; d < D; d++) out[off + d] = k[off + d] * f;
  }
  return out;
}
