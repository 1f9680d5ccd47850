// Writes docs/explorer.png: the explorer at 1400×900 in headless chromium (Debian's
// /usr/bin/chromium via playwright-core; nothing downloaded), after one Run.
// Usage: npm run build && node web/screenshot.mjs [out.png]
import { spawn } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const out = path.resolve(process.argv[2] ?? path.join(root, "docs/explorer.png"));
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
  const expr = "bigBird(blockSize=64, randomBlocks=3, seed=1)";
  await page.goto(`${base}?pattern=${encodeURIComponent(expr)}&n=2048`);
  await page.waitForSelector("body[data-ready=true]");
  await page.getByTestId("run").click();
  await page.waitForFunction(() => document.querySelector("[data-testid=run-result]")?.textContent !== "", null, {
    timeout: 120_000,
  });
  await page.waitForTimeout(500);
  await page.screenshot({ path: out });
  console.log(`wrote ${path.relative(process.cwd(), out)}`);
} finally {
  await browser.close();
  server.kill();
}
