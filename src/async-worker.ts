/**
 * The module worker attentionAsync() starts in a page (src/async.ts): receives a planned
 * problem (inputs and the plan per (batch, head), no functions), runs the synchronous kernel
 * here, off the page's main thread, and posts the result back (buffers transferred).
 */

import type { WorkerRequest } from "./async.js";
import { attention } from "./attention.js";
import type { Backend, Pattern } from "./types.js";

interface Scope {
  onmessage: ((e: { data: WorkerRequest }) => void) | null;
  postMessage(message: unknown, transfer?: Transferable[]): void;
}

/** A pattern that replays the plans made on the calling thread (a content planner returning them). */
function replay(r: WorkerRequest): Pattern {
  const H = r.shapes.H;
  return {
    name: r.name,
    headDependent: true,
    children: [],
    bind() {
      throw new Error("a replayed plan has no mask");
    },
    content: { plan: ({ batch, head }) => r.plans[batch * H + head] },
  };
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
      { pattern: replay(r), scale: r.scale, backend: r.backend as Backend, threads: r.threads },
    );
    result.stats.bytes += r.extraBytes;
    scope.postMessage({ id: r.id, result }, [result.out.data.buffer as ArrayBuffer, result.lse.buffer as ArrayBuffer]);
  } catch (err) {
    const x = err as Error;
    scope.postMessage({ id: r.id, error: { name: x.name, message: x.message } });
  }
};
