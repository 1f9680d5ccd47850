/**
 * The dispatcher's row-wise ops (the machinery: op.ts; the other kinds: dispatch.ts, which
 * re-exports everything here): LayerNorm with the residual add, ModernBERT's split + RoPE, and
 * the regrouping between [B·L, H·D] and [B, H, L, D]. Each has an ordered op list, fastest
 * first (wasm rows on the worker pool, then the js loops), and one entry point that checks its
 * arguments and lets "auto" choose.
 */
import { AttentionArgumentError, checkInt, checkOptions } from "../errors.js";
import { availableCores } from "../platform.js";
import { checkArray, overlaps } from "./checks.js";
import type { HeadsProblem, HeadsRun } from "./heads-problem.js";
import { jsLayerNorm, jsRegroupHeads, jsSplitRope } from "./js/op.js";
import type { NormProblem, NormRun } from "./norm-problem.js";
import { type ChooseContext, choose, namesOf, type Op, runChoice } from "./op.js";
import type { RopeProblem, RopeRun } from "./rope-problem.js";
import { wasmLayerNorm, wasmRegroupHeads, wasmSplitRope } from "./wasm/op.js";

/**
 * A row-wise op's options checked: the backend (a linear-only one, "native", means "auto") among
 * `ops`' names, and the threads (default: the available cores).
 */
function rowOptions<P, R>(
  options: NormOptions | undefined,
  ops: readonly Op<P, R>[],
): { backend: string; threads: number } {
  const o = checkOptions("options", options ?? {}, "an object { backend?, threads? }") as NormOptions;
  let backend: string = o.backend ?? "auto";
  if (backend === "native") backend = "auto";
  if (!(namesOf(ops) as readonly string[]).includes(backend)) {
    throw new AttentionArgumentError(
      "options.backend",
      backend,
      namesOf(ops)
        .map((b) => `"${b}"`)
        .join(", "),
    );
  }
  const threads = o.threads !== undefined ? checkInt("options.threads", o.threads, 1, 256) : availableCores();
  return { backend, threads };
}

/** LayerNorm ops, fastest first. */
export const NORM_OPS: readonly Op<NormProblem, NormRun>[] = [wasmLayerNorm, jsLayerNorm];
/** Split + RoPE ops, fastest first. */
export const ROPE_OPS: readonly Op<RopeProblem, RopeRun>[] = [wasmSplitRope, jsSplitRope];
/** Regrouping ops between [B·L, H·D] and [B, H, L, D], fastest first. */
export const HEADS_OPS: readonly Op<HeadsProblem, HeadsRun>[] = [wasmRegroupHeads, jsRegroupHeads];

// ---- layerNorm ----

const NORM: ChooseContext = { async: false, option: "options.backend", what: "this layerNorm" };

/** Options of layerNorm(): the linear layers' options are accepted as they are (a backend only they have, "native", means "auto"). */
export interface NormOptions {
  backend?: "auto" | "native" | "wasm" | "js";
  threads?: number;
}

/**
 * LayerNorm per row of n features with float64 sums: dst [rows, n] ← LN(x + add) (gamma,
 * beta [n]; add null: LN(x)). With add, dst must be x (post-LN: x ← LN(x + add)); dst defaults
 * to x. `options.backend` picks the op (NORM_OPS; "auto": wasm from 16,384 elements).
 */
export function layerNorm(
  x: Float32Array,
  add: Float32Array | null,
  rows: number,
  n: number,
  gamma: Float32Array,
  beta: Float32Array,
  eps: number,
  dst: Float32Array = x,
  options?: NormOptions,
): Float32Array {
  checkInt("rows", rows, 0);
  checkInt("n", n, 1);
  checkArray("x", x, rows * n, `rows · n = ${rows} · ${n}`);
  if (add !== null) checkArray("add", add, rows * n, `rows · n = ${rows} · ${n} (or null)`);
  checkArray("dst", dst, rows * n, `rows · n = ${rows} · ${n}`);
  if (add !== null && dst !== x)
    throw new AttentionArgumentError("dst", dst, "x itself when add is given (x ← LN(x + add))");
  if (dst !== x && overlaps(dst, x))
    throw new AttentionArgumentError("dst", dst, "x itself or an array that does not overlap x");
  checkArray("gamma", gamma, n, `n = ${n}`);
  checkArray("beta", beta, n, `n = ${n}`);
  if (!(eps >= 0 && Number.isFinite(eps))) throw new AttentionArgumentError("eps", eps, "a finite number >= 0");
  const { backend, threads } = rowOptions(options, NORM_OPS);
  if (rows === 0) return dst;
  const p: NormProblem = { x, add, dst, rows, n, gamma, beta, eps, threads };
  runChoice(NORM_OPS, choose(NORM_OPS, backend, p, NORM), p, NORM, backend === "auto", () => {});
  return dst;
}

// ---- splitQkvRope ----

const ROPE: ChooseContext = { async: false, option: "options.backend", what: "this splitQkvRope" };

/**
 * ModernBERT's split of the fused projection with rotary embeddings: qkv [B·L, 3·H·D] (HF's
 * view [B, L, 3, H, D]) → q, k, v [B, H, L, D], RoPE at position i (the index in the sequence,
 * padding included) on q and k in the rotate_half form with HF's float32 rounding; cos, sin
 * [≥ L, D/2]. `options.backend` picks the op (ROPE_OPS; "auto": wasm from 32,768 elements of
 * qkv). Every op gives the same bits (NaN payloads aside).
 */
export function splitQkvRope(
  qkv: Float32Array,
  q: Float32Array,
  k: Float32Array,
  v: Float32Array,
  B: number,
  L: number,
  H: number,
  D: number,
  cos: Float32Array,
  sin: Float32Array,
  options?: NormOptions,
): void {
  checkInt("B", B, 0);
  checkInt("L", L, 0);
  checkInt("H", H, 1);
  checkInt("D", D, 2);
  if (D % 2 !== 0) throw new AttentionArgumentError("D", D, "an even head size");
  const n = B * L * H * D;
  checkArray("qkv", qkv, 3 * n, `3 · B · L · H · D = 3 · ${B} · ${L} · ${H} · ${D}`);
  checkArray("q", q, n, "B · L · H · D");
  checkArray("k", k, n, "B · L · H · D");
  checkArray("v", v, n, "B · L · H · D");
  for (const [name, a] of [
    ["q", q],
    ["k", k],
    ["v", v],
  ] as const) {
    for (const [other, b] of [
      ["qkv", qkv],
      ["q", q],
      ["k", k],
      ["v", v],
    ] as const) {
      if (other !== name && overlaps(a, b)) {
        throw new AttentionArgumentError(name, a, `an array that does not overlap ${other}`);
      }
    }
  }
  if (cos.length < L * (D / 2) || !(cos instanceof Float32Array))
    throw new AttentionArgumentError("cos", cos, `a Float32Array of at least L · D/2 = ${L * (D / 2)} elements`);
  if (sin.length < L * (D / 2) || !(sin instanceof Float32Array))
    throw new AttentionArgumentError("sin", sin, `a Float32Array of at least L · D/2 = ${L * (D / 2)} elements`);
  const { backend, threads } = rowOptions(options, ROPE_OPS);
  if (n === 0) return;
  const p: RopeProblem = { qkv, q, k, v, B, L, H, D, cos, sin, threads };
  runChoice(ROPE_OPS, choose(ROPE_OPS, backend, p, ROPE), p, ROPE, backend === "auto", () => {});
}

// ---- regroupHeads ----

const HEADS: ChooseContext = { async: false, option: "options.backend", what: "this regroupHeads" };

/**
 * Between HF's projection layout m [B·L, H·D] (row b·L + i, head h in columns h·D … h·D + D − 1)
 * and the attention tensors t [B, H, L, D]: toHeads writes t from m; otherwise m from t, with the
 * rows whose `valid` byte is 0 set to 0 (valid [B·L] or null). `options.backend` picks the op
 * (HEADS_OPS; "auto": wasm from 32,768 elements). Every op gives the same bits.
 */
export function regroupHeads(
  m: Float32Array,
  t: Float32Array,
  B: number,
  L: number,
  H: number,
  D: number,
  toHeads: boolean,
  valid: Uint8Array | null = null,
  options?: NormOptions,
): void {
  checkInt("B", B, 0);
  checkInt("L", L, 0);
  checkInt("H", H, 1);
  checkInt("D", D, 1);
  const n = B * L * H * D;
  checkArray("m", m, n, `B · L · H · D = ${B} · ${L} · ${H} · ${D}`);
  checkArray("t", t, n, `B · L · H · D = ${B} · ${L} · ${H} · ${D}`);
  if (overlaps(m, t)) throw new AttentionArgumentError("t", t, "an array that does not overlap m");
  if (valid !== null && (!(valid instanceof Uint8Array) || valid.length !== B * L)) {
    throw new AttentionArgumentError("valid", valid, `null or a Uint8Array of B · L = ${B * L} entries`);
  }
  const { backend, threads } = rowOptions(options, HEADS_OPS);
  if (n === 0) return;
  const p: HeadsProblem = { m, t, B, L, H, D, toHeads, valid, threads };
  runChoice(HEADS_OPS, choose(HEADS_OPS, backend, p, HEADS), p, HEADS, backend === "auto", () => {});
}
