/**
 * A small static file server on 127.0.0.1 for the explorer and the browser tests. URL
 * prefixes map to folders; with `isolated` every response carries the headers that make a
 * page cross-origin isolated (COOP same-origin + COEP require-corp), which browsers require
 * before they expose SharedArrayBuffer (and so the wasm kernel's threads).
 */
import { createReadStream, statSync } from "node:fs";
import { createServer, type Server } from "node:http";
import path from "node:path";

export interface StaticServer {
  /** Base URL, e.g. http://127.0.0.1:41234/ */
  url: string;
  port: number;
  close(): Promise<void>;
}

export interface StaticServerOptions {
  /** URL prefix ("/", "/dist/") → folder. The longest matching prefix wins. */
  mounts: Record<string, string>;
  /** Send COOP/COEP (default true). */
  isolated?: boolean;
  /** 0 (default) picks a free port. */
  port?: number;
}

const TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".mjs": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".json": "application/json",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".wasm": "application/wasm",
  ".map": "application/json",
  ".ts": "text/plain; charset=utf-8",
};

/** The isolation headers (also written as a `_headers` file for static hosts that read one). */
export const ISOLATION_HEADERS: Record<string, string> = {
  "Cross-Origin-Opener-Policy": "same-origin",
  "Cross-Origin-Embedder-Policy": "require-corp",
  "Cross-Origin-Resource-Policy": "same-origin",
};

function resolve(mounts: [string, string][], urlPath: string): string | null {
  for (const [prefix, dir] of mounts) {
    if (!urlPath.startsWith(prefix)) continue;
    const rel = decodeURIComponent(urlPath.slice(prefix.length));
    const file = path.resolve(dir, `.${path.posix.sep}${rel}`);
    if (file !== dir && !file.startsWith(dir + path.sep)) return null;
    try {
      const st = statSync(file);
      if (st.isDirectory()) {
        const index = path.join(file, "index.html");
        return statSync(index).isFile() ? index : null;
      }
      return st.isFile() ? file : null;
    } catch {
      return null;
    }
  }
  return null;
}

export function serveStatic(options: StaticServerOptions): Promise<StaticServer> {
  const mounts = Object.entries(options.mounts)
    .map(([p, d]) => [p.endsWith("/") ? p : `${p}/`, path.resolve(d)] as [string, string])
    .sort((a, b) => b[0].length - a[0].length);
  const isolated = options.isolated ?? true;
  const server: Server = createServer((req, res) => {
    const urlPath = new URL(req.url ?? "/", "http://127.0.0.1").pathname;
    const file = req.method === "GET" || req.method === "HEAD" ? resolve(mounts, urlPath) : null;
    const headers: Record<string, string> = { "Cache-Control": "no-store", ...(isolated ? ISOLATION_HEADERS : {}) };
    if (file === null) {
      res.writeHead(404, { ...headers, "Content-Type": "text/plain" });
      res.end(`not found: ${urlPath}\n`);
      return;
    }
    res.writeHead(200, { ...headers, "Content-Type": TYPES[path.extname(file)] ?? "application/octet-stream" });
    if (req.method === "HEAD") res.end();
    else createReadStream(file).pipe(res);
  });
  return new Promise((resolvePromise, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address !== null ? address.port : 0;
      resolvePromise({
        url: `http://127.0.0.1:${port}/`,
        port,
        close: () =>
          new Promise<void>((r) => {
            server.closeAllConnections();
            server.close(() => r());
          }),
      });
    });
  });
}
