import { XMLValidator } from "fast-xml-parser";
import { PNG } from "pngjs";
import { describe, expect, it } from "vitest";
import { compile, type Pattern, type PlanPart, patterns } from "../index.js";
import { tileAllows } from "../layout/part.js";
import { scalingSpec, vegaLiteToSvg } from "./chart.js";
import { checkSortedByBucket, lshExample, lshFigureSvg } from "./lsh.js";
import { svgToPng } from "./png.js";
import { rasterize } from "./raster.js";
import { EMPTY_COLOR, matrixLayout, matrixSvg, PALETTE } from "./svg.js";
import { textGrid } from "./text.js";

/** The part holding each pair, decoded straight from the plan arrays (no shortcuts): [Lq, Lk], -1 = none. */
function owners(parts: PlanPart[], Lq: number, Lk: number): Int16Array {
  const own = new Int16Array(Lq * Lk).fill(-1);
  parts.forEach((p, pi) => {
    for (let qt = 0; qt + 1 < p.qTiles.length; qt++) {
      for (let e = p.rowPtr[qt]; e < p.rowPtr[qt + 1]; e++) {
        const kt = p.colIdx[e];
        const cols = p.kTiles[kt + 1] - p.kTiles[kt];
        for (let si = p.qTiles[qt]; si < p.qTiles[qt + 1]; si++) {
          for (let sj = p.kTiles[kt]; sj < p.kTiles[kt + 1]; sj++) {
            const off = p.maskOff[e];
            if (off >= 0 && !tileAllows(p, e, si - p.qTiles[qt], sj - p.kTiles[kt], cols)) continue;
            const qi = p.qIndex ? p.qIndex[si] : si;
            const ki = p.kIndex ? p.kIndex[sj] : sj;
            if (own[qi * Lk + ki] < 0) own[qi * Lk + ki] = pi;
          }
        }
      }
    }
  });
  return own;
}

function hex(png: PNG, x: number, y: number): string {
  const i = (y * png.width + x) * 4; // png: [height, width, RGBA]
  return `#${[0, 1, 2].map((c) => png.data[i + c].toString(16).padStart(2, "0")).join("")}`;
}

const N = 32;
const cases: [string, Pattern][] = [
  ["dense", patterns.dense()],
  ["causal", patterns.causal()],
  ["slidingWindow", patterns.slidingWindow({ left: 3, right: 1 })],
  ["dilatedWindow", patterns.dilatedWindow({ left: 2, right: 2, dilation: 3 })],
  ["longformer", patterns.longformer({ window: 2, global: [0, 17] })],
  ["strided", patterns.strided({ stride: 5 })],
  ["fixed", patterns.fixed({ block: 6, summary: 2 })],
  ["bigBird", patterns.bigBird({ blockSize: 4, randomBlocks: 2, seed: 3 })],
  [
    "union with a user mask",
    patterns.union(
      patterns.causal(),
      patterns.mask((q, k) => (q + k) % 7 === 0),
    ),
  ],
];

describe("pictures from the real plans", () => {
  it.each(cases)(
    "PNG of %s at n = 32: every cell's colour is its part's, or empty, exactly as the dense mask says",
    async (_name, p) => {
      const dims = { queryLength: N, keyLength: N, heads: 1, headDim: 8 };
      const parts = compile(p, { queryLength: N, headDim: 8 }).heads[0];
      const mask = p.bind(dims).mask;
      const own = owners(parts, N, N);
      const png = PNG.sync.read(Buffer.from(await svgToPng(matrixSvg(parts, N, N, { size: 256 }))));
      const { x0, y0, cell } = matrixLayout(N, N, 256);
      expect(cell).toBe(8);
      for (let qi = 0; qi < N; qi++) {
        for (let ki = 0; ki < N; ki++) {
          const c = hex(png, x0 + ki * cell + cell / 2, y0 + qi * cell + cell / 2);
          if (mask(qi, ki, 0)) {
            expect(own[qi * N + ki], `pair (${qi}, ${ki}) allowed but in no part`).toBeGreaterThanOrEqual(0);
            expect(c, `pair (${qi}, ${ki})`).toBe(PALETTE[own[qi * N + ki]]);
          } else {
            expect(c, `pair (${qi}, ${ki}) not allowed`).toBe(EMPTY_COLOR);
          }
        }
      }
    },
  );

  it.each(cases)("SVG of %s is valid XML", (_name, p) => {
    const c = compile(p, { queryLength: 50, headDim: 8 });
    expect(XMLValidator.validate(matrixSvg(c.heads[0], 50, 50, { title: `${p.name} <&>` }))).toBe(true);
  });

  it.each(cases)("text grid of %s at n = 24 (one char per pair) matches the dense mask", (_name, p) => {
    const n = 24;
    const parts = compile(p, { queryLength: n, headDim: 4 }).heads[0];
    const mask = p.bind({ queryLength: n, keyLength: n, heads: 1, headDim: 4 }).mask;
    const lines = textGrid(parts, n, n).split("\n");
    for (let qi = 0; qi < n; qi++) {
      const row = [...lines[qi]];
      expect(row.length).toBe(n);
      for (let ki = 0; ki < n; ki++) expect(row[ki] === "█", `(${qi}, ${ki})`).toBe(mask(qi, ki, 0));
    }
  });

  it("text grid in blocks: █ only for blocks with every pair allowed, blank only for blocks with none", () => {
    const n = 200;
    const p = patterns.longformer({ window: 5, global: [3] });
    const parts = compile(p, { queryLength: n, headDim: 4 }).heads[0];
    const mask = p.bind({ queryLength: n, keyLength: n, heads: 1, headDim: 4 }).mask;
    const lines = textGrid(parts, n, n, { maxWidth: 40, maxHeight: 40 }).split("\n");
    const b = 5; // 200 / 40
    for (let r = 0; r < 40; r++) {
      const row = [...lines[r]];
      for (let c = 0; c < 40; c++) {
        let count = 0;
        for (let qi = r * b; qi < (r + 1) * b; qi++)
          for (let ki = c * b; ki < (c + 1) * b; ki++) count += mask(qi, ki, 0) ? 1 : 0;
        if (row[c] === "█") expect(count).toBe(b * b);
        else if (row[c] === " ") expect(count).toBe(0);
        else expect(count > 0 && count < b * b).toBe(true);
      }
    }
  });

  it("rasterize conserves pairs for gathered (lsh) and pooled plans", () => {
    const ex = lshExample({ n: 40 });
    const total = ex.allParts.reduce((s, p) => s + p.allowedPairs, 0);
    const r = rasterize(ex.allParts, 40, 40, 7, 7);
    expect(r.counts.reduce((s, x) => s + x, 0)).toBe(total);
    const c = compile(patterns.strided({ stride: 7 }), { queryLength: 300, headDim: 4 });
    const r2 = rasterize(c.heads[0], 300, 300, 64, 64);
    expect(r2.counts.reduce((s, x) => s + x, 0)).toBe(c.allowedPairs);
  });
});

describe("figure 1: LSH from actual hashing", () => {
  it("the plan's order is the stable sort by the buckets computed from the same rotations", () => {
    const ex = lshExample();
    expect(() => checkSortedByBucket(ex)).not.toThrow();
    expect(new Set(ex.bucket).size).toBeGreaterThan(2);
    const svg = lshFigureSvg(ex);
    expect(XMLValidator.validate(svg)).toBe(true);
  });

  it("a bucket that disagrees with the plan is caught", () => {
    const ex = lshExample();
    const order = ex.part.qIndex as Int32Array;
    const wrong = { ...ex, bucket: ex.bucket.map((b, i) => (i === order[0] ? ex.buckets + 5 : b)) };
    expect(() => checkSortedByBucket(wrong)).toThrow(/disagrees/);
  });
});

describe("scaling chart", () => {
  it("renders headless to valid SVG with the guides and one line per mechanism", async () => {
    const points = [1, 2, 4, 8].flatMap((f) => [
      { mechanism: "dense", label: "dense", n: 256 * f, seconds: 1e-3 * f * f, peakBytes: 2e6 * f },
      { mechanism: "sliding", label: "sliding", n: 256 * f, seconds: 1e-3 * f, peakBytes: 2e6 * f },
    ]);
    const fits = [
      { mechanism: "dense", timeExponent: 2, memoryExponent: 1 },
      { mechanism: "sliding", timeExponent: 1, memoryExponent: 1 },
    ];
    const svg = await vegaLiteToSvg(scalingSpec(points, fits));
    expect(XMLValidator.validate(svg)).toBe(true);
    for (const s of ["O(n)", "O(n²)", "n^2.00", "n^1.00", "dense", "sliding"]) expect(svg).toContain(s);
  });
});
