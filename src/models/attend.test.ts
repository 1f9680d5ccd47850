/**
 * bigBirdLayer's double counting against a float64 multiset reference: random q, k, v and a
 * random table that often names blocks already in the row (window, globals, or the same block
 * twice); every row must equal HF's one-softmax-over-the-concatenated-list, on js and wasm.
 */
import { describe, expect, it } from "vitest";
import { Rng } from "../util/rng.js";
import { AttentionPlans, bigBirdExtras, bigBirdLayer } from "./attend.js";

/** HF's key block list of query block qb (1 ..= nb-2), with the random blocks of head h. */
function hfList(qb: number, nb: number, rand: number[]): number[] {
  const base =
    qb === 1 ? [0, 1, 2, nb - 1] : qb === nb - 2 ? [0, nb - 3, nb - 2, nb - 1] : [0, qb - 1, qb, qb + 1, nb - 1];
  return [...base, ...rand];
}

describe("bigBirdLayer: HF's multiset softmax", () => {
  for (const backend of ["js", "wasm"] as const) {
    it(`${backend}: random tables with repeats match a float64 multiset reference`, () => {
      const rng = new Rng(7);
      const b = 4;
      const nb = 12;
      const L = b * nb;
      const H = 3;
      const D = 8;
      const R = 3;
      const HD = H * D;
      const mk = () => Float32Array.from({ length: L * HD }, () => 2 * rng.next() - 1); // [L, H·D]
      const q = mk();
      const k = mk();
      const v = mk();
      const table = Int32Array.from({ length: H * (nb - 2) * R }, () => rng.int(nb)); // [H, nb-2, R]
      expect(bigBirdExtras(table, H, nb, R).length).toBeGreaterThan(10); // repeats do occur
      const out = new Float32Array(L * HD);
      const valid = new Uint8Array(L).fill(1);
      const plans = new AttentionPlans(1, L, H, D, valid, { backend, threads: 1 });
      bigBirdLayer(
        plans.heads("q", q),
        plans.heads("k", k),
        plans.heads("v", v),
        out,
        b,
        R,
        { table, key: "t" },
        plans,
      );
      expect(plans.planned).toBe(1 + new Set(bigBirdExtras(table, H, nb, R).map((e) => e.extra)).size);
      let worst = 0;
      for (let h = 0; h < H; h++) {
        for (let i = 0; i < L; i++) {
          const qb = Math.floor(i / b);
          const rand = Array.from(table.subarray((h * (nb - 2) + qb - 1) * R, (h * (nb - 2) + qb) * R));
          const blocks = qb === 0 || qb === nb - 1 ? Array.from({ length: nb }, (_, x) => x) : hfList(qb, nb, rand);
          const s: number[] = [];
          const keys: number[] = [];
          for (const kb of blocks) {
            for (let j = kb * b; j < (kb + 1) * b; j++) {
              let dot = 0;
              for (let d = 0; d < D; d++) dot += q[i * HD + h * D + d] * k[j * HD + h * D + d]; // [L, H·D]
              s.push(dot / Math.sqrt(D));
              keys.push(j);
            }
          }
          const m = Math.max(...s);
          let l = 0;
          const acc = new Float64Array(D);
          s.forEach((x, t) => {
            const p = Math.exp(x - m);
            l += p;
            for (let d = 0; d < D; d++) acc[d] += p * v[keys[t] * HD + h * D + d];
          });
          for (let d = 0; d < D; d++) worst = Math.max(worst, Math.abs(acc[d] / l - out[i * HD + h * D + d]));
        }
      }
      expect(worst).toBeLessThan(2e-6);
    });
  }
});
