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
