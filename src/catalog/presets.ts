/** The seed's figures as explorer presets: per figure id, [label, pattern expression, n] for each expressible panel. */
import { FIGURE_SPECS } from "./figure-specs.js";

export const PRESETS: Record<string, [string, string, number][]> = Object.fromEntries(
  FIGURE_SPECS.map((f) => [f.id, f.presets.map((x) => [x.label, x.expr, x.n] as [string, string, number])]),
);
