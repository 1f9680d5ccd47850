/**
 * An independent, materialised float64 transcription of HuggingFace's `LSHSelfAttention`
 * (transformers/models/reformer/modeling_reformer.py) for tests: hash, pad each round the way
 * ReformerModel pads (padding in the last bucket, after the real tokens), `_stable_argsort`,
 * `_look_adjacent`, masks by value (causal and padding -1e9, then self -1e5), log-sum-exp per
 * round, unsort, softmax over rounds. It shares no code with src/ (no plan, no kernel).
 */

export interface LshOracleArgs {
  qk: Float32Array; // [B, H, n, D] shared query/key (raw)
  v: Float32Array; // [B, H, n, D]
  B: number;
  H: number;
  n: number;
  D: number;
  rotations: ArrayLike<number>; // [H, D, hashes, sum(factors) / 2]
  /** Buckets per round, or HF's factorised list of even factors. */
  buckets: number | number[];
  hashes: number;
  chunkLength: number;
  chunksBefore: number;
  chunksAfter: number;
  causal: boolean;
}

export interface LshOracleResult {
  out: Float64Array; // [B, H, n, D]
  lse: Float64Array; // [B, H, n]
  /**
   * Rounds in which every key the token may see is a copy of itself (its score there is the
   * self mask, -1e5). When that holds in EVERY round the combined lse is ~ -1e5, where HF's
   * float32 log-sum-exp rounds; otherwise such rounds weigh exp(-1e5) = 0.
   */
  selfOnlyRounds: Uint8Array; // [B, H, n]
  /** Rounds per token: hashes, or 1 when n <= chunkLength (no hashing). */
  rounds: number;
}

const MASK = -1e9;
const SELF = -1e5;

function logSumExp(xs: number[]): number {
  const m = Math.max(...xs);
  let s = 0;
  for (const x of xs) s += Math.exp(x - m);
  return m + Math.log(s);
}

/** HF `_hash_vectors` for one head, real tokens then padding: buckets[r][p] with round offsets. */
function hash(a: LshOracleArgs, x: number[][], h: number, nPad: number): number[][] {
  const factors = typeof a.buckets === "number" ? [a.buckets] : a.buckets;
  const total = factors.reduce((p, f) => p * f, 1);
  const half = factors.reduce((s, f) => s + f, 0) / 2;
  const R = (d: number, r: number, j: number) => a.rotations[((h * a.D + d) * a.hashes + r) * half + j];
  const out: number[][] = [];
  for (let r = 0; r < a.hashes; r++) {
    const row: number[] = [];
    for (let p = 0; p < nPad; p++) {
      let b = total - 1; // padding: last bucket
      if (p < a.n) {
        const rotated: number[] = [];
        for (let j = 0; j < half; j++) {
          let s = 0;
          for (let d = 0; d < a.D; d++) s += x[p][d] * R(d, r, j);
          rotated.push(s);
        }
        // factor f takes the next f/2 columns; bucket = sum argmax_f · product of earlier factors
        b = 0;
        let curSum = 0;
        let curProduct = 1;
        for (const f of factors) {
          const part = rotated.slice(curSum, curSum + f / 2);
          curSum += f / 2;
          const both = [...part, ...part.map((y) => -y)];
          b += curProduct * both.indexOf(Math.max(...both)); // torch.argmax: first maximum
          curProduct *= f;
        }
      }
      row.push(b + r * total);
    }
    out.push(row);
  }
  return out;
}

/** Softmax attention of one query over listed keys with HF's masking by value. */
function attendRow(a: LshOracleArgs, x: number[][], key: number[][], val: number[][], p: number, keys: number[]) {
  const scores = keys.map((q) => {
    let s = MASK;
    if (q < a.n && (!a.causal || q <= p)) {
      s = 0;
      for (let d = 0; d < a.D; d++) s += x[p][d] * key[q][d];
    }
    return q === p ? SELF : s;
  });
  const lse = logSumExp(scores);
  const out = new Array<number>(a.D).fill(0);
  keys.forEach((q, t) => {
    if (q >= a.n) return;
    const w = Math.exp(scores[t] - lse);
    for (let d = 0; d < a.D; d++) out[d] += w * val[q][d];
  });
  const selfOnly = keys.every((q) => q === p || q >= a.n || (a.causal && q > p));
  return { out, lse, selfOnly };
}

export function lshOracle(a: LshOracleArgs): LshOracleResult {
  const { B, H, n, D } = a;
  const C = a.chunkLength;
  const res: LshOracleResult = {
    out: new Float64Array(B * H * n * D),
    lse: new Float64Array(B * H * n),
    selfOnlyRounds: new Uint8Array(B * H * n),
    rounds: n <= C ? 1 : a.hashes,
  };
  for (let bh = 0; bh < B * H; bh++) {
    const h = bh % H;
    const x: number[][] = [];
    const val: number[][] = [];
    for (let i = 0; i < n; i++) {
      x.push(Array.from(a.qk.subarray((bh * n + i) * D, (bh * n + i + 1) * D)));
      val.push(Array.from(a.v.subarray((bh * n + i) * D, (bh * n + i + 1) * D)));
    }
    // _len_and_dim_norm
    const key = x.map((row) => {
      const ms = row.reduce((s, y) => s + y * y, 0) / D;
      return row.map((y) => y / Math.sqrt(ms + 1e-6) / Math.sqrt(D));
    });
    const perRound: { out: number[]; lse: number }[][] = [];
    if (n <= C) {
      // do_standard_self_attention: all keys, no hashing
      const all = [...Array(n).keys()];
      const round = all.map((p) => attendRow(a, x, key, val, p, all));
      perRound.push(round);
      round.forEach((r, p) => {
        if (r.selfOnly) res.selfOnlyRounds[bh * n + p]++;
      });
    } else {
      const nPad = Math.ceil(n / C) * C;
      const buckets = hash(a, x, h, nPad).flat(); // [hashes · nPad]
      const L = buckets.length;
      // _stable_argsort on bucket · L + flat index
      const order = [...Array(L).keys()].sort((i, j) => buckets[i] * L + i - (buckets[j] * L + j));
      const pos = order.map((f) => f % nPad);
      const numChunks = L / C;
      for (let r = 0; r < a.hashes; r++) perRound.push(new Array(n));
      for (let c = 0; c < numChunks; c++) {
        const keys: number[] = [];
        for (let o = -a.chunksBefore; o <= a.chunksAfter; o++) {
          const cc = (((c + o) % numChunks) + numChunks) % numChunks;
          keys.push(...pos.slice(cc * C, (cc + 1) * C));
        }
        for (let s = c * C; s < (c + 1) * C; s++) {
          const p = pos[s];
          if (p >= n) continue;
          const round = Math.floor(order[s] / nPad);
          const r = attendRow(a, x, key, val, p, keys);
          perRound[round][p] = r;
          if (r.selfOnly) res.selfOnlyRounds[bh * n + p]++;
        }
      }
    }
    // combine rounds: weights softmax over rounds of their log-sum-exps
    for (let p = 0; p < n; p++) {
      const lses = perRound.map((round) => round[p].lse);
      const total = logSumExp(lses);
      res.lse[bh * n + p] = total;
      for (let d = 0; d < D; d++) {
        let s = 0;
        for (const round of perRound) s += round[p].out[d] * Math.exp(round[p].lse - total);
        res.out[(bh * n + p) * D + d] = s;
      }
    }
  }
  return res;
}
