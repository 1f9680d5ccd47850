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
 *
 * A pool that cannot hang (docs/performance.md, "Worker failures"). While the main thread
 * blocks in Atomics.wait no 'error' / 'exit' event can reach it, so workers report through
 * shared memory: a trap inside an item sets ERROR = 1 (the item still counts as done); an
 * exception anywhere else in a worker, or process.exit(), sets ERROR = 2 from the worker's own
 * handlers before it dies, and wakes the main thread. A worker that dies without running any
 * JavaScript (terminate(), a crash) or never returns is caught by the progress bound: the main
 * thread waits in slices and fails the run when no item finished for `stall` ms, where
 * stall = STALL_BASE_MS + (the largest item's FLOPs at 1 GFLOP/s, ~40× below the kernel's
 * rate). Every failure throws a PoolError; the caller (wasm.ts) then terminates the pool and
 * drops the memory the dead or stuck worker may still touch, so the next call starts clean.
 */

import { type PoolWorker, workerSpawner } from "../../platform.js";
import { CTL, CTL_WORDS, ITEM_WORDS } from "./layout.js";

export { CTL_WORDS } from "./layout.js";

// The control words (Int32Array indices at CTL_OFFSET in the shared memory): the layout table,
// assembly/layout.mjs (CTL), read here and interpolated into the worker's source below.
/** Bytes per work item: attention and GEMM items have the same size (assembly/layout.mjs checks). */
const ITEM_BYTES = ITEM_WORDS * 4;
const { GEN, TICKET, COUNT, DONE, PART, MAXPART, ITEMS, SCRATCH, STRIDE, ERROR, READY, HOOK, ENTRY, BARRIER } = CTL;

/** Minimum wait without progress before a run is declared failed (ms); see the class comment. */
const STALL_BASE_MS = 5000;
/** Loads of DONE a thread spins on at a barrier before it sleeps (≈ 0.1 ms). */
const SPIN_LOADS = 20000;
let stallBaseMs = STALL_BASE_MS;

/** Test hook: lowers (or restores) the progress bound's fixed part. Returns the previous value. */
export function setPoolStallForTests(ms: number = STALL_BASE_MS): number {
  const old = stallBaseMs;
  stallBaseMs = ms;
  return old;
}

/** A worker failed or stopped responding during a run; the pool must be rebuilt. */
export class PoolError extends Error {
  override name = "PoolError";
}

const INDEX_BITS = 21;
export const MAX_ITEMS = (1 << INDEX_BITS) - 1;
const INDEX_MASK = MAX_ITEMS;
const GEN_LIMIT = 2047;

/** The worker body: a function of its start data, run from source so it works from sources, dist and bundles alike. */
const WORKER_BODY = `function (workerData) {
const { module, memory, ctlOffset } = workerData;
const ctl = new Int32Array(memory.buffer, ctlOffset, ${CTL_WORDS});
function died() {
  Atomics.store(ctl, ${ERROR}, 2);
  Atomics.notify(ctl, ${DONE});
  Atomics.notify(ctl, ${READY});
}
if (typeof process !== "undefined") process.on("exit", died); // Node: a worker that exits says so
try {
const exports_ = new WebAssembly.Instance(module, { env: { memory } }).exports;
function hook() {
  const h = Atomics.load(ctl, ${HOOK});
  if (h === 0 || Atomics.compareExchange(ctl, ${HOOK}, h, 0) !== h) return;
  if (h === 1) throw new Error("test hook: a worker throws mid-run");
  if (h === 2) for (;;) {}
  if (typeof process !== "undefined") process.exit(3);
  else close(); // a browser worker ends itself
}
function claim(gen, scratch) {
  for (;;) {
    const t = Atomics.load(ctl, ${TICKET});
    if (t >>> ${INDEX_BITS} !== gen) return;
    const idx = t & ${INDEX_MASK};
    const count = Atomics.load(ctl, ${COUNT});
    if (idx >= count) return;
    if (Atomics.compareExchange(ctl, ${TICKET}, t, t + 1) !== t) continue;
    hook();
    const barrier = Atomics.load(ctl, ${BARRIER});
    if (idx >= barrier) waitDone(barrier);
    const entry = Atomics.load(ctl, ${ENTRY});
    const run = entry === 1 ? exports_.gemmItem : entry === 2 ? exports_.rowsItem : exports_.runItem;
    try { run(Atomics.load(ctl, ${ITEMS}) + idx * ${ITEM_BYTES}, scratch); } catch { Atomics.store(ctl, ${ERROR}, 1); }
    const done = Atomics.add(ctl, ${DONE}, 1) + 1;
    if (done === count || done === barrier) Atomics.notify(ctl, ${DONE});
  }
}
// Waits until \`target\` items are done: spins first (what remains before a barrier is the tail
// of the items before it, about one item), then sleeps. A failed run never gets there: the
// caller then terminates every worker.
function waitDone(target) {
  for (let spin = 0; ; spin++) {
    const done = Atomics.load(ctl, ${DONE});
    if (done >= target) return;
    if (spin >= ${SPIN_LOADS}) Atomics.wait(ctl, ${DONE}, done, 1);
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
} catch (e) {
  died();
  throw e;
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
  private closed = false;

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

  /** False once a worker reported an error or exited: the pool must be closed and rebuilt. */
  get healthy(): boolean {
    return this.failed === null && Atomics.load(this.ctl, ERROR) !== 2;
  }

  /** Workers that have started and are waiting for work. */
  get ready(): number {
    return Atomics.load(this.ctl, READY);
  }

  /**
   * Starts workers until there are `n`; in Node waits (synchronously, up to 10 s) until they
   * are ready. Workers still starting after that join the run late (items are claimed
   * dynamically), so a loaded machine only loses time; a worker that dies while starting
   * fails the call. In browsers it returns at once (see whenReady).
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
      w.onExit(() => {
        if (!this.closed) this.failed ??= new Error("a worker exited");
      });
      this.workers.push(w);
    }
    if (!spawner.startsWhileBlocked) return;
    const deadline = Date.now() + 10_000;
    for (;;) {
      const ready = Atomics.load(this.ctl, READY);
      if (ready >= target || Date.now() > deadline) return;
      if (Atomics.load(this.ctl, ERROR) === 2) throw new PoolError("wasm worker pool: a worker failed while starting");
      Atomics.wait(this.ctl, READY, ready, 50);
    }
  }

  /**
   * Test hook: the next worker that claims an item throws outside the kernel ("throw"), never
   * returns ("hang", like a killed or stuck thread), or calls process.exit ("exit").
   */
  failNextItemForTests(kind: "throw" | "hang" | "exit"): void {
    Atomics.store(this.ctl, HOOK, kind === "throw" ? 1 : kind === "hang" ? 2 : 3);
  }

  /**
   * Runs items 0..count-1 of the list at `items` on the calling thread plus up to
   * `threads − 1` workers; returns when all are done. Thread t uses scratch at
   * scratch + t · stride (the caller is thread 0). Throws PoolError when a worker fails or
   * no item finishes for the progress bound (maxItemFlops sets its variable part). `entry`
   * names the export the workers call per item: 0 = runItem (attention), 1 = gemmItem
   * (src/backends/wasm/gemm.ts), 2 = rowsItem (src/backends/wasm/norm.ts). Items from index `barrier` on start only once every earlier one is
   * done (the deferred merges of src/backends/wasm/wasm.ts: one dispatch, two phases).
   */
  run(
    main: PoolRunner,
    threads: number,
    items: number,
    count: number,
    scratch: number,
    stride: number,
    maxItemFlops = 0,
    entry: 0 | 1 | 2 = 0,
    barrier: number = count,
  ): void {
    if (!this.healthy) throw new PoolError(`wasm worker pool: ${String(this.failed ?? "a worker died")}`);
    const ctl = this.ctl;
    this.gen = (this.gen % GEN_LIMIT) + 1;
    const gen = this.gen;
    Atomics.store(ctl, ITEMS, items);
    Atomics.store(ctl, SCRATCH, scratch);
    Atomics.store(ctl, STRIDE, stride);
    Atomics.store(ctl, ERROR, 0);
    Atomics.store(ctl, ENTRY, entry);
    Atomics.store(ctl, BARRIER, barrier);
    Atomics.store(ctl, DONE, 0);
    Atomics.store(ctl, PART, 0);
    Atomics.store(ctl, MAXPART, threads - 1);
    Atomics.store(ctl, COUNT, count);
    Atomics.store(ctl, TICKET, gen << INDEX_BITS);
    Atomics.store(ctl, GEN, gen);
    Atomics.notify(ctl, GEN);
    let error: unknown = null;
    const stall = stallBaseMs + maxItemFlops / 1e6; // ms: the largest item at 1 GFLOP/s
    let failure: string | null = null;
    for (;;) {
      if (Atomics.load(ctl, ERROR) === 2) break; // a worker died: stop claiming, fail below
      const t = Atomics.load(ctl, TICKET);
      const idx = t & INDEX_MASK;
      if (idx >= count) break;
      if (Atomics.compareExchange(ctl, TICKET, t, t + 1) !== t) continue;
      if (idx >= barrier) {
        failure = this.waitDone(barrier, count, stall);
        if (failure !== null) break;
      }
      try {
        main.runItem(items + idx * ITEM_BYTES, scratch);
      } catch (e) {
        error = e;
      }
      const done = Atomics.add(ctl, DONE, 1) + 1;
      if (done === barrier) Atomics.notify(ctl, DONE); // a worker may wait at the barrier
    }
    failure ??= this.waitDone(count, count, stall);
    Atomics.store(ctl, TICKET, 0); // closed: generation field 0 is never used
    if (failure !== null) throw new PoolError(`wasm worker pool failed: ${failure}`);
    if (error !== null) throw error;
    if (Atomics.load(ctl, ERROR) !== 0) throw new Error("wasm kernel trapped in a worker");
  }

  /**
   * Waits until `target` items are done (spinning briefly, then in slices); returns why the run
   * failed (a worker died, or no item finished for `stall` ms), or null.
   */
  private waitDone(target: number, count: number, stall: number): string | null {
    const ctl = this.ctl;
    let last = Atomics.load(ctl, DONE);
    let since = Date.now();
    for (let spin = 0; ; spin++) {
      const done = Atomics.load(ctl, DONE);
      if (done >= target) return null;
      if (Atomics.load(ctl, ERROR) === 2) {
        return "a worker died during the run (an exception outside the kernel, or process.exit)";
      }
      if (spin < SPIN_LOADS) continue;
      const now = Date.now();
      if (done !== last) {
        last = done;
        since = now;
      } else if (now - since > stall) {
        return `no work item finished for ${Math.round(now - since)} ms (${count - done} of ${count} unfinished; the bound is ${Math.round(stall)} ms): a worker was killed or is stuck`;
      }
      Atomics.wait(ctl, DONE, done, Math.min(100, stall));
    }
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
    this.closed = true;
    for (const w of this.workers) w.terminate();
    this.workers.length = 0;
    Atomics.store(this.ctl, READY, 0);
  }
}
