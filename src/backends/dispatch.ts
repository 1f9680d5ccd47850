/**
 * Backend dispatch, xformers style: an ordered list (fastest first); each backend states why
 * it cannot run a problem (`notSupportedReasons`); "auto" takes the first with no reasons;
 * a forced backend that cannot run throws an error listing its reasons.
 *   wasm       WebAssembly SIMD tiled kernel (assembly/kernel.ts), 1..n threads
 *   js         the TypeScript tiled kernel (src/backends/js/tiled.ts): always runs, the fallback
 *   reference  float64 oracle (src/backends/reference/reference.ts): fixed masks only, O(Lk) per row
 *   webgpu     WGSL kernel (src/backends/webgpu/): asynchronous, so only attentionAsync runs it
 *              (src/async.ts); listed here so attention() names it and says where to go
 */
import { AttentionArgumentError } from "../errors.js";
import { type PlanTotals, planTotals } from "../layout/plan.js";
import { availableCores, nodeWorkerCtor } from "../platform.js";
import type { AttentionResult, AttentionStats, Dims, Pattern, Plan, Tensor } from "../types.js";
import type { Shapes } from "../validate.js";
import { type HeadTask, runHead, TiledScratch } from "./js/tiled.js";
import { cleanInputs, finishAll } from "./nonfinite.js";
import { referenceAttention } from "./reference/reference.js";
import { prepareWasm, runWasm, WasmMemoryError, type WasmPrepared, wasmHostReasons } from "./wasm/wasm.js";

/** One validated call of attention(). */
export interface Problem {
  q: Tensor;
  k: Tensor;
  v: Tensor;
  shapes: Shapes;
  pattern: Pattern;
  /** The compiled plan (built by attention() or given by the caller); backends never plan. */
  plan: Plan;
  scale: number;
  /** Threads the caller asked for (or the default), and whether they asked explicitly. */
  threads: number;
  threadsExplicit: boolean;
  /** options.out / options.lse, checked: the caller's buffers the result is written into (null: new arrays). */
  out: Tensor | null;
  lse: Float32Array | null;
}

/** The result tensor of `p`: options.out itself (its data holds the result by now), or a new tensor over `data`. */
export function resultTensor(p: Problem, data: Float32Array): Tensor {
  const s = p.shapes;
  return p.out ?? { data, shape: [s.B, s.H, s.Lq, s.D] };
}

export interface BackendImpl {
  readonly name: "wasm" | "js" | "reference" | "webgpu";
  notSupportedReasons(p: Problem): string[];
  run(p: Problem): AttentionResult;
}

/** Below this many scored pairs a defaulted thread count runs on one thread (waking workers costs more). */
const SMALL_PAIRS = 1 << 20;

/** Cores available to this process in Node, else 1: the browser path is single-threaded. */
export function defaultThreads(): number {
  return nodeWorkerCtor() === null ? 1 : availableCores();
}

/** Applies a content pattern's key transform per (batch, kv head); returns k unchanged otherwise. */
export function transformKeys(pattern: Pattern, k: Float32Array, s: Shapes): Float32Array {
  const tf = pattern.content?.transformKeys;
  if (tf === undefined) return k;
  const out = new Float32Array(k.length);
  const block = s.Lk * s.D;
  for (let r = 0; r < s.B * s.Hkv; r++) {
    out.set(tf(k.subarray(r * block, (r + 1) * block), s.Lk, s.D), r * block); // k: [B, Hkv, Lk, D]
  }
  return out;
}

export function toStats(
  t: PlanTotals,
  D: number,
  extraBytes: number,
  backend: string,
  threads: number,
  backendBytes = 0,
): AttentionStats {
  return {
    allowedPairs: t.allowedPairs,
    scoredPairs: t.scoredPairs,
    flops: 4 * D * t.scoredPairs,
    bytes: t.planBytes + t.scratchBytes + extraBytes,
    backendBytes,
    parts: t.parts.length,
    tiles: t.tiles,
    backend,
    threads,
  };
}

export function dimsOf(s: Shapes): Dims {
  return { queryLength: s.Lq, keyLength: s.Lk, heads: s.H, headDim: s.D };
}

/**
 * Threads a problem runs on: the request (or default) capped to the cores available, so
 * `threads: 256` on 2 cores starts one worker, not 255. Returns the request too when capped.
 */
export function effectiveThreads(p: Problem): { threads: number; requested?: number } {
  const cores = availableCores();
  return p.threads > cores ? { threads: cores, requested: p.threads } : { threads: p.threads };
}

/** The wasm plan of a problem, computed once by notSupportedReasons (auto) and reused by run. */
const wasmPlans = new WeakMap<Problem, WasmPrepared>();

function wasmThreads(p: Problem): number {
  const s = p.shapes;
  let { threads } = effectiveThreads(p);
  if (!p.threadsExplicit && s.B * s.H * s.Lq * s.Lk < SMALL_PAIRS) threads = 1;
  return threads;
}

function wasmPrepared(p: Problem): WasmPrepared {
  let prepared = wasmPlans.get(p);
  if (prepared === undefined) {
    const s = p.shapes;
    // a pattern with a key transform (LSH) needs clean inputs first; any other is scanned in
    // wasm memory with SIMD after the copy (bad undefined), the fast path
    const c =
      p.pattern.content === undefined
        ? { q: p.q.data, k: p.k.data, v: p.v.data, bad: undefined }
        : cleanInputs(p.q.data, p.k.data, p.v.data, s);
    const k = transformKeys(p.pattern, c.k, s);
    const threads = wasmThreads(p);
    prepared = prepareWasm({
      ...s,
      q: c.q,
      k,
      v: c.v,
      bad: c.bad,
      scale: p.scale,
      plan: p.plan,
      threads,
      outInto: p.out?.data ?? null,
      lseInto: p.lse,
    });
    wasmPlans.set(p, prepared);
  }
  return prepared;
}

const wasmBackend: BackendImpl = {
  name: "wasm",
  notSupportedReasons(p) {
    const reasons = wasmHostReasons(effectiveThreads(p).threads);
    if (reasons.length > 0) return reasons;
    const { B, H, Hkv, Lq, Lk, D } = p.shapes;
    const bytes = 4 * (2 * B * H * Lq * D + 2 * B * Hkv * Lk * D + B * H * Lq);
    if (bytes > 2 ** 32 - 2 ** 27) {
      return [`q, k, v, out and lse need ${bytes} bytes, above 32-bit WebAssembly's 4 GiB memory`];
    }
    return wasmPrepared(p).reasons; // plans the problem: what it needs is known before running
  },
  run(p) {
    const s = p.shapes;
    const prepared = wasmPrepared(p);
    wasmPlans.delete(p);
    const pr = prepared.pr;
    const r = runWasm(pr, prepared);
    const extra = pr.k === p.k.data || !p.pattern.content?.transformKeys ? 0 : pr.k.byteLength;
    const stats = toStats(planTotals(p.plan), s.D, extra, "wasm", pr.threads, r.memoryBytes);
    const requested = effectiveThreads(p).requested;
    if (requested !== undefined) stats.threadsRequested = requested;
    return { out: resultTensor(p, r.out), lse: r.lse, stats };
  },
};

const jsBackend: BackendImpl = {
  name: "js",
  notSupportedReasons: () => [],
  run(p) {
    const s = p.shapes;
    const c = cleanInputs(p.q.data, p.k.data, p.v.data, s); // the NaN rule: see src/backends/nonfinite.ts
    const kData = transformKeys(p.pattern, c.k, s);
    // the kernel merges into out / lse: zeroed and -Infinity first (a caller's buffer too,
    // whatever it held; rows with no allowed key keep these values)
    const out = p.out === null ? new Float32Array(s.B * s.H * s.Lq * s.D) : p.out.data.fill(0);
    const lse = (p.lse ?? new Float32Array(s.B * s.H * s.Lq)).fill(Number.NEGATIVE_INFINITY);
    const scratch = new TiledScratch();
    const group = s.H / s.Hkv;
    const task: HeadTask = {
      q: c.q,
      k: kData,
      v: c.v,
      qBase: 0,
      kBase: 0,
      vBase: 0,
      lseBase: 0,
      D: s.D,
      scale: p.scale,
      out,
      lse,
    };
    for (let b = 0; b < s.B; b++) {
      for (let h = 0; h < s.H; h++) {
        const kvRow = b * s.Hkv + Math.floor(h / group);
        task.qBase = (b * s.H + h) * s.Lq * s.D; // q, out: [B, H, Lq, D]
        task.kBase = kvRow * s.Lk * s.D; // k, v: [B, Hkv, Lk, D]
        task.vBase = task.kBase;
        task.lseBase = (b * s.H + h) * s.Lq; // lse: [B, H, Lq]
        runHead(task, p.plan.rows[b * s.H + h], scratch);
      }
    }
    finishAll({ ...s, q: c.q, k: kData, v: c.v, scale: p.scale, out, lse }, p.plan.rows, c.bad); // the NaN rule
    const totals = planTotals(p.plan);
    const extra = p.pattern.content?.transformKeys ? kData.byteLength : 0;
    return { out: resultTensor(p, out), lse, stats: toStats(totals, s.D, extra, "js", 1) };
  },
};

const referenceBackend: BackendImpl = {
  name: "reference",
  notSupportedReasons(p) {
    return p.pattern.content === undefined
      ? []
      : [`the reference kernel takes a fixed mask; ${p.pattern.name} is content-dependent (use "js" or "wasm")`];
  },
  run(p) {
    const s = p.shapes;
    const bound = p.pattern.bind({ ...dimsOf(s), batch: s.B });
    const r = referenceAttention({
      q: p.q.data,
      k: p.k.data,
      v: p.v.data,
      ...s,
      scale: p.scale,
      mask: bound.mask,
      out: p.out?.data,
      lse: p.lse ?? undefined,
    });
    const totals = planTotals(p.plan);
    const stats = toStats(totals, s.D, 0, "reference", 1, 8 * s.Lk + 8 * s.D);
    stats.scoredPairs = s.B * s.H * s.Lq * s.Lk;
    stats.flops = 4 * s.D * stats.scoredPairs;
    return { out: resultTensor(p, r.out), lse: r.lse, stats };
  },
};

/** attention() is synchronous; the GPU answers asynchronously (src/async.ts runs it). */
const webgpuBackend: BackendImpl = {
  name: "webgpu",
  notSupportedReasons: () => [
    'WebGPU runs asynchronously: call attentionAsync(q, k, v, { backend: "webgpu" }) (a Promise) instead of attention()',
  ],
  run() {
    throw new Error("unreachable: webgpu always reports a reason to attention()");
  },
};

/** Fastest first; "auto" takes the first that can run. */
export const BACKENDS: readonly BackendImpl[] = [wasmBackend, jsBackend, referenceBackend, webgpuBackend];

export const BACKEND_NAMES = ["auto", ...BACKENDS.map((b) => b.name)] as const;

/** The backend to run `p` with: the named one (or an error listing its reasons), or the first that can. */
export function selectBackend(name: string, p: Problem): BackendImpl {
  if (name !== "auto") {
    const b = BACKENDS.find((x) => x.name === name)!;
    const reasons = b.notSupportedReasons(p);
    if (reasons.length > 0) {
      throw new AttentionArgumentError(
        "options.backend",
        name,
        `a backend that can run this problem; "${name}" cannot: ${reasons.join("; ")}. Use backend "auto" to fall back automatically`,
      );
    }
    return b;
  }
  const why: string[] = [];
  for (let i = 0; i < BACKENDS.length; i++) {
    const b = BACKENDS[i];
    const reasons = b.notSupportedReasons(p);
    if (reasons.length === 0) return withFallback(b, i, why);
    why.push(`${b.name}: ${reasons.join("; ")}`);
  }
  throw new AttentionArgumentError("options.backend", name, `a backend that can run this problem (${why.join(" | ")})`);
}

/**
 * "auto"'s choice: runs `b`, records in stats.fallbackReasons why the faster backends were
 * passed over, and if the host refuses `b` the memory it needs (WasmMemoryError, raised before
 * the kernel runs) falls back to the next backend that can run, saying why.
 */
function withFallback(b: BackendImpl, at: number, why: string[]): BackendImpl {
  return {
    name: b.name,
    notSupportedReasons: (p) => b.notSupportedReasons(p),
    run(p) {
      let r: AttentionResult;
      try {
        r = b.run(p);
      } catch (e) {
        if (!(e instanceof WasmMemoryError)) throw e;
        const next = BACKENDS.slice(at + 1).find((x) => x.notSupportedReasons(p).length === 0);
        if (next === undefined) throw e;
        why.push(`${b.name}: ${e.message}`);
        r = next.run(p);
      }
      if (why.length > 0) r.stats.fallbackReasons = why;
      return r;
    },
  };
}
