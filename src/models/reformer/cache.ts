/**
 * One step of HF's cached Reformer decoding (use_cache=True, v4.40): the new token at
 * position L against the states the earlier steps stored. This is NOT the full forward
 * restricted to one row; HF's cached path computes something different, and generation
 * follows it (see docs/models.md):
 *
 * - every layer stores its post-LayerNorm attention input of each token (`states`);
 * - local layers: q of the new token, k / v of the stored states from (L // C - before)·C
 *   (Python slicing: a negative start counts from the end) to L, the new one included;
 *   scores q·k/sqrt(D), no mask;
 * - LSH layers with stored buckets: hash the new token's qk (offsets r·(nb + 1) when the
 *   stored buckets hold the padding bucket, HF's `increase_num_buckets`), append, sort each
 *   round's L + 1 buckets stably, take the (before + 1 + after)·C sorted entries starting at
 *   (pos_of_new // C - before)·C (modulo L + 1), re-project those states with query_key /
 *   value, normalise the keys, mask only the new token's own copies (-1e5), log-sum-exp per
 *   round, merge rounds by softmax of those;
 * - LSH layers without stored buckets (the prompt was not longer than a chunk): plain
 *   attention over all L + 1 states with the self mask; once L + 1 >= C, hash all of them.
 * Batch rows are independent here (HF v4.40 reads batch row 0's states for every row when
 * B > 1, a bug we do not copy). Sums in float64.
 */
import { hashHead } from "../../pattern/lsh-hash.js";
import { type LinearOptions, linear } from "../ops.js";
import { bucketFactors } from "./config.js";
import type { LayerCache, ReformerModel } from "./model.js";
import { activate, embed, layerNorm } from "./ops.js";
import { SELF_SCORE } from "./patterns.js";
import type { RLinear } from "./weights.js";

export interface DecodeCache {
  layers: LayerCache[];
  capacity: number;
  /** Tokens stored per batch row. */
  length: number;
  /** Bucket factors each LSH layer hashed the prompt with (HF keeps num_buckets on the module). */
  factors: (number[] | null)[];
}

/** Head h of lin applied to rows [n, hidden] → out [n, D]. */
function headProj(x: Float32Array, n: number, lin: RLinear, h: number, D: number, lo: LinearOptions): Float32Array {
  const inF = lin.inF;
  return linear(x, n, inF, lin.W.subarray(h * D * inF, (h + 1) * D * inF), D, null, undefined, lo);
}

/** Softmax attention of q [D] over keys [n, D] / values [n, D]; returns the log-sum-exp, adds p·v into out. */
function attendRow(
  q: Float32Array,
  qOff: number,
  keys: Float32Array,
  vals: Float32Array,
  n: number,
  D: number,
  scale: number,
  selfAt: (j: number) => boolean,
  out: Float64Array,
): number {
  const s = new Float64Array(n);
  let m = Number.NEGATIVE_INFINITY;
  for (let j = 0; j < n; j++) {
    let dot = 0;
    for (let d = 0; d < D; d++) dot += q[qOff + d] * keys[j * D + d]; // keys: [n, D]
    s[j] = selfAt(j) ? SELF_SCORE : dot * scale;
    if (s[j] > m) m = s[j];
  }
  let sum = 0;
  for (let j = 0; j < n; j++) {
    s[j] = Math.exp(s[j] - m);
    sum += s[j];
  }
  out.fill(0);
  for (let j = 0; j < n; j++) {
    const p = s[j] / sum;
    for (let d = 0; d < D; d++) out[d] += p * vals[j * D + d]; // vals: [n, D]
  }
  return m + Math.log(sum);
}

/** HF _len_and_dim_norm in place on rows [n, D]. */
function normKeys(k: Float32Array, n: number, D: number): void {
  const inv = 1 / Math.sqrt(D);
  for (let j = 0; j < n; j++) {
    let ss = 0;
    for (let d = 0; d < D; d++) ss += k[j * D + d] ** 2;
    const f = inv / Math.sqrt(ss / D + 1e-6);
    for (let d = 0; d < D; d++) k[j * D + d] *= f;
  }
}

/**
 * Runs the new tokens [B] at position cache.length through every layer, storing their states
 * (and buckets); returns the logits [B, vocab]. `rotations(layer, factors)` as in the forward.
 */
export function decodeStep(
  model: ReformerModel,
  cache: DecodeCache,
  tokens: Int32Array,
  rotations: (layer: number, factors: number[]) => ArrayLike<number>,
  lo: LinearOptions,
): Float32Array {
  const c = model.config;
  const w = model.weights;
  const B = tokens.length;
  const L = cache.length;
  const cap = cache.capacity;
  const h = c.hidden;
  const H = c.heads;
  const D = c.headDim;
  const HD = H * D;
  const X1 = new Float32Array(B * h); // [B, hidden]
  embed(c, w, tokens, B, 1, L, X1);
  const X2 = X1.slice();
  const xn = new Float32Array(B * h);
  const ctx = new Float32Array(B * HD); // [B, H·D]
  const acc = new Float64Array(D);
  for (let layer = 0; layer < c.layers; layer++) {
    const lw = w.layers[layer];
    const lc = cache.layers[layer];
    layerNorm(X2, xn, B, h, lw.attnNorm, c.eps);
    for (let b = 0; b < B; b++) lc.states.set(xn.subarray(b * h, (b + 1) * h), (b * cap + L) * h); // states: [B, cap, hidden]
    if (lw.kind === "local") {
      const C = c.local.chunkLength;
      let start = (Math.floor(L / C) - c.local.chunksBefore) * C;
      if (start < 0) start = Math.max(0, L + start); // Python's past[:, start:] with a negative start
      const n = L + 1 - start;
      for (let b = 0; b < B; b++) {
        const rows = lc.states.subarray((b * cap + start) * h, (b * cap + L + 1) * h); // [n, hidden]
        const q = headProjAll(xn.subarray(b * h, (b + 1) * h), lw.query as RLinear, lo); // [H·D]
        for (let hh = 0; hh < H; hh++) {
          const k = headProj(rows, n, lw.key as RLinear, hh, D, lo);
          const v = headProj(rows, n, lw.value, hh, D, lo);
          attendRow(q, hh * D, k, v, n, D, 1 / Math.sqrt(D), () => false, acc);
          for (let d = 0; d < D; d++) ctx[b * HD + hh * D + d] = acc[d];
        }
      }
    } else {
      lshStep(model, cache, layer, xn, ctx, rotations, lo);
    }
    // Y1 = X1 + Wo·ctx;  Y2 = X2 + FF(LN_f(Y1))
    const t = linear(ctx, B, HD, lw.attnOut.W, h, null, undefined, lo);
    for (let i = 0; i < B * h; i++) X1[i] += t[i];
    const y = new Float32Array(B * h);
    layerNorm(X1, y, B, h, lw.mlpNorm, c.eps);
    const f = linear(y, B, h, lw.inter.W, c.feedForward, lw.inter.b, undefined, lo);
    activate(f, c.act);
    const t2 = linear(f, B, c.feedForward, lw.out.W, h, lw.out.b, undefined, lo);
    for (let i = 0; i < B * h; i++) X2[i] += t2[i];
  }
  cache.length = L + 1;
  const last = new Float32Array(B * 2 * h); // [B, 2·hidden]
  for (let b = 0; b < B; b++) {
    last.set(X1.subarray(b * h, (b + 1) * h), b * 2 * h);
    last.set(X2.subarray(b * h, (b + 1) * h), b * 2 * h + h);
  }
  layerNorm(last, last, B, 2 * h, w.finalNorm, c.eps);
  const head = w.lmHead;
  if (head === null) throw new Error("reformer: no LM head (a bare ReformerModel checkpoint cannot generate)");
  return linear(last, B, 2 * h, head.W, c.vocab, head.b, undefined, lo);
}

function headProjAll(x: Float32Array, lin: RLinear, lo: LinearOptions): Float32Array {
  return linear(x, 1, lin.inF, lin.W, lin.outF, null, undefined, lo);
}

/** The LSH layer of one cached step for every batch row: ctx [B, H·D] ← attention of the new token. */
function lshStep(
  model: ReformerModel,
  cache: DecodeCache,
  layer: number,
  xn: Float32Array,
  ctx: Float32Array,
  rotations: (layer: number, factors: number[]) => ArrayLike<number>,
  lo: LinearOptions,
): void {
  const c = model.config;
  const lw = model.weights.layers[layer];
  const lc = cache.layers[layer];
  const { capacity: cap } = cache;
  const L = cache.length;
  const B = xn.length / c.hidden;
  const h = c.hidden;
  const H = c.heads;
  const D = c.headDim;
  const HD = H * D;
  const nr = c.numHashes;
  const C = c.lsh.chunkLength;
  const qkLin = lw.queryKey as RLinear;
  const acc = new Float64Array(D);
  const factors = cache.factors[layer] ?? bucketFactors(c, L + 1);
  const nb = factors.reduce((a, f) => a * f, 1);
  if (lc.buckets === null) {
    // no stored buckets: plain attention over all L + 1 states, self mask on the new token
    for (let b = 0; b < B; b++) {
      const rows = lc.states.subarray(b * cap * h, (b * cap + L + 1) * h); // [L + 1, hidden]
      for (let hh = 0; hh < H; hh++) {
        const qk = headProj(rows, L + 1, qkLin, hh, D, lo); // [L + 1, D]
        const q = qk.slice(L * D, (L + 1) * D);
        const v = headProj(rows, L + 1, lw.value, hh, D, lo);
        normKeys(qk, L + 1, D);
        attendRow(q, 0, qk, v, L + 1, D, 1, (j) => j === L, acc);
        for (let d = 0; d < D; d++) ctx[b * HD + hh * D + d] = acc[d];
      }
    }
    if (L + 1 >= C) {
      // HF hashes every stored state once there are a chunk's worth (no mask: offsets r·nb)
      const rot = rotations(layer, factors);
      lc.buckets = new Int32Array(B * H * nr * cap); // [B, H, nr, cap]
      for (let b = 0; b < B; b++) {
        const rows = lc.states.subarray(b * cap * h, (b * cap + L + 1) * h);
        for (let hh = 0; hh < H; hh++) {
          const qk = headProj(rows, L + 1, qkLin, hh, D, lo);
          const bk = hashHead(qk, L + 1, D, rot, hh, nr, factors); // [nr, L + 1]
          for (let r = 0; r < nr; r++) {
            lc.buckets.set(bk.subarray(r * (L + 1), (r + 1) * (L + 1)), ((b * H + hh) * nr + r) * cap);
          }
        }
      }
      cache.factors[layer] = factors;
    }
    return;
  }
  const buckets = lc.buckets;
  // HF: if the stored buckets include the padding bucket, the new token's offsets are r·(nb + 1)
  let max = -1;
  for (let b = 0; b < B; b++) {
    for (let s = 0; s < H * nr; s++) {
      const o = (b * H * nr + s) * cap;
      for (let j = 0; j < L; j++) if (buckets[o + j] > max) max = buckets[o + j];
    }
  }
  const nbEff = max > nr * nb - 1 ? nb + 1 : nb;
  const rot = rotations(layer, factors);
  const W = (c.lsh.chunksBefore + 1 + c.lsh.chunksAfter) * C;
  const n = L + 1;
  const range = nr * (nb + 1) + 1;
  const count = new Int32Array(range + 1);
  const sorted = new Int32Array(n);
  const rel = new Int32Array(nr * W); // [nr, W] positions of the relevant states
  const gathered = new Float32Array(nr * W * h);
  const merged = new Float64Array(D);
  const logits = new Float64Array(nr);
  const outR = new Float64Array(nr * D);
  for (let b = 0; b < B; b++) {
    const qAll = headProjAll(xn.subarray(b * h, (b + 1) * h), qkLin, lo); // [H·D] raw qk of the new token
    for (let hh = 0; hh < H; hh++) {
      const q = qAll.subarray(hh * D, (hh + 1) * D);
      const raw = hashHead(q, 1, D, rot, hh, nr, factors); // [nr, 1], offset r·nb
      for (let r = 0; r < nr; r++) {
        const o = ((b * H + hh) * nr + r) * cap; // buckets: [B, H, nr, cap]
        buckets[o + L] = raw[r] - r * nb + r * nbEff;
        // stable sort of the round's L + 1 buckets (ties by index): counting sort on bucket values
        count.fill(0);
        for (let j = 0; j < n; j++) count[buckets[o + j] + 1]++;
        for (let k = 0; k < range; k++) count[k + 1] += count[k];
        let pos = -1;
        for (let j = 0; j < n; j++) {
          const at = count[buckets[o + j]]++;
          sorted[at] = j;
          if (j === L) pos = at;
        }
        const start = (Math.floor(pos / C) - c.lsh.chunksBefore) * C;
        for (let j = 0; j < W; j++) rel[r * W + j] = sorted[(((start + j) % n) + n) % n];
      }
      for (let j = 0; j < nr * W; j++) {
        const s = (b * cap + rel[j]) * h; // states: [B, cap, hidden]
        gathered.set(lc.states.subarray(s, s + h), j * h);
      }
      const k = headProj(gathered, nr * W, qkLin, hh, D, lo); // [nr·W, D]
      const v = headProj(gathered, nr * W, lw.value, hh, D, lo);
      normKeys(k, nr * W, D);
      for (let r = 0; r < nr; r++) {
        const base = r * W;
        logits[r] = attendRow(
          q,
          0,
          k.subarray(base * D, (base + W) * D),
          v.subarray(base * D, (base + W) * D),
          W,
          D,
          1,
          (j) => rel[base + j] === L,
          acc,
        );
        for (let d = 0; d < D; d++) outR[r * D + d] = acc[d];
      }
      // rounds merged by softmax over their log-sum-exps
      let m = Number.NEGATIVE_INFINITY;
      for (let r = 0; r < nr; r++) m = Math.max(m, logits[r]);
      let sum = 0;
      for (let r = 0; r < nr; r++) sum += Math.exp(logits[r] - m);
      merged.fill(0);
      for (let r = 0; r < nr; r++) {
        const wr = Math.exp(logits[r] - m) / sum;
        for (let d = 0; d < D; d++) merged[d] += wr * outR[r * D + d];
      }
      for (let d = 0; d < D; d++) ctx[b * HD + hh * D + d] = merged[d];
    }
  }
}
