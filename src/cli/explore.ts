/**
 * `sparse-attention explore`: serves the explorer (dist/explorer, bundled by `npm run build`)
 * on 127.0.0.1 with the cross-origin isolation headers (so Run can use wasm threads), prints
 * the URL and opens it unless --no-open. `--build <dir>` instead copies the page to a folder
 * any static host can serve (single-threaded there unless the host sends the headers; a
 * `_headers` file is written for hosts that read one).
 */
import { spawn } from "node:child_process";
import { cpSync, existsSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { UsageError } from "./commands.js";
import { ISOLATION_HEADERS, type StaticServer, serveStatic } from "./static-server.js";

/** The bundled page: dist/explorer (beside dist/cli, or from the sources' src/cli). */
export function explorerDir(): string {
  const here = path.dirname(fileURLToPath(import.meta.url));
  const candidates = [path.resolve(here, "../explorer"), path.resolve(here, "../../dist/explorer")];
  const dir = candidates.find((d) => existsSync(path.join(d, "index.html"))) ?? candidates[0];
  if (!existsSync(path.join(dir, "index.html"))) {
    throw new UsageError(`the explorer is not built at ${dir}: run \`npm run build\` in the package first`);
  }
  return dir;
}

export function serveExplorer(port = 0): Promise<StaticServer> {
  return serveStatic({ mounts: { "/": explorerDir() }, isolated: true, port });
}

/** Copies the page to `dir` for a static host; returns the files' folder. */
export function buildExplorer(dir: string): string {
  const target = path.resolve(dir);
  cpSync(explorerDir(), target, { recursive: true });
  const headers = Object.entries(ISOLATION_HEADERS)
    .map(([k, v]) => `  ${k}: ${v}`)
    .join("\n");
  writeFileSync(path.join(target, "_headers"), `/*\n${headers}\n`);
  return target;
}

/** Opens a URL in the desktop's browser; failures are reported, not fatal. */
export function openInBrowser(url: string, warn: (s: string) => void): void {
  const cmd = process.platform === "darwin" ? "open" : process.platform === "win32" ? "cmd" : "xdg-open";
  const args = process.platform === "win32" ? ["/c", "start", "", url] : [url];
  try {
    const child = spawn(cmd, args, { stdio: "ignore", detached: true });
    child.on("error", () => warn(`could not open a browser (${cmd}); open ${url} yourself`));
    child.unref();
  } catch {
    warn(`could not open a browser (${cmd}); open ${url} yourself`);
  }
}
