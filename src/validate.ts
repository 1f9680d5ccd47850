/** Validation at the public API: every error names the argument, the value and the expected form. */
import { AttentionArgumentError, describe } from "./errors.js";
import type { Tensor } from "./types.js";

export interface Shapes {
  B: number;
  H: number;
  Hkv: number;
  Lq: number;
  Lk: number;
  D: number;
}

function checkTensor(name: string, t: unknown): Tensor {
  const form = `{ data: Float32Array, shape: [batch, heads, length, headDim] }`;
  if (t === null || typeof t !== "object") throw new AttentionArgumentError(name, t, `a tensor ${form}`);
  const { data, shape } = t as Tensor;
  if (!(data instanceof Float32Array)) {
    throw new AttentionArgumentError(`${name}.data`, data, "a Float32Array (convert with Float32Array.from(values))");
  }
  if (!Array.isArray(shape) || shape.length !== 4) {
    throw new AttentionArgumentError(
      `${name}.shape`,
      shape,
      "4 dimensions [batch, heads, length, headDim]; add size-1 dimensions for missing ones",
    );
  }
  const names = ["batch", "heads", "length", "headDim"];
  shape.forEach((x, i) => {
    if (typeof x !== "number" || !Number.isInteger(x) || x < 1) {
      throw new AttentionArgumentError(
        `${name}.shape[${i}] (${names[i]})`,
        x,
        "a positive integer (empty dimensions are not supported)",
      );
    }
  });
  const size = shape[0] * shape[1] * shape[2] * shape[3];
  if (data.length !== size) {
    throw new AttentionArgumentError(
      `${name}.data.length`,
      data.length,
      `${size} = product of ${name}.shape ${describe(shape)}`,
    );
  }
  return t as Tensor;
}

export function validateInputs(q: unknown, k: unknown, v: unknown): Shapes {
  const tq = checkTensor("q", q);
  const tk = checkTensor("k", k);
  const tv = checkTensor("v", v);
  const [B, H, Lq, D] = tq.shape;
  const [Bk, Hkv, Lk, Dk] = tk.shape;
  if (Bk !== B) throw new AttentionArgumentError("k.shape[0] (batch)", Bk, `${B}, the batch of q`);
  if (Dk !== D) throw new AttentionArgumentError("k.shape[3] (headDim)", Dk, `${D}, the headDim of q`);
  if (H % Hkv !== 0) {
    throw new AttentionArgumentError(
      "k.shape[1] (key/value heads)",
      Hkv,
      `a divisor of q's ${H} heads (grouped-query attention: query head h uses kv head floor(h / (H / Hkv)))`,
    );
  }
  const vs = tv.shape;
  const expected = [B, Hkv, Lk, D];
  for (let i = 0; i < 4; i++) {
    if (vs[i] !== expected[i]) {
      throw new AttentionArgumentError(
        "v.shape",
        vs,
        `${describe(expected)}, the shape of k (v may not differ from k)`,
      );
    }
  }
  return { B, H, Hkv, Lq, Lk, D };
}

export function validateScale(scale: unknown): void {
  if (typeof scale !== "number" || !Number.isFinite(scale)) {
    throw new AttentionArgumentError("options.scale", scale, "a finite number (default 1/sqrt(headDim))");
  }
}

/** Destinations of a call's result (options.out, options.lse), checked; null where not given. */
export interface Outputs {
  out: Tensor | null;
  lse: Float32Array | null;
}

/** The byte range [start, end) `a` views in its buffer. */
function byteRange(a: ArrayBufferView): [number, number] {
  return [a.byteOffset, a.byteOffset + a.byteLength];
}

/**
 * Throws when `dest` (the argument `name`) shares memory with one of `sources` (same
 * ArrayBuffer / SharedArrayBuffer, intersecting byte ranges): a kernel reading the source while
 * it writes the result would read its own output.
 */
function checkNoOverlap(name: string, dest: Float32Array, sources: Array<[string, Float32Array]>): void {
  const [d0, d1] = byteRange(dest);
  for (const [srcName, src] of sources) {
    if (src.buffer !== dest.buffer) continue;
    const [s0, s1] = byteRange(src);
    if (d0 < s1 && s0 < d1) {
      const kind = dest.buffer instanceof ArrayBuffer ? "ArrayBuffer" : "SharedArrayBuffer";
      throw new AttentionArgumentError(
        name,
        dest,
        `a Float32Array that shares no memory with ${srcName}: both view the same ${kind} and its bytes [${d0}, ${d1}) intersect ${srcName}'s [${s0}, ${s1}); the call reads ${srcName} while it writes the result, which would corrupt it. Pass a separate buffer (new Float32Array(${dest.length}))`,
      );
    }
  }
}

/**
 * Checks options.out (a tensor of the result's shape [B, H, Lq, D]) and options.lse (a
 * Float32Array of B·H·Lq), when given: their types, shapes and lengths, and that neither
 * shares memory with q, k, v or the other.
 */
export function validateOutputs(out: unknown, lse: unknown, s: Shapes, q: Tensor, k: Tensor, v: Tensor): Outputs {
  const want = [s.B, s.H, s.Lq, s.D];
  const size = s.B * s.H * s.Lq * s.D;
  const inputs: Array<[string, Float32Array]> = [
    ["q.data", q.data],
    ["k.data", k.data],
    ["v.data", v.data],
  ];
  let outT: Tensor | null = null;
  if (out !== undefined) {
    const form = `a tensor { data: Float32Array(${size}), shape: ${describe(want)} } to write the result into`;
    if (out === null || typeof out !== "object") throw new AttentionArgumentError("options.out", out, form);
    const { data, shape } = out as Tensor;
    if (!(data instanceof Float32Array)) {
      throw new AttentionArgumentError(
        "options.out.data",
        data,
        `a Float32Array of ${size} entries (the result is float32: new Float32Array(${size}))`,
      );
    }
    if (!Array.isArray(shape) || shape.length !== 4 || shape.some((x, i) => x !== want[i])) {
      throw new AttentionArgumentError(
        "options.out.shape",
        shape,
        `${describe(want)}, the result's shape [B, H, Lq, D] (q.shape ${describe(q.shape)}, v.shape ${describe(v.shape)})`,
      );
    }
    if (data.length !== size) {
      throw new AttentionArgumentError(
        "options.out.data.length",
        data.length,
        `${size} = product of options.out.shape ${describe(want)}`,
      );
    }
    checkNoOverlap("options.out.data", data, inputs);
    outT = out as Tensor;
  }
  let lseA: Float32Array | null = null;
  if (lse !== undefined) {
    const rows = s.B * s.H * s.Lq;
    if (!(lse instanceof Float32Array)) {
      throw new AttentionArgumentError(
        "options.lse",
        lse,
        `a Float32Array of ${rows} entries [B, H, Lq] = ${describe(want.slice(0, 3))} to write the log-sum-exp into`,
      );
    }
    if (lse.length !== rows) {
      throw new AttentionArgumentError(
        "options.lse.length",
        lse.length,
        `${rows} = B·H·Lq, the log-sum-exp's shape ${describe(want.slice(0, 3))}`,
      );
    }
    checkNoOverlap("options.lse", lse, outT === null ? inputs : [...inputs, ["options.out.data", outT.data]]);
    lseA = lse;
  }
  return { out: outT, lse: lseA };
}
