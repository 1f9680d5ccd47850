/**
 * Every call to attention() the models make, in one module. A layer's attention is ONE call
 * over the whole batch [B, H, L, D] with a compiled plan: per-row patterns via
 * patterns.perBatch (each row's global tokens) and padding via patterns.keyPadding (trailing
 * padding) or a per-row valid mask (scattered padding). Each distinct pattern is compiled once
 * per forward (AttentionPlans) and the plan reused by every layer and head. Only Longformer's
 * global rows (G queries × L keys, different G per row) stay one small call per row.
 *
 * Inputs are projections in HF's layout [B·L, H·D] (head h in columns h·D … h·D + D - 1);
 * they are regrouped to the library's [B, H, L, D] and back. Padded query rows get a zero context.
 */
import { attention } from "../attention.js";
import { compile } from "../compile.js";
import { dense, intersect } from "../pattern/algebra.js";
import { keyPadding, perBatch } from "../pattern/batch.js";
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
  type Plan,
  type Tensor,
} from "../types.js";
import type { BackendTally } from "./backends-used.js";
import { fromHeads, fromHeadsBatch, realExtent, toHeads, toHeadsBatch, validKeys, validPairs } from "./heads.js";
import { WorkBuffers } from "./ops.js";

export interface AttendOptions {
  backend?: Backend;
  threads?: number;
  /** Counts the backend each attention() call ran on (a profiled forward). */
  tally?: BackendTally;
}

/**
 * The plans of one forward: the batch's padding, and each distinct pattern compiled once
 * (keyed by what defines it) for [B, H, L, D], reused by every layer.
 */
export class AttentionPlans {
  private readonly cache = new Map<string, Plan>();
  private readonly buffers = new Map<string, Float32Array>();
  private readonly work: WorkBuffers;
  /** Real tokens per row when every row's padding is trailing; null when some row is scattered. */
  readonly lengths: Int32Array | null;
  readonly padded: boolean;

  constructor(
    readonly B: number,
    readonly L: number,
    readonly H: number,
    readonly D: number,
    /** [B, L] 1 = real token. */
    readonly valid: Uint8Array,
    readonly options: AttendOptions,
  ) {
    this.work = new WorkBuffers(options.backend); // kept in wasm memory when attention runs there
    const lengths = new Int32Array(B);
    let scattered = false;
    for (let b = 0; b < B; b++) {
      const e = realExtent(valid.subarray(b * L, (b + 1) * L));
      lengths[b] = e.prefix;
      if (e.scattered) scattered = true;
    }
    this.lengths = scattered ? null : lengths;
    this.padded = scattered || lengths.some((n) => n < L);
  }

  /** `base` restricted to real tokens (keys; padded query rows are zeroed on the way out). */
  restrict(base: Pattern): Pattern {
    if (!this.padded) return base;
    if (this.lengths !== null) return intersect(base, keyPadding(this.lengths));
    const { B, L, valid } = this;
    return perBatch(
      Array.from({ length: B }, (_, b) => intersect(base, validPairs(valid.subarray(b * L, (b + 1) * L)))),
    );
  }

  /** The compiled plan of `key`, built by `make` the first time. */
  plan(key: string, make: () => Pattern): Plan {
    let p = this.cache.get(key);
    if (p === undefined) {
      const { B, L, H, D } = this;
      p = compile(make(), { queryLength: L, keyLength: L, heads: H, headDim: D, batch: B });
      this.cache.set(key, p);
    }
    return p;
  }

  /**
   * A buffer of `n` floats named `name`, reused by every layer of this forward (the regrouped
   * q, k, v of each call: without it each layer left 3 × [B, H, L, D] of garbage behind).
   */
  scratch(name: string, n: number): Float32Array {
    let a = this.buffers.get(name);
    if (a === undefined || a.length < n) {
      a = this.work.take(n); // a smaller one it replaces may still be in use this layer: freed at release()
      this.buffers.set(name, a);
    }
    return a.length === n ? a : a.subarray(0, n);
  }

  /**
   * Uses `buffer` as the scratch `name` from now on (not owned: release() leaves it alone). The
   * caller guarantees it is free whenever the attention uses that name: the encoder lends its
   * `tmp` as "out", free from a layer's start until the output projection writes it, which
   * saves one [B, H, L, D] buffer (48 MiB for a base model at 16,384 tokens).
   */
  lend(name: string, buffer: Float32Array): void {
    this.buffers.set(name, buffer);
  }

  /** Gives back every scratch buffer (the forward is over; later scratch() calls allocate anew). */
  release(): void {
    this.work.release();
    this.buffers.clear();
  }

  /** [B·L, H·D] → [B, H, L, D] in the reused buffer `name`. */
  heads(name: string, m: Float32Array): Tensor {
    const { B, L, H, D } = this;
    return toHeadsBatch(m, B, L, H, D, this.scratch(name, B * L * H * D), this.options);
  }

  /** Distinct plans compiled so far. */
  get planned(): number {
    return this.cache.size;
  }

  /**
   * One attention() call of a layer; its output [B, H, L, D] goes into the reused buffer
   * `outName` (valid until the next call with that name).
   */
  run(q: Tensor, k: Tensor, v: Tensor, plan: Plan, outName = "out"): AttentionResult {
    const { B, L, H, D } = this;
    const out: Tensor = { data: this.scratch(outName, B * H * L * D), shape: [B, H, L, D] };
    const res = attention(q, k, v, { plan, backend: this.options.backend, threads: this.options.threads, out });
    this.options.tally?.note("attention", res.stats.backend, res.stats.threads);
    return res;
  }
}

/** One row's global tokens as a stable key. */
function globalsKey(g: Int32Array): string {
  return g.length === 0 ? "-" : Array.from(g).join(",");
}

/**
 * Longformer local attention of the batch: every real query sees real keys |i-j| <= w and its
 * row's global keys (once). Global rows are overwritten later by longformerGlobalRows.
 * q, k, v: [B, H, L, D]; out: [B·L, H·D]; globals[b]: row b's global positions.
 */
export function longformerLocal(
  q: Tensor,
  k: Tensor,
  v: Tensor,
  out: Float32Array,
  oneSided: number,
  globals: Int32Array[],
  plans: AttentionPlans,
): void {
  const { B, L, H, D } = plans;
  const keys = globals.map(globalsKey);
  const plan = plans.plan(`longformer:${oneSided}:${keys.join("|")}`, () => {
    const byKey = new Map<string, Pattern>();
    const rows = globals.map((g, b) => {
      let p = byKey.get(keys[b]);
      if (p === undefined) {
        p =
          g.length > 0
            ? longformer({ window: oneSided, global: g })
            : slidingWindow({ left: oneSided, right: oneSided });
        byKey.set(keys[b], p);
      }
      return p;
    });
    return plans.restrict(B === 1 ? rows[0] : perBatch(rows));
  });
  const res = plans.run(q, k, v, plan);
  fromHeadsBatch(res.out.data, out, B, L, H, D, plans.valid, plans.options);
}

/**
 * Batch row b's key_global or value_global projection: rows r0 … r0 + L - 1 of m [·, H·D] →
 * [1, H, n, D] in row b's part of the forward's buffer `name` ([B, H, L, D] long), n = the
 * real keys longformerGlobalRows attends to (the row's real prefix; all L when its padding is
 * scattered, masked there by validKeys).
 */
export function longformerGlobalKeys(
  m: Float32Array,
  r0: number,
  b: number,
  valid: Uint8Array,
  plans: AttentionPlans,
  name: string,
): Tensor {
  const { B, L, H, D } = plans;
  const { prefix, scattered } = realExtent(valid);
  const n = scattered ? L : prefix;
  const all = plans.scratch(name, B * H * L * D);
  return toHeads(m, r0, n, H, D, all.subarray(b * H * L * D, b * H * L * D + H * n * D)); // row b's [H, L, D] block
}

/**
 * Longformer global rows of one batch row: query_global of each global token over the
 * key_global / value_global of every real key; written into `out` at the global rows.
 * qg: [G, H·D] (the projected global rows, in `globals` order); kt, vt: [1, H, n, D] this batch
 * row's key_global / value_global of its real keys (longformerGlobalKeys); out: [B·L, H·D],
 * this row at r0. One small call per row (G differs by row).
 */
export function longformerGlobalRows(a: {
  qg: Float32Array;
  kt: Tensor;
  vt: Tensor;
  out: Float32Array;
  /** First row of this batch row in `out`. */
  r0: number;
  L: number;
  H: number;
  D: number;
  /** This row's global positions, ascending. */
  globals: Int32Array;
  /** [L] this row's valid mask (1 = real token). */
  valid: Uint8Array;
  options: AttendOptions;
}): void {
  const { qg, kt, vt, out, r0, H, D, globals, valid, options: o } = a;
  const G = globals.length;
  if (G === 0) return;
  const { scattered } = realExtent(valid);
  const pattern = scattered ? validKeys(valid) : undefined;
  const res = attention(toHeads(qg, 0, G, H, D), kt, vt, {
    pattern,
    backend: o.backend,
    threads: o.threads,
  });
  o.tally?.note("attention", res.stats.backend, res.stats.threads);
  fromHeads(res.out.data, out, r0, G, H, D, globals);
}

/** Dense self-attention over the real tokens of each row (BigBird original_full, comparison models); q, k, v: [B, H, L, D]. */
export function denseLayer(q: Tensor, k: Tensor, v: Tensor, out: Float32Array, plans: AttentionPlans): void {
  const { B, L, H, D } = plans;
  const plan = plans.plan("dense", () => plans.restrict(dense()));
  const res = plans.run(q, k, v, plan);
  fromHeadsBatch(res.out.data, out, B, L, H, D, plans.valid, plans.options);
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

export type RandomAttention = "hf-eval" | { seed: number } | Int32Array[];

/** The pairs of key blocks named `extra` more times (one count value). */
function extraBlocks(entries: Array<{ h: number; qb: number; kb: number }>, b: number, nb: number, H: number): Pattern {
  const key = (h: number, qb: number, kb: number) => (h * nb + qb) * nb + kb;
  const set = new Set(entries.map((e) => key(e.h, e.qb, e.kb)));
  return {
    name: "bigBird repeated blocks",
    headDependent: H > 1,
    children: [],
    bind(_dims: Dims): BoundPattern {
      return {
        mask: (q, k, h) => set.has(key(h, Math.floor(q / b), Math.floor(k / b))),
        classify: (q0, q1, k0, k1, h) => {
          let any = false;
          let all = true;
          for (let qb = Math.floor(q0 / b); qb <= Math.floor((q1 - 1) / b); qb++) {
            for (let kb = Math.floor(k0 / b); kb <= Math.floor((k1 - 1) / b); kb++) {
              if (set.has(key(h, qb, kb))) any = true;
              else all = false;
            }
          }
          return !any ? EMPTY : all ? FULL : PARTIAL;
        },
        tile: b,
      };
    },
  };
}

/**
 * BigBird block-sparse attention of the batch, padded length L (a multiple of b). The allowed
 * SET runs through patterns.bigBird; blocks HF counts c > 1 times are added by separate calls
 * over just those blocks, merged by log-sum-exp with weight c - 1:
 *   out = (o_set + Σ_e e·exp(lse_e - lse_set)·o_e) / (1 + Σ_e e·exp(lse_e - lse_set)).
 * `random.table`: [H, nb-2, R] flat (its `key` names it for the plan cache), or a seeded draw
 * (no repeats by construction).
 */
export function bigBirdLayer(
  qt: Tensor,
  kt: Tensor,
  vt: Tensor,
  out: Float32Array,
  b: number,
  R: number,
  random: { table: Int32Array; key: string } | { seed: number },
  plans: AttentionPlans,
): void {
  const { B, L, H, D } = plans;
  const nb = L / b;
  let extras: Array<{ h: number; qb: number; kb: number; extra: number }> = [];
  let key: string;
  let make: () => Pattern;
  if ("seed" in random) {
    key = `bigBird:seed:${random.seed}`;
    make = () => bigBird({ blockSize: b, randomBlocks: R, seed: random.seed });
  } else {
    const t = random.table;
    key = `bigBird:table:${random.key}`;
    make = () => {
      const nested = Array.from({ length: H }, (_, h) =>
        Array.from({ length: nb - 2 }, (_, i) => t.subarray((h * (nb - 2) + i) * R, (h * (nb - 2) + i + 1) * R)),
      );
      return R === 0 ? bigBird({ blockSize: b, randomBlocks: 0 }) : bigBird({ blockSize: b, randomTable: nested });
    };
    extras = bigBirdExtras(t, H, nb, R);
  }
  const res = plans.run(
    qt,
    kt,
    vt,
    plans.plan(key, () => plans.restrict(make())),
  );
  const acc = res.out.data; // [B, H, L, D]
  if (extras.length > 0) {
    const rows = B * H * L;
    const num = new Float64Array(acc.length); // [B, H, L, D] Σ weighted outputs
    const den = new Float64Array(rows).fill(1); // [B, H, L]
    for (let i = 0; i < acc.length; i++) num[i] = acc[i];
    for (const e of [...new Set(extras.map((x) => x.extra))]) {
      const plan = plans.plan(`${key}:extra${e}`, () =>
        plans.restrict(
          extraBlocks(
            extras.filter((x) => x.extra === e),
            b,
            nb,
            H,
          ),
        ),
      );
      const r = plans.run(qt, kt, vt, plan, "outExtra"); // acc (in "out") stays
      for (let row = 0; row < rows; row++) {
        const l2 = r.lse[row]; // lse: [B, H, L]
        if (l2 === Number.NEGATIVE_INFINITY || res.lse[row] === Number.NEGATIVE_INFINITY) continue;
        const w = e * Math.exp(l2 - res.lse[row]);
        den[row] += w;
        for (let d = 0; d < D; d++) num[row * D + d] += w * r.out.data[row * D + d];
      }
    }
    for (let row = 0; row < rows; row++) {
      for (let d = 0; d < D; d++) acc[row * D + d] = num[row * D + d] / den[row];
    }
  }
  fromHeadsBatch(acc, out, B, L, H, D, plans.valid, plans.options);
}
