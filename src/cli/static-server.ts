/**
 * A small static file server on 127.0.0.1 for the explorer and the browser tests. URL
 * prefixes map to folders; with `isolated` every response carries the headers that make a
 * page cross-origin isolated (COOP same-origin + COEP require-corp), which browsers require
 * before they expose SharedArrayBuffer (and so the wasm kernel's threads).
 */
import { createReadStream, statSync } from "node:fs";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import path from "node:path";
import { forbiddenPathChar } from "../util/names.js";

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

/** A request path that names no file: 400 Bad Request, not 404 (a malformed URL, a NUL, a backslash). */
class BadPath extends Error {}

function resolve(mounts: [string, string][], urlPath: string): string | null {
  for (const [prefix, dir] of mounts) {
    if (!urlPath.startsWith(prefix)) continue;
    let rel: string;
    try {
      rel = decodeURIComponent(urlPath.slice(prefix.length));
    } catch {
      throw new BadPath("malformed percent-encoding");
    }
    // NUL and control characters, and `\` (a separator on Windows); a colon is a file name character here
    const bad = forbiddenPathChar(rel, true);
    if (bad !== null) throw new BadPath(`the path holds ${bad}`);
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

/** True for a Host header naming the loopback interface (any port), or no Host (HTTP/1.0). */
export function localHost(host: string | undefined): boolean {
  if (host === undefined) return true;
  const name = host.startsWith("[") ? host.slice(0, host.indexOf("]") + 1) : host.replace(/:\d*$/, "");
  return name === "127.0.0.1" || name === "localhost" || name === "[::1]";
}

function handle(mounts: [string, string][], isolated: boolean, req: IncomingMessage, res: ServerResponse): void {
  const headers: Record<string, string> = {
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
    ...(isolated ? ISOLATION_HEADERS : {}),
  };
  const answer = (status: number, text: string) => {
    res.writeHead(status, { ...headers, "Content-Type": "text/plain; charset=utf-8" });
    res.end(`${text}\n`);
  };
  if (!localHost(req.headers.host)) {
    // DNS rebinding: a page on evil.example whose name now resolves to 127.0.0.1 sends its own
    // name as Host; only requests addressed to this machine by a loopback name are served.
    answer(403, "forbidden: this server answers only requests addressed to 127.0.0.1 or localhost");
    return;
  }
  if (req.method !== "GET" && req.method !== "HEAD") {
    res.setHeader("Allow", "GET, HEAD");
    answer(405, "method not allowed: this server only reads files");
    return;
  }
  let urlPath: string;
  let file: string | null;
  try {
    urlPath = new URL(req.url ?? "/", "http://127.0.0.1").pathname;
    file = resolve(mounts, urlPath);
  } catch (e) {
    // the request's text is not echoed back: a page that sent it learns nothing from the answer
    answer(400, `bad request: ${e instanceof BadPath ? e.message : "a malformed URL"}`);
    return;
  }
  if (file === null) {
    answer(404, "not found");
    return;
  }
  res.writeHead(200, { ...headers, "Content-Type": TYPES[path.extname(file)] ?? "application/octet-stream" });
  if (req.method === "HEAD") {
    res.end();
    return;
  }
  const stream = createReadStream(file);
  stream.on("error", () => res.destroy()); // the file vanished between stat and read
  stream.pipe(res);
}

export function serveStatic(options: StaticServerOptions): Promise<StaticServer> {
  const mounts = Object.entries(options.mounts)
    .map(([p, d]) => [p.endsWith("/") ? p : `${p}/`, path.resolve(d)] as [string, string])
    .sort((a, b) => b[0].length - a[0].length);
  const isolated = options.isolated ?? true;
  const server: Server = createServer((req, res) => {
    // No request may end the server: every failure below is an answer, never a throw.
    try {
      handle(mounts, isolated, req, res);
    } catch {
      if (!res.headersSent) res.writeHead(500, { "Content-Type": "text/plain", "Cache-Control": "no-store" });
      res.end();
    }
  });
  // A malformed request line or headers: Node answers 400 itself and closes the socket; a socket
  // error (the client went away) is that client's problem, not the server's.
  server.on("clientError", (_err, socket) => {
    if (socket.writable) socket.end("HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n");
    else socket.destroy();
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
