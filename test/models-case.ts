/** Reading a ../shared/models/hf case: arrays.json + raw little-endian NAME.i32 / NAME.f32 files. */
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";

export const MODELS_ROOT = path.resolve(__dirname, "../../shared/models/hf");

export function caseDir(name: string): string {
  const dir = path.join(MODELS_ROOT, name);
  if (!existsSync(dir)) throw new Error(`shared model case ${dir} is missing (tests need ../shared/models)`);
  return dir;
}

export function readArray(name: string, array: string): { data: Int32Array | Float32Array; shape: number[] } {
  const meta = JSON.parse(readFileSync(path.join(caseDir(name), "arrays.json"), "utf8")) as Record<
    string,
    { shape: number[]; dtype: string }
  >;
  const m = meta[array];
  const ext = m.dtype === "int32" ? "i32" : "f32";
  const buf = readFileSync(path.join(caseDir(name), `${array}.${ext}`));
  const ab = buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength);
  return { data: m.dtype === "int32" ? new Int32Array(ab) : new Float32Array(ab), shape: m.shape };
}

export function ints(name: string, array: string): { data: Int32Array; shape: [number, number] } {
  const a = readArray(name, array);
  return { data: a.data as Int32Array, shape: a.shape as [number, number] };
}

/** Relative Frobenius error over the rows (of `width` values) where use[row] is truthy. */
export function relErr(got: Float32Array, want: Float32Array, width: number, use?: ArrayLike<number>): number {
  let num = 0;
  let den = 0;
  for (let r = 0; r < got.length / width; r++) {
    if (use !== undefined && !use[r]) continue;
    for (let d = 0; d < width; d++) {
      const diff = got[r * width + d] - want[r * width + d];
      num += Number.isNaN(diff) ? Number.POSITIVE_INFINITY : diff * diff;
      den += want[r * width + d] ** 2;
    }
  }
  return Math.sqrt(num / den);
}
