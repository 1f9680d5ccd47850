/**
 * regroupHeads() on the wasm module (assembly/heads.ts): rows of m cut into items, run on the
 * worker pool through the row-wise entry (ROWS descriptor, KIND 2 to heads, 3 from heads).
 * Per-call layout (bytes, from WasmMemory.callStart): descriptor [ROWS] | items [count, ROWS_ITEM] |
 * valid [B·L] u8 | m [B·L, H·D] | t [B, H, L, D]. A resident m or t (WasmMemory.allocResident)
 * is read or written where it is and its slot is never touched, so between two resident arrays
 * the op is one parallel pass over memory with nothing copied in or out.
 */
import type { HeadsProblem } from "../heads-problem.js";
import { MAX_BYTES, ROWS, ROWS_ITEM_WORDS, ROWS_WORDS } from "./layout.js";
import { runRowItems } from "./row-items.js";
import { dropRuntime, wasmHostReasons, wasmRuntime } from "./wasm.js";

/** Elements per item (about 21 rows of 768): enough to amortise a claim, small enough to balance. */
const ITEM_ELEMS = 1 << 14;

const align64 = (n: number): number => Math.ceil(n / 64) * 64;

function rowsPerItem(H: number, D: number): number {
  return Math.max(1, Math.ceil(ITEM_ELEMS / (H * D)));
}

function layoutBytes(B: number, L: number, H: number, D: number): number {
  const count = Math.ceil((B * L) / rowsPerItem(H, D));
  const n = B * L * H * D;
  return ROWS_WORDS * 4 + align64(count * ROWS_ITEM_WORDS * 4) + align64(B * L) + 2 * align64(n * 4) + 64;
}

/** Why the wasm regrouping cannot run this shape here (empty when it can). */
export function wasmHeadsReasons(p: HeadsProblem): string[] {
  const reasons = wasmHostReasons(p.threads);
  if (reasons.length > 0) return reasons;
  const need = layoutBytes(p.B, p.L, p.H, p.D);
  if (need > MAX_BYTES)
    reasons.push(`this regrouping needs ${need} bytes of WebAssembly memory, above the 4 GiB limit`);
  return reasons;
}

/** m → t or t → m (see heads-problem.ts) on the wasm module; wasmHeadsReasons empty. */
export function regroupHeadsWasm(p: HeadsProblem): void {
  const { m, t, B, L, H, D, toHeads, valid, threads } = p;
  let rt = wasmRuntime()!;
  if (rt.pool !== null && !rt.pool.healthy) {
    dropRuntime(rt); // a worker died between calls: start over with a fresh memory and pool
    rt = wasmRuntime()!;
  }
  const rows = B * L;
  const n = rows * H * D;
  const per = rowsPerItem(H, D);
  const count = Math.ceil(rows / per);
  let at = rt.mem.callStart; // after the resident buffers and the attention plan arena
  const take = (bytes: number): number => {
    const ptr = at;
    at = ptr + align64(bytes);
    return ptr;
  };
  const desc = take(ROWS_WORDS * 4);
  const itemsPtr = take(count * ROWS_ITEM_WORDS * 4);
  const vPtr = !toHeads && valid !== null ? take(rows) : 0;
  const mResident = rt.mem.residentPtr(m);
  const tResident = rt.mem.residentPtr(t);
  const mPtr = mResident >= 0 ? mResident : take(n * 4);
  const tPtr = tResident >= 0 ? tResident : take(n * 4);
  rt.mem.ensure(at + 64);

  const buf = rt.memory.buffer;
  const i32 = new Int32Array(buf);
  const f32 = new Float32Array(buf);
  const d = desc / 4; // the ROWS descriptor (assembly/layout.mjs)
  i32[d + ROWS.KIND] = toHeads ? 2 : 3;
  i32[d + ROWS.X] = mPtr;
  i32[d + ROWS.Q] = tPtr;
  i32[d + ROWS.ADD] = vPtr;
  i32[d + ROWS.L] = L;
  i32[d + ROWS.H] = H;
  i32[d + ROWS.D] = D;
  if (vPtr !== 0) new Uint8Array(buf).set(valid!.subarray(0, rows), vPtr);
  if (toHeads && mResident < 0) f32.set(m.subarray(0, n), mPtr / 4);
  if (!toHeads && tResident < 0) f32.set(t.subarray(0, n), tPtr / 4);

  runRowItems(rt, { desc, itemsPtr, rows, per, at, threads }, 2 * per * H * D, "regroupHeads()");
  if (toHeads && tResident < 0) t.set(f32.subarray(tPtr / 4, tPtr / 4 + n));
  if (!toHeads && mResident < 0) m.set(f32.subarray(mPtr / 4, mPtr / 4 + n));
}
