/**
 * The one place that touches Node-only APIs (transformers.js keeps its runtime split in one
 * module the same way). Everything is looked up at run time with
 * `process.getBuiltinModule` (Node >= 20.16), never imported statically, so browser bundles
 * stay clean and simply see "not available".
 */
type Getter = (id: string) => unknown;

function nodeBuiltin<T>(id: string): T | undefined {
  const proc = (globalThis as { process?: { getBuiltinModule?: Getter } }).process;
  return proc?.getBuiltinModule?.(id) as T | undefined;
}

/** Cores this process may use: Node's availableParallelism, else navigator.hardwareConcurrency, else 1. */
export function availableCores(): number {
  const os = nodeBuiltin<{ availableParallelism?: () => number }>("node:os");
  const n =
    os?.availableParallelism?.() ??
    (globalThis as { navigator?: { hardwareConcurrency?: number } }).navigator?.hardwareConcurrency;
  return Math.max(1, n ?? 1);
}

export interface NodeWorker {
  unref(): void;
  terminate(): Promise<number>;
  on(event: string, listener: (e: unknown) => void): void;
}
export type WorkerCtor = new (code: string, options: { eval: true; workerData: unknown }) => NodeWorker;

/** Node's worker_threads Worker constructor, or null outside Node. */
export function nodeWorkerCtor(): WorkerCtor | null {
  return nodeBuiltin<{ Worker?: WorkerCtor }>("node:worker_threads")?.Worker ?? null;
}

const RELAXED_FLAG = "--experimental-wasm-relaxed-simd";

/**
 * Turns on relaxed SIMD (fused multiply-add) for this process on Node 20, where V8 ships it
 * behind a flag. V8 flags are process-wide, so worker threads see it too; it must run before
 * the module is validated and compiled. Does nothing outside Node, when the user opted out
 * with `--no-experimental-wasm-relaxed-simd` (in the process's flags or NODE_OPTIONS), or when
 * `node:v8` refuses. Returns whether it set the flag.
 */
export function enableRelaxedSimd(): boolean {
  const proc = (globalThis as { process?: { execArgv?: string[]; env?: Record<string, string | undefined> } }).process;
  const optOut = `--no-${RELAXED_FLAG.slice(2)}`;
  if (proc?.execArgv?.includes(optOut) || proc?.env?.NODE_OPTIONS?.includes(optOut)) return false;
  const v8 = nodeBuiltin<{ setFlagsFromString?: (flags: string) => void }>("node:v8");
  if (v8?.setFlagsFromString === undefined) return false;
  try {
    v8.setFlagsFromString(RELAXED_FLAG);
    return true;
  } catch {
    return false;
  }
}

/** A started worker, Node's or a browser's, seen through the few calls the pool makes. */
export interface PoolWorker {
  terminate(): void;
  onError(listener: (e: unknown) => void): void;
  /** Node: the worker exited (a browser worker has no such event: never called there). */
  onExit(listener: () => void): void;
}

export interface WorkerSpawner {
  /** Starts a worker that runs `(body)(data)`; `body` is the source of a one-argument function. */
  spawn(body: string, data: unknown): PoolWorker;
  /**
   * True in Node: a new worker starts while the caller blocks in Atomics.wait. False in
   * browsers, where a nested worker may need its creator's event loop to start, so the
   * caller must not block waiting for it (see startWasmThreads).
   */
  startsWhileBlocked: boolean;
}

/**
 * How this host starts workers for the wasm pool: Node's worker_threads, a browser's
 * Worker from a Blob URL (shared memory needs the page to be cross-origin isolated), or
 * null where neither exists.
 */
export function workerSpawner(): WorkerSpawner | null {
  const Node = nodeWorkerCtor();
  if (Node !== null) {
    return {
      startsWhileBlocked: true,
      spawn(body, data) {
        const src = `const { workerData } = require("node:worker_threads");\n(${body})(workerData);`;
        const w = new Node(src, { eval: true, workerData: data });
        w.unref();
        return {
          terminate: () => void w.terminate(),
          onError: (l) => w.on("error", l),
          onExit: (l) => w.on("exit", l),
        };
      },
    };
  }
  const g = globalThis as {
    Worker?: new (
      url: string,
    ) => {
      postMessage(m: unknown): void;
      terminate(): void;
      addEventListener(t: string, l: (e: unknown) => void): void;
    };
    Blob?: typeof Blob;
    URL?: typeof URL;
  };
  if (g.Worker === undefined || g.Blob === undefined || g.URL?.createObjectURL === undefined) return null;
  const BrowserWorker = g.Worker;
  const BlobCtor = g.Blob;
  const Url = g.URL;
  return {
    startsWhileBlocked: false,
    spawn(body, data) {
      const src = `onmessage = (e) => { onmessage = null; (${body})(e.data); };`;
      const url = Url.createObjectURL(new BlobCtor([src], { type: "text/javascript" }));
      const w = new BrowserWorker(url);
      w.postMessage(data);
      return {
        terminate: () => w.terminate(),
        onError: (l) => w.addEventListener("error", l),
        onExit: () => {},
      };
    },
  };
}
