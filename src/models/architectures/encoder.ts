/**
 * The one encoder loop every registered architecture runs (unless it brings its own forward):
 *   hs = embed(x)
 *   per layer, post-LN:  hs ← LN(hs + attnOut(attend(hs))),     hs ← LN(hs + out(mlp(hs)))
 *              pre-LN:   hs ← hs + attnOut(attend(LN(hs))),     hs ← hs + out(mlp(LN(hs)))
 *   mlp(x) = act(inter(x)), or gated: [a | g] = inter(x), act(a) · g
 *   pre-LN: hs ← LN_final(hs);  pooler tanh(dense(hs[:, 0])) when the weights have one.
 * The activation (and the gate) runs inside the intermediate projection's linear() call (the
 * wasm GEMM applies it to each output tile while it is hot), so profile.gemmMs includes it.
 * The feed-forward runs in row chunks of MLP_CHUNK_ROWS (inter then out per chunk), so its
 * [rows, intermediate] activation is never held whole: 48 MiB instead of 192 MiB for a
 * base model at 16,384 tokens, in JS and in the GEMM's wasm layout alike.
 * Timing is a wrapper around the Ops (matrix products, attention calls): the loop and the
 * architectures never read a clock.
 */

import type { LinearReport } from "../../backends/linear-problem.js";
import { AttentionArgumentError, checkInt } from "../../errors.js";
import { type AttendOptions, AttentionPlans } from "../attend.js";
import { BackendTally } from "../backends-used.js";
import { checkInputs, type ForwardInputs } from "../inputs.js";
import { addLayerNorm, type LinearOptions, layerNormInto, linear, WorkBuffers } from "../ops.js";
import type { Architecture, EncoderWeights, ForwardOptions, ForwardOutput, Linear, ModelConfig, Ops } from "./types.js";

const now = () => (globalThis.performance ?? Date).now();

/**
 * Rows per feed-forward chunk. Each chunk packs the two weights again (≈ 10 ms for a base
 * layer), ≤ 1.3 % of a 4,096-row chunk's products (bench/weights-pack.mjs).
 */
export const MLP_CHUNK_ROWS = 4096;

/** Ops on the given linear-layer options; with `tally`, each product's backend is counted. */
export function plainOps(lo: LinearOptions, tally?: BackendTally): Ops {
  return {
    linear: (x, rows, w, out, epi) => {
      // the activation (and gate) of an intermediate projection, applied inside the product
      const o = epi === undefined ? lo : { ...lo, activation: epi.act, gated: epi.gated };
      return tally === undefined
        ? linear(x, rows, w.inF, w.W, w.outF, w.b, out, o)
        : tallied(tally, x, rows, w, out, o);
    },
    attention: (run) => run(),
  };
}

/** One linear layer, its backend and threads counted in `tally`. */
export function tallied(
  tally: BackendTally,
  x: Float32Array,
  rows: number,
  w: Linear,
  out: Float32Array | undefined,
  lo: LinearOptions,
): Float32Array {
  const report: LinearReport = {};
  const y = linear(x, rows, w.inF, w.W, w.outF, w.b, out, { ...lo, report });
  if (rows > 0) tally.note("linear", report.backend, report.threads);
  return y;
}

/** `ops` with their time added to `into` (milliseconds). */
export function timedOps(ops: Ops, into: { gemm: number; attention: number }): Ops {
  return {
    linear: (x, rows, w, out, epi) => {
      const s = now();
      const y = ops.linear(x, rows, w, out, epi);
      into.gemm += now() - s;
      return y;
    },
    attention: (run) => {
      const s = now();
      const y = ops.attention(run);
      into.attention += now() - s;
      return y;
    },
  };
}

/** forward()'s options checked: attention() options and the linear layers' options. */
export function forwardSettings(options: ForwardOptions): {
  mode: "model" | "dense";
  attend: AttendOptions;
  linear: LinearOptions;
} {
  if (options === null || typeof options !== "object") {
    throw new AttentionArgumentError(
      "options",
      options,
      "{ backend?, threads?, randomAttention?, attention?, onLayer?, profile? }",
    );
  }
  const threads = options.threads === undefined ? undefined : checkInt("options.threads", options.threads, 1, 256);
  const mode = options.attention ?? "model";
  if (mode !== "model" && mode !== "dense") {
    throw new AttentionArgumentError("options.attention", mode, `"model" or "dense"`);
  }
  return {
    mode,
    attend: { backend: options.backend, threads },
    linear: {
      backend: options.backend === "reference" ? "js" : (options.backend as LinearOptions["backend"]),
      threads,
    },
  };
}

/** x ← LN(x) into `dst` (pre-LN: the residual stream stays in x). */
function normInto(
  dst: Float32Array,
  x: Float32Array,
  rows: number,
  n: number,
  norm: EncoderWeights["finalNorm"],
  eps: number,
  lo: LinearOptions,
) {
  if (norm !== null) layerNormInto(x, dst, rows, n, norm.gamma, norm.beta, eps, lo);
  else dst.set(x);
}

/** x += y elementwise (pre-LN residual). */
function addInto(x: Float32Array, y: Float32Array): void {
  for (let i = 0; i < x.length; i++) x[i] += y[i];
}

/** The shared encoder forward of `arch` on checked weights. */
export async function encoderForward<C extends ModelConfig, W extends EncoderWeights>(
  arch: Architecture<C, W>,
  c: C,
  weights: W,
  inputs: ForwardInputs,
  options: ForwardOptions,
): Promise<ForwardOutput> {
  forwardSettings(options); // the options object first, then the inputs, then the options' values
  const x0 = checkInputs(inputs, c, arch);
  const settings = forwardSettings(options);
  const prof = { attention: 0, gemm: 0 };
  const t0 = options.profile ? now() : 0;
  const lo = settings.linear;
  const tally = options.profile ? new BackendTally() : undefined;
  const plain = plainOps(lo, tally);
  const ops = options.profile ? timedOps(plain, prof) : plain;
  const mode = settings.mode;
  const x = arch.pad === undefined ? x0 : arch.pad(x0, c, mode);
  const { B, L } = x;
  const h = c.hidden;
  const rows = B * L;
  const plans = new AttentionPlans(B, L, c.heads, c.headDim, x.valid, { ...settings.attend, tally });
  const attention = arch.attention({ config: c, weights, x, plans, mode, options });

  // the layer's activations live in work buffers the wasm ops use in place (workBuffer: no
  // copy in or out per call), given back when the forward ends, however it ends
  const work = new WorkBuffers(lo.backend);
  const buffer = (n: number): Float32Array => work.take(n);
  try {
    let embedded: Float32Array | null = arch.embed(x, c, weights); // [B·L, hidden]
    const hs = buffer(rows * h); // [B·L, hidden], the residual stream
    hs.set(embedded);
    embedded = null; // not kept alive across the awaits below
    const pre = arch.norm === "pre";
    const gated = arch.mlp === "gated";
    const I = c.intermediate;
    const normed = pre ? buffer(rows * h) : hs; // pre-LN: LN(hs) [B·L, hidden]
    const ctx = buffer(rows * h); // [B·L, H·D]
    const tmp = buffer(rows * h);
    // the attention's output [B, H, L, D] goes into tmp: tmp is free until attnOut writes it
    if (c.heads * c.headDim === h) plans.lend("out", tmp);
    const chunk = Math.min(rows, MLP_CHUNK_ROWS);
    const act = buffer(chunk * I); // act(inter(x)) [chunk, intermediate] (gated: act(a) · g)
    const epi = { act: c.act, gated }; // fused into the intermediate projection (linear()'s epilogue)
    options.onLayer?.(0, c.layers);
    for (let layer = 0; layer < c.layers; layer++) {
      const w = weights.layers[layer];
      if (pre) normInto(normed, hs, rows, h, w.attnNorm, c.eps, lo);
      attention.attend(layer, normed, ctx, ops);
      ops.linear(ctx, rows, w.attnOut, tmp);
      if (pre) addInto(hs, tmp);
      else postNorm(hs, tmp, rows, h, w.attnNorm, c.eps, lo);
      if (pre) normInto(normed, hs, rows, h, w.mlpNorm, c.eps, lo);
      for (let r0 = 0; r0 < rows; r0 += chunk) {
        const n = Math.min(chunk, rows - r0); // rows r0 … r0 + n - 1 of [B·L, ·]
        const a = act.subarray(0, n * I);
        ops.linear(normed.subarray(r0 * h, (r0 + n) * h), n, w.inter, a, epi);
        ops.linear(a, n, w.out, tmp.subarray(r0 * h, (r0 + n) * h));
      }
      if (pre) addInto(hs, tmp);
      else postNorm(hs, tmp, rows, h, w.mlpNorm, c.eps, lo);
      if (options.onLayer) {
        options.onLayer(layer + 1, c.layers);
        await new Promise((r) => setTimeout(r, 0)); // let a progress bar draw
      }
    }
    const fin = weights.finalNorm;
    if (fin !== null) addLayerNorm(hs, null, rows, h, fin.gamma, fin.beta, c.eps, lo);
    const L0 = x0.L;
    // a plain array for the caller: the work buffers are given back below
    const last = L === L0 ? hs.slice() : new Float32Array(B * L0 * h); // [B, L0, hidden]
    if (L !== L0) {
      // without the architecture's padding
      for (let b = 0; b < B; b++) last.set(hs.subarray(b * L * h, (b * L + L0) * h), b * L0 * h);
    }
    const result: ForwardOutput = { lastHiddenState: { data: last, shape: [B, L0, h] } };
    const pooler: Linear | null = weights.pooler;
    if (pooler !== null) {
      const first = new Float32Array(B * h); // [B, hidden] token 0 of each row
      for (let b = 0; b < B; b++) first.set(hs.subarray(b * L * h, (b * L + 1) * h), b * h);
      const p = ops.linear(first, B, pooler);
      for (let i = 0; i < p.length; i++) p[i] = Math.tanh(p[i]);
      result.poolerOutput = { data: p, shape: [B, h] };
    }
    if (options.profile) {
      const total = now() - t0;
      result.profile = {
        attentionMs: prof.attention,
        gemmMs: prof.gemm,
        otherMs: total - prof.attention - prof.gemm,
        totalMs: total,
        length: L,
        plans: plans.planned,
        attention: attention.label,
        backends: tally!.snapshot(),
      };
    }
    return result;
  } finally {
    work.release();
    plans.release();
  }
}

/** Post-LN: x ← LN(x + y). */
function postNorm(
  x: Float32Array,
  y: Float32Array,
  rows: number,
  n: number,
  norm: EncoderWeights["finalNorm"],
  eps: number,
  lo: LinearOptions,
) {
  if (norm === null) addInto(x, y);
  else addLayerNorm(x, y, rows, n, norm.gamma, norm.beta, eps, lo);
}
