/**
 * A synchronous worker pool for the wasm kernel (Node, and browsers from inside a Web Worker
 * of a cross-origin isolated page). Workers are started once, each
 * instantiates the same compiled module over the same shared memory, and sleeps in
 * Atomics.wait. A run publishes a generation: the caller (main thread) writes the item list,
 * bumps GEN and wakes the workers; everyone (main thread included) claims items from a
 * ticket word with compare-and-swap, runs them, counts DONE; the main thread waits
 * (Atomics.wait: allowed on Node's main thread and in browser workers, not on a page's main
 * thread) until every item is done. Node workers are unref'd, so they never keep a process
 * alive. In browsers a nested worker may need its creator's event loop to start, so
 * `ensure` does not block there: call `whenReady` (async) first, or the first runs go
 * partly or wholly on the calling thread (same bits, less speed).
 *
 * The ticket word packs (generation mod 2^11) << 21 | next item index; a worker only claims
 * an item whose ticket carries the generation it woke for, and the main thread closes the
 * ticket (generation field 0) before it writes the next run, so a late worker can never
 * claim an item of a run whose descriptors are half written.
 *
 * Which thread runs an item never changes what the item writes: items own disjoint output
 * rows (see wasm.ts), so results are bitwise identical for every thread count.
 */

/** Control words (Int32Array indices) at CTL_OFFSET in the shared memory. */
import { type PoolWorker, workerSpawner } from "../platform.js";

const GEN = 0;
const TICKET = 1;
const COUNT = 2;
const DONE = 3;
const PART = 4; // participants claimed this generation
const MAXPART = 5; // workers allowed to join (threads − 1)
const ITEMS = 6; // byte pointer of the item list
const SCRATCH = 7; // byte pointer of thread 0's scratch
const STRIDE = 8; // scratch bytes per thread
const ERROR = 9;
const READY = 10; // workers started
export const CTL_WORDS = 16;

const INDEX_BITS = 21;
export const MAX_ITEMS = (1 << INDEX_BITS) - 1;
const INDEX_MASK = MAX_ITEMS;
const GEN_LIMIT = 2047;

/** The worker body: a function of its start data, run from source so it works from sources, dist and bundles alike. */
const WORKER_BODY = `function (workerData) {
const { module, memory, ctlOffset } = workerData;
const exports_ = new WebAssembly.Instance(module, { env: { memory } }).exports;
const ctl = new Int32Array(memory.buffer, ctlOffset, ${CTL_WORDS});
function claim(gen, scratch) {
  for (;;) {
    const t = Atomics.load(ctl, ${TICKET});
    if (t >>> ${INDEX_BITS} !== gen) return;
    const idx = t & ${INDEX_MASK};
    const count = Atomics.load(ctl, ${COUNT});
    if (idx >= count) return;
    if (Atomics.compareExchange(ctl, ${TICKET}, t, t + 1) !== t) continue;
    try { exports_.runItem(Atomics.load(ctl, ${ITEMS}) + idx * 16, scratch); } catch { Atomics.store(ctl, ${ERROR}, 1); }
    if (Atomics.add(ctl, ${DONE}, 1) + 1 === count) Atomics.notify(ctl, ${DONE});
  }
}
Atomics.add(ctl, ${READY}, 1);
Atomics.notify(ctl, ${READY});
let seen = 0;
for (;;) {
  const gen = Atomics.load(ctl, ${GEN});
  if (gen === seen) { Atomics.wait(ctl, ${GEN}, gen); continue; }
  seen = gen;
  const slot = Atomics.add(ctl, ${PART}, 1);
  if (slot >= Atomics.load(ctl, ${MAXPART})) continue;
  claim(gen, Atomics.load(ctl, ${SCRATCH}) + (slot + 1) * Atomics.load(ctl, ${STRIDE}));
}
}`;

/** Why this host cannot run the pool, or null when it can. */
export function poolUnsupportedReason(): string | null {
  if (typeof SharedArrayBuffer === "undefined") {
    return "SharedArrayBuffer is unavailable (browsers need cross-origin isolation)";
  }
  const g = globalThis as { document?: unknown; Atomics?: unknown };
  if (g.document !== undefined) {
    return "a browser page's main thread may not block in Atomics.wait: call attention() from a Web Worker";
  }
  if (workerSpawner() === null) {
    return "the multi-threaded path needs workers (Node >= 20.16's worker_threads, or a browser's Worker)";
  }
  return null;
}

export interface PoolRunner {
  runItem(item: number, scratch: number): void;
}

export class WorkerPool {
  private readonly workers: PoolWorker[] = [];
  private readonly ctl: Int32Array;
  private gen = 0;
  private failed: unknown = null;

  constructor(
    private readonly module: WebAssembly.Module,
    private readonly memory: WebAssembly.Memory,
    private readonly ctlOffset: number,
  ) {
    this.ctl = new Int32Array(memory.buffer, ctlOffset, CTL_WORDS);
  }

  get size(): number {
    return this.workers.length;
  }

  /** Workers that have started and are waiting for work. */
  get ready(): number {
    return Atomics.load(this.ctl, READY);
  }

  /**
   * Starts workers until there are `n`; in Node waits (synchronously, up to 10 s) until they
   * are ready. In browsers it returns at once (see whenReady).
   */
  ensure(n: number): void {
    if (this.workers.length >= n) return;
    const spawner = workerSpawner();
    if (spawner === null) throw new Error(poolUnsupportedReason() ?? "no workers on this host");
    const target = n;
    while (this.workers.length < target) {
      const w = spawner.spawn(WORKER_BODY, { module: this.module, memory: this.memory, ctlOffset: this.ctlOffset });
      w.onError((e) => {
        this.failed = e;
      });
      this.workers.push(w);
    }
    if (!spawner.startsWhileBlocked) return;
    const deadline = Date.now() + 10_000;
    for (;;) {
      const ready = Atomics.load(this.ctl, READY);
      if (ready >= target || Date.now() > deadline) break;
      Atomics.wait(this.ctl, READY, ready, 50);
    }
  }

  /**
   * Runs items 0..count-1 of the list at `items` on the calling thread plus up to
   * `threads − 1` workers; returns when all are done. Thread t uses scratch at
   * scratch + t · stride (the caller is thread 0).
   */
  run(main: PoolRunner, threads: number, items: number, count: number, scratch: number, stride: number): void {
    const ctl = this.ctl;
    this.gen = (this.gen % GEN_LIMIT) + 1;
    const gen = this.gen;
    Atomics.store(ctl, ITEMS, items);
    Atomics.store(ctl, SCRATCH, scratch);
    Atomics.store(ctl, STRIDE, stride);
    Atomics.store(ctl, ERROR, 0);
    Atomics.store(ctl, DONE, 0);
    Atomics.store(ctl, PART, 0);
    Atomics.store(ctl, MAXPART, threads - 1);
    Atomics.store(ctl, COUNT, count);
    Atomics.store(ctl, TICKET, gen << INDEX_BITS);
    Atomics.store(ctl, GEN, gen);
    Atomics.notify(ctl, GEN);
    let error: unknown = null;
    for (;;) {
      const t = Atomics.load(ctl, TICKET);
      const idx = t & INDEX_MASK;
      if (idx >= count) break;
      if (Atomics.compareExchange(ctl, TICKET, t, t + 1) !== t) continue;
      try {
        main.runItem(items + idx * 16, scratch);
      } catch (e) {
        error = e;
      }
      Atomics.add(ctl, DONE, 1);
    }
    for (;;) {
      const done = Atomics.load(ctl, DONE);
      if (done >= count) break;
      if (this.failed !== null) break;
      Atomics.wait(ctl, DONE, done, 1000);
    }
    Atomics.store(ctl, TICKET, 0); // closed: generation field 0 is never used
    if (error !== null) throw error;
    if (this.failed !== null) throw new Error(`wasm worker failed: ${String(this.failed)}`);
    if (Atomics.load(ctl, ERROR) !== 0) throw new Error("wasm kernel trapped in a worker");
  }

  /** Starts workers until there are `n` and resolves once they are ready (yielding to the event loop; up to 10 s). */
  async whenReady(n: number): Promise<number> {
    this.ensure(n);
    const deadline = Date.now() + 10_000;
    while (this.ready < n && this.failed === null && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    if (this.failed !== null) throw new Error(`wasm worker failed: ${String(this.failed)}`);
    return this.ready;
  }

  /** Stops every worker (the pool can be started again). */
  close(): void {
    for (const w of this.workers) w.terminate();
    this.workers.length = 0;
    Atomics.store(this.ctl, READY, 0);
  }
}
