/**
 * The library proven in a real browser: its ESM build (dist/) imported in a module Web
 * Worker of a cross-origin isolated page runs every seed pattern on the wasm backend (1 and
 * 2 threads) and the js backend, and matches what Node computes for the same seeded inputs
 * to 1e-5.
 */
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parsePattern } from "../../src/catalog/pattern-expr.js";
import type { StaticServer } from "../../src/cli/static-server.js";
import { attention } from "../../src/index.js";
import { randomTensor } from "../../src/util/rng.js";
import { launchChromium, type OpenedPage, openPage, serve } from "./harness.js";

interface Case {
  expr: string;
  n: number;
  heads: number;
  headDim: number;
  seed: number;
  sharedQK: boolean;
}

// every seed mechanism, at ragged lengths (not multiples of the tiles or blocks)
const CASES: Case[] = [
  "dense()",
  "causal()",
  "slidingWindow(left=16, right=8)",
  "dilatedWindow(left=8, right=8, dilation=2)",
  "longformer(window=8, global=[0, 7])",
  "strided(stride=16)",
  "fixed(block=16, summary=4)",
  "bigBird(blockSize=16, randomBlocks=2, seed=3)",
  "lsh(buckets=8, hashes=2, chunkLength=16, seed=1)",
].map((expr, i) => ({
  expr,
  n: 200 + 3 * i,
  heads: 2,
  headDim: 16,
  seed: 10 * i + 1,
  sharedQK: expr.startsWith("lsh"),
}));

interface Answer {
  error?: string;
  ready?: number;
  isolated?: boolean;
  results?: { out: number[]; lse: number[]; backend: string; threads?: number }[];
}

function nodeResult(c: Case): { out: Float32Array; lse: Float32Array } {
  const q = randomTensor([1, c.heads, c.n, c.headDim], c.seed);
  const k = c.sharedQK ? q : randomTensor([1, c.heads, c.n, c.headDim], c.seed + 1);
  const v = randomTensor([1, c.heads, c.n, c.headDim], c.seed + 2);
  const r = attention(q, k, v, { pattern: parsePattern(c.expr), backend: "js" });
  return { out: r.out.data, lse: r.lse };
}

function maxDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) {
    if (a[i] === b[i]) continue; // equal infinities (fully masked rows) included
    m = Math.max(m, Math.abs(a[i] - b[i]));
  }
  return m;
}

describe("the library in headless chromium (module worker, cross-origin isolated)", () => {
  let browser: Browser;
  let server: StaticServer;
  let opened: OpenedPage;
  const expected = CASES.map(nodeResult);

  beforeAll(async () => {
    browser = await launchChromium();
    server = await serve();
    opened = await openPage(browser, `${server.url}pages/library/`);
    await opened.page.waitForFunction(() => (window as unknown as { pageReady?: boolean }).pageReady === true);
  });

  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  it("the page is cross-origin isolated (SharedArrayBuffer available)", async () => {
    expect(await opened.page.evaluate(() => self.crossOriginIsolated)).toBe(true);
  });

  it.each([
    ["wasm", 1],
    ["wasm", 2],
    ["js", 1],
  ] as const)("every seed pattern on %s with %i thread(s) matches Node to 1e-5", async (backend, threads) => {
    const answer = (await opened.page.evaluate(
      (req) => (window as unknown as { runInWorker(r: unknown): Promise<unknown> }).runInWorker(req),
      { cases: CASES, backend, threads },
    )) as Answer;
    expect(answer.error).toBeUndefined();
    expect(answer.isolated).toBe(true);
    expect(answer.ready).toBe(threads);
    const results = answer.results!;
    expect(results).toHaveLength(CASES.length);
    results.forEach((r, i) => {
      expect(r.backend, CASES[i].expr).toBe(backend);
      if (backend === "wasm") expect(r.threads, CASES[i].expr).toBe(threads);
      expect(maxDiff(r.out, expected[i].out), CASES[i].expr).toBeLessThan(1e-5);
      expect(maxDiff(r.lse, expected[i].lse), CASES[i].expr).toBeLessThan(1e-5);
    });
    expect(opened.errors).toEqual([]);
  });

  it("on the page's main thread: 1 thread runs, 2 threads is an error that says to use a Web Worker", async () => {
    const run = (threads: number) =>
      opened.page.evaluate(
        (t) => (window as unknown as { onMainThread(t: number): Promise<string> }).onMainThread(t),
        threads,
      );
    expect(await run(1)).toBe("ran on 1");
    expect(await run(2)).toContain("call attention() from a Web Worker");
  });
});
