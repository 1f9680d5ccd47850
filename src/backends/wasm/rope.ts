/**
 * splitQkvRope() on the wasm module (assembly/rope.ts): rows of qkv cut into items, run on the
 * worker pool through the row-wise entry (pool entry 2, ROWS descriptor with KIND = 1).
 * Per-call layout (bytes, from WasmMemory.callStart):
 * descriptor [ROWS] | items [count, ROWS_ITEM] | cos [L, D/2] | sin [L, D/2] | qkv [B·L, 3·H·D] | q | k | v [B, H, L, D].
 * Items own disjoint rows and every element is computed alone, so results do not depend on `threads`.
 */
import { MAX_BYTES, ROWS, ROWS_ITEM_WORDS, ROWS_WORDS } from "./layout.js";
import { runRowItems } from "./row-items.js";
import { dropRuntime, wasmHostReasons, wasmRuntime } from "./wasm.js";

/** Elements of qkv per item (about 10 rows of 3 · 768): enough to amortise a claim, small enough to balance. */
const ITEM_ELEMS = 1 << 15;

const align64 = (n: number): number => Math.ceil(n / 64) * 64;

function rowsPerItem(H: number, D: number): number {
  return Math.max(1, Math.ceil(ITEM_ELEMS / (3 * H * D)));
}

function layoutBytes(B: number, L: number, H: number, D: number): number {
  const count = Math.ceil((B * L) / rowsPerItem(H, D));
  const n = B * L * H * D;
  return ROWS_WORDS * 4 + align64(count * ROWS_ITEM_WORDS * 4) + 2 * align64(L * (D / 2) * 4) + 6 * align64(n * 4) + 64;
}

/** Why the wasm split + RoPE cannot run this shape here (empty when it can). */
export function wasmRopeReasons(B: number, L: number, H: number, D: number, threads: number): string[] {
  const reasons = wasmHostReasons(threads);
  if (reasons.length > 0) return reasons;
  const need = layoutBytes(B, L, H, D);
  if (need > MAX_BYTES) reasons.push(`this split needs ${need} bytes of WebAssembly memory, above the 4 GiB limit`);
  return reasons;
}

/** q, k, v ← split + RoPE of qkv (see rope-problem.ts) on the wasm module; wasmRopeReasons empty for this shape. */
export function splitQkvRopeWasm(
  qkv: Float32Array,
  q: Float32Array,
  k: Float32Array,
  v: Float32Array,
  B: number,
  L: number,
  H: number,
  D: number,
  cos: Float32Array,
  sin: Float32Array,
  threads: number,
): void {
  let rt = wasmRuntime()!;
  if (rt.pool !== null && !rt.pool.healthy) {
    dropRuntime(rt); // a worker died between calls: start over with a fresh memory and pool
    rt = wasmRuntime()!;
  }
  const rows = B * L;
  const per = rowsPerItem(H, D);
  const count = Math.ceil(rows / per);
  const n = rows * H * D; // elements of each of q, k, v
  const tab = L * (D / 2); // the rows of cos, sin that are read
  let at = rt.mem.callStart; // after the resident buffers and the attention plan arena
  const take = (bytes: number): number => {
    const p = at;
    at = p + align64(bytes);
    return p;
  };
  const desc = take(ROWS_WORDS * 4);
  const itemsPtr = take(count * ROWS_ITEM_WORDS * 4);
  const cPtr = take(tab * 4);
  const sPtr = take(tab * 4);
  // qkv read and q, k, v written where they are when resident in this memory
  // (WasmMemory.allocResident); their slots here are then never touched
  const residents = [qkv, q, k, v].map((a) => rt.mem.residentPtr(a));
  const [xPtr, qPtr, kPtr, vPtr] = [3 * n, n, n, n].map((m, i) => (residents[i] >= 0 ? residents[i] : take(m * 4)));
  rt.mem.ensure(at + 64);

  const buf = rt.memory.buffer;
  const i32 = new Int32Array(buf);
  const f32 = new Float32Array(buf);
  const d = desc / 4; // the ROWS descriptor (assembly/layout.mjs)
  i32[d + ROWS.KIND] = 1;
  i32[d + ROWS.X] = xPtr;
  i32[d + ROWS.Q] = qPtr;
  i32[d + ROWS.K] = kPtr;
  i32[d + ROWS.V] = vPtr;
  i32[d + ROWS.COS] = cPtr;
  i32[d + ROWS.SIN] = sPtr;
  i32[d + ROWS.L] = L;
  i32[d + ROWS.H] = H;
  i32[d + ROWS.D] = D;
  f32.set(cos.subarray(0, tab), cPtr / 4);
  f32.set(sin.subarray(0, tab), sPtr / 4);
  if (residents[0] < 0) f32.set(qkv.subarray(0, 3 * n), xPtr / 4);

  runRowItems(rt, { desc, itemsPtr, rows, per, at, threads }, 10 * per * 3 * H * D, "splitQkvRope()");
  if (residents[1] < 0) q.set(f32.subarray(qPtr / 4, qPtr / 4 + n));
  if (residents[2] < 0) k.set(f32.subarray(kPtr / 4, kPtr / 4 + n));
  if (residents[3] < 0) v.set(f32.subarray(vPtr / 4, vPtr / 4 + n));
}
