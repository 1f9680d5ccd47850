/**
 * What a PyTorch state dict may contain, for ./pickle.ts: the value types, the allow-list of
 * globals (the callables and storage types torch writes for tensors), and what calling an
 * allowed global means here (building a reference, never running Python).
 */
import { CheckpointError } from "../safetensors.js";

/** A storage a tensor views: entry `data/<key>` of the archive. */
export interface TorchStorageRef {
  kind: "storage";
  /** safetensors-style dtype name ("F32", "F16", "BF16", "I64", …). */
  dtype: string;
  key: string;
  location: string;
  /** Elements (not bytes). */
  numel: number;
}

export interface TorchTensorRef {
  kind: "tensor";
  storage: TorchStorageRef;
  /** In elements. */
  offset: number;
  shape: number[];
  /** In elements. */
  stride: number[];
}

/** A Python dict or OrderedDict. */
export class PyDict extends Map<string | number, PyValue> {}

export type PyValue =
  | null
  | boolean
  | number
  | string
  | Uint8Array
  | PyValue[]
  | PyDict
  | TorchTensorRef
  | TorchStorageRef
  | PyGlobal;

/** An allow-listed global, as pushed by GLOBAL / STACK_GLOBAL. */
export interface PyGlobal {
  kind: "global";
  name: string;
}

/** torch.<Name>Storage → dtype and element size. */
export const STORAGE_TYPES: Record<string, { dtype: string; bytes: number }> = {
  FloatStorage: { dtype: "F32", bytes: 4 },
  HalfStorage: { dtype: "F16", bytes: 2 },
  BFloat16Storage: { dtype: "BF16", bytes: 2 },
  DoubleStorage: { dtype: "F64", bytes: 8 },
  LongStorage: { dtype: "I64", bytes: 8 },
  IntStorage: { dtype: "I32", bytes: 4 },
  ShortStorage: { dtype: "I16", bytes: 2 },
  CharStorage: { dtype: "I8", bytes: 1 },
  ByteStorage: { dtype: "U8", bytes: 1 },
  BoolStorage: { dtype: "BOOL", bytes: 1 },
};

/** The globals a state dict may name. Everything else is refused. */
export const ALLOWED_GLOBALS: readonly string[] = [
  "collections.OrderedDict",
  "torch._utils._rebuild_tensor_v2",
  "torch._utils._rebuild_parameter",
  "torch._utils._rebuild_parameter_with_state",
  ...Object.keys(STORAGE_TYPES).map((s) => `torch.${s}`),
];

export function refuse(label: string, why: string): never {
  throw new CheckpointError(`${label}: refused to unpickle: ${why}`);
}

export function isGlobal(v: PyValue): v is PyGlobal {
  return (
    v !== null &&
    typeof v === "object" &&
    !Array.isArray(v) &&
    !(v instanceof Map) &&
    !(v instanceof Uint8Array) &&
    v.kind === "global"
  );
}

export function typeName(v: PyValue | undefined): string {
  if (v === null) return "None";
  if (v === undefined) return "nothing";
  if (Array.isArray(v)) return "a tuple or list";
  if (v instanceof PyDict) return "a dict";
  if (v instanceof Uint8Array) return "bytes";
  if (typeof v === "object") return v.kind === "global" ? `global ${v.name}` : `a ${v.kind}`;
  return `a ${typeof v}`;
}

export function isNat(v: PyValue): v is number {
  return typeof v === "number" && Number.isSafeInteger(v) && v >= 0;
}

export function natList(v: PyValue): v is number[] {
  return Array.isArray(v) && v.every(isNat);
}

/** A persistent id: ('storage', <storage type global>, key, location, numel). */
export function persistent(pid: PyValue, label: string): TorchStorageRef {
  if (!Array.isArray(pid) || pid.length !== 5 || pid[0] !== "storage") {
    refuse(label, `persistent id ${typeName(pid)} is not ('storage', type, key, location, numel)`);
  }
  const [, type, key, location, numel] = pid;
  if (!isGlobal(type) || !type.name.startsWith("torch.") || !(type.name.slice(6) in STORAGE_TYPES)) {
    refuse(label, `persistent id names storage type ${typeName(type)}`);
  }
  if (typeof key !== "string" || !/^[\w.-]{1,200}$/.test(key) || key.startsWith(".")) {
    refuse(label, `storage key ${JSON.stringify(key)} is not a plain name`);
  }
  if (typeof location !== "string") refuse(label, `storage location is ${typeName(location)}`);
  if (!isNat(numel)) refuse(label, `storage size ${typeName(numel)} is not a non-negative integer`);
  return { kind: "storage", dtype: STORAGE_TYPES[type.name.slice(6)].dtype, key, location, numel };
}

export function call(name: string, args: PyValue[], label: string): PyValue {
  switch (name) {
    case "collections.OrderedDict":
      if (args.length !== 0) refuse(label, "OrderedDict called with arguments");
      return new PyDict();
    case "torch._utils._rebuild_tensor_v2": {
      // (storage, storage_offset, size, stride, requires_grad, backward_hooks[, metadata])
      const [storage, offset, size, stride] = args;
      if (args.length < 6 || args.length > 7) refuse(label, `${name} with ${args.length} arguments`);
      if (storage === null || typeof storage !== "object" || (storage as TorchStorageRef).kind !== "storage") {
        refuse(label, `${name} on ${typeName(storage)}, not a storage`);
      }
      if (!isNat(offset) || !natList(size) || !natList(stride) || size.length !== stride.length) {
        refuse(label, `${name} with a malformed offset, size or stride`);
      }
      return { kind: "tensor", storage: storage as TorchStorageRef, offset, shape: size, stride };
    }
    case "torch._utils._rebuild_parameter":
    case "torch._utils._rebuild_parameter_with_state": {
      const t = args[0];
      if (t === null || typeof t !== "object" || (t as TorchTensorRef).kind !== "tensor") {
        refuse(label, `${name} on ${typeName(t)}, not a tensor`);
      }
      return t;
    }
    default:
      return refuse(label, `global ${name} cannot be called (it is a type, not a function)`);
  }
}
