// Writes the screenshots of issue 24 into docs/: the explorer's first view (no URL state:
// Longformer at n = 4,096) and the report's scaling figure with its table (from an existing
// report/index.html: run `npm start` first). Headless Debian chromium via playwright-core.
// Usage: npm run build && node web/screenshot-first-hour.mjs [report/index.html]
import { spawn } from "node:child_process";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { chromium } from "playwright-core";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const report = path.resolve(process.argv[2] ?? path.join(root, "report/index.html"));
const server = spawn(process.execPath, [path.join(root, "dist/cli/main.js"), "explore", "--no-open"], {
  stdio: ["ignore", "pipe", "inherit"],
});
const base = await new Promise((resolve, reject) => {
  server.stdout.on("data", (d) => {
    const m = /http:\/\/127\.0\.0\.1:\d+\//.exec(String(d));
    if (m) resolve(m[0]);
  });
  server.on("exit", (code) => reject(new Error(`explore exited with ${code}`)));
});
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
  args: ["--no-sandbox"],
});
try {
  const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  await page.goto(base);
  await page.waitForSelector("body[data-ready=true]", { timeout: 300_000 });
  await page.waitForTimeout(1500);
  await page.screenshot({ path: path.join(root, "docs/explorer-first-view.png") });
  const r = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  await r.goto(pathToFileURL(report).href);
  // page coordinates of the figure's top and the bottom of the table under it
  const [top, bottom] = await r.evaluate(() => {
    const f = document.getElementById("scaling").getBoundingClientRect();
    const t = document.querySelector("#scaling + table").getBoundingClientRect();
    return [f.top + window.scrollY, t.bottom + window.scrollY];
  });
  await r.screenshot({
    path: path.join(root, "docs/report-scaling.png"),
    fullPage: true,
    clip: { x: 0, y: top - 10, width: 1400, height: bottom - top + 20 },
  });
  console.log("wrote docs/explorer-first-view.png and docs/report-scaling.png");
} finally {
  await browser.close();
  server.kill();
}
