/**
 * The explorer in headless chromium, served by the real `sparse-attention explore` command:
 * it loads with no console error, its cost numbers equal explain() for the pattern in the
 * URL, moving a control (by keyboard) changes them, Run completes in a worker with the wasm
 * kernel, the picture is not blank, and a phone-width screen does not scroll sideways.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import type { Browser, Page } from "playwright-core";
import { PNG } from "pngjs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parsePattern } from "../../src/catalog/pattern-expr.js";
import { buildExplorer } from "../../src/cli/explore.js";
import { serveStatic } from "../../src/cli/static-server.js";
import { explain } from "../../src/index.js";
import { randomTensor } from "../../src/util/rng.js";
import { DIST, launchChromium, type OpenedPage, openPage } from "./harness.js";

let child: ChildProcess;
let base: string;
let browser: Browser;

/** Starts `sparse-attention explore --no-open --port 0` and resolves with the URL it prints. */
function startExplore(): Promise<string> {
  child = spawn(process.execPath, [path.join(DIST, "cli/main.js"), "explore", "--no-open", "--port", "0"], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  return new Promise((resolve, reject) => {
    let text = "";
    const timer = setTimeout(() => reject(new Error(`explore printed no URL: ${text}`)), 15_000);
    child.stdout!.on("data", (d) => {
      text += String(d);
      const m = /http:\/\/127\.0\.0\.1:\d+\//.exec(text);
      if (m) {
        clearTimeout(timer);
        resolve(m[0]);
      }
    });
    child.stderr!.on("data", (d) => {
      text += String(d);
    });
    child.on("exit", (code) => reject(new Error(`explore exited with ${code}: ${text}`)));
  });
}

const number = async (page: Page, id: string): Promise<number> =>
  Number((await page.getByTestId(id).textContent())!.replace(/,/g, ""));

async function ready(page: Page): Promise<void> {
  await page.waitForSelector("body[data-ready=true]", { timeout: 60_000 });
}

async function expectExplained(page: Page, expr: string, n: number, content = false): Promise<void> {
  const dims = { queryLength: n, headDim: 64 };
  const q = content ? randomTensor([1, 1, n, 64], 7) : null;
  const e = explain(parsePattern(expr), q === null ? dims : { ...dims, q, k: q });
  await expect.poll(() => number(page, "allowed-pairs"), { timeout: 60_000 }).toBe(e.allowedPairs);
  expect(await number(page, "scored-pairs")).toBe(e.scoredPairs);
  expect(await number(page, "efficiency")).toBeCloseTo(e.efficiency, 4);
}

const url = (expr: string, n: number) => `${base}?pattern=${encodeURIComponent(expr)}&n=${n}`;

describe("the explorer page (sparse-attention explore, headless chromium)", () => {
  let opened: OpenedPage;

  beforeAll(async () => {
    base = await startExplore();
    browser = await launchChromium();
    opened = await openPage(browser, url("strided(stride=64)", 4096));
    await ready(opened.page);
  });

  afterAll(async () => {
    await browser?.close();
    child?.kill();
  });

  it("loads cross-origin isolated, with no console error, showing explain()'s numbers for ?pattern=&n=", async () => {
    const { page } = opened;
    expect(await page.evaluate(() => self.crossOriginIsolated)).toBe(true);
    await expectExplained(page, "strided(stride=64)", 4096);
    expect(await page.getByTestId("expr").inputValue()).toBe("strided(stride=64)");
    expect(opened.errors).toEqual([]);
  });

  it("moving a control by keyboard changes the expression, the URL and the numbers", async () => {
    const { page } = opened;
    const before = await number(page, "scored-pairs");
    await page.getByTestId("param-stride").focus();
    await page.keyboard.press("ArrowRight"); // the stride slider steps in powers of two: 64 → 128
    await expect.poll(() => page.getByTestId("expr").inputValue(), { timeout: 30_000 }).toBe("strided(stride=128)");
    await expectExplained(page, "strided(stride=128)", 4096);
    expect(await number(page, "scored-pairs")).not.toBe(before);
    expect(decodeURIComponent(page.url())).toContain("pattern=strided(stride=128)");
    expect(opened.errors).toEqual([]);
  });

  it("the picture is not blank (pixel variance of the canvas)", async () => {
    const png = PNG.sync.read(await opened.page.locator("#canvas").screenshot());
    const grey: number[] = [];
    for (let i = 0; i < png.data.length; i += 4) grey.push((png.data[i] + png.data[i + 1] + png.data[i + 2]) / 3);
    const mean = grey.reduce((s, v) => s + v, 0) / grey.length;
    const variance = grey.reduce((s, v) => s + (v - mean) ** 2, 0) / grey.length;
    expect(variance).toBeGreaterThan(100);
  });

  it("zooming by keyboard reaches single pairs; 0 returns to the whole matrix", async () => {
    const { page } = opened;
    await page.locator("#canvas").focus();
    for (let i = 0; i < 4; i++) await page.keyboard.press("+"); // 4096 → 256 positions a side
    await expect.poll(() => page.locator("#view-info").textContent(), { timeout: 30_000 }).toContain("1 cell = 1 pair");
    expect(await page.locator("#view-info").textContent()).toMatch(/queries 1,920–2,175 × keys 1,920–2,175/);
    await page.keyboard.press("0");
    await expect
      .poll(() => page.locator("#view-info").textContent(), { timeout: 30_000 })
      .toContain("queries 0–4,095 × keys 0–4,095");
    expect(opened.errors).toEqual([]);
  });

  it("Run completes in a worker on wasm, with the error against the float64 reference", async () => {
    const page = (await openPage(browser, url("slidingWindow(left=32, right=32)", 1024))).page;
    await ready(page);
    await page.getByTestId("run").click();
    await expect.poll(() => page.getByTestId("run-result").textContent(), { timeout: 90_000 }).not.toBe("");
    const r = JSON.parse((await page.getByTestId("run-result").textContent())!) as {
      ms: number;
      backend: string;
      threads: number;
      maxError: number;
    };
    expect(r.ms).toBeGreaterThan(0);
    expect(r.backend).toBe("wasm");
    expect(r.threads).toBeGreaterThanOrEqual(1);
    expect(r.maxError).toBeLessThan(1e-4);
    await page.context().close();
  });

  it("LSH from the URL: numbers equal explain() on the same seeded random q = k", async () => {
    const expr = "lsh(buckets=16, hashes=2, chunkLength=32, seed=1)";
    const o = await openPage(browser, url(expr, 1024));
    await ready(o.page);
    await expectExplained(o.page, expr, 1024, true);
    expect(o.errors).toEqual([]);
    await o.context.close();
  });

  it("a phone-width screen does not scroll sideways", async () => {
    const o = await openPage(browser, url("bigBird(blockSize=64, randomBlocks=3, seed=1)", 4096), {
      width: 390,
      height: 844,
    });
    await ready(o.page);
    const overflow = await o.page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    expect(overflow).toBeLessThanOrEqual(1);
    expect(o.errors).toEqual([]);
    await o.context.close();
  });

  it("the static build works from a plain static host (no COOP/COEP): single-threaded, and says so", async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), "explorer-static-"));
    const server = await serveStatic({ mounts: { "/": buildExplorer(dir) }, isolated: false });
    try {
      const o = await openPage(browser, `${server.url}?pattern=${encodeURIComponent("causal()")}&n=512`);
      await ready(o.page);
      expect(await o.page.evaluate(() => self.crossOriginIsolated)).toBe(false);
      expect(await o.page.locator("#isolation").textContent()).toContain("not cross-origin isolated");
      await expectExplained(o.page, "causal()", 512);
      expect(o.errors).toEqual([]);
      await o.context.close();
    } finally {
      await server.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
