/**
 * layerNorm() on the wasm module (assembly/norm.ts): rows cut into items, run on the worker
 * pool of the GEMM and the attention kernel. Per-call layout (bytes, from WasmMemory.callStart):
 * descriptor [ROWS] | items [count, ROWS_ITEM] | gamma [n] | beta [n] | x [rows, n] | add [rows, n].
 * The kernel normalises x in place; the result is copied to dst (and, with add, dst is x).
 * A dst resident in this memory (WasmMemory.allocResident) is normalised where it is and an
 * add resident there is read where it is: their slots are not taken, nothing is copied out.
 * Items own disjoint rows and each row is summed in one fixed order, so results are bitwise
 * identical for any `threads`.
 */
import { MAX_BYTES, ROWS, ROWS_ITEM_WORDS, ROWS_WORDS } from "./layout.js";
import { runRowItems } from "./row-items.js";
import { dropRuntime, wasmHostReasons, wasmRuntime } from "./wasm.js";

/** Elements per item (about 16 rows of 768 features): enough to amortise a claim, small enough to balance. */
const ITEM_ELEMS = 1 << 14;

const align64 = (n: number): number => Math.ceil(n / 64) * 64;

function layoutBytes(rows: number, n: number, add: boolean): number {
  const count = Math.ceil(rows / rowsPerItem(n));
  return (
    ROWS_WORDS * 4 +
    align64(count * ROWS_ITEM_WORDS * 4) +
    2 * align64(n * 4) +
    (add ? 2 : 1) * align64(rows * n * 4) +
    64
  );
}

function rowsPerItem(n: number): number {
  return Math.max(1, Math.ceil(ITEM_ELEMS / n));
}

/** Why the wasm LayerNorm cannot run this shape here (empty when it can). */
export function wasmNormReasons(rows: number, n: number, add: boolean, threads: number): string[] {
  const reasons = wasmHostReasons(threads);
  if (reasons.length > 0) return reasons;
  const need = layoutBytes(rows, n, add);
  if (need > MAX_BYTES) reasons.push(`this LayerNorm needs ${need} bytes of WebAssembly memory, above the 4 GiB limit`);
  return reasons;
}

/** dst ← LN(x + add) (see norm-problem.ts) on the wasm module; wasmNormReasons empty for this shape. */
export function layerNormWasm(
  x: Float32Array,
  add: Float32Array | null,
  dst: Float32Array,
  rows: number,
  n: number,
  gamma: Float32Array,
  beta: Float32Array,
  eps: number,
  threads: number,
): void {
  let rt = wasmRuntime()!;
  if (rt.pool !== null && !rt.pool.healthy) {
    dropRuntime(rt); // a worker died between calls: start over with a fresh memory and pool
    rt = wasmRuntime()!;
  }
  const per = rowsPerItem(n);
  const count = Math.ceil(rows / per);
  let at = rt.mem.callStart; // after the resident buffers and the attention plan arena
  const take = (bytes: number): number => {
    const p = at;
    at = p + align64(bytes);
    return p;
  };
  const desc = take(ROWS_WORDS * 4);
  const itemsPtr = take(count * ROWS_ITEM_WORDS * 4);
  const gPtr = take(n * 4);
  const bPtr = take(n * 4);
  // the rows are normalised in place: in dst itself when it is resident in this memory
  // (WasmMemory.allocResident), else in this call's copy of x; a resident `add` is read in place
  const dstResident = rt.mem.residentPtr(dst);
  const xPtr = dstResident >= 0 ? dstResident : take(rows * n * 4);
  const addResident = add === null ? -1 : rt.mem.residentPtr(add);
  const aPtr = add === null ? 0 : addResident >= 0 ? addResident : take(rows * n * 4);
  rt.mem.ensure(at + 64);

  const buf = rt.memory.buffer;
  const i32 = new Int32Array(buf);
  const f32 = new Float32Array(buf);
  const d = desc / 4; // the ROWS descriptor (assembly/layout.mjs)
  i32[d + ROWS.KIND] = 0; // LayerNorm (assembly/norm.ts)
  i32[d + ROWS.X] = xPtr;
  i32[d + ROWS.ADD] = aPtr;
  i32[d + ROWS.GAMMA] = gPtr;
  i32[d + ROWS.BETA] = bPtr;
  i32[d + ROWS.N] = n;
  f32[d + ROWS.EPS] = eps;
  f32.set(gamma, gPtr / 4);
  f32.set(beta, bPtr / 4);
  if (dstResident < 0 || rt.mem.residentPtr(x) !== dstResident) f32.set(x, xPtr / 4); // dst and x never partly overlap (layerNorm() checks)
  if (add !== null && addResident < 0) f32.set(add, aPtr / 4);

  runRowItems(rt, { desc, itemsPtr, rows, per, at, threads }, 10 * per * n, "layerNorm()");
  if (dstResident < 0) dst.set(f32.subarray(xPtr / 4, xPtr / 4 + rows * n)); // with add, dst is x (layerNorm() checks)
}
