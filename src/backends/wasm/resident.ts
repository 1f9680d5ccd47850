/**
 * Resident buffers: Float32Arrays kept in the wasm module's memory across calls (a model's
 * activations through a forward), which the wasm ops read and write where they are instead of
 * copying them in and out per call (WasmMemory.residentPtr: linear() x and y, layerNorm() dst
 * and add, attention() q, k, v and out). Only on a shared memory: an unshared one detaches its
 * buffer when it grows, which would empty every view.
 *
 * The caller owns each buffer until it frees it: a view used after freeResident may alias a
 * later buffer (the allocator reuses freed blocks). A released runtime (releaseWasm, a dead
 * worker) leaves the views valid as plain arrays over the old memory: the next runtime does not
 * recognise them and copies them like any other array.
 */
import { wasmHostReasons, wasmRuntime } from "./wasm-runtime.js";

/** A resident buffer of n floats (contents unspecified), or null when this host cannot keep one. */
export function allocResident(n: number): Float32Array | null {
  if (wasmHostReasons(1).length > 0) return null;
  const rt = wasmRuntime();
  if (rt === null || !rt.shared) return null;
  try {
    return rt.mem.allocResident(n);
  } catch {
    return null; // the host would not grow the memory: the caller uses a plain array
  }
}

/** Returns a buffer from allocResident (a plain array, or one of a released runtime, is ignored). */
export function freeResident(a: Float32Array): void {
  wasmRuntime()?.mem.freeResident(a);
}

/**
 * Whether a and b, views of different buffer objects, share bytes of the wasm memory (a grown
 * shared memory hands out a new SharedArrayBuffer object over the same bytes).
 */
export function residentOverlap(a: Float32Array, b: Float32Array): boolean {
  const mem = wasmRuntime()?.mem;
  if (mem === undefined) return false;
  const pa = mem.residentPtr(a);
  const pb = mem.residentPtr(b);
  return pa >= 0 && pb >= 0 && pa < pb + b.byteLength && pb < pa + a.byteLength;
}
