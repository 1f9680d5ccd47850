/** Argument checks the dispatcher's entry points share (dispatch.ts, dispatch-rows.ts). */
import { AttentionArgumentError } from "../errors.js";
import { residentOverlap } from "./wasm/resident.js";

/** a is a Float32Array of `length` elements, else an error naming `name` and the expected form. */
export function checkArray(name: string, a: unknown, length: number, form: string): void {
  if (!(a instanceof Float32Array) || a.length !== length) {
    throw new AttentionArgumentError(name, a, `a Float32Array of ${form} = ${length} elements`);
  }
}

/** Whether a and b share bytes (views of one buffer, or resident views of the wasm memory). */
export function overlaps(a: Float32Array, b: Float32Array): boolean {
  if (a.buffer !== b.buffer) return residentOverlap(a, b);
  return a.byteOffset < b.byteOffset + b.byteLength && b.byteOffset < a.byteOffset + a.byteLength;
}
