/**
 * A safetensors reader of our own. The format (https://huggingface.co/docs/safetensors):
 *   [0, 8)        u64 little-endian N, the header length in bytes
 *   [8, 8 + N)    UTF-8 JSON: { name: { dtype, shape, data_offsets: [begin, end] }, __metadata__? }
 *   [8 + N, end)  raw little-endian tensor data; data_offsets count from here
 * F32 tensors are viewed in place when aligned (no copy of the weights); F16 and BF16 are
 * converted to float32 on request. Every other dtype is refused by name when requested (a
 * checkpoint may carry an I64 buffer such as position_ids that a model never asks for).
 * The whole header is checked on open: offsets inside the data, sizes matching dtype × shape.
 */
import { describe } from "../errors.js";

/** Errors about a checkpoint file (a bad file, a missing tensor): they name the file and the tensor. */
export class CheckpointError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "CheckpointError";
  }
}

const BYTES: Record<string, number> = {
  F64: 8,
  F32: 4,
  F16: 2,
  BF16: 2,
  I64: 8,
  I32: 4,
  I16: 2,
  I8: 1,
  U64: 8,
  U32: 4,
  U16: 2,
  U8: 1,
  BOOL: 1,
  F8_E4M3: 1,
  F8_E5M2: 1,
};
const CONVERTED = ["F32", "F16", "BF16"];

/** The reference implementation's limit on the JSON header (100 MB). */
export const MAX_HEADER_BYTES = 100_000_000;

/**
 * The first key that some object of the (valid) JSON text `json` names twice, or null.
 * JSON.parse keeps the last duplicate silently; a scan over the tokens with one key set per open
 * object finds them (keys compared after unescaping, so "a" and "\u0061" are the same).
 * Iterative: a deeply nested header cannot exhaust the stack.
 */
export function duplicateKey(json: string): string | null {
  const stack: (Set<string> | null)[] = []; // null: an array
  let expectKey = false;
  for (let i = 0; i < json.length; i++) {
    const c = json.charCodeAt(i);
    if (c === 0x22) {
      let j = i + 1;
      while (json.charCodeAt(j) !== 0x22) j += json.charCodeAt(j) === 0x5c ? 2 : 1;
      const top = stack[stack.length - 1];
      if (expectKey && top) {
        const key = JSON.parse(json.slice(i, j + 1)) as string;
        if (top.has(key)) return key;
        top.add(key);
        expectKey = false;
      }
      i = j;
    } else if (c === 0x7b) {
      stack.push(new Set());
      expectKey = true;
    } else if (c === 0x5b) {
      stack.push(null);
      expectKey = false;
    } else if (c === 0x7d || c === 0x5d) {
      stack.pop();
      expectKey = false;
    } else if (c === 0x2c) {
      expectKey = stack[stack.length - 1] != null;
    }
  }
  return null;
}

export interface TensorInfo {
  dtype: string;
  shape: number[];
  /** Byte offsets into the data section, [begin, end). */
  begin: number;
  end: number;
}

export interface FloatTensor {
  data: Float32Array;
  shape: number[];
}

/** One opened safetensors file. */
export class SafetensorsFile {
  readonly tensors: Map<string, TensorInfo>;
  readonly metadata: Record<string, string>;
  private readonly bytes: Uint8Array;
  private readonly dataStart: number;

  /** `name` is what errors call the file (its path, or "weights" for a buffer). */
  constructor(
    buffer: ArrayBuffer | Uint8Array,
    readonly name: string,
  ) {
    this.bytes = buffer instanceof Uint8Array ? buffer : new Uint8Array(buffer);
    const size = this.bytes.byteLength;
    const fail = (why: string): never => {
      throw new CheckpointError(`${name}: not a valid safetensors file: ${why}`);
    };
    if (size < 8) fail(`it has ${size} bytes; a safetensors file starts with an 8-byte header length`);
    const dv = new DataView(this.bytes.buffer, this.bytes.byteOffset, size);
    const n64 = dv.getBigUint64(0, true);
    if (n64 > BigInt(MAX_HEADER_BYTES)) {
      fail(`the header length is ${n64} bytes; the format allows at most ${MAX_HEADER_BYTES}`);
    }
    const n = Number(n64);
    if (n > size - 8) {
      fail(`the header length is ${n} bytes but only ${size - 8} bytes follow (truncated file?)`);
    }
    if (this.bytes[8] !== 0x7b) fail(`the header does not start with "{" (byte 8 is ${this.bytes[8] ?? "missing"})`);
    let header: unknown;
    let text = "";
    try {
      text = new TextDecoder("utf-8", { fatal: true }).decode(this.bytes.subarray(8, 8 + n));
      header = JSON.parse(text);
    } catch (e) {
      fail(`the ${n}-byte header is not UTF-8 JSON (${(e as Error).message})`);
    }
    if (header === null || typeof header !== "object" || Array.isArray(header)) {
      fail(`the header is ${describe(header)}, not a JSON object`);
    }
    const dup = duplicateKey(text);
    if (dup !== null) fail(`the header names ${JSON.stringify(dup)} twice (JSON would keep only the last)`);
    this.dataStart = 8 + n;
    const dataSize = size - this.dataStart;
    this.tensors = new Map();
    this.metadata = Object.create(null) as Record<string, string>;
    for (const [key, raw] of Object.entries(header as Record<string, unknown>)) {
      if (key === "__metadata__") {
        if (raw === null || typeof raw !== "object" || Array.isArray(raw)) {
          fail(`"__metadata__" is ${describe(raw)}, not an object of strings`);
        }
        for (const [mk, mv] of Object.entries(raw as Record<string, unknown>)) {
          if (typeof mv !== "string") fail(`"__metadata__"."${mk}" is ${describe(mv)}, not a string`);
          this.metadata[mk] = mv as string;
        }
        continue;
      }
      const t = raw as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
      if (t === null || typeof t !== "object" || Array.isArray(t)) fail(`tensor "${key}": entry is ${describe(raw)}`);
      const dtype = t.dtype;
      if (typeof dtype !== "string" || !Object.hasOwn(BYTES, dtype)) {
        fail(`tensor "${key}": unknown dtype ${describe(dtype)}`);
      }
      const shape = t.shape;
      if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
        fail(`tensor "${key}": shape ${describe(shape)} is not a list of non-negative integers`);
      }
      const off = t.data_offsets;
      if (!Array.isArray(off) || off.length !== 2 || !off.every((d) => Number.isSafeInteger(d) && d >= 0)) {
        fail(`tensor "${key}": data_offsets ${describe(off)} is not [begin, end]`);
      }
      const [begin, end] = off as number[];
      // the byte count in exact integer arithmetic: a product past 2^53 is refused, not rounded
      let want = BYTES[dtype as string];
      for (const d of shape as number[]) {
        want *= d;
        if (!Number.isSafeInteger(want))
          fail(`tensor "${key}": shape ${JSON.stringify(shape)} is too large to address`);
      }
      if (end < begin || end - begin !== want) {
        fail(
          `tensor "${key}": data_offsets [${begin}, ${end}] hold ${end - begin} bytes but ${dtype} ${JSON.stringify(shape)} needs ${want}`,
        );
      }
      if (end > dataSize) {
        fail(
          `tensor "${key}": data_offsets [${begin}, ${end}] reach past the ${dataSize} data bytes the file has (truncated file, or a header that lies)`,
        );
      }
      this.tensors.set(key, { dtype: dtype as string, shape: shape as number[], begin, end });
    }
    // The format: the tensors' data is contiguous and covers the data section exactly — in
    // offset order each begins where the one before ends, the first at 0, the last at the end.
    const order = [...this.tensors.entries()].sort((a, b) => a[1].begin - b[1].begin || a[1].end - b[1].end);
    let at = 0;
    for (const [key, t] of order) {
      if (t.begin < at) {
        fail(`tensor "${key}": data_offsets [${t.begin}, ${t.end}] overlap the tensor before it (which ends at ${at})`);
      }
      if (t.begin > at)
        fail(`tensor "${key}": data_offsets [${t.begin}, ${t.end}] leave a gap of ${t.begin - at} bytes before it`);
      at = t.end;
    }
    if (at !== dataSize) {
      fail(
        `${dataSize - at} bytes follow the last tensor's data (the data section is ${dataSize} bytes; the tensors cover ${at})`,
      );
    }
  }

  has(name: string): boolean {
    return this.tensors.has(name);
  }

  /** The tensor as float32 (F32 viewed in place when aligned, F16/BF16 converted). */
  get(name: string): FloatTensor {
    const t = this.tensors.get(name);
    if (t === undefined) {
      throw new CheckpointError(`${this.name}: no tensor "${name}" (the file has ${this.tensors.size} tensors)`);
    }
    if (!CONVERTED.includes(t.dtype)) {
      throw new CheckpointError(
        `${this.name}: tensor "${name}" has dtype ${t.dtype}; supported dtypes are ${CONVERTED.join(", ")} (converted to float32)`,
      );
    }
    const count = (t.end - t.begin) / BYTES[t.dtype];
    const at = this.bytes.byteOffset + this.dataStart + t.begin; // absolute byte offset in the buffer
    const shape = t.shape.slice();
    if (t.dtype === "F32") {
      if (at % 4 === 0 && littleEndianHost) return { data: new Float32Array(this.bytes.buffer, at, count), shape };
      const out = new Float32Array(count);
      const dv = new DataView(this.bytes.buffer, at, count * 4);
      for (let i = 0; i < count; i++) out[i] = dv.getFloat32(i * 4, true);
      return { data: out, shape };
    }
    const out = new Float32Array(count);
    const dv = new DataView(this.bytes.buffer, at, count * 2);
    if (t.dtype === "BF16") {
      const bits = new Uint32Array(out.buffer);
      for (let i = 0; i < count; i++) bits[i] = dv.getUint16(i * 2, true) << 16; // bf16 = top half of f32
    } else {
      for (let i = 0; i < count; i++) out[i] = halfToFloat(dv.getUint16(i * 2, true));
    }
    return { data: out, shape };
  }
}

const littleEndianHost = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** IEEE 754 binary16 → number (exact). */
export function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * frac * 2 ** -24; // subnormal
  if (exp === 31) return frac === 0 ? sign * Number.POSITIVE_INFINITY : Number.NaN;
  return sign * (1 + frac / 1024) * 2 ** (exp - 15);
}

/** What a WeightStore reads tensors from: a SafetensorsFile or a TorchCheckpoint (pytorch_model.bin). */
export interface TensorFile {
  readonly name: string;
  readonly tensors: ReadonlyMap<string, { dtype: string; shape: number[] }>;
  get(name: string): FloatTensor;
}

/** Tensors looked up by name across one file or the shards of an index. */
export class WeightStore {
  private readonly where = new Map<string, TensorFile>();

  constructor(
    readonly files: TensorFile[],
    /** What errors call the checkpoint (its folder or index file). */
    readonly label: string,
    /** For a sharded index: tensor name → shard file name. */
    weightMap?: Record<string, string>,
  ) {
    for (const f of files) for (const name of f.tensors.keys()) this.where.set(name, f);
    if (weightMap !== undefined) {
      for (const [tensor, shard] of Object.entries(weightMap)) {
        const f = this.where.get(tensor);
        if (f === undefined || !(f.name === shard || f.name.endsWith(`/${shard}`) || f.name.endsWith(`\\${shard}`))) {
          throw new CheckpointError(
            `${label}: the index maps tensor "${tensor}" to ${shard}, but that shard has no such tensor`,
          );
        }
      }
    }
  }

  names(): string[] {
    return [...this.where.keys()];
  }

  has(name: string): boolean {
    return this.where.has(name);
  }

  get(name: string): FloatTensor {
    const f = this.where.get(name);
    if (f === undefined) {
      throw new CheckpointError(`${this.label}: missing tensor "${name}"`);
    }
    return f.get(name);
  }
}

/** The shard file names of a `model.safetensors.index.json` (parsed JSON), in first-use order. */
export function shardsOf(index: unknown, label: string): { files: string[]; weightMap: Record<string, string> } {
  const wm = (index as { weight_map?: unknown } | null)?.weight_map;
  if (wm === null || typeof wm !== "object" || Array.isArray(wm)) {
    throw new CheckpointError(`${label}: no "weight_map" object (got ${describe(wm)})`);
  }
  const weightMap = wm as Record<string, string>;
  const files: string[] = [];
  for (const [tensor, file] of Object.entries(weightMap)) {
    if (typeof file !== "string" || file.includes("/") || file.includes("\\") || file.startsWith(".")) {
      throw new CheckpointError(
        `${label}: tensor "${tensor}" maps to ${describe(file)}, not a file name in the folder`,
      );
    }
    if (!files.includes(file)) files.push(file);
  }
  return { files, weightMap };
}
