/**
 * Every call to attention() the models make, in one module. Today attention() takes one
 * pattern for the whole batch, so each batch row is its own call with its own pattern
 * (its global tokens, its padding); the Pattern objects are built once per forward and
 * reused by every layer (see AttentionPlans). When per-batch patterns and compiled plans land
 * on main, only this file changes.
 *
 * Inputs are one batch row's projections in HF's layout [L, H·D] (head h in columns
 * h·D … h·D + D - 1); they are regrouped to the library's [1, H, L, D] and back.
 */
import { attention } from "../attention.js";
import { intersect } from "../pattern/algebra.js";
import { bigBird } from "../pattern/bigbird.js";
import { longformer, slidingWindow } from "../pattern/longformer.js";
import {
  type AttentionResult,
  type Backend,
  type BoundPattern,
  type Dims,
  EMPTY,
  FULL,
  PARTIAL,
  type Pattern,
  type Tensor,
} from "../types.js";

export interface AttendOptions {
  backend?: Backend;
  threads?: number;
}

/** [L, H·D] rows r0 … r0 + L - 1 of `m` → tensor [1, H, L, D]. */
export function toHeads(m: Float32Array, r0: number, L: number, H: number, D: number): Tensor {
  const data = new Float32Array(H * L * D);
  const HD = H * D;
  for (let i = 0; i < L; i++) {
    const src = (r0 + i) * HD; // m: [rows, H·D]
    for (let h = 0; h < H; h++) {
      const dst = (h * L + i) * D; // data: [1, H, L, D]
      for (let d = 0; d < D; d++) data[dst + d] = m[src + h * D + d];
    }
  }
  return { data, shape: [1, H, L, D] };
}

/** Tensor [1, H, L, D] → rows r0 … of `dst` [rows, H·D]; `rows` (optional) picks the destination row of each i. */
export function fromHeads(
  t: Float32Array,
  dst: Float32Array,
  r0: number,
  L: number,
  H: number,
  D: number,
  rows?: Int32Array,
): void {
  const HD = H * D;
  for (let i = 0; i < L; i++) {
    const o = (r0 + (rows === undefined ? i : rows[i])) * HD; // dst: [rows, H·D]
    for (let h = 0; h < H; h++) {
      const s = (h * L + i) * D; // t: [1, H, L, D]
      for (let d = 0; d < D; d++) dst[o + h * D + d] = t[s + d];
    }
  }
}

/** Both query and key must be real tokens: valid[q] and valid[k] (1 = real, 0 = padding). */
export function validPairs(valid: Uint8Array): Pattern {
  const n = valid.length;
  const prefix = new Int32Array(n + 1); // prefix[i] = real tokens in [0, i)
  for (let i = 0; i < n; i++) prefix[i + 1] = prefix[i] + valid[i];
  const count = (a: number, b: number) => prefix[Math.min(b, n)] - prefix[Math.min(a, n)];
  const bound: BoundPattern = {
    mask: (q, k) => valid[q] === 1 && valid[k] === 1,
    classify: (q0, q1, k0, k1) => {
      const cq = count(q0, q1);
      const ck = count(k0, k1);
      if (cq === 0 || ck === 0) return EMPTY;
      return cq === q1 - q0 && ck === k1 - k0 ? FULL : PARTIAL;
    },
  };
  return { name: "validPairs", headDependent: false, children: [], bind: () => bound };
}

/** Keys that are real tokens (any query). For rectangular calls (global rows × all keys). */
function validKeys(valid: Uint8Array): Pattern {
  const n = valid.length;
  const prefix = new Int32Array(n + 1);
  for (let i = 0; i < n; i++) prefix[i + 1] = prefix[i] + valid[i];
  const bound: BoundPattern = {
    mask: (_q, k) => valid[k] === 1,
    classify: (_q0, _q1, k0, k1) => {
      const c = prefix[Math.min(k1, n)] - prefix[Math.min(k0, n)];
      return c === 0 ? EMPTY : c === k1 - k0 ? FULL : PARTIAL;
    },
  };
  return { name: "validKeys", headDependent: false, children: [], bind: () => bound };
}

/** Where the real tokens are: all, a prefix of `length`, or scattered (a mask). */
export function realExtent(valid: Uint8Array): { prefix: number; scattered: boolean } {
  let n = 0;
  while (n < valid.length && valid[n] === 1) n++;
  for (let i = n; i < valid.length; i++) if (valid[i] === 1) return { prefix: n, scattered: true };
  return { prefix: n, scattered: false };
}

function run(q: Tensor, k: Tensor, v: Tensor, pattern: Pattern, o: AttendOptions): AttentionResult {
  return attention(q, k, v, { pattern, backend: o.backend, threads: o.threads });
}

/**
 * Longformer local attention of one batch row: every real query sees real keys |i-j| <= w
 * and the row's global keys (once); padded queries get 0. Global rows are overwritten later
 * by longformerGlobalRows. q, k, v, out: [L, H·D] at row offset r0.
 */
export function longformerLocal(
  q: Float32Array,
  k: Float32Array,
  v: Float32Array,
  out: Float32Array,
  r0: number,
  L: number,
  H: number,
  D: number,
  oneSided: number,
  globals: Int32Array,
  valid: Uint8Array,
  o: AttendOptions,
): void {
  const { prefix, scattered } = realExtent(valid);
  // padding at the end: the real prefix alone is the same problem (padded keys are never seen)
  const n = scattered ? L : prefix;
  out.fill(0, r0 * H * D, (r0 + L) * H * D);
  if (n === 0) return;
  const base =
    globals.length > 0
      ? longformer({ window: oneSided, global: globals })
      : slidingWindow({ left: oneSided, right: oneSided });
  const pattern = scattered ? intersect(base, validPairs(valid)) : base;
  const res = run(toHeads(q, r0, n, H, D), toHeads(k, r0, n, H, D), toHeads(v, r0, n, H, D), pattern, o);
  fromHeads(res.out.data, out, r0, n, H, D);
}

/**
 * Longformer global rows of one batch row: query_global of each global token over the
 * key_global / value_global of every real key; written into `out` at the global rows.
 * qg: [G, H·D] (the projected global rows, in `globals` order); kg, vg: [L, H·D] of this
 * batch row alone; out: [B·L, H·D], this row at r0.
 */
export function longformerGlobalRows(
  qg: Float32Array,
  kg: Float32Array,
  vg: Float32Array,
  out: Float32Array,
  r0: number,
  L: number,
  H: number,
  D: number,
  globals: Int32Array,
  valid: Uint8Array,
  o: AttendOptions,
): void {
  const G = globals.length;
  if (G === 0) return;
  const { prefix, scattered } = realExtent(valid);
  const n = scattered ? L : prefix;
  const pattern = scattered ? validKeys(valid) : undefined;
  const res = attention(toHeads(qg, 0, G, H, D), toHeads(kg, 0, n, H, D), toHeads(vg, 0, n, H, D), {
    pattern,
    backend: o.backend,
    threads: o.threads,
  });
  fromHeads(res.out.data, out, r0, G, H, D, globals);
}

/** Dense self-attention of one batch row over its real tokens (BigBird original_full, reference models). */
export function denseRow(
  q: Float32Array,
  k: Float32Array,
  v: Float32Array,
  out: Float32Array,
  r0: number,
  L: number,
  H: number,
  D: number,
  valid: Uint8Array,
  o: AttendOptions,
): void {
  const { prefix, scattered } = realExtent(valid);
  const n = scattered ? L : prefix;
  out.fill(0, r0 * H * D, (r0 + L) * H * D);
  if (n === 0) return;
  const pattern = scattered ? validPairs(valid) : undefined;
  const res = attention(toHeads(q, r0, n, H, D), toHeads(k, r0, n, H, D), toHeads(v, r0, n, H, D), {
    pattern,
    backend: o.backend,
    threads: o.threads,
  });
  fromHeads(res.out.data, out, r0, n, H, D);
}

/**
 * BigBird's key lists with multiplicity: for query block qb (1 ..= nb-2) HF concatenates
 * [0, qb-1, qb, qb+1, nb-1] (qb = 1: [0, 1, 2, nb-1]; qb = nb-2: [0, nb-3, nb-2, nb-1]) and the
 * random blocks table[h][qb-1][·], and takes ONE softmax over that list: a block named c times
 * counts c times. The set is what patterns.bigBird allows; `extra` lists the blocks named more
 * than once and how many times more. table: [H, nb-2, R] flat.
 */
export function bigBirdExtras(
  table: Int32Array,
  H: number,
  nb: number,
  R: number,
): Array<{ h: number; qb: number; kb: number; extra: number }> {
  const out: Array<{ h: number; qb: number; kb: number; extra: number }> = [];
  const count = new Map<number, number>();
  for (let h = 0; h < H; h++) {
    for (let qb = 1; qb + 1 < nb; qb++) {
      count.clear();
      const list =
        qb === 1 ? [0, 1, 2, nb - 1] : qb === nb - 2 ? [0, nb - 3, nb - 2, nb - 1] : [0, qb - 1, qb, qb + 1, nb - 1];
      for (let r = 0; r < R; r++) list.push(table[(h * (nb - 2) + qb - 1) * R + r]); // table: [H, nb-2, R]
      for (const kb of list) count.set(kb, (count.get(kb) ?? 0) + 1);
      for (const [kb, c] of count) if (c > 1) out.push({ h, qb, kb, extra: c - 1 });
    }
  }
  return out;
}

/** The pairs of key blocks named `extra` more times (one count value), restricted to real keys. */
function extraBlocks(
  entries: Array<{ h: number; qb: number; kb: number }>,
  b: number,
  nb: number,
  H: number,
  valid: Uint8Array,
): Pattern {
  const key = (h: number, qb: number, kb: number) => (h * nb + qb) * nb + kb;
  const set = new Set(entries.map((e) => key(e.h, e.qb, e.kb)));
  return {
    name: "bigBird repeated blocks",
    headDependent: H > 1,
    children: [],
    bind(_dims: Dims): BoundPattern {
      return {
        mask: (q, k, h) => valid[q] === 1 && valid[k] === 1 && set.has(key(h, Math.floor(q / b), Math.floor(k / b))),
        classify: (q0, q1, k0, k1, h) => {
          let any = false;
          let all = true;
          for (let qb = Math.floor(q0 / b); qb <= Math.floor((q1 - 1) / b); qb++) {
            for (let kb = Math.floor(k0 / b); kb <= Math.floor((k1 - 1) / b); kb++) {
              if (set.has(key(h, qb, kb))) any = true;
              else all = false;
            }
          }
          if (!any) return EMPTY;
          for (let j = k0; j < k1 && all; j++) if (valid[j] !== 1) all = false;
          for (let i = q0; i < q1 && all; i++) if (valid[i] !== 1) all = false;
          return all ? FULL : PARTIAL;
        },
        tile: b,
      };
    },
  };
}

export type RandomAttention = "hf-eval" | { seed: number } | Int32Array[];

/**
 * BigBird block-sparse attention of one batch row of padded length L (a multiple of b).
 * The allowed SET runs through patterns.bigBird; blocks HF counts c > 1 times are added by
 * separate calls over just those blocks, merged by log-sum-exp with weight c - 1:
 *   out = (o_set + Σ_e e·exp(lse_e - lse_set)·o_e) / (1 + Σ_e e·exp(lse_e - lse_set)).
 * `table`: [H, nb-2, R] flat, or null for a seeded draw (no repeats by construction).
 */
export function bigBirdRow(
  q: Float32Array,
  k: Float32Array,
  v: Float32Array,
  out: Float32Array,
  r0: number,
  L: number,
  H: number,
  D: number,
  b: number,
  R: number,
  random: { table: Int32Array } | { seed: number },
  valid: Uint8Array,
  o: AttendOptions,
): void {
  const nb = L / b;
  const qt = toHeads(q, r0, L, H, D);
  const kt = toHeads(k, r0, L, H, D);
  const vt = toHeads(v, r0, L, H, D);
  let base: Pattern;
  let extras: Array<{ h: number; qb: number; kb: number; extra: number }> = [];
  if ("seed" in random) {
    base = bigBird({ blockSize: b, randomBlocks: R, seed: random.seed });
  } else {
    const t = random.table;
    const nested = Array.from({ length: H }, (_, h) =>
      Array.from({ length: nb - 2 }, (_, i) => t.subarray((h * (nb - 2) + i) * R, (h * (nb - 2) + i + 1) * R)),
    );
    base = R === 0 ? bigBird({ blockSize: b, randomBlocks: 0 }) : bigBird({ blockSize: b, randomTable: nested });
    extras = bigBirdExtras(t, H, nb, R);
  }
  const all = realExtent(valid).prefix === L;
  const pattern = all ? base : intersect(base, validPairs(valid));
  const res = run(qt, kt, vt, pattern, o);
  const acc = res.out.data; // [1, H, L, D]
  if (extras.length > 0) {
    const counts = [...new Set(extras.map((e) => e.extra))];
    const num = new Float64Array(acc.length); // [1, H, L, D] Σ weighted outputs
    const den = new Float64Array(H * L).fill(1); // [1, H, L]
    for (let i = 0; i < acc.length; i++) num[i] = acc[i];
    for (const e of counts) {
      const part = extraBlocks(
        extras.filter((x) => x.extra === e),
        b,
        nb,
        H,
        valid,
      );
      const r = run(qt, kt, vt, part, o);
      for (let row = 0; row < H * L; row++) {
        const l2 = r.lse[row]; // lse: [1, H, L]
        if (l2 === Number.NEGATIVE_INFINITY || res.lse[row] === Number.NEGATIVE_INFINITY) continue;
        const w = e * Math.exp(l2 - res.lse[row]);
        den[row] += w;
        for (let d = 0; d < D; d++) num[row * D + d] += w * r.out.data[row * D + d];
      }
    }
    for (let row = 0; row < H * L; row++) {
      for (let d = 0; d < D; d++) acc[row * D + d] = num[row * D + d] / den[row];
    }
  }
  fromHeads(acc, out, r0, L, H, D);
}
