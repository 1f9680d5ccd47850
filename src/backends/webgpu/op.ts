/// <reference types="@webgpu/types" />
/**
 * The webgpu op: the WGSL kernel (run.ts) on the GPU attentionAsync() found for the call
 * (Problem.gpu: a GpuContext, or the reason there is none). Asynchronous, so attention()
 * never takes it. "auto" declines a software adapter (SwiftShader is slower than wasm); the
 * size threshold is applied before any GPU is looked up (src/async.ts).
 */
import type { AttentionResult } from "../../types.js";
import { cleanInputs, finishAll } from "../nonfinite.js";
import type { Op } from "../op.js";
import { type Problem, resultTensor, toStats, transformKeys } from "../problem.js";
import type { GpuContext } from "./device.js";
import { limitReasons, runWebGPU } from "./run.js";

export const webgpuAttention: Op<Problem, AttentionResult> = {
  name: "webgpu",
  async: true,
  notSupportedReasons(p) {
    if (p.gpu === undefined) {
      return [
        'WebGPU runs asynchronously: call attentionAsync(q, k, v, { backend: "webgpu" }) (a Promise) instead of attention()',
      ];
    }
    if (typeof p.gpu === "string") return [p.gpu];
    return limitReasons(p.gpu.device.limits, p.shapes);
  },
  autoDeclines(p) {
    const ctx = p.gpu;
    return typeof ctx === "object" && ctx.software ? [`the adapter (${ctx.adapterName}) is a software rasteriser`] : [];
  },
  run: (p) => runGpu(p.gpu as GpuContext, p),
};

async function runGpu(ctx: GpuContext, p: Problem): Promise<AttentionResult> {
  const s = p.shapes;
  // the NaN rule as on the other backends (src/backends/nonfinite.ts): the GPU runs on cleaned
  // inputs, then rows touching a non-finite value become NaN
  const c = cleanInputs(p.q.data, p.k.data, p.v.data, s);
  const k = transformKeys(p.pattern, c.k, s);
  const r = await runWebGPU(ctx, {
    shapes: s,
    q: c.q,
    k,
    v: c.v,
    plan: p.plan,
    scale: p.scale,
    out: p.out?.data,
    lse: p.lse ?? undefined,
  });
  if (c.bad !== null) {
    finishAll({ ...s, q: c.q, k, v: c.v, scale: p.scale, out: r.out, lse: r.lse }, p.plan.rows, c.bad);
  }

  const extra = p.pattern.content?.transformKeys ? k.byteLength : 0;
  const stats = toStats(r.totals, s.D, extra, "webgpu", 1, r.gpuBytes);
  stats.adapter = ctx.adapterName;
  return { out: resultTensor(p, r.out), lse: r.lse, stats };
}
