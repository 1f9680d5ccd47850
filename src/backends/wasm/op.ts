/**
 * The wasm ops: attention on the WebAssembly SIMD kernel (wasm.ts) and linear on its GEMM
 * (gemm.ts), 1..n threads on the worker pool. notSupportedReasons count what a run needs
 * from the shapes and the plan (wasmNeeds, gemmReasons); run prepares and runs.
 */
import { planTotals } from "../../layout/plan.js";
import type { AttentionResult } from "../../types.js";
import type { HeadsProblem, HeadsRun } from "../heads-problem.js";
import type { LinearProblem, LinearRun } from "../linear-problem.js";
import { cleanInputs } from "../nonfinite.js";
import type { NormProblem, NormRun } from "../norm-problem.js";
import type { Op } from "../op.js";
import { effectiveThreads, type Problem, resultTensor, toStats, transformKeys } from "../problem.js";
import type { RopeProblem, RopeRun } from "../rope-problem.js";
import { linearWasm, wasmGemmReasons } from "./gemm.js";
import { regroupHeadsWasm, wasmHeadsReasons } from "./heads.js";
import { layerNormWasm, wasmNormReasons } from "./norm.js";
import { splitQkvRopeWasm, wasmRopeReasons } from "./rope.js";
import { runWasm, wasmHostReasons, wasmNeeds } from "./wasm.js";

/** Below this many scored pairs a defaulted thread count runs on one thread (waking workers costs more). */
const SMALL_PAIRS = 1 << 20;

function wasmThreads(p: Problem): number {
  const s = p.shapes;
  let { threads } = effectiveThreads(p);
  if (!p.threadsExplicit && s.B * s.H * s.Lq * s.Lk < SMALL_PAIRS) threads = 1;
  return threads;
}

export const wasmAttention: Op<Problem, AttentionResult> = {
  name: "wasm",
  notSupportedReasons(p) {
    const reasons = wasmHostReasons(effectiveThreads(p).threads);
    if (reasons.length > 0) return reasons;
    const { B, H, Hkv, Lq, Lk, D } = p.shapes;
    const bytes = 4 * (2 * B * H * Lq * D + 2 * B * Hkv * Lk * D + B * H * Lq);
    if (bytes > 2 ** 32 - 2 ** 27) {
      return [`q, k, v, out and lse need ${bytes} bytes, above 32-bit WebAssembly's 4 GiB memory`];
    }
    // counted from the shapes and the plan: nothing is cleaned, transformed or copied here
    return wasmNeeds({ B, H, Hkv, Lq, Lk, D, plan: p.plan, threads: wasmThreads(p) }).reasons;
  },
  run(p) {
    const s = p.shapes;
    // a pattern with a key transform (LSH) needs clean inputs first; any other is scanned in
    // wasm memory with SIMD after the copy (bad undefined), the fast path
    const c =
      p.pattern.content === undefined
        ? { q: p.q.data, k: p.k.data, v: p.v.data, bad: undefined }
        : cleanInputs(p.q.data, p.k.data, p.v.data, s);
    const k = transformKeys(p.pattern, c.k, s);
    const pr = {
      ...s,
      q: c.q,
      k,
      v: c.v,
      bad: c.bad,
      scale: p.scale,
      plan: p.plan,
      threads: wasmThreads(p),
      outInto: p.out?.data ?? null,
      lseInto: p.lse,
    };
    const r = runWasm(pr);
    const extra = pr.k === p.k.data || !p.pattern.content?.transformKeys ? 0 : pr.k.byteLength;
    const stats = toStats(planTotals(p.plan), s.D, extra, "wasm", pr.threads, r.memoryBytes);
    const requested = effectiveThreads(p).requested;
    if (requested !== undefined) stats.threadsRequested = requested;
    return { out: resultTensor(p, r.out), lse: r.lse, stats };
  },
};

export const wasmLinear: Op<LinearProblem, LinearRun> = {
  name: "wasm",
  notSupportedReasons: (p) => wasmGemmReasons(p.rows, p.inF, p.outF, p.threads),
  run(p) {
    linearWasm(p.x, p.rows, p.inF, p.W, p.outF, p.bias, p.y, p.threads, p.act, p.gated);
    return { y: p.y, backend: "wasm", threads: p.threads };
  },
};

/** Below this many elements "auto" keeps LayerNorm in TypeScript (the copies in and out cost more than they save). */
const SMALL_NORM = 1 << 14;

export const wasmLayerNorm: Op<NormProblem, NormRun> = {
  name: "wasm",
  notSupportedReasons: (p) => wasmNormReasons(p.rows, p.n, p.add !== null, p.threads),
  autoDeclines: (p) =>
    p.rows * p.n < SMALL_NORM ? [`${p.rows * p.n} elements: below ${SMALL_NORM}, js is faster`] : [],
  run(p) {
    layerNormWasm(p.x, p.add, p.dst, p.rows, p.n, p.gamma, p.beta, p.eps, p.threads);
    return { backend: "wasm", threads: p.threads };
  },
};

/** Below this many elements of qkv "auto" keeps split + RoPE in TypeScript (the copies in and out cost more than they save). */
const SMALL_ROPE = 1 << 15;

export const wasmSplitRope: Op<RopeProblem, RopeRun> = {
  name: "wasm",
  notSupportedReasons: (p) => wasmRopeReasons(p.B, p.L, p.H, p.D, p.threads),
  autoDeclines: (p) => {
    const n = 3 * p.B * p.L * p.H * p.D;
    return n < SMALL_ROPE ? [`${n} elements: below ${SMALL_ROPE}, js is faster`] : [];
  },
  run(p) {
    splitQkvRopeWasm(p.qkv, p.q, p.k, p.v, p.B, p.L, p.H, p.D, p.cos, p.sin, p.threads);
    return { backend: "wasm", threads: p.threads };
  },
};

/** Below this many elements "auto" keeps a regrouping in TypeScript (the copies in and out cost more than they save). */
const SMALL_HEADS = 1 << 15;

export const wasmRegroupHeads: Op<HeadsProblem, HeadsRun> = {
  name: "wasm",
  notSupportedReasons: (p) => wasmHeadsReasons(p),
  autoDeclines: (p) => {
    const n = p.B * p.L * p.H * p.D;
    return n < SMALL_HEADS ? [`${n} elements: below ${SMALL_HEADS}, js is faster`] : [];
  },
  run(p) {
    regroupHeadsWasm(p);
    return { backend: "wasm", threads: p.threads };
  },
};
