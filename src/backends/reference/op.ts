/** The reference op: the float64 oracle (reference.ts); fixed masks only, O(Lk) memory per row. */
import { planTotals } from "../../layout/plan.js";
import type { AttentionResult } from "../../types.js";
import type { Op } from "../op.js";
import { dimsOf, type Problem, resultTensor, toStats } from "../problem.js";
import { referenceAttention } from "./reference.js";

export const referenceOp: Op<Problem, AttentionResult> = {
  name: "reference",
  notSupportedReasons(p) {
    return p.pattern.content === undefined
      ? []
      : [`the reference kernel takes a fixed mask; ${p.pattern.name} is content-dependent (use "js" or "wasm")`];
  },
  run(p) {
    const s = p.shapes;
    const bound = p.pattern.bind({ ...dimsOf(s), batch: s.B });
    const r = referenceAttention({
      q: p.q.data,
      k: p.k.data,
      v: p.v.data,
      ...s,
      scale: p.scale,
      mask: bound.mask,
      out: p.out?.data,
      lse: p.lse ?? undefined,
    });
    const totals = planTotals(p.plan);
    const stats = toStats(totals, s.D, 0, "reference", 1, 8 * s.Lk + 8 * s.D);
    stats.scoredPairs = s.B * s.H * s.Lq * s.Lk;
    stats.flops = 4 * s.D * stats.scoredPairs;
    return { out: resultTensor(p, r.out), lse: r.lse, stats };
  },
};
