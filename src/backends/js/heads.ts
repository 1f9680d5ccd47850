/** regroupHeads() in plain loops (see heads-problem.ts); the wasm op gives the same bits. */
import type { HeadsProblem } from "../heads-problem.js";

export function regroupHeadsJs(p: HeadsProblem): void {
  const { m, t, B, L, H, D, toHeads, valid } = p;
  const HD = H * D;
  for (let b = 0; b < B; b++) {
    for (let i = 0; i < L; i++) {
      const r = b * L + i;
      const row = r * HD; // m: [B·L, H·D]
      if (!toHeads && valid !== null && valid[r] === 0) {
        m.fill(0, row, row + HD);
        continue;
      }
      for (let h = 0; h < H; h++) {
        const s = ((b * H + h) * L + i) * D; // t: [B, H, L, D]
        const c = row + h * D;
        if (toHeads) for (let d = 0; d < D; d++) t[s + d] = m[c + d];
        else for (let d = 0; d < D; d++) m[c + d] = t[s + d];
      }
    }
  }
}
