/**
 * The explorer's live cost chart: scored pairs against n on log-log axes, the pattern beside
 * dense, each in its mechanism's colour from the catalog (the report's scaling figure uses the same).
 */
import { escapeXml } from "../viz/svg.js";

export interface CostPoint {
  n: number;
  scored: number;
  dense: number;
}

const W = 400;
const H = 230;
const M = { l: 58, r: 12, t: 12, b: 40 };

function pow10Label(v: number): string {
  const e = Math.round(Math.log10(v));
  return `1e${e}`;
}

/** SVG of the points so far (sorted by n); `current` marks the explorer's n. */
export function costChartSvg(
  points: CostPoint[],
  current: number,
  label: string,
  colors: { pattern: string; dense: string } = { pattern: "#555555", dense: "#332288" },
): string {
  const pts = points.filter((p) => p.scored > 0 && p.dense > 0).sort((a, b) => a.n - b.n);
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${W} ${H}" width="100%" role="img" aria-label="scored pairs against n, ${escapeXml(label)} and dense" font-family="DejaVu Sans, Helvetica, Arial, sans-serif" font-size="10">`,
  ];
  if (pts.length === 0) {
    out.push(
      `<text x="${W / 2}" y="${H / 2}" text-anchor="middle" fill="#777">computing explain() at each n …</text></svg>`,
    );
    return out.join("");
  }
  const nMin = Math.min(...pts.map((p) => p.n));
  const nMax = Math.max(...pts.map((p) => p.n), nMin * 2);
  const yMin = Math.min(...pts.map((p) => Math.min(p.scored, p.dense))) / 2;
  const yMax = Math.max(...pts.map((p) => Math.max(p.scored, p.dense))) * 2;
  const x = (n: number) => M.l + ((Math.log(n) - Math.log(nMin)) / (Math.log(nMax) - Math.log(nMin))) * (W - M.l - M.r);
  const y = (v: number) =>
    H - M.b - ((Math.log(v) - Math.log(yMin)) / (Math.log(yMax) - Math.log(yMin))) * (H - M.t - M.b);
  out.push(
    `<rect x="${M.l}" y="${M.t}" width="${W - M.l - M.r}" height="${H - M.t - M.b}" fill="#fff" stroke="#ccc"/>`,
  );
  for (let e = Math.ceil(Math.log10(yMin)); e <= Math.log10(yMax); e++) {
    const v = 10 ** e;
    out.push(`<line x1="${M.l}" x2="${W - M.r}" y1="${y(v).toFixed(1)}" y2="${y(v).toFixed(1)}" stroke="#eee"/>`);
    out.push(`<text x="${M.l - 4}" y="${(y(v) + 3).toFixed(1)}" text-anchor="end" fill="#555">${pow10Label(v)}</text>`);
  }
  for (const p of pts) {
    if (Math.log2(p.n) % 2 !== 0 && p.n !== nMin && p.n !== nMax) continue;
    out.push(
      `<text x="${x(p.n).toFixed(1)}" y="${H - M.b + 14}" text-anchor="middle" fill="#555">${p.n >= 1024 ? `${p.n / 1024}k` : p.n}</text>`,
    );
  }
  out.push(
    `<text x="${(M.l + W - M.r) / 2}" y="${H - 6}" text-anchor="middle" fill="#333">sequence length n (log)</text>`,
  );
  out.push(
    `<text x="12" y="${(M.t + H - M.b) / 2}" transform="rotate(-90 12 ${(M.t + H - M.b) / 2})" text-anchor="middle" fill="#333">scored pairs (log)</text>`,
  );
  if (current >= nMin && current <= nMax) {
    out.push(
      `<line x1="${x(current).toFixed(1)}" x2="${x(current).toFixed(1)}" y1="${M.t}" y2="${H - M.b}" stroke="#999" stroke-dasharray="3,3"/>`,
    );
  }
  const line = (key: "scored" | "dense", color: string, dash: string) => {
    const d = pts.map((p, i) => `${i === 0 ? "M" : "L"}${x(p.n).toFixed(1)},${y(p[key]).toFixed(1)}`).join("");
    out.push(`<path d="${d}" fill="none" stroke="${color}" stroke-width="2"${dash}/>`);
    for (const p of pts)
      out.push(`<circle cx="${x(p.n).toFixed(1)}" cy="${y(p[key]).toFixed(1)}" r="2.5" fill="${color}"/>`);
  };
  line("dense", colors.dense, ' stroke-dasharray="5,3"');
  line("scored", colors.pattern, "");
  out.push(
    `<rect x="${M.l + 8}" y="${M.t + 8}" width="10" height="3" fill="${colors.pattern}"/><text x="${M.l + 22}" y="${M.t + 12}" fill="#333">${escapeXml(label.length > 48 ? `${label.slice(0, 47)}…` : label)}</text>`,
  );
  out.push(
    `<rect x="${M.l + 8}" y="${M.t + 22}" width="10" height="3" fill="${colors.dense}"/><text x="${M.l + 22}" y="${M.t + 26}" fill="#333">dense (n²)</text>`,
  );
  out.push("</svg>");
  return out.join("");
}
