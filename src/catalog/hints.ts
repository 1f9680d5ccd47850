/**
 * Notes the CLI's `show` and the explorer print beside a plan's picture when the numbers alone
 * would mislead a reader. No imports: the explorer's page bundle reads it too.
 */

/** Allowed fraction of all pairs above which a sparse pattern is "nearly dense" at this size. */
export const NEARLY_DENSE = 0.75;

/**
 * A note when a pattern that is sparse by design allows almost every pair at this size (its
 * window, blocks or stride reach across most of the sequence), e.g. `bigBird(blockSize=16)` at
 * n = 100 or `strided(stride=64)` at n = 1,024; undefined otherwise (and always for dense).
 * `allowed` and `total` count pairs (total = Lq·Lk of one head).
 */
export function nearlyDenseNote(name: string, allowed: number, total: number): string | undefined {
  if (!(total > 0) || name === "dense" || name.startsWith("dense(")) return undefined;
  const fraction = allowed / total;
  if (fraction < NEARLY_DENSE) return undefined;
  const percent = Math.round(fraction * 1000) / 10;
  return (
    `note: at this size ${percent} % of all pairs are allowed, so this pattern costs about what dense ` +
    "attention does: its window, blocks or stride reach across most of the sequence. " +
    "Its savings appear when n is many times that reach (try a larger n, or smaller blocks / window)."
  );
}
