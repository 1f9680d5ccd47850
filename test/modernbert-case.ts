/** Reading ../shared/models/modernbert (HF's own ModernBERT outputs) and loading its checkpoints. */
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { loadModel } from "../src/models/index.js";
import type { ModernBertModel } from "../src/models/modernbert/index.js";

export const MB_ROOT = path.resolve(__dirname, "../../shared/models/modernbert");

export function mbDir(sub = ""): string {
  const dir = path.join(MB_ROOT, sub);
  if (!existsSync(dir)) throw new Error(`shared model case ${dir} is missing (tests need ../shared/models/modernbert)`);
  return dir;
}

export function mbArray(name: string): { data: Int32Array | Float32Array; shape: number[] } {
  const meta = JSON.parse(readFileSync(path.join(mbDir(), "arrays.json"), "utf8")) as Record<
    string,
    { shape: number[]; dtype: string }
  >;
  const m = meta[name];
  if (m === undefined) throw new Error(`no array ${name} in ${mbDir()}/arrays.json`);
  const buf = readFileSync(path.join(mbDir(), `${name}.${m.dtype === "int32" ? "i32" : "f32"}`));
  const ab = buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength);
  return { data: m.dtype === "int32" ? new Int32Array(ab) : new Float32Array(ab), shape: m.shape };
}

export function mbInts(name: string): { data: Int32Array; shape: [number, number] } {
  const a = mbArray(name);
  return { data: a.data as Int32Array, shape: a.shape as [number, number] };
}

/**
 * A checkpoint of the folder ("" MLM, "seqcls_cls", "seqcls_mean", "tokcls") through loadModel,
 * optionally with config changes and loadModel's task option.
 */
export async function mbModel(sub = "", patch: Record<string, unknown> = {}, task?: string): Promise<ModernBertModel> {
  const dir = mbDir(sub);
  const config = { ...JSON.parse(readFileSync(path.join(dir, "config.json"), "utf8")), ...patch };
  const weights = readFileSync(path.join(dir, "model.safetensors"));
  return (await loadModel({ config, weights }, task === undefined ? {} : { task })) as ModernBertModel;
}

/**
 * Errors over the rows (of `width` values) where use[row] is truthy: max |got − want| / max |want|
 * (the shared README's measure) and the relative Frobenius error.
 */
export function errs(
  got: Float32Array,
  want: Float32Array,
  width: number,
  use?: ArrayLike<number>,
): { relMax: number; relFro: number } {
  let num = 0;
  let den = 0;
  let maxD = 0;
  let maxW = 0;
  for (let r = 0; r < want.length / width; r++) {
    if (use !== undefined && !use[r]) continue;
    for (let d = 0; d < width; d++) {
      const g = got[r * width + d];
      const w = want[r * width + d];
      const diff = Math.abs(g - w);
      const dd = Number.isNaN(diff) ? Number.POSITIVE_INFINITY : diff;
      num += dd * dd;
      den += w * w;
      maxD = Math.max(maxD, dd);
      maxW = Math.max(maxW, Math.abs(w));
    }
  }
  return { relMax: maxD / maxW, relFro: Math.sqrt(num / den) };
}
