/**
 * SVG → PNG with resvg (Rust, prebuilt for each platform on npm; no browser, no download at
 * run time). @resvg/resvg-js is an optional peer dependency, loaded on first use.
 */
import { loadOptional } from "./optional.js";

type ResvgModule = typeof import("@resvg/resvg-js");

/** PNG bytes of an SVG document (Node; needs the optional package @resvg/resvg-js). */
export async function svgToPng(svg: string, options: { scale?: number } = {}): Promise<Uint8Array> {
  const { Resvg } = await loadOptional<ResvgModule>("@resvg/resvg-js", "PNG output");
  const scale = options.scale ?? 1;
  const r = new Resvg(svg, {
    fitTo: scale === 1 ? { mode: "original" } : { mode: "zoom", value: scale },
    font: { loadSystemFonts: true, defaultFontFamily: "DejaVu Sans" },
    background: "#ffffff",
  });
  return r.render().asPng();
}
