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
