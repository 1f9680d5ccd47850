/// <reference types="@webgpu/types" />
/**
 * attentionAsync(): the same call as attention(), answered by a Promise, on every backend.
 *
 *   backend "webgpu"   the WGSL kernel (src/backends/webgpu/) on options.gpu, navigator.gpu or,
 *                      in Node, the optional `webgpu` package (Dawn).
 *   backend "auto"     webgpu when a GPU is at hand without loading anything (options.gpu or
 *                      navigator.gpu), its adapter is hardware and the problem has at least
 *                      AUTO_GPU_PAIRS query-key pairs; otherwise what attention() picks.
 *   wasm / js / auto   in a page's main thread: planned there, run in a module worker this
 *                      module manages (src/async-worker.ts), so the page keeps painting; in
 *                      Node and inside workers: the synchronous call, resolved.
 *   reference          the oracle runs on the calling thread (it takes the mask function).
 */
import { prepare } from "./attention.js";
import { attentionOp, type Problem, runAttentionAsync, transformKeys } from "./backends/dispatch.js";
import { callerGpu, defaultGpu, type GpuContext, looksLikeDevice } from "./backends/webgpu/device.js";
import { AttentionArgumentError } from "./errors.js";
import type { AttentionOptions, AttentionResult, PlanPart, Tensor } from "./types.js";

export interface AttentionAsyncOptions extends AttentionOptions {
  /** A GPUDevice to run backend "webgpu" (and "auto") on, instead of the library's own. */
  gpu?: object;
}

/** "auto" sends a problem to a hardware GPU from this many query-key pairs (B·H·Lq·Lk) up: below, the upload costs more than it saves. */
export const AUTO_GPU_PAIRS = 1 << 22;

async function gpuContext(options: AttentionAsyncOptions): Promise<GpuContext | string> {
  if (options.gpu !== undefined) return callerGpu(options.gpu as GPUDevice);
  return defaultGpu();
}

/**
 * Why backend "webgpu" cannot run this call (empty when it can): no WebGPU, no adapter, or
 * the device's limits. May load the webgpu package in Node.
 */
export async function webgpuNotSupportedReasons(
  q: Tensor,
  k: Tensor,
  v: Tensor,
  options: AttentionAsyncOptions = {},
): Promise<string[]> {
  const { problem } = prepare(q, k, v, { ...options, backend: "auto" }, ["gpu"]);
  checkGpuOption(options);
  problem.gpu = await gpuContext(options);
  return attentionOp("webgpu").notSupportedReasons(problem);
}

function checkGpuOption(options: AttentionAsyncOptions): void {
  if (options.gpu !== undefined && !looksLikeDevice(options.gpu)) {
    throw new AttentionArgumentError("options.gpu", options.gpu, "a GPUDevice (from adapter.requestDevice())");
  }
}

/**
 * The GPU this call may run on, or why it has none, for the webgpu op (Problem.gpu): the one
 * asynchronous step of choosing. Forced "webgpu" looks one up (in Node, loading the webgpu
 * package); "auto" only for large problems with a GPU at hand (options.gpu, navigator.gpu),
 * so it never loads anything; other backends need none.
 */
async function gpuFor(p: Problem, backend: string, options: AttentionAsyncOptions): Promise<GpuContext | string> {
  if (backend === "webgpu") return gpuContext(options);
  if (backend !== "auto") return `backend "${backend}" was asked for`;
  const { B, H, Lq, Lk } = p.shapes;
  const pairs = B * H * Lq * Lk;
  if (pairs < AUTO_GPU_PAIRS)
    return `${pairs} query-key pairs, below ${AUTO_GPU_PAIRS}: the upload costs more than the GPU saves`;
  const nav = (globalThis as { navigator?: { gpu?: unknown } }).navigator;
  if (options.gpu === undefined && nav?.gpu === undefined) {
    return 'no options.gpu and no navigator.gpu (in Node, pass backend: "webgpu" to load the webgpu package)';
  }
  return gpuContext(options);
}

/** A page's main thread: the one place a synchronous kernel would freeze the page. */
function inPageMainThread(): boolean {
  const g = globalThis as {
    window?: unknown;
    document?: unknown;
    Worker?: unknown;
    process?: { versions?: { node?: string } };
  };
  return (
    g.window !== undefined &&
    g.document !== undefined &&
    typeof g.Worker === "function" &&
    g.process?.versions?.node === undefined
  );
}

/**
 * Attention as attention() computes it (same output, lse and stats), as a Promise. See the
 * module comment for where each backend runs; `options.gpu` passes your own GPUDevice.
 */
export async function attentionAsync(
  q: Tensor,
  k: Tensor,
  v: Tensor,
  options: AttentionAsyncOptions = {},
): Promise<AttentionResult> {
  const { problem, backend } = prepare(q, k, v, options, ["gpu"]);
  checkGpuOption(options);
  problem.gpu = await gpuFor(problem, backend, options);
  // wasm and js leave a page's main thread for the managed worker; reference takes the mask function
  const elsewhere = inPageMainThread()
    ? (op: string) => (op === "reference" ? null : runInWorker(problem, op))
    : undefined;
  return runAttentionAsync(backend, problem, elsewhere);
}

// ---- the managed worker (browser main thread) ----

interface Pending {
  resolve(r: AttentionResult): void;
  reject(e: Error): void;
}

interface WorkerLike {
  postMessage(message: unknown, transfer?: Transferable[]): void;
  terminate(): void;
  onmessage: ((e: MessageEvent) => void) | null;
  onerror: ((e: ErrorEvent) => void) | null;
}

let worker: WorkerLike | null = null;
let nextId = 1;
const pending = new Map<number, Pending>();

function managedWorker(): WorkerLike {
  if (worker !== null) return worker;
  const w = new Worker(new URL("./async-worker.js", import.meta.url), { type: "module" }) as unknown as WorkerLike;
  w.onmessage = (e: MessageEvent) => {
    const m = e.data as { id: number; result?: AttentionResult; error?: { name: string; message: string } };
    const p = pending.get(m.id);
    if (p === undefined) return;
    pending.delete(m.id);
    if (m.result) p.resolve(m.result);
    else {
      const err = new Error(m.error?.message ?? "the attention worker failed");
      err.name = m.error?.name ?? "Error";
      if (err.name === "AttentionArgumentError") Object.setPrototypeOf(err, AttentionArgumentError.prototype);
      p.reject(err);
    }
  };
  w.onerror = (e: ErrorEvent) => {
    const err = new Error(`the attention worker failed to load or crashed: ${e.message}`);
    for (const p of pending.values()) p.reject(err);
    pending.clear();
    w.terminate();
    worker = null;
  };
  worker = w;
  return w;
}

/** Stops the worker attentionAsync manages in a page (a later call starts a new one). */
export function releaseAsyncWorker(): void {
  worker?.terminate();
  worker = null;
}

/** The message the worker gets: everything but the pattern's functions (the plan is made here). */
export interface WorkerRequest {
  id: number;
  backend: string;
  shapes: Problem["shapes"];
  q: Float32Array;
  k: Float32Array; // transformed by the pattern already
  v: Float32Array;
  scale: number;
  name: string;
  /** [B·H] plans, bh = b·H + h (parts shared between heads are sent once). */
  plans: PlanPart[][];
  /** Bytes of transformed keys: part of stats.bytes on the calling side. */
  extraBytes: number;
  /** options.threads when the caller gave it (attention() in the worker then says what it says here). */
  threads: number | undefined;
}

function runInWorker(p: Problem, backend: string): Promise<AttentionResult> {
  const s = p.shapes;
  const k = transformKeys(p.pattern, p.k.data, s);
  const plans = p.plan.rows as PlanPart[][]; // planned on this thread; shared rows stay shared in the clone
  const id = nextId++;
  const request: WorkerRequest = {
    id,
    backend,
    shapes: s,
    q: p.q.data,
    k,
    v: p.v.data,
    scale: p.scale,
    name: p.pattern.name,
    plans,
    extraBytes: k === p.k.data ? 0 : k.byteLength,
    threads: p.threadsExplicit ? p.threads : undefined,
  };
  const w = managedWorker();
  return new Promise<AttentionResult>((resolve, reject) => {
    pending.set(id, { resolve, reject });
    w.postMessage(request);
  }).then((r) => intoCallerBuffers(p, r));
}

/** A result that came back from the worker, copied into options.out / options.lse when given (and returned as them). */
function intoCallerBuffers(p: Problem, r: AttentionResult): AttentionResult {
  if (p.out !== null) {
    p.out.data.set(r.out.data);
    r.out = p.out;
  }
  if (p.lse !== null) {
    p.lse.set(r.lse);
    r.lse = p.lse;
  }
  return r;
}
