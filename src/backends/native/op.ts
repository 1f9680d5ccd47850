/**
 * The native linear op: onnxruntime-node's MLAS GEMM (ort.ts), an optional peer dependency.
 * "auto" takes it only after the user opted in (useNativeLinear(true)); `backend: "native"`
 * forces it. It cannot run outside Node or without the package installed, and says so.
 */
import { withEpilogue } from "../js/activation.js";
import type { LinearProblem, LinearRun } from "../linear-problem.js";
import type { Op } from "../op.js";
import { linearNative, nativeReason } from "./ort.js";

let optedIn = false;

/** Lets "auto" take the native linear op where onnxruntime-node loads (default off). Returns the previous setting. */
export function useNativeLinear(on: boolean): boolean {
  const old = optedIn;
  optedIn = on;
  return old;
}

/** Whether useNativeLinear(true) is in force. */
export function nativeOptedIn(): boolean {
  return optedIn;
}

export const nativeLinear: Op<LinearProblem, LinearRun> = {
  name: "native",
  notSupportedReasons() {
    const why = nativeReason();
    return why === null ? [] : [why];
  },
  autoDeclines: () => (optedIn ? [] : ["not opted in (useNativeLinear(true) lets auto take onnxruntime-node's GEMM)"]),
  run(p) {
    withEpilogue(p, (y) => linearNative(p.x, p.rows, p.inF, p.W, p.outF, p.bias, y, p.threads)); // activation in TypeScript
    return { y: p.y, backend: "native", threads: p.threads };
  },
};
