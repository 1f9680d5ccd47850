/**
 * The real-browser test harness: a 127.0.0.1 static server (COOP/COEP, so pages are
 * cross-origin isolated and SharedArrayBuffer exists) serving the library's build (`/dist/`)
 * and page folders, and Debian's chromium driven by playwright-core. Nothing is downloaded:
 * the browser is /usr/bin/chromium (CHROMIUM_PATH overrides), which .ci/run installs with
 * apt-get when missing. A browser that cannot launch fails the test; it never skips.
 */
import { existsSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { type Browser, type BrowserContext, chromium, type Page } from "playwright-core";
import { type StaticServer, serveStatic } from "../../src/cli/static-server.js";

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
export const DIST = path.join(ROOT, "dist");
export const PAGES = path.join(ROOT, "test/browser/pages");
export const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";

/** Launches headless chromium; throws (the test fails) with the fix when it cannot. */
export async function launchChromium(extraArgs: string[] = []): Promise<Browser> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(
      `browser tests need chromium at ${CHROMIUM}: install it with \`apt-get install -y chromium\` (.ci/run does) or set CHROMIUM_PATH`,
    );
  }
  if (!existsSync(path.join(DIST, "index.js"))) throw new Error("browser tests need the build: run `npm run build`");
  try {
    return await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: ["--no-sandbox", "--disable-dev-shm-usage", ...extraArgs],
    });
  } catch (e) {
    throw new Error(`could not launch ${CHROMIUM}: ${e instanceof Error ? e.message : String(e)}`);
  }
}

/** Serves `/dist/` (the library build) plus extra mounts, cross-origin isolated unless told otherwise. */
export function serve(mounts: Record<string, string> = {}, isolated = true): Promise<StaticServer> {
  return serveStatic({ mounts: { "/dist/": DIST, "/pages/": PAGES, ...mounts }, isolated });
}

export interface OpenedPage {
  context: BrowserContext;
  page: Page;
  /** Console errors, uncaught page errors and failed requests seen so far. */
  errors: string[];
}

/** Opens `url` in a fresh context, recording every console error and page error. */
export async function openPage(
  browser: Browser,
  url: string,
  viewport = { width: 1400, height: 900 },
): Promise<OpenedPage> {
  const context = await browser.newContext({ viewport });
  const page = await context.newPage();
  const errors: string[] = [];
  page.on("console", (m) => {
    if (m.type() === "error") errors.push(`console: ${m.text()}`);
  });
  page.on("pageerror", (e) => errors.push(`pageerror: ${e.message}`));
  page.on("requestfailed", (r) => errors.push(`requestfailed: ${r.url()} ${r.failure()?.errorText ?? ""}`));
  await page.goto(url, { waitUntil: "load" });
  return { context, page, errors };
}
