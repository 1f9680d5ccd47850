/**
 * The terminal view of a plan (after FlexAttention's `BlockMask.to_string()`): one character
 * per (query, key) pair for short sequences, one per block of pairs for long ones.
 *   cells:  █ allowed   · not allowed
 *   blocks: █ every pair allowed   ▓ over half   ░ some   (space) none
 * With `color`, each character takes its part's ANSI colour.
 */
import type { PlanPart } from "../index.js";
import { dominant, rasterize } from "./raster.js";

export interface TextGridOptions {
  /** Widest grid in characters (default 64). Longer key axes are pooled into blocks. */
  maxWidth?: number;
  /** Tallest grid in lines (default 32). */
  maxHeight?: number;
  /** ANSI colour per part. */
  color?: boolean;
}

const ANSI = [34, 33, 31, 36, 32, 35, 94, 93, 91, 96];

export function textGrid(
  parts: readonly PlanPart[],
  queryLength: number,
  keyLength: number,
  options: TextGridOptions = {},
): string {
  const maxWidth = options.maxWidth ?? 64;
  const maxHeight = options.maxHeight ?? 32;
  const r = rasterize(parts, queryLength, keyLength, maxHeight, maxWidth);
  const { owner, fraction } = dominant(r);
  const single = r.blockRows === 1 && r.blockCols === 1;
  const lines: string[] = [];
  for (let gr = 0; gr < r.rows; gr++) {
    let line = "";
    for (let gc = 0; gc < r.cols; gc++) {
      const c = gr * r.cols + gc; // raster: [rows, cols]
      const f = fraction[c];
      let ch: string;
      if (single) ch = f > 0 ? "█" : "·";
      else if (f >= 1) ch = "█";
      else if (f > 0.5) ch = "▓";
      else if (f > 0) ch = "░";
      else ch = " ";
      if (options.color && owner[c] >= 0) ch = `\x1b[${ANSI[owner[c] % ANSI.length]}m${ch}\x1b[0m`;
      line += ch;
    }
    lines.push(line);
  }
  const scale = single ? "1 char = 1 pair" : `1 char = ${r.blockRows} queries × ${r.blockCols} keys`;
  const legend = parts.map((p, i) => (options.color ? `\x1b[${ANSI[i % ANSI.length]}m■\x1b[0m ${p.label}` : p.label));
  return `${lines.join("\n")}\n(${scale}; rows = queries, columns = keys; parts: ${legend.join(", ") || "none"})`;
}
