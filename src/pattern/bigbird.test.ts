/**
 * BigBird (ITC) against a brute-force block definition written here (Zaheer et al. 2020;
 * HF's layout): seeded random blocks, caller tables (with repeats and window overlaps, which
 * use set semantics), n not a multiple of the block, nb <= 3, extra global tokens. Also the
 * draw's own rules: per head, distinct, never in the row's window or global blocks.
 */
import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { expectAttentionMatches, expectPlanEquals, type Sizes } from "../../test/plan-check.js";
import { compile } from "../compile.js";
import { explain, patterns } from "../index.js";
import type { MaskFn } from "../types.js";

/** table[h][qb - 1] = random key blocks of query block qb (1 ..= nb-2). */
function bruteBigBird(b: number, n: number, table: number[][][] | null, global: number[] = []): MaskFn {
  const nb = Math.ceil(n / b);
  return (q, k, h) => {
    if (global.includes(q) || global.includes(k)) return true;
    const qb = Math.floor(q / b);
    const kb = Math.floor(k / b);
    if (qb === 0 || qb === nb - 1 || kb === 0 || kb === nb - 1 || Math.abs(qb - kb) <= 1) return true;
    return table?.[h][qb - 1].includes(kb) ?? false;
  };
}

/** Reads the drawn table back from the plan of a core bigBird (the plan's visited blocks). */
function drawnTable(b: number, n: number, R: number, H: number, seed: number): number[][][] {
  const nb = Math.ceil(n / b);
  const c = compile(patterns.bigBird({ blockSize: b, randomBlocks: R, seed }), {
    queryLength: n,
    heads: H,
    headDim: 4,
  });
  return c.heads.map((parts) => {
    const p = parts[0];
    const rows: number[][] = [];
    for (let qb = 1; qb + 1 < nb; qb++) {
      const seen: number[] = [];
      for (let e = p.rowPtr[qb]; e < p.rowPtr[qb + 1]; e++) seen.push(p.colIdx[e]);
      rows.push(seen.filter((kb) => kb !== 0 && kb !== nb - 1 && Math.abs(kb - qb) > 1));
    }
    return rows;
  });
}

const caseArb = fc.record({
  b: fc.integer({ min: 1, max: 40 }),
  n: fc.integer({ min: 1, max: 300 }),
  R: fc.integer({ min: 0, max: 4 }),
  H: fc.integer({ min: 1, max: 3 }),
  seed: fc.nat(1_000_000),
});

describe("bigBird", () => {
  test("seeded draw: per row at most R distinct blocks outside the window and global blocks; plan == brute force", () => {
    fc.assert(
      fc.property(caseArb, ({ b, n, R, H, seed }) => {
        const nb = Math.ceil(n / b);
        const table = drawnTable(b, n, R, H, seed);
        for (const rows of table) {
          rows.forEach((row, i) => {
            const qb = i + 1;
            const candidates = Math.max(0, nb - 2 - 1 - (qb > 1 ? 1 : 0) - (qb < nb - 2 ? 1 : 0));
            expect(row.length).toBe(Math.min(R, candidates));
            expect(new Set(row).size).toBe(row.length);
          });
        }
        const s: Sizes = { Lq: n, Lk: n, H, D: 4 };
        const p = patterns.bigBird({ blockSize: b, randomBlocks: R, seed });
        expectPlanEquals(p, s, bruteBigBird(b, n, table));
        const e = explain(p, { queryLength: n, heads: H, headDim: 4 });
        expect(e.efficiency).toBe(1); // tiles are blocks, all full
      }),
      { numRuns: 40 },
    );
  });

  test("caller table with repeats and window overlaps (set semantics) and extra global tokens; attention == oracle", () => {
    fc.assert(
      fc.property(
        caseArb,
        fc.array(fc.nat(1000), { maxLength: 6 }),
        fc.nat(1000),
        ({ b, n, R, H, seed }, rawG, dataSeed) => {
          const nb = Math.ceil(n / b);
          let x = seed;
          const next = () => {
            x = (Math.imul(x, 1103515245) + 12345) >>> 0;
            return x % nb;
          };
          const table = Array.from({ length: H }, () =>
            Array.from({ length: Math.max(0, nb - 2) }, () => Array.from({ length: R }, next)),
          );
          const g = [...new Set(rawG.map((v) => v % n))];
          const s: Sizes = { Lq: n, Lk: n, H, D: 8 };
          const p = patterns.bigBird({ blockSize: b, randomTable: table, global: g.length > 0 ? g : undefined });
          const brute = bruteBigBird(b, n, table, g);
          expectPlanEquals(p, s, brute);
          expectAttentionMatches(p, s, brute, dataSeed);
        },
      ),
      { numRuns: 30 },
    );
  });

  test("the draw depends on seed and head, not on the number of heads", () => {
    const a = drawnTable(16, 1024, 3, 4, 7);
    const b = drawnTable(16, 1024, 3, 2, 7);
    const c = drawnTable(16, 1024, 3, 2, 8);
    expect(b).toEqual(a.slice(0, 2));
    expect(c).not.toEqual(b);
    expect(a[1]).not.toEqual(a[0]);
  });

  test("bad options and tables are rejected clearly", () => {
    expect(() => patterns.bigBird({ blockSize: 0 })).toThrow(/blockSize.*0/);
    expect(() => patterns.bigBird({ blockSize: 4, randomBlocks: -1 })).toThrow(/randomBlocks.*-1/);
    const p = patterns.bigBird({ blockSize: 4, randomTable: [[[1], [9]]] });
    expect(() => explain(p, { queryLength: 16, headDim: 4 })).toThrow(
      /randomTable \}\)\[0\]\[1\]\[0\]: got 9; expected an integer in \[0, 3\]/,
    );
    expect(() => explain(p, { queryLength: 16, heads: 2, headDim: 4 })).toThrow(/one table per head: 2/);
    expect(() => explain(p, { queryLength: 24, headDim: 4 })).toThrow(/4 rows/);
    expect(() => patterns.bigBird({ blockSize: 4, randomTable: [[[1]]], seed: 3 })).toThrow(/no seed with randomTable/);
    const q = patterns.bigBird({ blockSize: 4, randomBlocks: 1 });
    expect(() => explain(q, { queryLength: 20, keyLength: 16, headDim: 4 })).toThrow(/self-attention/);
    expect(() => patterns.bigBird({ blockSize: 4, global: [2, 2] })).toThrow(/appears more than once/);
  });

  test("efficiency at n = 65,536 (block 64, 3 random blocks) is 1 and the density is about 8/1024 blocks per row", () => {
    const e = explain(patterns.bigBird({ blockSize: 64, randomBlocks: 3, seed: 1 }), {
      queryLength: 65_536,
      headDim: 64,
    });
    expect(e.efficiency).toBe(1);
    const nb = 1024;
    const expected = (2 * nb + (nb - 2) * 8) * 64 * 64; // 2 global rows of nb blocks; others 2 global + 3 window + 3 random
    expect(e.allowedPairs).toBe(expected - 2 * 64 * 64); // rows 1 and nb-2: one window block is a global block
  });
});
