/**
 * The one owner of the wasm module's linear memory: one WasmMemory per loaded runtime
 * (wasm-runtime.ts creates it with the memory and drops it with the runtime), so no layout
 * state outlives the memory it describes and nothing is shared through module-level variables.
 *
 * Regions (bytes; the fixed ones come from the layout table, assembly/layout.mjs):
 *   [0, CTL_OFFSET)                 the module's own constant tables (data segments)
 *   [CTL_OFFSET, DATA_START)        the worker pool's control words (CTL in layout.ts)
 *   [DATA_START, residentEnd)       resident buffers (allocResident): activations a caller
 *                                   keeps in wasm memory across calls, so the kernels read and
 *                                   write them in place instead of copying them in and out;
 *                                   first fit from a free list, else on top
 *   [arenaBase, arenaEnd)           compiled attention plans (wasm-plan.ts placePlan), kept
 *                                   across calls until the arena is reset (generation + 1)
 *   [arenaEnd, …)                   one call's own data (any kernel), laid out per call
 * arenaBase = residentEnd: resident buffers growing past the arena's base move the arena up
 * (and forget the plans, placed again on their next use). The GEMM packs its weights into
 * each call's own data (gemm.ts), so model weights are held once, by their owner.
 */

import { OpRefusedError } from "../op.js";
import { DATA_START, MAX_BYTES, PAGE } from "./layout.js";

/** The host refused the memory a run needs (raised before the kernel writes anything): "auto" falls back. */
export class WasmMemoryError extends OpRefusedError {
  override name = "WasmMemoryError";
}

/** A block of the resident region. */
interface Block {
  ptr: number;
  bytes: number;
}

export class WasmMemory {
  /** End of the resident region [DATA_START, residentEnd). */
  private residentEnd = DATA_START;
  /** Freed blocks of the resident region, sorted by address, coalesced. */
  private free: Block[] = [];
  /** Live resident blocks by address (the bytes each was given). */
  private readonly live = new Map<number, number>();
  /**
   * Every buffer object this memory handed views of: a grown shared memory gives a new
   * SharedArrayBuffer object over the same bytes, so a view's buffer is checked against all.
   */
  private readonly buffers = new WeakSet<ArrayBufferLike>();
  private arenaBase = DATA_START;
  private arenaEnd = DATA_START;
  /** Bumped by every arena reset: a plan placed under an older generation is gone. */
  private generation = 0;

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

  // ---- the resident region ----

  /**
   * A resident Float32Array of `n` floats (contents unspecified), or null when this memory is
   * not shared: an unshared memory detaches its buffer when it grows, which would empty the view.
   */
  allocResident(n: number): Float32Array | null {
    if (!(this.memory.buffer instanceof SharedArrayBuffer)) return null;
    const bytes = Math.max(64, Math.ceil((n * 4) / 64) * 64);
    let ptr = -1;
    for (let i = 0; i < this.free.length; i++) {
      const f = this.free[i];
      if (f.bytes < bytes) continue;
      ptr = f.ptr;
      if (f.bytes === bytes) this.free.splice(i, 1);
      else this.free[i] = { ptr: ptr + bytes, bytes: f.bytes - bytes };
      break;
    }
    if (ptr < 0) {
      ptr = this.residentEnd;
      this.ensure(ptr + bytes);
      this.residentEnd = ptr + bytes;
      if (this.residentEnd > this.arenaBase) {
        this.arenaBase = this.residentEnd;
        this.resetArena();
      }
    }
    this.live.set(ptr, bytes);
    const buffer = this.memory.buffer;
    this.buffers.add(buffer);
    return new Float32Array(buffer, ptr, n);
  }

  /** Returns a view from allocResident to the region (a view this memory did not give is ignored). */
  freeResident(a: Float32Array): void {
    const ptr = this.residentPtr(a);
    if (ptr < 0 || !this.live.has(ptr)) return;
    const bytes = this.live.get(ptr)!;
    this.live.delete(ptr);
    this.free.push({ ptr, bytes });
    this.free.sort((x, y) => x.ptr - y.ptr);
    const merged: Block[] = [];
    for (const f of this.free) {
      const last = merged[merged.length - 1];
      if (last !== undefined && last.ptr + last.bytes === f.ptr) last.bytes += f.bytes;
      else merged.push({ ...f });
    }
    const top = merged[merged.length - 1];
    if (top !== undefined && top.ptr + top.bytes === this.residentEnd) {
      merged.pop();
      this.residentEnd = top.ptr; // the arena stays where it is: its plans remain valid
    }
    this.free = merged;
  }

  /**
   * The byte address of `a` when it is a view into this memory's resident region (so a kernel
   * may read or write it in place), else -1.
   */
  residentPtr(a: Float32Array): number {
    if (!this.buffers.has(a.buffer)) return -1;
    return a.byteOffset + a.byteLength <= this.residentEnd && a.byteOffset >= DATA_START ? a.byteOffset : -1;
  }

  /** Bytes the resident region spans now (live and freed-but-not-reused blocks). */
  get residentBytes(): number {
    return this.residentEnd - DATA_START;
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
