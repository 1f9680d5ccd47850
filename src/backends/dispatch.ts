/**
 * THE dispatcher of every backend: one ordered list of ops per kind of problem, fastest first
 * (the machinery: op.ts). attention(), attentionAsync() and linear() all choose here.
 *   attention  webgpu     WGSL kernel (webgpu/): asynchronous, so only attentionAsync runs it,
 *                         "auto" only on a hardware GPU at hand and large problems
 *              wasm       WebAssembly SIMD tiled kernel (wasm/), 1..n threads
 *              js         the TypeScript tiled kernel (js/): always runs, the fallback
 *              reference  float64 oracle (reference/): fixed masks only, O(Lk) per row
 *   linear     native     onnxruntime-node's MLAS GEMM (native/), an optional peer; "auto" only after useNativeLinear(true)
 *              wasm       the wasm GEMM on the worker pool (wasm/gemm.ts)
 *              js         plain loops (js/gemm-js.ts)
 *   layerNorm  wasm       f64x2 sums on the worker pool (wasm/norm.ts); "auto" from 16,384 elements
 *              js         plain loops, float64 (js/norm.ts)
 *   splitQkvRope wasm     f32x4 rows on the worker pool (wasm/rope.ts); "auto" from 32,768 elements
 *              js         plain loops (js/rope.ts); both give the same bits
 *   regroupHeads wasm     f32x4 rows on the worker pool (wasm/heads.ts); "auto" from 32,768 elements
 *              js         plain loops (js/heads.ts); both give the same bits
 * Adding a backend: its folder with its op(s), and its entry in the lists below (the row-wise
 * ops' lists and entry points, layerNorm, splitQkvRope and regroupHeads: dispatch-rows.ts,
 * re-exported here).
 */
import { AttentionArgumentError, checkInt, checkOptions } from "../errors.js";
import { availableCores } from "../platform.js";
import type { AttentionResult } from "../types.js";
import { checkArray, overlaps } from "./checks.js";
import { jsAttention, jsLinear } from "./js/op.js";
import {
  LINEAR_ACTIVATIONS,
  type LinearActivation,
  type LinearProblem,
  type LinearReport,
  type LinearRun,
} from "./linear-problem.js";
import { nativeLinear, nativeOptedIn } from "./native/op.js";
import { type ChooseContext, choose, namesOf, type Op, runChoice, runChoiceAsync } from "./op.js";
import type { Problem } from "./problem.js";
import { referenceOp } from "./reference/op.js";
import { wasmAttention, wasmLinear } from "./wasm/op.js";
import { allocResident, freeResident } from "./wasm/resident.js";
import { webgpuAttention } from "./webgpu/op.js";

export { LINEAR_ACTIVATIONS, type LinearActivation, type LinearReport } from "./linear-problem.js";
export { useNativeLinear } from "./native/op.js";
export {
  defaultThreads,
  dimsOf,
  effectiveThreads,
  type Problem,
  resultTensor,
  toStats,
  transformKeys,
} from "./problem.js";

/** Attention ops, fastest first; "auto" takes the first that can run. */
export const ATTENTION_OPS: readonly Op<Problem, AttentionResult>[] = [
  webgpuAttention,
  wasmAttention,
  jsAttention,
  referenceOp,
];

/** Linear-layer ops, fastest first (native: onnxruntime-node, opt-in; see native/op.ts). */
export const LINEAR_OPS: readonly Op<LinearProblem, LinearRun>[] = [nativeLinear, wasmLinear, jsLinear];

export const BACKEND_NAMES = namesOf(ATTENTION_OPS) as readonly ("auto" | "wasm" | "js" | "reference" | "webgpu")[];
export const LINEAR_BACKEND_NAMES = namesOf(LINEAR_OPS) as readonly ("auto" | "native" | "wasm" | "js")[];

const SYNC: ChooseContext = { async: false, option: "options.backend", what: "this problem" };
const ASYNC: ChooseContext = { ...SYNC, async: true };

function recordAttention(r: AttentionResult, reasons: string[]): void {
  if (reasons.length > 0) r.stats.fallbackReasons = reasons;
}

/** attention(): the named op (or an error listing its reasons) or auto's choice, run; stats.fallbackReasons says what auto passed over. */
export function runAttention(name: string, p: Problem): AttentionResult {
  const c = choose(ATTENTION_OPS, name, p, SYNC);
  return runChoice(ATTENTION_OPS, c, p, SYNC, name === "auto", recordAttention);
}

/**
 * attentionAsync(): as runAttention, with the async ops (webgpu) as candidates. `elsewhere`
 * may run a synchronous op off the calling thread (a page's worker): it gets the op's name.
 */
export function runAttentionAsync(
  name: string,
  p: Problem,
  elsewhere?: (op: string) => Promise<AttentionResult> | null,
): Promise<AttentionResult> {
  const c = choose(ATTENTION_OPS, name, p, ASYNC);
  const auto = name === "auto";
  if (!c.op.async && elsewhere !== undefined) {
    const there = elsewhere(c.op.name);
    if (there !== null) {
      return there.then((r) => {
        const reasons = [...c.skipped, ...(r.stats.fallbackReasons ?? [])];
        if (reasons.length > 0) r.stats.fallbackReasons = reasons;
        return r;
      });
    }
  }
  return runChoiceAsync(ATTENTION_OPS, c, p, ASYNC, auto, recordAttention);
}

/** Why each attention op cannot run `p` (for attentionAsync's webgpuNotSupportedReasons and tests). */
export function attentionOp(name: string): Op<Problem, AttentionResult> {
  const op = ATTENTION_OPS.find((o) => o.name === name);
  if (op === undefined) throw new Error(`no attention op "${name}"`);
  return op;
}

// ---- buffers the wasm ops use in place ----

/**
 * A work buffer of n floats for a run of calls (a model's forward) that the wasm ops read and
 * write where it is, in the wasm module's memory (no copy in or out per call:
 * src/backends/wasm/resident.ts), or a plain Float32Array where that cannot help: `backend`
 * (the calls' option) names another op than wasm, the native GEMM is opted in, or this host
 * keeps no shared wasm memory. Contents unspecified. Give it back with releaseWorkBuffer once no
 * call will use it again.
 */
export function workBuffer(n: number, backend?: string): Float32Array {
  const wasm = (backend === undefined || backend === "auto" || backend === "wasm") && !nativeOptedIn();
  return (wasm ? allocResident(n) : null) ?? new Float32Array(n);
}

/** Ends a workBuffer's life (a plain array is left to the garbage collector). */
export function releaseWorkBuffer(a: Float32Array): void {
  freeResident(a);
}

// ---- linear ----

export interface LinearOptions {
  backend?: "auto" | "native" | "wasm" | "js";
  threads?: number;
  /** Filled in by the call: the op that ran, its threads, and why "auto" passed faster ops over. */
  report?: LinearReport;
  /** Applied to the output in the same call (the wasm GEMM fuses it into its epilogue). */
  activation?: LinearActivation;
  /** GeGLU: each output row [a | g] (outF even) becomes act(a) · g, so y is [rows, outF / 2]. */
  gated?: boolean;
}

/** Below this many flops an unset `threads` runs on the calling thread (waking workers costs more). */
const SMALL_FLOPS = 1 << 24;
const LINEAR: ChooseContext = { async: false, option: "options.backend", what: "this linear" };

/**
 * nn.Linear: y [rows, outF] = bias + x [rows, inF] · Wᵀ with W [outF, inF] (PyTorch's weight
 * layout); y allocated when not given. `options.backend` picks the op ("auto": the first
 * that can run, see LINEAR_OPS); `options.report`, when given, is filled with the op that
 * ran and why faster ones were passed over. `options.activation` applies HF's activation to
 * y; `options.gated` makes y [rows, outF / 2] = act(a) · g of each row's halves [a | g].
 */
export function linear(
  x: Float32Array,
  rows: number,
  inF: number,
  W: Float32Array,
  outF: number,
  bias: Float32Array | null,
  y?: Float32Array,
  options?: LinearOptions,
): Float32Array {
  checkInt("rows", rows, 0);
  checkInt("inF", inF, 1);
  checkInt("outF", outF, 1);
  checkArray("x", x, rows * inF, `rows · inF = ${rows} · ${inF}`);
  checkArray("W", W, outF * inF, `outF · inF = ${outF} · ${inF} ([outF, inF], nn.Linear's weight layout)`);
  if (bias !== null) checkArray("bias", bias, outF, `outF = ${outF} (or null)`);
  const o = checkOptions(
    "options",
    options ?? {},
    "an object { backend?, threads?, report?, activation?, gated? }",
  ) as LinearOptions;
  const act = o.activation ?? null;
  if (act !== null && !(LINEAR_ACTIVATIONS as readonly string[]).includes(act)) {
    throw new AttentionArgumentError("options.activation", act, LINEAR_ACTIVATIONS.map((a) => `"${a}"`).join(", "));
  }
  const gated = o.gated ?? false;
  if (typeof gated !== "boolean") throw new AttentionArgumentError("options.gated", gated, "true or false");
  if (gated && outF % 2 !== 0)
    throw new AttentionArgumentError("outF", outF, "an even count when options.gated is set ([a | g] halves)");
  const yCols = gated ? outF / 2 : outF;
  if (y === undefined) y = new Float32Array(rows * yCols);
  else checkArray("y", y, rows * yCols, `rows · ${gated ? "outF / 2" : "outF"} = ${rows} · ${yCols}`);
  for (const [name, a] of [
    ["x", x],
    ["W", W],
    ["bias", bias],
  ] as const) {
    if (a !== null && overlaps(y, a))
      throw new AttentionArgumentError("y", y, `an array that does not overlap ${name}`);
  }
  const backend = o.backend ?? "auto";
  if (!(LINEAR_BACKEND_NAMES as readonly string[]).includes(backend)) {
    throw new AttentionArgumentError("options.backend", backend, LINEAR_BACKEND_NAMES.map((b) => `"${b}"`).join(", "));
  }
  const report = o.report as LinearReport | undefined;
  if (report !== undefined && (report === null || typeof report !== "object")) {
    throw new AttentionArgumentError("options.report", report, "an object linear() fills with what it ran");
  }
  const explicit = o.threads !== undefined;
  let threads = explicit ? checkInt("options.threads", o.threads, 1, 256) : availableCores();
  if (!explicit && 2 * rows * inF * outF < SMALL_FLOPS) threads = 1;
  if (rows === 0) {
    if (report !== undefined) Object.assign(report, { backend: "none", threads: 0, fallbackReasons: undefined });
    return y;
  }
  const p: LinearProblem = { x, rows, inF, W, outF, bias, y, threads, act, gated };
  const c = choose(LINEAR_OPS, backend, p, LINEAR);
  runChoice(LINEAR_OPS, c, p, LINEAR, backend === "auto", (r, reasons) => {
    if (report === undefined) return;
    report.backend = r.backend;
    report.threads = r.threads;
    report.fallbackReasons = reasons.length > 0 ? reasons : undefined;
  });
  return y;
}

export {
  HEADS_OPS,
  layerNorm,
  NORM_OPS,
  type NormOptions,
  ROPE_OPS,
  regroupHeads,
  splitQkvRope,
} from "./dispatch-rows.js";
