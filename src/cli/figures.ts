/**
 * The seed's Figures 1–4, drawn from the real plans of our patterns:
 *   1  Reformer LSH: hash → sort → chunk → scored pairs (src/viz/lsh.ts)
 *   2  Sparse Transformer: vanilla (causal) vs strided vs fixed
 *   3  BigBird: random vs window vs global vs BigBird (and the same set as a union, by part)
 *   4  Longformer: vanilla vs sliding vs dilated vs global + sliding
 */

import type { Pattern } from "../index.js";
import { compile, patterns, Rng } from "../index.js";
import { lshExample, lshFigureSvg } from "../viz/lsh.js";
import { figureSvg, matrixFragment } from "../viz/svg.js";

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

export function seedFigures(): Figure[] {
  const n2 = 64;
  const n4 = 64;
  const fig1 = lshExample();
  return [
    {
      id: "fig1-lsh",
      title: "Figure 1 — Reformer LSH",
      caption:
        "Example vectors hashed by angular LSH (bucket = argmax [xR, −xR]); the lsh pattern's plan sorts them by bucket, cuts the sorted sequence into chunks and lets each chunk attend itself and its predecessor. Work: hashes·n·2C pairs instead of n².",
      svg: lshFigureSvg(fig1),
    },
    patternFigure({
      id: "fig2-sparse-transformer",
      title: `Figure 2 — Sparse Transformer, n = ${n2}`,
      caption:
        "Vanilla causal attention scores n²/2 pairs; the strided and fixed patterns keep O(√n) keys per query. Colours are the plan's parts: the local band A(1) and the strided / summary set A(2) planned separately (strided keys become contiguous after a transpose; summary columns are gathered).",
      n: n2,
      panels: [
        { title: "(a) vanilla (causal)", call: "causal()", pattern: patterns.causal() },
        { title: "(b) strided", call: "strided(stride=8)", pattern: patterns.strided({ stride: 8 }) },
        { title: "(c) fixed", call: "fixed(block=8, summary=2)", pattern: patterns.fixed({ block: 8, summary: 2 }) },
      ],
    }),
    patternFigure({
      id: "fig3-bigbird",
      title: "Figure 3 — BigBird, n = 64, blocks of 8",
      caption:
        "BigBird combines random blocks (a), a 3-block window (b) and global first/last blocks (c); (d) is the bigBird pattern with the same random table, (e) the same allowed set built with union(), coloured by the disjoint plan parts it runs as.",
      n: 64,
      panels: bigBirdPanels(64, 8, 2, 3),
    }),
    patternFigure({
      id: "fig4-longformer",
      title: `Figure 4 — Longformer, n = ${n4}`,
      caption:
        "Full attention vs a sliding window (w = 4 each side), a dilated window (dilation 2: same cost, twice the reach) and a window plus global tokens (tokens 0 and 1 see and are seen by all).",
      n: n4,
      panels: [
        { title: "(a) vanilla (dense)", call: "dense()", pattern: patterns.dense() },
        {
          title: "(b) sliding window",
          call: "slidingWindow(left=4, right=4)",
          pattern: patterns.slidingWindow({ left: 4, right: 4 }),
        },
        {
          title: "(c) dilated window",
          call: "dilatedWindow(left=4, right=4, dilation=2)",
          pattern: patterns.dilatedWindow({ left: 4, right: 4, dilation: 2 }),
        },
        {
          title: "(d) global + sliding",
          call: "longformer(window=4, global=[0, 1])",
          pattern: patterns.longformer({ window: 4, global: [0, 1] }),
        },
      ],
    }),
  ];
}
