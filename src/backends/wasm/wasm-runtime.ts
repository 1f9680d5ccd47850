/**
 * Loading the wasm kernel (split from wasm.ts): the embedded module (base64, no download),
 * the relaxed-SIMD build where the host runs it (src/platform.ts turns it on for Node 20), one
 * linear memory shared by the worker pool, and the host checks the backends ask for.
 */
import { enableRelaxedSimd } from "../../platform.js";
import { WASM_PLAIN, WASM_PLAIN_RELAXED, WASM_SHARED, WASM_SHARED_RELAXED } from "./bytes.js";
import { CTL_OFFSET, DATA_START, MAX_PAGES, PAGE } from "./layout.js";
import { WasmMemory } from "./memory.js";
import { poolUnsupportedReason, WorkerPool } from "./pool.js";

export interface KernelExports {
  runItem(item: number, scratch: number): void;
  runItems(items: number, count: number, scratch: number): void;
  /** 1 when the n floats at ptr are all finite (assembly/softmax.ts). */
  allFinite(ptr: number, n: number): number;
  // gemm (assembly/gemm.ts, same module)
  gemmItem(item: number, scratch: number): void;
  gemmItems(items: number, count: number, scratch: number): void;
  gemmBlockRows(): number;
  /** x[0 … n) ← act(x) in place (assembly/act.ts kinds). */
  activateRange(x: number, n: number, act: number): void;
  rowsItem(item: number, scratch: number): void;
  rowsItems(items: number, count: number, scratch: number): void;
}

export interface Runtime {
  module: WebAssembly.Module;
  memory: WebAssembly.Memory;
  /** The owner of that memory's layout (weights, plan arena, calls): lives and dies with this runtime. */
  mem: WasmMemory;
  shared: boolean;
  /** The relaxed-SIMD build (f32x4.relaxed_madd) runs: the host validated it. */
  relaxed: boolean;
  kernel: KernelExports;
  pool: WorkerPool | null;
}

let runtime: Runtime | null = null;
let loadError: string | null = null;

function decodeBase64(s: string): Uint8Array<ArrayBuffer> {
  const bin = atob(s);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

function sharedMemoryWorks(): boolean {
  if (typeof SharedArrayBuffer === "undefined") return false;
  try {
    new WebAssembly.Memory({ initial: 1, maximum: 1, shared: true });
    return true;
  } catch {
    return false;
  }
}

/** Loads the module once (synchronous compile; ~12 KB). Returns null and records why on failure. */
function load(): Runtime | null {
  if (runtime !== null || loadError !== null) return runtime;
  try {
    if (typeof WebAssembly === "undefined") throw new Error("this JavaScript runtime has no WebAssembly");
    const shared = sharedMemoryWorks();
    // relaxed SIMD where the host validates it (Node >= 22, Chrome >= 114; Node 20 once the
    // library has set --experimental-wasm-relaxed-simd, see platform.ts). Every thread
    // instantiates this one module, so results stay bitwise identical across thread counts on
    // a given host.
    const relaxedBytes = decodeBase64(shared ? WASM_SHARED_RELAXED : WASM_PLAIN_RELAXED);
    let relaxed = WebAssembly.validate(relaxedBytes);
    if (!relaxed && enableRelaxedSimd()) relaxed = WebAssembly.validate(relaxedBytes);
    let module: WebAssembly.Module | null = null;
    if (relaxed) {
      try {
        module = new WebAssembly.Module(relaxedBytes);
      } catch {
        relaxed = false; // validated but does not compile: fall back to plain SIMD, silently
      }
    }
    if (module === null) {
      const bytes = decodeBase64(shared ? WASM_SHARED : WASM_PLAIN);
      if (!WebAssembly.validate(bytes)) throw new Error("this runtime's WebAssembly lacks SIMD (v128)");
      module = new WebAssembly.Module(bytes);
    }
    const memory = new WebAssembly.Memory({ initial: DATA_START / PAGE + 1, maximum: MAX_PAGES, shared });
    const kernel = new WebAssembly.Instance(module, { env: { memory } }).exports as unknown as KernelExports;
    runtime = { module, memory, mem: new WasmMemory(memory), shared, relaxed, kernel, pool: null };
  } catch (e) {
    loadError = e instanceof Error ? e.message : String(e);
  }
  return runtime;
}

/** Why the wasm backend cannot run at all on this host (empty when it can). */
export function wasmHostReasons(threads: number): string[] {
  const rt = load();
  if (rt === null) return [`WebAssembly kernel unavailable: ${loadError}`];
  if (threads > 1) {
    const why = rt.shared
      ? poolUnsupportedReason()
      : "SharedArrayBuffer is unavailable (browsers need cross-origin isolation)";
    if (why !== null) return [`threads: ${threads} needs a worker pool, but ${why}`];
  }
  return [];
}

/** Which build runs on this host: "relaxed-simd" (fused multiply-add), "simd", or null (none loads). */
export function wasmVariant(): "relaxed-simd" | "simd" | null {
  const rt = load();
  return rt === null ? null : rt.relaxed ? "relaxed-simd" : "simd";
}

/** Test hook: the pool's next run loses a worker mid-item (see WorkerPool.failNextItemForTests). */
export function failNextWorkerItemForTests(kind: "throw" | "hang" | "exit"): void {
  const rt = load();
  if (rt?.pool == null) throw new Error("no worker pool yet: run a multi-threaded call first");
  rt.pool.failNextItemForTests(kind);
}

/** Workers the pool holds now (0 before any multi-threaded run). */
export function wasmPoolSize(): number {
  return runtime?.pool?.size ?? 0;
}

/**
 * Starts the wasm worker pool for `threads` threads (the caller counts as one) and resolves
 * with the number of threads ready. Browsers need this before a synchronous
 * `attention(..., { threads })` call inside a Web Worker: a nested worker may only start
 * once its creator yields to the event loop. In Node it is optional (the pool starts on
 * first use). Throws where threads cannot run, saying why.
 */
export async function startWasmThreads(threads: number): Promise<number> {
  const reasons = wasmHostReasons(threads);
  if (reasons.length > 0) throw new Error(reasons.join("; "));
  const rt = runtime!;
  if (threads <= 1) return 1;
  if (rt.pool === null) rt.pool = new WorkerPool(rt.module, rt.memory, CTL_OFFSET);
  return 1 + Math.min(threads - 1, await rt.pool.whenReady(threads - 1));
}

/** Stops the worker pool and drops the module's memory (it can only grow while alive). */
export function releaseWasm(): void {
  runtime?.pool?.close();
  runtime = null;
}

/** The loaded runtime, or null when this host cannot run it (the GEMM asks; see wasmHostReasons). */
export function wasmRuntime(): Runtime | null {
  return load();
}

/** The runtime, loaded on first use; throws with the reason when this host cannot run it. */
export function loadedRuntime(): Runtime {
  const rt = load();
  if (rt === null) throw new Error(`WebAssembly kernel unavailable: ${loadError}`);
  return rt;
}

/** Stops the pool and forgets the runtime (its memory may still be touched by a stuck worker); the next call loads afresh. */
export function dropRuntime(rt: Runtime): void {
  rt.pool?.close();
  if (runtime === rt) runtime = null;
}
