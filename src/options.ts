/**
 * Option objects: unknown keys are errors, with a "did you mean" for near misses
 * (`globl` → `global`, `rigth` → `right`, `pattren` → `pattern`). Every pattern factory and
 * attention() / compile() / explain() check their options here.
 */
import { AttentionArgumentError } from "./errors.js";

/** Optimal string alignment distance (edits: insert, delete, substitute, swap neighbours). */
export function editDistance(a: string, b: string): number {
  const m = a.length;
  const n = b.length;
  const d: number[][] = Array.from({ length: m + 1 }, (_, i) => [i, ...new Array(n).fill(0)]);
  for (let j = 0; j <= n; j++) d[0][j] = j;
  for (let i = 1; i <= m; i++) {
    for (let j = 1; j <= n; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
      }
    }
  }
  return d[m][n];
}

/** The allowed key closest to `key`, when it is near enough to be a typo. */
export function didYouMean(key: string, allowed: readonly string[]): string | null {
  let best: string | null = null;
  let bestD = Number.POSITIVE_INFINITY;
  for (const a of allowed) {
    const dist = editDistance(key.toLowerCase(), a.toLowerCase());
    if (dist < bestD) {
      bestD = dist;
      best = a;
    }
  }
  const limit = Math.max(1, Math.floor(key.length / 3));
  return best !== null && bestD <= limit ? best : null;
}

/**
 * Throws unless `options` is a plain object whose keys are all in `allowed`; the error names
 * the unknown key, suggests the nearest allowed one and lists them all.
 */
export function checkKeys(where: string, options: unknown, allowed: readonly string[]): Record<string, unknown> {
  if (options === null || typeof options !== "object" || Array.isArray(options)) {
    throw new AttentionArgumentError(where, options, `an object with keys { ${allowed.join(", ")} }`);
  }
  for (const key of Object.keys(options)) {
    if (allowed.includes(key)) continue;
    const near = didYouMean(key, allowed);
    throw new AttentionArgumentError(
      `${where}: unknown option "${key}"`,
      (options as Record<string, unknown>)[key],
      `one of the known options (${allowed.join(", ")})${near === null ? "" : `: did you mean "${near}"?`}`,
    );
  }
  return options as Record<string, unknown>;
}
