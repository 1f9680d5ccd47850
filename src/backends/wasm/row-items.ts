/**
 * The row-wise ops' shared run (LayerNorm, split + RoPE: assembly/norm.ts rowsItem): write the
 * ROWS_ITEM list (item k = rows [k·per, min(rows, (k+1)·per)) of the descriptor at `desc`), then
 * run the items on this thread or on the worker pool. A pool failure drops the runtime (a dead or
 * stuck worker may still hold its memory) and says which call's result is lost.
 */
import { CTL_OFFSET, ROWS_ITEM, ROWS_ITEM_WORDS } from "./layout.js";
import { PoolError, WorkerPool } from "./pool.js";
import { dropRuntime, type Runtime } from "./wasm.js";

export function runRowItems(
  rt: Runtime,
  job: { desc: number; itemsPtr: number; rows: number; per: number; at: number; threads: number },
  /** The pool's work estimate of one item (its deadline scales with it). */
  itemWork: number,
  /** The public op's name, for the error message. */
  op: string,
): void {
  const { desc, itemsPtr, rows, per, at, threads } = job;
  const count = Math.ceil(rows / per);
  const i32 = new Int32Array(rt.memory.buffer);
  for (let k = 0; k < count; k++) {
    const w = itemsPtr / 4 + k * ROWS_ITEM_WORDS; // item k (ROWS_ITEM)
    i32[w + ROWS_ITEM.DESC] = desc;
    i32[w + ROWS_ITEM.ROW_BEGIN] = k * per;
    i32[w + ROWS_ITEM.ROW_END] = Math.min(rows, (k + 1) * per);
  }
  if (threads <= 1 || count <= 1) {
    rt.kernel.rowsItems(itemsPtr, count, at);
    return;
  }
  try {
    if (rt.pool === null) rt.pool = new WorkerPool(rt.module, rt.memory, CTL_OFFSET);
    rt.pool.ensure(threads - 1);
    rt.pool.run({ runItem: rt.kernel.rowsItem }, threads, itemsPtr, count, at, 0, itemWork, 2);
  } catch (e) {
    if (!(e instanceof PoolError)) throw e;
    dropRuntime(rt);
    throw new PoolError(`${e.message}. This ${op} result is lost; the next call starts a new pool`);
  }
}
