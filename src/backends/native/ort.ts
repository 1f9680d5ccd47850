/**
 * onnxruntime-node, the optional native matrix engine (MLAS kernels inside the npm package's
 * prebuilt binary): an optional peer dependency, loaded at run time only in Node and only when
 * installed. The library calls the package's native InferenceSession synchronously
 * (`onnxruntime-node/dist/binding`): the package's public `session.run()` is that same
 * synchronous call wrapped in `setImmediate` and a Promise, and linear() is synchronous.
 * Sessions are cached per weight array (W's buffer and offset) and thread count, with a copy of
 * the weights compared word for word on every call (an edit in place builds a new session).
 */
import { linearModel } from "./onnx.js";

type Getter = (id: string) => unknown;

interface OrtTensorCtor {
  new (type: "float32", data: Float32Array, dims: readonly number[]): { data: Float32Array };
}
interface NativeSession {
  loadModel(buffer: ArrayBufferLike, offset: number, length: number, options: object): void;
  run(
    feeds: Record<string, unknown>,
    fetches: Record<string, null>,
    options: object,
  ): Record<string, { data: Float32Array }>;
}
interface Ort {
  Session: new () => NativeSession;
  Tensor: OrtTensorCtor;
}

let ort: Ort | null = null;
let loadError: string | null = null;

/** The native engine, or null with the reason in nativeReason(). */
function load(): Ort | null {
  if (ort !== null || loadError !== null) return ort;
  try {
    const proc = (globalThis as { process?: { getBuiltinModule?: Getter; versions?: { node?: string } } }).process;
    const mod = proc?.getBuiltinModule?.("node:module") as
      | { createRequire(url: string): (id: string) => unknown }
      | undefined;
    if (mod === undefined) throw new Error("not Node.js (the native engine is a Node addon)");
    if (new Uint8Array(new Uint16Array([1]).buffer)[0] !== 1) throw new Error("a big-endian host");
    const require = mod.createRequire(import.meta.url);
    const binding = require("onnxruntime-node/dist/binding") as {
      binding: { InferenceSession: new () => NativeSession };
      initOrt(): void;
    };
    const common = require("onnxruntime-common") as { Tensor: OrtTensorCtor };
    binding.initOrt();
    ort = { Session: binding.binding.InferenceSession, Tensor: common.Tensor };
  } catch (e) {
    const msg = (e as Error).message.split("\n")[0];
    loadError = `the optional package "onnxruntime-node" is not installed or does not load here (${msg}); npm install onnxruntime-node`;
  }
  return ort;
}

/** Why the native engine cannot run here (null when it can). */
export function nativeReason(): string | null {
  load();
  return loadError;
}

interface Entry {
  session: NativeSession;
  outF: number;
  inF: number;
  /** The weights and bias the session was built from, compared word for word on every call. */
  W: Uint32Array;
  bias: Uint32Array | null;
}

/** `a` (a copy) equals the bits of `b` word for word. */
function sameBits(a: Uint32Array | null, b: Float32Array | null): boolean {
  if (a === null || b === null) return a === null && b === null;
  if (a.length !== b.length) return false;
  const w = new Uint32Array(b.buffer, b.byteOffset, b.length);
  for (let i = 0; i < a.length; i++) if (a[i] !== w[i]) return false;
  return true;
}

const bitsOf = (a: Float32Array): Uint32Array => new Uint32Array(a.buffer, a.byteOffset, a.length).slice();

/** W.buffer → `${byteOffset}/${threads}` → its session (weights as initializers, copied in once). */
const sessions = new WeakMap<ArrayBufferLike, Map<string, Entry>>();

function sessionFor(o: Ort, W: Float32Array, outF: number, inF: number, bias: Float32Array | null, threads: number) {
  let byKey = sessions.get(W.buffer);
  if (byKey === undefined) {
    byKey = new Map();
    sessions.set(W.buffer, byKey);
  }
  const key = `${W.byteOffset}/${threads}`;
  const hit = byKey.get(key);
  // unchanged weights, compared word for word: an edit in place builds a new session (as the
  // wasm GEMM repacks, docs/security.md)
  if (hit !== undefined && hit.outF === outF && hit.inF === inF && sameBits(hit.W, W) && sameBits(hit.bias, bias))
    return hit.session;
  const model = linearModel(W, outF, inF, bias ?? new Float32Array(outF));
  const session = new o.Session();
  session.loadModel(model.buffer, model.byteOffset, model.byteLength, {
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    executionMode: "sequential",
    graphOptimizationLevel: "all",
  });
  byKey.set(key, { session, outF, inF, W: bitsOf(W), bias: bias === null ? null : bitsOf(bias) });
  return session;
}

/** y [rows, outF] = x · Wᵀ + bias on onnxruntime's MLAS (the engine must load: nativeReason() null). */
export function linearNative(
  x: Float32Array,
  rows: number,
  inF: number,
  W: Float32Array,
  outF: number,
  bias: Float32Array | null,
  y: Float32Array,
  threads: number,
): void {
  const o = load()!;
  const session = sessionFor(o, W, outF, inF, bias, threads);
  const out = session.run({ x: new o.Tensor("float32", x, [rows, inF]) }, { y: null }, {});
  y.set(out.y.data);
}
