/** The js ops: the TypeScript tiled attention kernel (tiled.ts) and GEMM (gemm-js.ts); they always run. */
import { planTotals } from "../../layout/plan.js";
import type { AttentionResult } from "../../types.js";
import type { HeadsProblem, HeadsRun } from "../heads-problem.js";
import type { LinearProblem, LinearRun } from "../linear-problem.js";
import { cleanInputs, finishAll } from "../nonfinite.js";
import type { NormProblem, NormRun } from "../norm-problem.js";
import type { Op } from "../op.js";
import { type Problem, resultTensor, toStats, transformKeys } from "../problem.js";
import type { RopeProblem, RopeRun } from "../rope-problem.js";
import { withEpilogue } from "./activation.js";
import { linearJs } from "./gemm-js.js";
import { regroupHeadsJs } from "./heads.js";
import { layerNormJs } from "./norm.js";
import { splitQkvRopeJs } from "./rope.js";
import { type HeadTask, runHead, TiledScratch } from "./tiled.js";

export const jsAttention: Op<Problem, AttentionResult> = {
  name: "js",
  notSupportedReasons: () => [],
  run(p) {
    const s = p.shapes;
    const c = cleanInputs(p.q.data, p.k.data, p.v.data, s); // the NaN rule: see src/backends/nonfinite.ts
    const kData = transformKeys(p.pattern, c.k, s);
    // the kernel merges into out / lse: zeroed and -Infinity first (a caller's buffer too,
    // whatever it held; rows with no allowed key keep these values)
    const out = p.out === null ? new Float32Array(s.B * s.H * s.Lq * s.D) : p.out.data.fill(0);
    const lse = (p.lse ?? new Float32Array(s.B * s.H * s.Lq)).fill(Number.NEGATIVE_INFINITY);
    const scratch = new TiledScratch();
    const group = s.H / s.Hkv;
    const task: HeadTask = {
      q: c.q,
      k: kData,
      v: c.v,
      qBase: 0,
      kBase: 0,
      vBase: 0,
      lseBase: 0,
      D: s.D,
      scale: p.scale,
      out,
      lse,
    };
    for (let b = 0; b < s.B; b++) {
      for (let h = 0; h < s.H; h++) {
        const kvRow = b * s.Hkv + Math.floor(h / group);
        task.qBase = (b * s.H + h) * s.Lq * s.D; // q, out: [B, H, Lq, D]
        task.kBase = kvRow * s.Lk * s.D; // k, v: [B, Hkv, Lk, D]
        task.vBase = task.kBase;
        task.lseBase = (b * s.H + h) * s.Lq; // lse: [B, H, Lq]
        runHead(task, p.plan.rows[b * s.H + h], scratch);
      }
    }
    finishAll({ ...s, q: c.q, k: kData, v: c.v, scale: p.scale, out, lse }, p.plan.rows, c.bad); // the NaN rule
    const totals = planTotals(p.plan);
    const extra = p.pattern.content?.transformKeys ? kData.byteLength : 0;
    return { out: resultTensor(p, out), lse, stats: toStats(totals, s.D, extra, "js", 1) };
  },
};

export const jsLinear: Op<LinearProblem, LinearRun> = {
  name: "js",
  notSupportedReasons: () => [],
  run(p) {
    withEpilogue(p, (y) => linearJs(p.x, p.rows, p.inF, p.W, p.outF, p.bias, y));
    return { y: p.y, backend: "js", threads: 1 };
  },
};

export const jsLayerNorm: Op<NormProblem, NormRun> = {
  name: "js",
  notSupportedReasons: () => [],
  run(p) {
    layerNormJs(p.x, p.add, p.dst, p.rows, p.n, p.gamma, p.beta, p.eps);
    return { backend: "js", threads: 1 };
  },
};

export const jsSplitRope: Op<RopeProblem, RopeRun> = {
  name: "js",
  notSupportedReasons: () => [],
  run(p) {
    splitQkvRopeJs(p.qkv, p.q, p.k, p.v, p.B, p.L, p.H, p.D, p.cos, p.sin);
    return { backend: "js", threads: 1 };
  },
};

export const jsRegroupHeads: Op<HeadsProblem, HeadsRun> = {
  name: "js",
  notSupportedReasons: () => [],
  run(p) {
    regroupHeadsJs(p);
    return { backend: "js", threads: 1 };
  },
};
