/** Reading ../shared/models/tasks: per folder arrays.json + raw little-endian NAME.i32 / NAME.f32, pipelines.json. */
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";

export const TASKS_ROOT = path.resolve(__dirname, "../../shared/models/tasks");

export function taskDir(name: string): string {
  const dir = path.join(TASKS_ROOT, name);
  if (!existsSync(dir)) throw new Error(`shared task model ${dir} is missing (tests need ../shared/models/tasks)`);
  return dir;
}

export function taskArray(folder: string, array: string): { data: Int32Array | Float32Array; shape: number[] } {
  const meta = JSON.parse(readFileSync(path.join(taskDir(folder), "arrays.json"), "utf8")) as Record<
    string,
    { shape: number[]; dtype: string }
  >;
  const m = meta[array];
  if (m === undefined) throw new Error(`${folder}/arrays.json has no array ${array}`);
  const ext = m.dtype === "int32" ? "i32" : "f32";
  const buf = readFileSync(path.join(taskDir(folder), `${array}.${ext}`));
  const ab = buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength);
  return { data: m.dtype === "int32" ? new Int32Array(ab) : new Float32Array(ab), shape: m.shape };
}

export function taskInts(folder: string, array: string): { data: Int32Array; shape: number[] } {
  const a = taskArray(folder, array);
  return { data: a.data as Int32Array, shape: a.shape };
}

export interface PipelineCall {
  task: string;
  model_folder: string;
  pipeline_kwargs: Record<string, unknown>;
  call: string;
  call_args: unknown[];
  call_kwargs: Record<string, unknown>;
  output: unknown;
  model_forwards: Array<Record<string, unknown>>;
}

export function pipelineCalls(): PipelineCall[] {
  return (JSON.parse(readFileSync(path.join(TASKS_ROOT, "pipelines.json"), "utf8")) as { calls: PipelineCall[] }).calls;
}
