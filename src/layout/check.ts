/**
 * Binding with verification. `bindPattern(p, dims, { check: true })` wraps the bound pattern's
 * classifier so that every tile it classifies is compared with its mask: a FULL tile with a
 * disallowed pair, or an EMPTY tile with an allowed one, is an error naming the tile.
 * Composite patterns bind their members through this function, so every classifier in the
 * tree is checked. Rectangles above CHECK_AREA pairs are not scanned (bounding rectangles of
 * gathered tiles can span the whole sequence); the test suite checks seed classifiers on
 * small tiles directly.
 */
import { AttentionArgumentError } from "../errors.js";
import { type BindOptions, type BoundPattern, type Dims, EMPTY, FULL, type Pattern } from "../types.js";

export const CHECK_AREA = 1 << 14;

export function bindPattern(pattern: Pattern, dims: Dims, options: BindOptions = {}): BoundPattern {
  const bound = pattern.bind(dims, options);
  if (options.check !== true) return bound;
  const { mask, classify } = bound;
  return {
    ...bound,
    classify: (q0, q1, k0, k1, h, b) => {
      const kind = classify(q0, q1, k0, k1, h, b);
      if ((kind === FULL || kind === EMPTY) && (q1 - q0) * (k1 - k0) <= CHECK_AREA) {
        for (let q = q0; q < q1; q++) {
          for (let k = k0; k < k1; k++) {
            const ok = mask(q, k, h, b);
            if (ok !== (kind === FULL)) {
              throw new AttentionArgumentError(
                `${pattern.name}: classifier on tile q ∈ [${q0}, ${q1}), k ∈ [${k0}, ${k1}), h = ${h}, b = ${b}`,
                kind === FULL ? "FULL (2)" : "EMPTY (0)",
                `an answer its mask agrees with: the mask ${ok ? "allows" : "forbids"} (q=${q}, k=${k}); fix the classifier (tileKind) or return PARTIAL (1)`,
              );
            }
          }
        }
      }
      return kind;
    },
  };
}
