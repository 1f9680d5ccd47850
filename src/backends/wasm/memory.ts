/**
 * The one owner of the wasm module's linear memory: one WasmMemory per loaded runtime
 * (wasm-runtime.ts creates it with the memory and drops it with the runtime), so no layout
 * state outlives the memory it describes and nothing is shared through module-level variables.
 *
 * Regions (bytes; the fixed ones come from the layout table, assembly/layout.mjs):
 *   [0, CTL_OFFSET)                 the module's own constant tables (data segments)
 *   [CTL_OFFSET, DATA_START)        the worker pool's control words (CTL in layout.ts)
 *   [DATA_START, reservedEnd)       packed GEMM weights (gemm.ts), kept across calls:
 *                                   first fit from a free list, else on top
 *   [arenaBase, arenaEnd)           compiled attention plans (wasm-plan.ts placePlan), kept
 *                                   across calls until the arena is reset (generation + 1)
 *   [arenaEnd, …)                   one call's own data (either kernel), laid out per call
 * arenaBase >= reservedEnd: weights growing past the arena's base move the arena up (and
 * forget the plans, placed again on their next use).
 */

import { OpRefusedError } from "../op.js";
import { DATA_START, MAX_BYTES, PAGE } from "./layout.js";

/** The host refused the memory a run needs (raised before the kernel writes anything): "auto" falls back. */
export class WasmMemoryError extends OpRefusedError {
  override name = "WasmMemoryError";
}

/** A block of the packed-weight region. */
export interface Block {
  ptr: number;
  bytes: number;
}

export class WasmMemory {
  /** End of the packed-weight region [DATA_START, reservedEnd). */
  private reservedEnd = DATA_START;
  /** Freed blocks of the packed-weight region, sorted by address, coalesced. */
  private free: Block[] = [];
  private arenaBase = DATA_START;
  private arenaEnd = DATA_START;
  /** Bumped by every arena reset: a plan placed under an older generation is gone. */
  private generation = 0;
  /** False once the runtime owning this memory is dropped: late frees (finalizers) are ignored. */
  live = true;
  /** The packed-weight cache (gemm.ts): W.buffer → W.byteOffset → its copy; a fresh map after clearWeights. */
  packed = new WeakMap<ArrayBufferLike, Map<number, unknown>>();
  /** Bumped by clearWeights: a block allocated before it is no longer this region's to free. */
  weightEpoch = 0;

  constructor(readonly memory: WebAssembly.Memory) {}

  /** Grows the memory to hold `total` bytes, or throws WasmMemoryError (nothing written yet). */
  ensure(total: number): void {
    if (total > MAX_BYTES) {
      throw new WasmMemoryError(
        `wasm backend: this problem needs ${total} bytes of WebAssembly memory, above the 4 GiB limit; split the batch/heads or use backend "js"`,
      );
    }
    const have = this.memory.buffer.byteLength;
    if (total <= have) return;
    try {
      this.memory.grow(Math.ceil((total - have) / PAGE));
    } catch (e) {
      throw new WasmMemoryError(
        `wasm backend: could not grow WebAssembly memory to ${total} bytes (${e instanceof Error ? e.message : String(e)}); use backend "js" or a smaller batch`,
      );
    }
  }

  // ---- the packed-weight region ----

  /** A block of `bytes` for packed weights: first fit from the free list, else on top of the region. */
  allocWeights(bytes: number): number {
    for (let i = 0; i < this.free.length; i++) {
      const f = this.free[i];
      if (f.bytes < bytes) continue;
      const ptr = f.ptr;
      if (f.bytes === bytes) this.free.splice(i, 1);
      else this.free[i] = { ptr: ptr + bytes, bytes: f.bytes - bytes };
      return ptr;
    }
    const ptr = this.reservedEnd;
    this.ensure(ptr + bytes);
    this.setReservedEnd(ptr + bytes);
    return ptr;
  }

  /** Returns a block allocated in `epoch` to the region (coalesced; the region shrinks when its top is free). */
  freeWeights(ptr: number, bytes: number, epoch: number): void {
    if (!this.live || epoch !== this.weightEpoch) return; // dropped with its runtime, or cleared since
    this.free.push({ ptr, bytes });
    this.free.sort((a, b) => a.ptr - b.ptr);
    const merged: Block[] = [];
    for (const f of this.free) {
      const last = merged[merged.length - 1];
      if (last !== undefined && last.ptr + last.bytes === f.ptr) last.bytes += f.bytes;
      else merged.push({ ...f });
    }
    const top = merged[merged.length - 1];
    if (top !== undefined && top.ptr + top.bytes === this.reservedEnd) {
      merged.pop();
      this.setReservedEnd(top.ptr);
    }
    this.free = merged;
  }

  /** Forgets every packed weight (the region becomes empty). */
  clearWeights(): void {
    this.packed = new WeakMap();
    this.weightEpoch++;
    this.free = [];
    this.setReservedEnd(DATA_START);
  }

  /** Bytes held by the packed-weight region (live and freed-but-not-reused blocks). */
  weightBytes(): number {
    return this.reservedEnd - DATA_START;
  }

  /** Moves the end of the packed-weight region; past the plan arena's base it moves the arena up and forgets the plans. */
  private setReservedEnd(end: number): void {
    this.reservedEnd = Math.max(DATA_START, end);
    if (this.reservedEnd > this.arenaBase || this.arenaEnd === this.arenaBase) {
      this.arenaBase = this.reservedEnd;
      this.resetArena();
    }
  }

  // ---- the plan arena ----

  /** The arena's generation: plans placed under another one are gone. */
  get arenaGeneration(): number {
    return this.generation;
  }

  /** End of the plan arena: a call's own data goes after it. */
  get callStart(): number {
    return this.arenaEnd;
  }

  /** Bytes the arena holds now. */
  get arenaBytes(): number {
    return this.arenaEnd - this.arenaBase;
  }

  /** Forgets every placed plan (the arena restarts at its base). */
  resetArena(): void {
    this.generation++;
    this.arenaEnd = this.arenaBase;
  }

  /** Marks [callStart, end) as placed plans (placePlan wrote them). */
  extendArena(end: number): void {
    this.arenaEnd = end;
  }
}
