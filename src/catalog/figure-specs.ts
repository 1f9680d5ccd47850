/**
 * The seed's Figures 1–4 as data: titles, captions, and each panel as a pattern expression
 * (parsePattern syntax) at its n. The report draws them (src/catalog/figures.ts), the
 * explorer offers the expressible panels as presets (src/catalog/presets.ts). No imports:
 * the explorer's page bundle reads this without pulling in the planner.
 */

export interface PanelSpec {
  title: string;
  /** The call shown under the title. */
  call: string;
  /** The same panel as a parseable expression, when it has one (BigBird's random/window ingredients are masks). */
  expr?: string;
}

export interface FigureSpecData {
  id: string;
  title: string;
  caption: string;
  n: number;
  panels: PanelSpec[];
  /** Label of the panels in the explorer's preset buttons. */
  presets: { label: string; expr: string; n: number }[];
}

const p = (title: string, expr: string): PanelSpec => ({ title, call: expr, expr });

/** Figure 3's BigBird: n = 64, blocks of 8, 2 random blocks, random table seed 3. */
export const FIG3 = { n: 64, blockSize: 8, randomBlocks: 2, seed: 3 };

const fig2: PanelSpec[] = [
  p("(a) vanilla (causal)", "causal()"),
  p("(b) strided", "strided(stride=8)"),
  p("(c) fixed", "fixed(block=8, summary=2)"),
];
const fig4: PanelSpec[] = [
  p("(a) vanilla (dense)", "dense()"),
  p("(b) sliding window", "slidingWindow(left=4, right=4)"),
  p("(c) dilated window", "dilatedWindow(left=4, right=4, dilation=2)"),
  p("(d) global + sliding", "longformer(window=4, global=[0, 1])"),
];
const short = (title: string): string => title.replace(/^(\([a-e]\)) (vanilla \()?([^)]*)\)?$/, "$1 $3");
const presetsOf = (panels: PanelSpec[], n: number) =>
  panels.filter((x) => x.expr !== undefined).map((x) => ({ label: short(x.title), expr: x.expr as string, n }));

const fig3Global = `globalTokens([${[...Array(8).keys(), ...Array.from({ length: 8 }, (_, i) => 56 + i)].join(", ")}])`;
const fig3Bird = `bigBird(blockSize=${FIG3.blockSize}, randomBlocks=${FIG3.randomBlocks}, seed=${FIG3.seed})`;

export const FIGURE_SPECS: FigureSpecData[] = [
  {
    id: "fig1-lsh",
    title: "Figure 1 — Reformer LSH",
    caption:
      "Example vectors hashed by angular LSH (bucket = argmax [xR, −xR]); the lsh pattern's plan sorts them by bucket, cuts the sorted sequence into chunks and lets each chunk attend itself and its predecessor. Work: hashes·n·2C pairs instead of n².",
    n: 24,
    panels: [],
    presets: [{ label: "LSH", expr: "lsh(buckets=4, hashes=1, chunkLength=4, seed=0)", n: 24 }],
  },
  {
    id: "fig2-sparse-transformer",
    title: "Figure 2 — Sparse Transformer, n = 64",
    caption:
      "Vanilla causal attention scores n²/2 pairs; the strided and fixed patterns keep O(√n) keys per query. Colours are the plan's parts: the local band A(1) and the strided / summary set A(2) planned separately (strided keys become contiguous after a transpose; summary columns are gathered).",
    n: 64,
    panels: fig2,
    presets: presetsOf(fig2, 64),
  },
  {
    id: "fig3-bigbird",
    title: "Figure 3 — BigBird, n = 64, blocks of 8",
    caption:
      "BigBird combines random blocks (a), a 3-block window (b) and global first/last blocks (c); (d) is the bigBird pattern with the same random table, (e) the same allowed set built with union(), coloured by the disjoint plan parts it runs as.",
    n: FIG3.n,
    panels: [], // built in figures.ts from one random table (masks, not expressions)
    presets: [
      { label: "(c) global", expr: fig3Global, n: FIG3.n },
      { label: "(d) BigBird", expr: fig3Bird, n: FIG3.n },
    ],
  },
  {
    id: "fig4-longformer",
    title: "Figure 4 — Longformer, n = 64",
    caption:
      "Full attention vs a sliding window (w = 4 each side), a dilated window (dilation 2: same cost, twice the reach) and a window plus global tokens (tokens 0 and 1 see and are seen by all).",
    n: 64,
    panels: fig4,
    presets: presetsOf(fig4, 64),
  },
];
