/** SVG → PNG with resvg (Rust, prebuilt for each platform on npm; no browser, no download at run time). */
import { Resvg } from "@resvg/resvg-js";

export function svgToPng(svg: string, options: { scale?: number } = {}): Buffer {
  const scale = options.scale ?? 1;
  const r = new Resvg(svg, {
    fitTo: scale === 1 ? { mode: "original" } : { mode: "zoom", value: scale },
    font: { loadSystemFonts: true, defaultFontFamily: "DejaVu Sans" },
    background: "#ffffff",
  });
  return r.render().asPng();
}
