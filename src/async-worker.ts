/**
 * The module worker attentionAsync() starts in a page (src/async.ts): receives a planned
 * problem (inputs and the plan per (batch, head), no functions), runs the synchronous kernel
 * here, off the page's main thread, and posts the result back (buffers transferred).
 */

import type { WorkerRequest } from "./async.js";
import { attention } from "./attention.js";
import { planFromRows } from "./layout/plan.js";
import type { Backend, Pattern, Plan } from "./types.js";

interface Scope {
  onmessage: ((e: { data: WorkerRequest }) => void) | null;
  postMessage(message: unknown, transfer?: Transferable[]): void;
}

/** The plan made on the calling thread, as a Plan value again (no planning here). */
function replay(r: WorkerRequest): Plan {
  const { B, H, Lq, Lk, D } = r.shapes;
  const source: Pattern = {
    name: r.name,
    headDependent: true,
    children: [],
    bind() {
      throw new Error("a plan replayed in the attentionAsync worker has no mask function");
    },
  };
  const dims = { queryLength: Lq, keyLength: Lk, heads: H, headDim: D, batch: B };
  return planFromRows({ pattern: source, dims, batch: B, data: null }, r.plans);
}

const scope = globalThis as unknown as Scope;
scope.onmessage = (e) => {
  const r = e.data;
  try {
    const { B, H, Hkv, Lq, Lk, D } = r.shapes;
    const result = attention(
      { data: r.q, shape: [B, H, Lq, D] },
      { data: r.k, shape: [B, Hkv, Lk, D] },
      { data: r.v, shape: [B, Hkv, Lk, D] },
      { plan: replay(r), scale: r.scale, backend: r.backend as Backend, threads: r.threads },
    );
    result.stats.bytes += r.extraBytes;
    scope.postMessage({ id: r.id, result }, [result.out.data.buffer as ArrayBuffer, result.lse.buffer as ArrayBuffer]);
  } catch (err) {
    const x = err as Error;
    scope.postMessage({ id: r.id, error: { name: x.name, message: x.message } });
  }
};
