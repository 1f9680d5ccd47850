/**
 * Figure 1 (Reformer): LSH from actual hashing. Example vectors in a few angular clusters are
 * hashed with explicit rotations R (bucket = argmax [xR, −xR], as the lsh pattern does), and
 * everything after that is read from the lsh pattern's real plan: the sorted order (qIndex),
 * the chunks (qTiles) and the pairs each chunk scores (chunk + its predecessor).
 * Rows: tokens in sequence order coloured by bucket → sorted by bucket → cut into chunks;
 * then the scored pairs in sorted order and in sequence order.
 */

import type { PlanPart } from "../index.js";
import { compile, patterns } from "../index.js";
import { Rng } from "../util/rng.js";
import { tileAllows } from "./mask.js";
import { escapeXml, type Fragment, figureSvg, PALETTE } from "./svg.js";

export interface LshExample {
  n: number;
  D: number;
  buckets: number;
  chunkLength: number;
  /** Hash rounds planned, and the round this example shows. */
  hashes: number;
  round: number;
  /** x: [n, D] example vectors (shared query/key). */
  x: Float32Array;
  /** rotations: [heads=1, D, hashes, buckets / 2]. */
  rot: Float64Array;
  /** Bucket of each token, computed here: [n]. */
  bucket: Int32Array;
  /** The lsh pattern's plan of the shown round alone, and the plan of all rounds together. */
  part: PlanPart;
  allParts: PlanPart[];
}

/** Seeded example: n tokens drawn around `clusters` directions in D dimensions. */
export function lshExample(
  options: {
    n?: number;
    D?: number;
    buckets?: number;
    chunkLength?: number;
    seed?: number;
    hashes?: number;
    round?: number;
  } = {},
): LshExample {
  const n = options.n ?? 24;
  const D = options.D ?? 2;
  const nb = options.buckets ?? 4;
  const C = options.chunkLength ?? 4;
  const half = nb / 2;
  const hashes = options.hashes ?? 1;
  const round = Math.min(hashes - 1, Math.max(0, options.round ?? 0));
  const rng = new Rng(options.seed ?? 0);
  const centres: number[][] = [];
  for (let c = 0; c < nb; c++) centres.push(Array.from({ length: D }, () => rng.normal()));
  const x = new Float32Array(n * D); // x: [n, D]
  for (let i = 0; i < n; i++) {
    const c = centres[rng.int(nb)];
    for (let d = 0; d < D; d++) x[i * D + d] = c[d] + 0.25 * rng.normal();
  }
  const rot = new Float64Array(D * hashes * half); // rotations: [heads=1, D, hashes, half]
  for (let i = 0; i < rot.length; i++) rot[i] = rng.normal();
  const bucket = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    let best = -1;
    let bestVal = Number.NEGATIVE_INFINITY;
    for (let s = 0; s < 2; s++) {
      for (let j = 0; j < half; j++) {
        let p = 0;
        for (let d = 0; d < D; d++) p += x[i * D + d] * rot[(d * hashes + round) * half + j]; // x: [n, D], rot: [D, hashes, half]
        const v = s === 0 ? p : -p;
        if (v > bestVal) {
          bestVal = v;
          best = s * half + j;
        }
      }
    }
    bucket[i] = best;
  }
  // the shown round alone (rotations [1, D, 1, half] of round `round`): each round hashes,
  // sorts and chunks independently; all rounds together only add the merge by log-sum-exp
  const roundRot = new Float64Array(D * half);
  for (let d = 0; d < D; d++) {
    for (let j = 0; j < half; j++) roundRot[d * half + j] = rot[(d * hashes + round) * half + j]; // rot: [D, hashes, half]
  }
  const lsh = (data: Float64Array, h: number) =>
    patterns.lsh({ chunkLength: C, chunksBefore: 1, chunksAfter: 0, rotations: { data, shape: [1, D, h, half] } });
  const t = { data: x, shape: [1, 1, n, D] as [number, number, number, number] };
  const dims = { queryLength: n, headDim: D, q: t, k: t };
  const part = compile(lsh(roundRot, 1), dims).heads[0][0];
  const allParts = hashes === 1 ? [part] : compile(lsh(rot, hashes), dims).heads[0];
  return { n, D, buckets: nb, chunkLength: C, hashes, round, x, rot, bucket, part, allParts };
}

/** Throws unless the plan's order is the stable sort of tokens by (bucket, position). */
export function checkSortedByBucket(ex: LshExample): void {
  const order = ex.part.qIndex;
  if (order === null || order.length !== ex.n) throw new Error("lsh figure: expected one hashed round in the plan");
  for (let s = 1; s < ex.n; s++) {
    const a = order[s - 1];
    const b = order[s];
    const ok = ex.bucket[a] < ex.bucket[b] || (ex.bucket[a] === ex.bucket[b] && a < b);
    if (!ok) throw new Error(`lsh figure: plan order disagrees with the hashed buckets at slot ${s}`);
  }
}

const BOX = 16;

/** For D = 2: the vectors in the plane coloured by bucket, with the hash directions ±R columns. */
function scatter(ex: LshExample): Fragment {
  const size = 200;
  const half = ex.buckets / 2;
  let r = 0;
  for (let i = 0; i < ex.n; i++) r = Math.max(r, Math.hypot(ex.x[i * 2], ex.x[i * 2 + 1])); // x: [n, 2]
  const s = (size / 2 - 12) / r;
  const c = size / 2;
  const out = [
    '<text x="0" y="14" font-size="13" font-weight="bold">vectors and hash directions</text>',
    '<text x="0" y="28" font-size="10" fill="#555">bucket = argmax of x·(±R columns)</text>',
    `<g transform="translate(0,46)"><rect width="${size}" height="${size}" fill="#fafafa" stroke="#ccc"/>`,
  ];
  for (let j = 0; j < half; j++) {
    const dx = ex.rot[ex.round * half + j];
    const dy = ex.rot[(ex.hashes + ex.round) * half + j]; // rot: [D=2, hashes, half]
    const len = Math.hypot(dx, dy);
    for (const [sign, b] of [
      [1, j],
      [-1, half + j],
    ]) {
      const ex2 = c + (sign * dx * (size / 2 - 4)) / len;
      const ey2 = c - (sign * dy * (size / 2 - 4)) / len;
      const col = PALETTE[b % PALETTE.length];
      out.push(
        `<line x1="${c}" y1="${c}" x2="${ex2.toFixed(1)}" y2="${ey2.toFixed(1)}" stroke="${col}" stroke-width="2" stroke-dasharray="4,3"/>`,
      );
    }
  }
  for (let i = 0; i < ex.n; i++) {
    const px = c + ex.x[i * 2] * s;
    const py = c - ex.x[i * 2 + 1] * s;
    out.push(
      `<circle cx="${px.toFixed(1)}" cy="${py.toFixed(1)}" r="4" fill="${PALETTE[ex.bucket[i] % PALETTE.length]}" stroke="#fff"/>`,
    );
  }
  out.push("</g>");
  return { body: out.join("\n"), width: size, height: size + 46, legend: [] };
}

function tokenRow(ex: LshExample, order: ArrayLike<number>, y: number, label: string, gaps: Set<number>): string[] {
  const out = [`<text x="0" y="${y - 5}" font-size="11" fill="#333">${escapeXml(label)}</text>`];
  let x = 0;
  for (let s = 0; s < order.length; s++) {
    if (gaps.has(s) && s > 0) x += 8;
    const t = order[s];
    out.push(
      `<rect x="${x}" y="${y}" width="${BOX - 2}" height="${BOX - 2}" fill="${PALETTE[ex.bucket[t] % PALETTE.length]}"/>`,
    );
    out.push(`<text x="${x + (BOX - 2) / 2}" y="${y + 11}" font-size="8" text-anchor="middle" fill="#fff">${t}</text>`);
    x += BOX;
  }
  return out;
}

/**
 * The pairs the plan scores (same-bucket pairs in the bucket's colour, others grey), either in
 * sorted order (rows/cols = sorted slots, chunk tiles outlined) or in sequence order (rows/cols =
 * token positions: where the same pairs land in the original sequence).
 */
function scoredMatrix(ex: LshExample, cell: number, view: "sorted" | "sequence"): Fragment {
  const { part, n, bucket } = ex;
  const order = part.qIndex as Int32Array;
  const sorted = view === "sorted";
  const at = (s: number): number => (sorted ? s : order[s]); // slot -> drawn row/column
  const out: string[] = [
    `<text x="0" y="14" font-size="13" font-weight="bold">scored pairs, ${sorted ? "sorted" : "sequence"} order</text>`,
    `<text x="0" y="28" font-size="10" fill="#555">${sorted ? "chunk attends itself + previous chunk" : `${part.allowedPairs} of ${n * n} pairs scored`}</text>`,
    '<g transform="translate(0,46)" shape-rendering="crispEdges">',
    `<rect width="${n * cell}" height="${n * cell}" fill="#f2f2f2"/>`,
  ];
  for (let qt = 0; qt + 1 < part.qTiles.length; qt++) {
    for (let e = part.rowPtr[qt]; e < part.rowPtr[qt + 1]; e++) {
      const kt = part.colIdx[e];
      for (let si = part.qTiles[qt]; si < part.qTiles[qt + 1]; si++) {
        for (let sj = part.kTiles[kt]; sj < part.kTiles[kt + 1]; sj++) {
          if (!tileAllows(part, e, si - part.qTiles[qt], sj - part.kTiles[kt])) continue;
          const same = bucket[order[si]] === bucket[order[sj]];
          const fill = same ? PALETTE[bucket[order[si]] % PALETTE.length] : "#c9c9c9";
          out.push(`<rect x="${at(sj) * cell}" y="${at(si) * cell}" width="${cell}" height="${cell}" fill="${fill}"/>`);
        }
      }
      if (!sorted) continue;
      const x0 = part.kTiles[kt] * cell;
      const y0 = part.qTiles[qt] * cell;
      const w = (part.kTiles[kt + 1] - part.kTiles[kt]) * cell;
      const h = (part.qTiles[qt + 1] - part.qTiles[qt]) * cell;
      out.push(`<rect x="${x0}" y="${y0}" width="${w}" height="${h}" fill="none" stroke="#222" stroke-opacity="0.6"/>`);
    }
  }
  for (let s = 0; s < n; s++) {
    out.push(
      `<text x="${s * cell + cell / 2}" y="${n * cell + 10}" font-size="7" text-anchor="middle" fill="#555">${sorted ? order[s] : s}</text>`,
    );
    out.push(
      `<text x="-3" y="${s * cell + cell / 2 + 3}" font-size="7" text-anchor="end" fill="#555">${sorted ? order[s] : s}</text>`,
    );
  }
  out.push("</g>");
  out.push(
    `<text x="0" y="${46 + n * cell + 26}" font-size="10" fill="#333">colour: same bucket · grey: scored across buckets · self only if alone</text>`,
  );
  return { body: out.join("\n"), width: Math.max(n * cell, 330), height: 46 + n * cell + 34, legend: [] };
}

/**
 * Figure 1 as SVG. `step` draws the stages up to it (1 hash, 2 sort, 3 chunk, 4 the scored
 * pairs), for step-by-step viewing; default all four.
 */
export function lshFigureSvg(ex: LshExample = lshExample(), options: { step?: number } = {}): string {
  const step = Math.max(1, Math.min(4, options.step ?? 4));
  checkSortedByBucket(ex);
  const { n, part } = ex;
  const order = part.qIndex as Int32Array;
  const identity = Array.from({ length: n }, (_, i) => i);
  const chunkStarts = new Set(Array.from(part.qTiles));
  const rows: string[] = [
    '<text x="0" y="14" font-size="13" font-weight="bold">hash → sort → chunk</text>',
    ...tokenRow(ex, identity, 40, "1. tokens in sequence order, coloured by LSH bucket (argmax [xR, −xR])", new Set()),
    ...(step >= 2
      ? tokenRow(ex, order, 88, "2. stable sort by (bucket, position) — the plan's qIndex", new Set())
      : []),
    ...(step >= 3
      ? tokenRow(ex, order, 136, `3. cut into chunks of ${ex.chunkLength} — the plan's tiles`, chunkStarts)
      : []),
  ];
  const legendY = 176;
  for (let b = 0; b < ex.buckets; b++) {
    rows.push(`<rect x="${b * 70}" y="${legendY}" width="10" height="10" fill="${PALETTE[b % PALETTE.length]}"/>`);
    rows.push(`<text x="${b * 70 + 14}" y="${legendY + 9}" font-size="10">bucket ${b}</text>`);
  }
  const strip: Fragment = {
    body: rows.join("\n"),
    width: n * BOX + 8 * (part.qTiles.length - 1),
    height: legendY + 16,
    legend: [],
  };
  const cell = Math.max(6, Math.floor(240 / n));
  const panels = ex.D === 2 ? [scatter(ex), strip] : [strip];
  const matrices = step >= 4 ? [scoredMatrix(ex, cell, "sorted"), scoredMatrix(ex, cell, "sequence")] : [];
  return figureSvg([...panels, ...matrices], {
    title: `Figure 1 — Reformer LSH attention: n = ${n}, ${ex.buckets} buckets, chunk ${ex.chunkLength}, ${ex.hashes === 1 ? "1 hash round" : `hash round ${ex.round + 1} of ${ex.hashes} (rounds merge by log-sum-exp)`}`,
  });
}
