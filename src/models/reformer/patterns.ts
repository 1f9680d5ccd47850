/**
 * The two attention patterns of a Reformer layer, exactly as HF's LocalSelfAttention and
 * LSHSelfAttention (v4.40, eval) allow pairs, for a sequence of Lp tokens (HF's padded length)
 * where `valid` [B, Lp] marks real tokens (the user's attention mask and HF's end padding).
 *
 * Local (localChunks): chunks of C; chunk c's queries see the keys of chunks
 * c-before .. c+after (circular, as HF's _look_adjacent), causal on positions if decoder,
 * masked keys removed. Lp <= C: one block (HF's standard attention). A plain pattern: compiled
 * once per forward and reused by every local layer.
 *
 * LSH (reformerLsh): a content pattern. Per (batch, head) it hashes the raw shared qk with the
 * layer's rotations (lsh-hash.ts, HF's _hash_vectors), gives masked tokens HF's extra bucket
 * nb (round offsets then r·(nb+1), as HF when any token of the batch is masked), sorts each
 * round stably by (bucket, position), cuts each round's Lp slots into chunks of C at multiples
 * of C, and lets chunk g see chunks g-before .. g+after over all rounds (circular). Masked
 * tokens sort last in each round; they are dropped from the part (HF masks them with -1e9,
 * which equals removal because every real query scores its own copy at -1e5), empty chunks
 * keep their place in the chunk numbering. Self score -1e5, rounds merged by log-sum-exp
 * (the tiled kernel's repeated rows). The buckets (HF's layout [B, H, nr, Lp] with offsets)
 * are written to `bucketsOut` as a side effect of planning.
 */
import { hashHead, normaliseKeys } from "../../pattern/lsh-hash.js";
import { FULL, type MaskFn, PARTIAL, type PartSpec, type Pattern, type TileKind } from "../../types.js";

export const SELF_SCORE = -1e5;

export interface ChunkWindow {
  chunkLength: number;
  chunksBefore: number;
  chunksAfter: number;
}

function windowTiles(
  numChunks: number,
  w: ChunkWindow,
  kindOf: (qc: number, kc: number) => TileKind | -1,
  tileOf: (g: number) => number,
): (qt: number, visit: (kt: number, kind: TileKind) => void) => void {
  return (qt, visit) => {
    for (let o = -w.chunksBefore; o <= w.chunksAfter; o++) {
      const kc = (((qt + o) % numChunks) + numChunks) % numChunks;
      const kind = kindOf(qt, kc);
      const kt = tileOf(kc);
      if (kind !== -1 && kt >= 0) visit(kt, kind);
    }
  };
}

/** HF LocalSelfAttention's allowed pairs over Lp tokens (see the file comment). */
export function localChunks(w: ChunkWindow, causal: boolean, Lp: number, valid: Uint8Array | null): Pattern {
  const C = w.chunkLength;
  const padded = valid?.some((x) => x === 0) === true;
  const mask: MaskFn = (q, k, _h, b = 0) => (!causal || k <= q) && (!padded || valid?.[b * Lp + k] === 1);
  const standard = Lp <= C;
  const numChunks = standard ? 1 : Lp / C;
  const tiles = new Int32Array(numChunks + 1);
  for (let c = 0; c <= numChunks; c++) tiles[c] = Math.min(c * C, Lp);
  const kindOf = (qc: number, kc: number): TileKind | -1 => {
    if (causal && kc > qc) return -1; // wholly in the future (also the circular wrap of chunk 0)
    if (padded || (causal && kc === qc)) return PARTIAL;
    return FULL;
  };
  const name = `reformer-local(chunk ${C}, before ${w.chunksBefore}, after ${w.chunksAfter}${causal ? ", causal" : ""})`;
  return {
    name,
    headDependent: false,
    children: [],
    bind: () => ({
      mask,
      classify: () => PARTIAL,
      batchKey: padded ? (b: number) => `${b}` : undefined,
      plan: (head: number, batch: number): PartSpec[] => [
        {
          label: name,
          head,
          batch,
          qIndex: null,
          kIndex: null,
          qTiles: tiles,
          kTiles: tiles,
          mask,
          tilesFor: standard
            ? (_qt, visit) => visit(0, causal || padded ? PARTIAL : FULL)
            : windowTiles(numChunks, w, kindOf, (g) => g),
        },
      ],
    }),
  };
}

export interface LshLayerSpec {
  window: ChunkWindow;
  causal: boolean;
  /** Rotations [heads, D, nr, sum(factors)/2] (HF's layout). */
  rotations: ArrayLike<number>;
  factors: number[];
  hashes: number;
  Lp: number;
  /** [B, Lp] 1 = real token; null = all real. */
  valid: Uint8Array | null;
  heads: number;
  /** [B, heads, hashes, Lp] receives HF's buckets (with round offsets); null when not wanted. */
  bucketsOut: Int32Array | null;
  /** [B, heads, hashes, Lp] receives each real token's chunk number in each round (for selfOnlyRows); null when not wanted. */
  chunksOut: Int32Array | null;
}

/** HF LSHSelfAttention's allowed pairs (content pattern, see the file comment). */
export function reformerLsh(s: LshLayerSpec): Pattern {
  const { window: w, causal, factors, hashes: nr, Lp, valid, heads: H } = s;
  const C = w.chunkLength;
  const nb = factors.reduce((a, f) => a * f, 1);
  const padded = valid?.some((x) => x === 0) === true;
  const nbEff = padded ? nb + 1 : nb; // HF: an extra bucket for masked tokens when any is masked
  const name = `reformer-lsh(${nr}×${factors.join("·")} buckets, chunk ${C}${causal ? ", causal" : ""})`;
  const plan = (ctx: { batch: number; head: number; q: Float32Array; dims: { headDim: number } }): PartSpec[] => {
    const { batch: b, head: h, q } = ctx;
    const D = ctx.dims.headDim;
    const row = valid === null ? null : valid.subarray(b * Lp, (b + 1) * Lp); // [Lp] of batch row b
    const mask: MaskFn = (qi, ki) => (!causal || ki <= qi) && (row === null || row[ki] === 1);
    if (Lp <= C) {
      // HF's do_standard_self_attention: no hashing, one block, causal + padding masks, self mask
      const tiles = Int32Array.of(0, Lp);
      return [
        {
          label: `${name} (length <= chunk: full)`,
          head: h,
          batch: b,
          qIndex: null,
          kIndex: null,
          qTiles: tiles,
          kTiles: tiles,
          mask,
          tilesFor: (_qt, visit) => visit(0, causal || padded ? PARTIAL : FULL),
          selfScore: SELF_SCORE,
        },
      ];
    }
    const raw = hashHead(q, Lp, D, s.rotations, h, nr, factors); // [nr, Lp], round r offset r·nb
    let nReal = Lp;
    if (row !== null) {
      nReal = 0;
      for (let i = 0; i < Lp; i++) nReal += row[i];
    }
    // HF's buckets with its offsets; masked tokens take bucket nb
    const buckets = new Int32Array(nr * Lp); // [nr, Lp]
    for (let r = 0; r < nr; r++) {
      for (let i = 0; i < Lp; i++) {
        const bucket = row === null || row[i] === 1 ? raw[r * Lp + i] - r * nb : nb;
        buckets[r * Lp + i] = bucket + r * nbEff;
      }
    }
    if (s.bucketsOut !== null) s.bucketsOut.set(buckets, (b * H + h) * nr * Lp); // [B, H, nr, Lp]
    // stable counting sort of the real tokens per round: order [nr, nReal] of original positions
    const order = new Int32Array(nr * nReal);
    const start = new Int32Array(nb + 1);
    for (let r = 0; r < nr; r++) {
      start.fill(0);
      for (let i = 0; i < Lp; i++) if (row === null || row[i] === 1) start[raw[r * Lp + i] - r * nb + 1]++;
      for (let k = 0; k < nb; k++) start[k + 1] += start[k];
      const base = r * nReal;
      for (let i = 0; i < Lp; i++) {
        if (row === null || row[i] === 1) order[base + start[raw[r * Lp + i] - r * nb]++] = i;
      }
    }
    // chunks of C over each round's Lp slots; the real tokens fill the first nReal slots
    const perRound = Math.ceil(Lp / C);
    if (s.chunksOut !== null) {
      const o = (b * H + h) * nr * Lp; // chunksOut: [B, H, nr, Lp]
      for (let r = 0; r < nr; r++) {
        for (let k = 0; k < nReal; k++)
          s.chunksOut[o + r * Lp + order[r * nReal + k]] = r * perRound + Math.floor(k / C);
      }
    }
    const numChunks = nr * perRound;
    const tileOfChunk = new Int32Array(numChunks).fill(-1);
    const bounds: number[] = [];
    const chunkOfTile: number[] = [];
    for (let r = 0; r < nr; r++) {
      for (let j = 0; j < perRound; j++) {
        if (j * C >= nReal) continue; // an empty chunk (padding only) keeps its number
        tileOfChunk[r * perRound + j] = chunkOfTile.length;
        chunkOfTile.push(r * perRound + j);
        bounds.push(r * nReal + j * C);
      }
    }
    const tiles = new Int32Array(bounds.length + 1);
    tiles.set(bounds);
    // a round's nonempty chunks are consecutive, so each tile ends where the next begins
    tiles[bounds.length] = nr * nReal;
    const kind: TileKind = causal ? PARTIAL : FULL;
    return [
      {
        label: name,
        head: h,
        batch: b,
        qIndex: order,
        kIndex: order,
        qTiles: tiles,
        kTiles: tiles,
        mask,
        tilesFor: (qt, visit) => {
          const g = chunkOfTile[qt];
          for (let o = -w.chunksBefore; o <= w.chunksAfter; o++) {
            const kt = tileOfChunk[(((g + o) % numChunks) + numChunks) % numChunks];
            if (kt >= 0) visit(kt, kind);
          }
        },
        selfScore: SELF_SCORE,
      },
    ];
  };
  return {
    name,
    headDependent: true,
    children: [],
    bind(): never {
      throw new Error(`${name}: content-dependent; plan it through attention(qk, qk, v, { pattern })`);
    },
    content: { plan, transformKeys: normaliseKeys, defaultScale: () => 1 },
  };
}

/**
 * HF's float32 arithmetic on the rows that see only copies of themselves (every round's scores
 * are -1e5 or masked: a causal query whose chunks hold nothing earlier). The exact answer is
 * the token's own value vector; HF computes each round's log-sum-exp -1e5 + log(copies) in
 * float32, where the spacing is 2^-7, so its probabilities and round weights do not sum to 1
 * and its output is v·(1 ± ~3e-3). This multiplies such rows of out [B, H, Lp, D] (found by
 * their merged lse [B, H, Lp] below -1e4) by HF's factor, counting each round's copies from
 * the chunk numbers [B, H, nr, Lp] planning recorded.
 */
export function selfOnlyRows(
  out: Float32Array,
  lse: Float32Array,
  chunks: Int32Array,
  B: number,
  H: number,
  Lp: number,
  D: number,
  nr: number,
  numChunks: number,
  w: ChunkWindow,
): number {
  const f32 = Math.fround;
  let fixed = 0;
  const l = new Float64Array(nr);
  const outR = new Float64Array(nr);
  for (let bh = 0; bh < B * H; bh++) {
    for (let i = 0; i < Lp; i++) {
      if (!(lse[bh * Lp + i] < -1e4)) continue;
      const cOff = bh * nr * Lp + i; // chunks: [B·H, nr, Lp]
      for (let r = 0; r < nr; r++) {
        // copies of token i in round r's window: chunks g-before .. g+after (circular, with repeats)
        const g = chunks[cOff + r * Lp];
        let copies = 0;
        for (let o = -w.chunksBefore; o <= w.chunksAfter; o++) {
          const kc = (((g + o) % numChunks) + numChunks) % numChunks;
          for (let r2 = 0; r2 < nr; r2++) if (chunks[cOff + r2 * Lp] === kc) copies++;
        }
        l[r] = f32(f32(Math.log(copies)) + SELF_SCORE); // torch.logsumexp in float32
        outR[r] = copies * f32(Math.exp(f32(SELF_SCORE - l[r]))); // Σ over copies of p·v, per unit v
      }
      let factor = outR[0];
      if (nr > 1) {
        let m = l[0];
        for (let r = 1; r < nr; r++) m = Math.max(m, l[r]);
        let sum = 0;
        for (let r = 0; r < nr; r++) sum = f32(sum + f32(Math.exp(f32(l[r] - m))));
        const total = f32(f32(Math.log(sum)) + m);
        factor = 0;
        for (let r = 0; r < nr; r++) factor += outR[r] * f32(Math.exp(f32(l[r] - total)));
      }
      const o = (bh * Lp + i) * D; // out: [B, H, Lp, D]
      for (let d = 0; d < D; d++) out[o + d] = f32(out[o + d] * factor);
      fixed++;
    }
  }
  return fixed;
}
