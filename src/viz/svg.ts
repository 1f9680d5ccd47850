/**
 * Allowed-pairs matrices as SVG: query rows × key columns, each allowed pair coloured by the
 * plan part that scores it, visited tiles outlined (solid = full tile, dashed = partial
 * tile with a bit mask). Long sequences are pooled: a cell's opacity is its allowed
 * fraction. Figures place several matrices side by side with titles and a legend.
 */
import type { PlanPart } from "../index.js";
import { dominant, rasterize, tileBoxes } from "./raster.js";

/** Tableau 10: one colour per plan part. */
export const PALETTE = [
  "#4e79a7",
  "#f28e2b",
  "#e15759",
  "#76b7b2",
  "#59a14f",
  "#edc948",
  "#b07aa1",
  "#ff9da7",
  "#9c755f",
  "#bab0ac",
];
/** Colour of a pair no part allows. */
export const EMPTY_COLOR = "#f2f2f2";
export const TILE_COLOR = "#222222";

export function escapeXml(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
}

export interface MatrixOptions {
  /** Side of the drawn matrix in pixels (default 256); cells are whole pixels. */
  size?: number;
  /** Outline visited tiles (default true). */
  tiles?: boolean;
  title?: string;
  /** Lines under the title, separated by "\n" (e.g. the call and its counts); long lines wrap. */
  subtitle?: string;
  /** Minimum height of the title block, to line up matrices placed side by side (see Fragment.matrixTop). */
  headerHeight?: number;
}

export interface Fragment {
  /** SVG elements, positioned from (0, 0). */
  body: string;
  width: number;
  height: number;
  /** Part labels in palette order. */
  legend: string[];
  /** Where the matrix starts below the fragment's top (matrix fragments only). */
  matrixTop?: number;
}

const TITLE_H = 46;
const LEGEND_ROW = 16;

/** One matrix as an SVG fragment. Cell (qi, ki) of a 1-pair raster is the square at (x0 + ki·c, y0 + qi·c). */
export function matrixFragment(
  parts: readonly PlanPart[],
  queryLength: number,
  keyLength: number,
  options: MatrixOptions = {},
): Fragment {
  const size = options.size ?? 256;
  const longest = Math.max(queryLength, keyLength);
  const cell = Math.max(1, Math.floor(size / longest));
  const maxCells = Math.floor(size / cell);
  const r = rasterize(parts, queryLength, keyLength, maxCells, maxCells);
  const { owner, fraction } = dominant(r);
  const cw = cell;
  const w = r.cols * cw;
  const h = r.rows * cw;
  // text is wrapped to the matrix width, never cut: the header grows instead
  const titleLines = options.title ? wrapText(options.title, Math.max(12, Math.floor(w / 7.8))) : [];
  const subLines = (options.subtitle ?? "")
    .split("\n")
    .filter((line) => line !== "")
    .flatMap((line) => wrapText(line, Math.max(16, Math.floor(w / 5.8))));
  const headerH = 16 * titleLines.length + 12 * subLines.length + 8;
  const y0 = Math.max(TITLE_H, headerH, options.headerHeight ?? 0);
  const out: string[] = [];
  titleLines.forEach((line, i) => {
    out.push(`<text x="0" y="${14 + 16 * i}" font-size="13" font-weight="bold">${escapeXml(line)}</text>`);
  });
  subLines.forEach((line, i) => {
    const y = 16 * titleLines.length + 12 + 12 * i;
    out.push(`<text x="0" y="${y}" font-size="10" fill="#555">${escapeXml(line)}</text>`);
  });
  out.push(`<g transform="translate(0,${y0})" shape-rendering="crispEdges">`);
  out.push(`<rect x="0" y="0" width="${w}" height="${h}" fill="${EMPTY_COLOR}"/>`);
  // Runs of equal colour and opacity along a row become one rect.
  for (let gr = 0; gr < r.rows; gr++) {
    let gc = 0;
    while (gc < r.cols) {
      const c = gr * r.cols + gc; // raster: [rows, cols]
      if (owner[c] < 0) {
        gc++;
        continue;
      }
      const o = owner[c];
      const op = Math.round(Math.max(0.15, fraction[c]) * 20) / 20;
      let end = gc + 1;
      while (end < r.cols) {
        const c2 = gr * r.cols + end;
        if (owner[c2] !== o || Math.round(Math.max(0.15, fraction[c2]) * 20) / 20 !== op) break;
        end++;
      }
      const opacity = op < 1 ? ` fill-opacity="${op}"` : "";
      out.push(
        `<rect x="${gc * cw}" y="${gr * cw}" width="${(end - gc) * cw}" height="${cw}" fill="${PALETTE[o % PALETTE.length]}"${opacity}/>`,
      );
      gc = end;
    }
  }
  if (options.tiles ?? true) {
    const sx = cw / r.blockCols;
    const sy = cw / r.blockRows;
    for (const t of tileBoxes(parts)) {
      const dash = t.full ? "" : ' stroke-dasharray="3,2"';
      out.push(
        `<rect x="${t.k0 * sx}" y="${t.q0 * sy}" width="${(t.k1 - t.k0) * sx}" height="${(t.q1 - t.q0) * sy}" fill="none" stroke="${TILE_COLOR}" stroke-opacity="0.55" stroke-width="1"${dash}/>`,
      );
    }
  }
  out.push(`<rect x="0" y="0" width="${w}" height="${h}" fill="none" stroke="#888" stroke-width="1"/>`);
  out.push("</g>");
  // one entry per plan part, only when there are several (a single part's colour says nothing)
  const legend = parts.length > 1 ? parts.map((p) => partLabel(p.label)) : [];
  let ly = y0 + h + 14;
  legend.forEach((label, i) => {
    const lines = wrapText(label, Math.max(12, Math.floor((w - 14) / 5.8)));
    out.push(`<rect x="0" y="${ly - 9}" width="10" height="10" fill="${PALETTE[i % PALETTE.length]}"/>`);
    lines.forEach((line, j) => {
      out.push(`<text x="14" y="${ly + 12 * j}" font-size="10">${escapeXml(line)}</text>`);
    });
    ly += LEGEND_ROW + 12 * (lines.length - 1);
  });
  return { body: out.join("\n"), width: Math.max(w, 120), height: ly, legend, matrixTop: y0 };
}

/** A part label as a legend shows it ("grid" is the generic planner's single part: say so). */
export function partLabel(label: string): string {
  return label === "grid" ? "all pairs on one tile grid" : label;
}

/** Splits text into lines of at most `width` characters at spaces (a longer word gets its own line). */
export function wrapText(text: string, width: number): string[] {
  const lines: string[] = [];
  let line = "";
  for (const word of text.split(/\s+/)) {
    if (word === "") continue;
    if (line === "") line = word;
    else if (line.length + 1 + word.length <= width) line += ` ${word}`;
    else {
      lines.push(line);
      line = word;
    }
  }
  if (line !== "") lines.push(line);
  return lines;
}

/** A complete SVG document from fragments placed left to right, with an optional caption. */
export function figureSvg(
  fragments: Fragment[],
  options: { title?: string; gap?: number; background?: string } = {},
): string {
  const gap = options.gap ?? 28;
  const top = options.title ? 30 : 8;
  let x = 8;
  let height = 0;
  const groups: string[] = [];
  for (const f of fragments) {
    groups.push(`<g transform="translate(${x},${top})">\n${f.body}\n</g>`);
    x += f.width + gap;
    height = Math.max(height, f.height);
  }
  const width = x - gap + 8;
  const total = top + height + 8;
  const title = options.title
    ? `<text x="8" y="20" font-size="15" font-weight="bold">${escapeXml(options.title)}</text>`
    : "";
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${total}" viewBox="0 0 ${width} ${total}" font-family="DejaVu Sans, Helvetica, Arial, sans-serif">`,
    `<rect width="${width}" height="${total}" fill="${options.background ?? "#ffffff"}"/>`,
    title,
    ...groups,
    "</svg>",
  ].join("\n");
}

/** Where `matrixSvg` draws cell (0, 0) and how big a cell is, in pixels (for tests and overlays). */
export function matrixLayout(
  queryLength: number,
  keyLength: number,
  size = 256,
): { x0: number; y0: number; cell: number } {
  const cell = Math.max(1, Math.floor(size / Math.max(queryLength, keyLength)));
  return { x0: 8, y0: 8 + TITLE_H, cell };
}

/** One pattern's matrix as a standalone SVG document. */
export function matrixSvg(
  parts: readonly PlanPart[],
  queryLength: number,
  keyLength: number,
  options: MatrixOptions = {},
): string {
  return figureSvg([matrixFragment(parts, queryLength, keyLength, options)]);
}
