/** Reading a ../shared/conformance/hf case: meta.json, raw little-endian arrays, (n, H·D) → [1, H, n, D]. */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import type { Tensor } from "../src/types.js";

export const HF_ROOT = path.resolve(__dirname, "../../shared/conformance/hf");

/** Case folders whose name starts with `prefix`, sorted; empty when the shared folder is absent. */
export function hfCases(prefix: string): string[] {
  return existsSync(HF_ROOT)
    ? readdirSync(HF_ROOT)
        .filter((c) => c.startsWith(prefix))
        .sort()
    : [];
}

export function readMeta<T>(name: string): T {
  return JSON.parse(readFileSync(path.join(HF_ROOT, name, "meta.json"), "utf8")) as T;
}

export function readF32(name: string, file: string): Float32Array {
  const buf = readFileSync(path.join(HF_ROOT, name, file));
  return new Float32Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength));
}

export function readI32(name: string, file: string): Int32Array {
  const buf = readFileSync(path.join(HF_ROOT, name, file));
  return new Int32Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength));
}

/** HF matrix (n, H·D), head h in columns h·D … (h+1)·D - 1 → tensor [1, H, n, D]. */
export function toHeads(m: Float32Array, n: number, H: number, D: number): Tensor {
  const data = new Float32Array(H * n * D);
  for (let h = 0; h < H; h++) {
    for (let i = 0; i < n; i++) {
      for (let d = 0; d < D; d++) data[(h * n + i) * D + d] = m[i * H * D + h * D + d]; // [1, H, n, D] ← (n, H·D)
    }
  }
  return { data, shape: [1, H, n, D] };
}

/** Relative Frobenius error and max abs error over the rows (of D values) where `use[row]` is 1. */
export function compareRows(got: ArrayLike<number>, want: ArrayLike<number>, use: Uint8Array, D: number) {
  let num = 0;
  let den = 0;
  let maxAbs = 0;
  for (let row = 0; row < use.length; row++) {
    if (!use[row]) continue;
    for (let d = 0; d < D; d++) {
      const diff = got[row * D + d] - want[row * D + d];
      num += diff * diff;
      den += want[row * D + d] * want[row * D + d];
      maxAbs = Math.max(maxAbs, Number.isNaN(diff) ? Number.POSITIVE_INFINITY : Math.abs(diff));
    }
  }
  return { relFro: Math.sqrt(num / den), maxAbs };
}
