/**
 * A hostile front for the local Hub (test/hub-server.ts) on 127.0.0.1: every request is
 * proxied to the honest server unless `override` answers it (a lying ETag, an echoing 500, a
 * trickled body, a redirect to file:, …). Also the check that a cache holds only what the
 * honest repository serves.
 */
import { existsSync, lstatSync, readdirSync, readFileSync, statSync } from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { repoFolderName } from "../../src/hub/index.js";

export type Override = (
  req: http.IncomingMessage,
  res: http.ServerResponse,
  file: string,
) => boolean | Promise<boolean>;

export interface HostileHub {
  url: string;
  override: Override | null;
  requests: string[];
  close(): Promise<void>;
}

export async function startHostileHub(upstream: string): Promise<HostileHub> {
  const front: HostileHub = { url: "", override: null, requests: [], close: async () => {} };
  const server = http.createServer(async (req, res) => {
    const url = req.url ?? "/";
    front.requests.push(url);
    const parts = url.split("?")[0].split("/");
    const file = parts.length > 5 && parts[3] === "resolve" ? decodeURIComponent(parts.slice(5).join("/")) : "";
    try {
      if (front.override && (await front.override(req, res, file))) return;
      const r = await fetch(upstream + url, {
        redirect: "manual",
        headers: req.headers.authorization ? { authorization: req.headers.authorization } : {},
      });
      const body = Buffer.from(await r.arrayBuffer());
      const headers: Record<string, string> = {};
      r.headers.forEach((v, k) => {
        if (k !== "content-encoding" && k !== "transfer-encoding" && k !== "connection") headers[k] = v;
      });
      res.writeHead(r.status, headers);
      res.end(body);
    } catch {
      res.destroy();
    }
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  front.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  front.close = async () => {
    server.closeAllConnections();
    await new Promise<void>((r) => server.close(() => r()));
  };
  return front;
}

/**
 * Throws unless every entry under the repository's snapshots/ is a regular file (links
 * followed) equal byte for byte to the honest repository's file, blobs/ holds no temporary
 * file, and every blob is named by a hex digest. Returns the number of snapshot files.
 */
export function checkCache(cacheDir: string, repoId: string, repoFolder: string): number {
  const repoDir = path.join(cacheDir, repoFolderName(repoId));
  if (!existsSync(repoDir)) return 0;
  const blobs = path.join(repoDir, "blobs");
  if (existsSync(blobs)) {
    for (const b of readdirSync(blobs)) {
      if (!/^([0-9a-f]{40}|[0-9a-f]{64})$/.test(b))
        throw new Error(`blobs/${b}: not a digest (a temporary or a poisoned name)`);
    }
  }
  const snapshots = path.join(repoDir, "snapshots");
  if (!existsSync(snapshots)) return 0;
  let files = 0;
  const walk = (dir: string, rel: string[]) => {
    for (const name of readdirSync(dir)) {
      const full = path.join(dir, name);
      const st = lstatSync(full);
      if (st.isDirectory()) {
        walk(full, [...rel, name]);
        continue;
      }
      if (name.endsWith(".incomplete")) throw new Error(`${full}: a temporary link left behind`);
      if (!statSync(full).isFile()) throw new Error(`${full}: not a file`);
      const file = rel.slice(1).concat(name).join("/"); // rel[0] is the commit
      const honest = readFileSync(path.join(repoFolder, file));
      if (!honest.equals(readFileSync(full))) throw new Error(`${full}: differs from the repository's ${file}`);
      files++;
    }
  };
  walk(snapshots, []);
  return files;
}
