/**
 * In Chromium (Debian's /usr/bin/chromium through playwright-core, WebGPU on its SwiftShader
 * adapter): every seed pattern through attentionAsync with backend "webgpu" matches the
 * oracle, and a page's main thread keeps running while attentionAsync runs the wasm kernel
 * (the managed module worker), whereas the synchronous attention() freezes it (the control).
 * Serves the built library (dist/, `npm run build`) from 127.0.0.1. No browser or no adapter
 * is a failure, not a skip.
 */
import path from "node:path";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import type { StaticServer } from "../../src/cli/static-server.js";
import { launchChromium, ROOT, serve } from "../browser/harness.js";

/** WebGPU in headless Chromium on Linux without a GPU: SwiftShader's Vulkan backend. */
const WEBGPU_FLAGS = ["--enable-unsafe-webgpu", "--enable-features=Vulkan", "--use-webgpu-adapter=swiftshader"];

let server: StaticServer;
let browser: Browser;
let page: Page;
const pageErrors: string[] = [];

beforeAll(async () => {
  server = await serve({ "/test/browser-webgpu/": path.join(ROOT, "test/browser-webgpu") });
  browser = await launchChromium(WEBGPU_FLAGS);
  page = await browser.newPage();
  page.on("pageerror", (e) => pageErrors.push(e.message));
  await page.goto(new URL("test/browser-webgpu/page.html", server.url).href);
  await page.waitForFunction(() => document.getElementById("status")?.textContent === "ready");
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
});

describe("in Chromium", () => {
  test("every seed pattern through attentionAsync({ backend: 'webgpu' }) matches the oracle", async () => {
    const hasGpu = await page.evaluate(async () => (await navigator.gpu?.requestAdapter()) != null);
    expect(hasGpu, "navigator.gpu.requestAdapter() found an adapter").toBe(true);
    const rows = await page.evaluate(() => (window as unknown as { runSeeds(): Promise<unknown[]> }).runSeeds());
    const table = rows as { name: string; backend: string; adapter: string; out: number; lse: number }[];
    expect(table.map((r) => r.name)).toEqual(["dense", "causal", "longformer", "strided", "fixed", "bigBird", "lsh"]);
    for (const r of table) {
      expect(r.backend, r.name).toBe("webgpu");
      expect(r.adapter.length, r.name).toBeGreaterThan(0);
      expect(r.out, `${r.name}: out`).toBeLessThanOrEqual(1e-5);
      expect(r.lse, `${r.name}: lse`).toBeLessThanOrEqual(1e-5);
    }
    expect(pageErrors).toEqual([]);
  });

  test("attentionAsync's worker gives attention()'s bits and stats for every seed pattern (wasm and js), into options.out too", async () => {
    type Row = { name: string; out: number; lse: number; stats: boolean; intoSame: boolean; intoBits: boolean };
    const rows = await page.evaluate(() => (window as unknown as { workerMatches(): Promise<Row[]> }).workerMatches());
    expect(rows.length).toBe(14);
    for (const r of rows) {
      expect(r.out, r.name).toBe(0);
      expect(r.lse, r.name).toBe(0);
      expect(r.stats, r.name).toBe(true);
      expect(r.intoSame, `${r.name}: result.out === options.out, result.lse === options.lse`).toBe(true);
      expect(r.intoBits, `${r.name}: options.out / options.lse hold attention()'s bits`).toBe(true);
    }
    expect(pageErrors).toEqual([]);
  });

  test("the page keeps ticking while attentionAsync runs wasm; attention() freezes it (control)", async () => {
    type Ticks = { during: number; backend: string; sameOut: number; sameLse: number; sameStats: boolean };
    const run = (mode: string) =>
      page.evaluate((m) => (window as unknown as { ticksDuring(m: string): Promise<Ticks> }).ticksDuring(m), mode);
    const async = await run("async");
    expect(async.backend).toBe("wasm");
    expect(async.sameOut).toBe(0); // the worker runs the same kernel on the same plan: the same bits
    expect(async.sameLse).toBe(0);
    expect(async.sameStats).toBe(true);
    expect(async.during).toBeGreaterThanOrEqual(3);
    const sync = await run("sync");
    expect(sync.during).toBe(0);
    expect(pageErrors).toEqual([]);
  });
});
