import { describe, expect, it } from "vitest";
import { seedFigures } from "../catalog/figures.js";
import { compile, patterns } from "../index.js";
import { tileAllows } from "./mask.js";
import { rasterize } from "./raster.js";
import { matrixSvg, wrapText } from "./svg.js";

describe("text in pictures is wrapped, never cut", () => {
  it("wrapText keeps every word, within the width where words allow", () => {
    const text = "2 random key blocks per query block, drawn per head from a seeded table";
    const lines = wrapText(text, 20);
    expect(lines.join(" ")).toBe(text);
    for (const l of lines) expect(l.length).toBeLessThanOrEqual(20);
  });

  it("a long title and subtitle appear whole in the SVG; no ellipsis anywhere in the seed figures", () => {
    const parts = compile(patterns.causal(), { queryLength: 16, headDim: 8 }).heads[0];
    const title = "a deliberately long title that is wider than a small matrix";
    const subtitle = "union(slidingWindow(left=4, right=4), globalTokens([0, 1, 2, 3, 4, 5, 6, 7]))";
    const svg = matrixSvg(parts, 16, 16, { size: 64, title, subtitle });
    for (const word of `${title} ${subtitle}`.split(" ")) expect(svg).toContain(word);
    for (const f of seedFigures()) {
      expect(f.svg, f.id).not.toContain("…");
      expect(f.svg, f.id).not.toMatch(/>grid</);
    }
  });
});

describe("zoomed rasters", () => {
  it.each([
    ["longformer", patterns.longformer({ window: 5, global: [0, 17] })],
    ["strided", patterns.strided({ stride: 6 })],
    ["bigBird", patterns.bigBird({ blockSize: 8, randomBlocks: 2, seed: 2 })],
  ])("%s: a view at one pair per cell equals the pattern's mask there", (_name, p) => {
    const n = 70;
    const parts = compile(p, { queryLength: n, headDim: 8 }).heads[0];
    const mask = p.bind({ queryLength: n, keyLength: n, heads: 1, headDim: 8 }).mask;
    const view = { q0: 13, q1: 45, k0: 3, k1: 35 };
    const r = rasterize(parts, n, n, 32, 32, view);
    expect([r.rows, r.cols, r.blockRows, r.blockCols]).toEqual([32, 32, 1, 1]);
    for (let gr = 0; gr < 32; gr++) {
      for (let gc = 0; gc < 32; gc++) {
        let total = 0;
        for (let q = 0; q < r.parts; q++) total += r.counts[q * 32 * 32 + gr * 32 + gc]; // counts: [parts, rows, cols]
        expect(total > 0, `(${view.q0 + gr}, ${view.k0 + gc})`).toBe(mask(view.q0 + gr, view.k0 + gc, 0));
      }
    }
  });

  it("tileAllows reads full tiles as all-allowed and partial tiles from the plan's mask", () => {
    const parts = compile(patterns.causal(), { queryLength: 40, headDim: 8 }).heads[0];
    const p = parts[0];
    let partial = 0;
    for (let qt = 0; qt + 1 < p.qTiles.length; qt++) {
      for (let e = p.rowPtr[qt]; e < p.rowPtr[qt + 1]; e++) {
        const kt = p.colIdx[e];
        if (p.maskOff[e] >= 0) partial++;
        for (let r = 0; r < p.qTiles[qt + 1] - p.qTiles[qt]; r++) {
          for (let c = 0; c < p.kTiles[kt + 1] - p.kTiles[kt]; c++) {
            expect(tileAllows(p, e, r, c)).toBe(p.kTiles[kt] + c <= p.qTiles[qt] + r);
          }
        }
      }
    }
    expect(partial).toBeGreaterThan(0);
  });
});
