/**
 * The seed's Figures 1–4 (specs in figure-specs.ts), drawn from the real plans of our patterns:
 *   1  Reformer LSH: hash → sort → chunk → scored pairs (src/viz/lsh.ts)
 *   2  Sparse Transformer: vanilla (causal) vs strided vs fixed
 *   3  BigBird: random vs window vs global vs BigBird (and the same set as a union, by part)
 *   4  Longformer: vanilla vs sliding vs dilated vs global + sliding
 */

import type { Pattern } from "../index.js";
import { compile, patterns } from "../index.js";
import { Rng } from "../util/rng.js";
import { lshExample, lshFigureSvg } from "../viz/lsh.js";
import { figureSvg, matrixFragment } from "../viz/svg.js";
import { FIG3, FIGURE_SPECS } from "./figure-specs.js";
import { parsePattern } from "./pattern-expr.js";

export interface Panel {
  title: string;
  /** The API call, shown under the title. */
  call: string;
  pattern: Pattern;
}

export interface FigureSpec {
  id: string;
  title: string;
  caption: string;
  n: number;
  panels: Panel[];
}

export interface Figure {
  id: string;
  title: string;
  caption: string;
  svg: string;
}

/** Side of each matrix panel in pixels: whole pixels per cell. */
function panelSize(n: number): number {
  return n * Math.max(2, Math.floor(240 / n));
}

export function patternFigure(spec: FigureSpec): Figure {
  const compiled = spec.panels.map((p) => compile(p.pattern, { queryLength: spec.n, headDim: 8 }));
  const draw = (headerHeight: number) =>
    spec.panels.map((p, i) => {
      const c = compiled[i];
      const pct = ((100 * c.allowedPairs) / (spec.n * spec.n)).toFixed(1);
      return matrixFragment(c.heads[0], spec.n, spec.n, {
        size: panelSize(spec.n),
        title: p.title,
        subtitle: `${p.call}\n${c.allowedPairs} allowed (${pct}%), ${c.scoredPairs} scored`,
        headerHeight,
      });
    });
  // second pass: every panel's matrix starts at the tallest panel's header, so they line up
  const fragments = draw(Math.max(...draw(0).map((f) => f.matrixTop ?? 0)));
  const over = spec.panels
    .map((p, i) => ({ title: p.title, scored: compiled[i].scoredPairs }))
    .filter((x) => x.scored > spec.n * spec.n);
  const note = over
    .map(
      (x) =>
        ` ${x.title} scores ${x.scored} entries, more than dense's ${spec.n * spec.n}: a union is planned as disjoint parts (each member minus the ones before it), each scanned on its own tile grid, so partial tiles of several parts overlap; bigBird() plans the same set in one pass.`,
    )
    .join("");
  return {
    id: spec.id,
    title: spec.title,
    caption: spec.caption + note,
    svg: figureSvg(fragments, { title: spec.title }),
  };
}

/** BigBird's ingredients on a random table drawn here, so the panels share it. */
export function bigBirdPanels(n: number, b: number, r: number, seed: number): Panel[] {
  const nb = Math.ceil(n / b);
  const rng = new Rng(seed);
  const table: number[][] = [];
  for (let qb = 1; qb + 1 < nb; qb++) {
    const cand: number[] = [];
    for (let x = 1; x + 1 < nb; x++) if (Math.abs(x - qb) > 1) cand.push(x);
    const row: number[] = [];
    for (let i = 0; i < r && cand.length > 0; i++) row.push(cand.splice(rng.int(cand.length), 1)[0]);
    table.push(row);
  }
  const blk = (x: number) => Math.floor(x / b);
  const randomSet = (q: number, k: number) => blk(q) >= 1 && blk(q) <= nb - 2 && table[blk(q) - 1].includes(blk(k));
  const windowSet = (q: number, k: number) => Math.abs(blk(q) - blk(k)) <= 1;
  // block-sparse masks: planned on the block grid, a tile inside one block pair is full or empty
  const byBlock =
    (set: (q: number, k: number) => boolean) =>
    (q0: number, q1: number, k0: number, k1: number): 0 | 1 | 2 =>
      blk(q0) === blk(q1 - 1) && blk(k0) === blk(k1 - 1) ? (set(q0, k0) ? 2 : 0) : 1;
  const random = patterns.mask(randomSet, {
    name: `random (${r} blocks)`,
    headDependent: false,
    tile: b,
    tileKind: byBlock(randomSet),
  });
  const window = patterns.mask(windowSet, {
    name: "window (3 blocks)",
    headDependent: false,
    tile: b,
    tileKind: byBlock(windowSet),
  });
  const globalIdx = Array.from({ length: n }, (_, i) => i).filter((i) => blk(i) === 0 || blk(i) === nb - 1);
  const global = patterns.globalTokens(globalIdx);
  const bird = patterns.bigBird({ blockSize: b, randomTable: [table] });
  return [
    { title: "(a) random", call: `${r} random key blocks per query block`, pattern: random },
    { title: "(b) window", call: "key blocks qb−1, qb, qb+1", pattern: window },
    { title: "(c) global", call: "first and last block", pattern: global },
    { title: "(d) BigBird", call: `bigBird(blockSize=${b}, randomTable)`, pattern: bird },
    {
      title: "(e) = union(c, b, a), by part",
      call: "union(global, window, random)",
      pattern: patterns.union(global, window, random),
    },
  ];
}

/** The seed's four figures, drawn from the real plans of the catalog's figure specs (src/catalog/figure-specs.ts). */
export function seedFigures(): Figure[] {
  return FIGURE_SPECS.map((f): Figure => {
    if (f.id === "fig1-lsh") return { id: f.id, title: f.title, caption: f.caption, svg: lshFigureSvg(lshExample()) };
    const panels =
      f.id === "fig3-bigbird"
        ? bigBirdPanels(FIG3.n, FIG3.blockSize, FIG3.randomBlocks, FIG3.seed)
        : f.panels.map((x) => ({ title: x.title, call: x.call, pattern: parsePattern(x.expr ?? x.call) }));
    return patternFigure({ id: f.id, title: f.title, caption: f.caption, n: f.n, panels });
  });
}
