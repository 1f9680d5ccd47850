/**
 * `sparse-attention/viz`: pictures of plans, shared by the report, the CLI and the explorer.
 *
 *   matrixSvg / matrixFragment / figureSvg   allowed pairs as SVG (browser and Node)
 *   textGrid                                 the terminal view (one char per pair or block)
 *   rasterize / dominant / tileBoxes         the pooled counts those pictures are drawn from
 *   lshExample / lshFigureSvg                Reformer's hash → sort → chunk, from a real plan
 *   svgToPng                                 PNG bytes (Node; optional package @resvg/resvg-js)
 *   tileAllows                               the one reader of a plan's partial-tile masks
 */
export { type LshExample, lshExample, lshFigureSvg } from "./lsh.js";
export { tileAllows, tileIsFull } from "./mask.js";
export { MissingOptionalDependency } from "./optional.js";
export { svgToPng } from "./png.js";
export { dominant, type Raster, rasterize, type TileBox, tileBoxes, type View } from "./raster.js";
export {
  EMPTY_COLOR,
  type Fragment,
  figureSvg,
  type MatrixOptions,
  matrixFragment,
  matrixLayout,
  matrixSvg,
  PALETTE,
} from "./svg.js";
export { type TextGridOptions, textGrid } from "./text.js";
