/**
 * `pytorch_model.bin` in the zip format torch.save writes since PyTorch 1.6:
 *   <prefix>/data.pkl      the state dict, pickled (read by ./pickle.ts, which executes nothing)
 *   <prefix>/data/<key>    each storage's raw bytes (little-endian), aligned to 64 bytes
 *   <prefix>/byteorder     "little" (absent in files of older torch: little-endian)
 *   <prefix>/version       the format version
 * (`<prefix>` is "archive" for torch.save and the file's stem for HF's save_pretrained.)
 * A TorchCheckpoint offers what a SafetensorsFile offers (name, tensors, has, get), so a
 * WeightStore mixes both. F32 tensors that are contiguous and aligned are views of the file
 * (no copy); strided ones are gathered; F16 / BF16 are converted to float32 exactly as the
 * safetensors reader does. The legacy (pre-1.6) tar/raw-pickle format is refused by name.
 */
import { CheckpointError, type FloatTensor, halfToFloat, SafetensorsFile } from "../safetensors.js";
import { PyDict, type PyValue, STORAGE_TYPES, type TorchTensorRef, unpickle } from "./pickle.js";
import { ZipArchive } from "./zip.js";

export interface TorchTensorInfo {
  dtype: string;
  shape: number[];
}

const BYTES: Record<string, number> = Object.fromEntries(Object.values(STORAGE_TYPES).map((s) => [s.dtype, s.bytes]));
const CONVERTED = ["F32", "F16", "BF16"];
const littleEndianHost = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** True when the bytes start like a zip archive (a torch checkpoint; safetensors starts with a length). */
export function isZip(bytes: Uint8Array): boolean {
  return bytes.length >= 4 && bytes[0] === 0x50 && bytes[1] === 0x4b && bytes[2] === 0x03 && bytes[3] === 0x04;
}

export class TorchCheckpoint {
  readonly tensors = new Map<string, TorchTensorInfo>();
  private readonly refs = new Map<string, TorchTensorRef>();
  private readonly zip: ZipArchive;
  private readonly prefix: string;

  constructor(
    buffer: ArrayBuffer | Uint8Array,
    /** What errors call the file. */
    readonly name: string,
  ) {
    const bytes = buffer instanceof Uint8Array ? buffer : new Uint8Array(buffer);
    if (!isZip(bytes)) {
      const legacy = bytes.length >= 2 && bytes[0] === 0x80 && bytes[1] <= 5;
      throw new CheckpointError(
        `${name}: not a PyTorch zip checkpoint${
          legacy
            ? " (it is a bare pickle: the legacy format of torch < 1.6, which is not read; re-save it with torch >= 1.6 or convert it to safetensors)"
            : " (it does not start with a zip header)"
        }`,
      );
    }
    this.zip = new ZipArchive(bytes, name);
    const pickles = [...this.zip.entries.keys()].filter((n) => /^[^/]+\/data\.pkl$/.test(n));
    if (pickles.length !== 1) {
      throw new CheckpointError(
        `${name}: not a PyTorch checkpoint: expected one "<folder>/data.pkl" entry, found ${pickles.length}`,
      );
    }
    this.prefix = pickles[0].slice(0, -"data.pkl".length);
    const order = this.zip.entries.get(`${this.prefix}byteorder`);
    if (order !== undefined) {
      const text = new TextDecoder().decode(this.zip.readChecked(order.name)).trim();
      if (text !== "little") {
        throw new CheckpointError(`${name}: storages are stored in byte order "${text}"; only "little" is read`);
      }
    }
    const state = unpickle(this.zip.readChecked(pickles[0]), name);
    if (!(state instanceof PyDict)) {
      throw new CheckpointError(`${name}: the pickle holds ${kindOf(state)}, not a state dict (a dict of tensors)`);
    }
    for (const [key, value] of state) {
      if (typeof key !== "string") throw new CheckpointError(`${name}: state dict key ${key} is not a string`);
      if (value === null || typeof value !== "object" || (value as TorchTensorRef).kind !== "tensor") {
        throw new CheckpointError(
          `${name}: state dict entry "${key}" is ${kindOf(value)}, not a tensor (only a flat dict of tensors is read)`,
        );
      }
      const t = value as TorchTensorRef;
      this.check(key, t);
      this.refs.set(key, t);
      this.tensors.set(key, { dtype: t.storage.dtype, shape: t.shape.slice() });
    }
  }

  /** The storage entry exists, has numel × element-size bytes, and the tensor's extent is inside it. */
  private check(key: string, t: TorchTensorRef): void {
    const s = t.storage;
    const entryName = `${this.prefix}data/${s.key}`;
    const entry = this.zip.entries.get(entryName);
    if (entry === undefined)
      throw new CheckpointError(`${this.name}: tensor "${key}" needs storage entry ${entryName}, which is missing`);
    const bytes = BYTES[s.dtype];
    if (entry.size !== s.numel * bytes) {
      throw new CheckpointError(
        `${this.name}: storage ${entryName} has ${entry.size} bytes but the pickle says ${s.numel} × ${bytes}`,
      );
    }
    this.zip.dataOffset(entry); // throws on a truncated file
    const count = t.shape.reduce((a, b) => a * b, 1);
    // the last element's index: offset + Σ (size_i − 1)·stride_i
    const last = t.shape.reduce((acc, d, i) => acc + (d - 1) * t.stride[i], t.offset);
    if (count > 0 && last >= s.numel) {
      throw new CheckpointError(
        `${this.name}: tensor "${key}" (offset ${t.offset}, shape [${t.shape}], stride [${t.stride}]) reaches element ${last} of a ${s.numel}-element storage`,
      );
    }
  }

  has(name: string): boolean {
    return this.refs.has(name);
  }

  /** The tensor as float32: contiguous aligned F32 viewed in place, the rest copied / converted. */
  get(name: string): FloatTensor {
    const t = this.refs.get(name);
    if (t === undefined) {
      throw new CheckpointError(`${this.name}: no tensor "${name}" (the file has ${this.refs.size} tensors)`);
    }
    const dtype = t.storage.dtype;
    if (!CONVERTED.includes(dtype)) {
      throw new CheckpointError(
        `${this.name}: tensor "${name}" has dtype ${dtype}; supported dtypes are ${CONVERTED.join(", ")} (converted to float32)`,
      );
    }
    const entry = this.zip.entries.get(`${this.prefix}data/${t.storage.key}`)!;
    const base = this.zip.bytes.byteOffset + this.zip.dataOffset(entry); // absolute byte offset of element 0
    const el = BYTES[dtype];
    const shape = t.shape.slice();
    const count = shape.reduce((a, b) => a * b, 1);
    const buffer = this.zip.bytes.buffer;
    const contiguous = isContiguous(t.shape, t.stride);
    if (dtype === "F32" && contiguous && littleEndianHost && (base + t.offset * 4) % 4 === 0) {
      return { data: new Float32Array(buffer, base + t.offset * 4, count), shape };
    }
    const dv = new DataView(buffer, base, t.storage.numel * el);
    const out = new Float32Array(count);
    const bits = new Uint32Array(out.buffer);
    const index = contiguous ? null : stridedIndex(t.shape, t.stride);
    for (let i = 0; i < count; i++) {
      const at = (t.offset + (index === null ? i : index[i])) * el; // byte offset of element i in the storage
      if (dtype === "F32") out[i] = dv.getFloat32(at, true);
      else if (dtype === "BF16")
        bits[i] = dv.getUint16(at, true) << 16; // bf16 = top half of f32
      else out[i] = halfToFloat(dv.getUint16(at, true));
    }
    return { data: out, shape };
  }
}

/** Row-major strides match; dimensions of size 1 may have any stride (as torch's is_contiguous). */
function isContiguous(shape: number[], stride: number[]): boolean {
  let want = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    if (shape[i] !== 1 && stride[i] !== want) return false;
    want *= shape[i];
  }
  return true;
}

/** For each row-major element i, its storage index Σ idx_d · stride_d (minus the offset). */
function stridedIndex(shape: number[], stride: number[]): Float64Array {
  const count = shape.reduce((a, b) => a * b, 1);
  const out = new Float64Array(count);
  const idx = new Array<number>(shape.length).fill(0);
  let at = 0;
  for (let i = 0; i < count; i++) {
    out[i] = at;
    // odometer step over the dimensions, last fastest
    for (let d = shape.length - 1; d >= 0; d--) {
      idx[d]++;
      at += stride[d];
      if (idx[d] < shape[d]) break;
      at -= stride[d] * shape[d];
      idx[d] = 0;
    }
  }
  return out;
}

function kindOf(v: PyValue): string {
  if (v === null) return "None";
  if (Array.isArray(v)) return "a tuple or list";
  if (v instanceof PyDict) return "a dict";
  if (v instanceof Uint8Array) return "bytes";
  if (typeof v === "object") return `a ${v.kind}`;
  return `a ${typeof v}`;
}

/** A safetensors file or a torch zip checkpoint, told apart by their first bytes. */
export function openWeights(buffer: ArrayBuffer | Uint8Array, name: string): SafetensorsFile | TorchCheckpoint {
  const bytes = buffer instanceof Uint8Array ? buffer : new Uint8Array(buffer);
  return isZip(bytes) ? new TorchCheckpoint(bytes, name) : new SafetensorsFile(bytes, name);
}
