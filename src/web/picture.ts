/**
 * The explorer's picture: the plan's raster (from the plan worker) drawn on a canvas, one
 * colour per plan part, pooled cells paler the fewer pairs they allow, visited tiles outlined;
 * and the zoom / pan controls that choose the view the worker rasterises.
 */
import type { View } from "../viz/raster.js";
import { EMPTY_COLOR, PALETTE } from "../viz/svg.js";
import { groupDigits } from "./model.js";
import type { PlanAnswer } from "./protocol.js";

function hexToRgb(hex: string): [number, number, number] {
  const v = Number.parseInt(hex.slice(1), 16);
  return [(v >> 16) & 255, (v >> 8) & 255, v & 255];
}
const RGB = PALETTE.map(hexToRgb);
const EMPTY_RGB = hexToRgb(EMPTY_COLOR);

/** Draws the plan answer's raster, tile outlines, view line and legend. */
export function drawPicture(a: PlanAnswer, canvas: HTMLCanvasElement, info: HTMLElement, legend: HTMLElement): void {
  if (a.raster === undefined) return;
  const r = a.raster;
  const ctx = canvas.getContext("2d")!;
  const img = new ImageData(r.cols, r.rows);
  for (let c = 0; c < r.rows * r.cols; c++) {
    const o = r.owner[c]; // raster: [rows, cols]
    // any-allowed colouring: a pooled cell with ANY allowed pair is at least 60 % of its part's
    // colour (a global token's row is 1 of 16 pairs of its cells at n = 4,096), denser cells darker
    const f = o < 0 ? 0 : 0.6 + 0.4 * r.fraction[c];
    const rgb = o < 0 ? EMPTY_RGB : RGB[o % RGB.length];
    // pooled cells blend the part's colour with the empty colour by the allowed fraction
    img.data[4 * c] = Math.round(EMPTY_RGB[0] + (rgb[0] - EMPTY_RGB[0]) * f);
    img.data[4 * c + 1] = Math.round(EMPTY_RGB[1] + (rgb[1] - EMPTY_RGB[1]) * f);
    img.data[4 * c + 2] = Math.round(EMPTY_RGB[2] + (rgb[2] - EMPTY_RGB[2]) * f);
    img.data[4 * c + 3] = 255;
  }
  const side = Math.max(r.rows, r.cols);
  const px = canvas.width / side;
  ctx.fillStyle = "#ffffff";
  ctx.fillRect(0, 0, canvas.width, canvas.height);
  const bitmap = document.createElement("canvas");
  bitmap.width = r.cols;
  bitmap.height = r.rows;
  bitmap.getContext("2d")!.putImageData(img, 0, 0);
  ctx.imageSmoothingEnabled = false;
  ctx.drawImage(bitmap, 0, 0, r.cols * px, r.rows * px);
  const v = r.view;
  const sx = (r.cols * px) / (v.k1 - v.k0);
  const sy = (r.rows * px) / (v.q1 - v.q0);
  if (r.blockRows === 1 && r.blockCols === 1 && px >= 6) {
    ctx.strokeStyle = "rgba(255,255,255,0.7)";
    ctx.lineWidth = 1;
    ctx.beginPath();
    for (let i = 0; i <= side; i++) {
      ctx.moveTo(i * px, 0);
      ctx.lineTo(i * px, r.rows * px);
      ctx.moveTo(0, i * px);
      ctx.lineTo(r.cols * px, i * px);
    }
    ctx.stroke();
  }
  const tiles = a.tiles ?? [];
  if (tiles.length > 0 && tiles.length < 3000) {
    ctx.strokeStyle = "rgba(34,34,34,0.55)";
    for (const t of tiles) {
      const w = (t.k1 - t.k0) * sx;
      const h = (t.q1 - t.q0) * sy;
      if (w < 3 || h < 3) continue;
      ctx.setLineDash(t.full ? [] : [3, 2]);
      ctx.strokeRect((t.k0 - v.k0) * sx + 0.5, (t.q0 - v.q0) * sy + 0.5, w - 1, h - 1);
    }
    ctx.setLineDash([]);
  }
  const pooled =
    r.blockRows === 1 && r.blockCols === 1
      ? "1 cell = 1 pair"
      : `1 cell = ${r.blockRows} × ${r.blockCols} pairs, coloured if any is allowed (paler: fewer)`;
  info.textContent = `queries ${groupDigits(v.q0)}–${groupDigits(v.q1 - 1)} × keys ${groupDigits(v.k0)}–${groupDigits(v.k1 - 1)} · ${pooled} · rows = queries, columns = keys · solid outline: full tile, dashed: partial tile`;
  legend.replaceChildren(
    ...(a.labels ?? []).map((label, i) => {
      const li = document.createElement("li");
      const sw = document.createElement("i");
      sw.style.background = PALETTE[i % PALETTE.length];
      li.append(sw, document.createTextNode(`plan part ${i + 1}: ${label}`));
      return li;
    }),
  );
}

/**
 * Zoom and pan on the canvas: the wheel, +/−/0 and arrows when focused, a drag, and the
 * zoom buttons. `getView` / `setView` hold the view (null = the whole n × n matrix).
 */
export function installZoom(
  canvas: HTMLCanvasElement,
  buttons: { zoomIn: HTMLElement; zoomOut: HTMLElement; reset: HTMLElement },
  n: () => number,
  getView: () => View | null,
  setViewTo: (v: View | null) => void,
): void {
  const currentView = (): View => getView() ?? { q0: 0, q1: n(), k0: 0, k1: n() };
  const setView = (q0: number, k0: number, size: number): void => {
    const len = n();
    const s = Math.max(Math.min(8, len), Math.min(len, Math.round(size)));
    const cq = Math.max(0, Math.min(len - s, Math.round(q0)));
    const ck = Math.max(0, Math.min(len - s, Math.round(k0)));
    setViewTo(s >= len ? null : { q0: cq, q1: cq + s, k0: ck, k1: ck + s });
  };
  /** Zooms by `factor` (< 1 zooms in) around the fraction (fx, fy) of the view. */
  const zoom = (factor: number, fx = 0.5, fy = 0.5): void => {
    const v = currentView();
    const size = v.q1 - v.q0;
    const next = size * factor;
    setView(v.q0 + fy * (size - next), v.k0 + fx * (size - next), next);
  };
  const pan = (dq: number, dk: number): void => {
    const v = currentView();
    const size = v.q1 - v.q0;
    setView(v.q0 + dq * size, v.k0 + dk * size, size);
  };
  buttons.zoomIn.addEventListener("click", () => zoom(0.5));
  buttons.zoomOut.addEventListener("click", () => zoom(2));
  buttons.reset.addEventListener("click", () => setViewTo(null));
  canvas.addEventListener(
    "wheel",
    (e) => {
      e.preventDefault();
      const rect = canvas.getBoundingClientRect();
      zoom(e.deltaY < 0 ? 0.5 : 2, (e.clientX - rect.left) / rect.width, (e.clientY - rect.top) / rect.height);
    },
    { passive: false },
  );
  canvas.addEventListener("keydown", (e) => {
    const keys: Record<string, () => void> = {
      "+": () => zoom(0.5),
      "=": () => zoom(0.5),
      "-": () => zoom(2),
      "0": () => setViewTo(null),
      ArrowUp: () => pan(-0.25, 0),
      ArrowDown: () => pan(0.25, 0),
      ArrowLeft: () => pan(0, -0.25),
      ArrowRight: () => pan(0, 0.25),
    };
    const f = keys[e.key];
    if (f !== undefined) {
      e.preventDefault();
      f();
    }
  });
  let drag: { x: number; y: number; v: View } | null = null;
  canvas.addEventListener("pointerdown", (e) => {
    drag = { x: e.clientX, y: e.clientY, v: currentView() };
    canvas.setPointerCapture(e.pointerId);
  });
  canvas.addEventListener("pointerup", (e) => {
    if (drag === null) return;
    const rect = canvas.getBoundingClientRect();
    const size = drag.v.q1 - drag.v.q0;
    const dx = ((e.clientX - drag.x) / rect.width) * size;
    const dy = ((e.clientY - drag.y) / rect.height) * size;
    if (Math.abs(dx) + Math.abs(dy) >= 1) setView(drag.v.q0 - dy, drag.v.k0 - dx, size);
    drag = null;
  });
}
