/**
 * A local stand-in for the Hugging Face Hub on 127.0.0.1 (random port), serving folders as
 * repositories with the Hub's URL layout and headers:
 *  - GET /<owner>/<name>/resolve/<revision>/<file>: JSON files answered directly with
 *    `ETag` = git blob sha1 and `X-Repo-Commit`; `.safetensors` and `.bin` files answered by a 302 to
 *    http://localhost:<another port>/lfs/<owner>/<name>/<sha256> (another host, like the Hub's CDN) with
 *    `X-Linked-Etag` = sha256 and `X-Linked-Size`, as the Hub does for LFS files;
 *    `Content-Length` everywhere.
 *  - revisions: "main" or the repo's commit; `revisions` adds named ones (a branch, tag, "refs/pr/N",
 *    which arrives URL-encoded as one segment), each with its own commit.
 *  - 404 with `X-Error-Code: RepositoryNotFound` / `RevisionNotFound` / `EntryNotFound`.
 *  - a repository with a token: 401 without `Authorization`, 403 with a wrong one.
 *  - `cors`: CORS headers on every answer, as huggingface.co sends them, for pages of another origin.
 *  - `dropOnce`: the next download of that file sends `afterBytes` bytes then destroys the socket;
 *    `stallOnce`: it sends them and then nothing, keeping the socket open.
 * Every request is recorded (method, path, authorization).
 */
import { createHash } from "node:crypto";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";

export interface RecordedRequest {
  method: string;
  path: string;
  authorization: string | undefined;
}

export interface HubServer {
  url: string;
  requests: RecordedRequest[];
  /** repo id → the commit hash it serves. */
  commitOf(repoId: string): string;
  dropOnce: { file: string; afterBytes: number } | null;
  /** The next download of that file sends `afterBytes` bytes (none, not even headers, when < 0) and then nothing. */
  stallOnce: { file: string; afterBytes: number } | null;
  close(): Promise<void>;
}

export interface HubServerOptions {
  /** repo id ("owner/name") → folder holding its files. */
  repos: Record<string, string>;
  /** repo id → the token it requires. */
  tokens?: Record<string, string>;
  /** repo id → other revisions (a branch, tag or "refs/pr/N") → folder; each gets its own commit. */
  revisions?: Record<string, Record<string, string>>;
  /**
   * Answer a web page of another origin as huggingface.co does (CORS: any origin, the Hub's
   * headers exposed), so a browser test can fetch from it.
   */
  cors?: boolean;
}

/** The headers a page may read on a CORS answer (the ones the Hub client reads). */
const CORS_EXPOSED = "etag, x-repo-commit, x-linked-etag, x-linked-size, x-error-code, content-length, location";

const sha256 = (b: Uint8Array) => createHash("sha256").update(b).digest("hex");
const gitSha1 = (b: Uint8Array) => createHash("sha1").update(`blob ${b.byteLength}\0`).update(b).digest("hex");

export async function startHubServer(options: HubServerOptions): Promise<HubServer> {
  const commitOf = (repo: string) => createHash("sha1").update(`commit of ${repo}`).digest("hex");
  /** The folder and commit a revision of a repo serves, or null when the Hub would say RevisionNotFound. */
  const revisionOf = (repo: string, revision: string): { folder: string; commit: string } | null => {
    if (revision === "main" || revision === commitOf(repo))
      return { folder: options.repos[repo], commit: commitOf(repo) };
    for (const [name, folder] of Object.entries(options.revisions?.[repo] ?? {})) {
      const commit = commitOf(`${repo}@${name}`);
      if (revision === name || revision === commit) return { folder, commit };
    }
    return null;
  };
  const readRepoFile = (folder: string, file: string): Buffer | null => {
    if (file.split("/").includes("..")) return null;
    try {
      return readFileSync(path.join(folder, file));
    } catch {
      return null;
    }
  };
  const sendBody = (res: http.ServerResponse, file: string, body: Buffer, headers: Record<string, string>) => {
    const stall = server.stallOnce;
    if (stall && stall.file === file) {
      server.stallOnce = null;
      if (stall.afterBytes >= 0) {
        res.writeHead(200, { ...headers, "content-length": String(body.byteLength) });
        res.write(body.subarray(0, stall.afterBytes));
      }
      return; // the socket stays open; close() ends it
    }
    res.writeHead(200, { ...headers, "content-length": String(body.byteLength) });
    const drop = server.dropOnce;
    if (drop && drop.file === file) {
      server.dropOnce = null;
      res.write(body.subarray(0, drop.afterBytes), () => res.socket?.destroy());
      return;
    }
    res.end(body);
  };
  const fail = (res: http.ServerResponse, status: number, errorCode: string | null, message: string) => {
    res.writeHead(status, { "content-type": "text/plain", ...(errorCode ? { "x-error-code": errorCode } : {}) });
    res.end(message);
  };

  const handler = (req: http.IncomingMessage, res: http.ServerResponse) => {
    const url = new URL(req.url ?? "/", "http://127.0.0.1");
    const parts = url.pathname.split("/").slice(1).map(decodeURIComponent);
    server.requests.push({ method: req.method ?? "", path: url.pathname, authorization: req.headers.authorization });
    if (options.cors) {
      res.setHeader("access-control-allow-origin", "*");
      res.setHeader("access-control-expose-headers", CORS_EXPOSED);
      if (req.method === "OPTIONS") {
        res.writeHead(204, {
          "access-control-allow-headers": "authorization",
          "access-control-allow-methods": "GET, HEAD",
        });
        return res.end();
      }
    }
    if (parts[0] === "lfs" && parts.length === 4) {
      const repo = `${parts[1]}/${parts[2]}`;
      const hash = parts[3];
      const folders = [options.repos[repo], ...Object.values(options.revisions?.[repo] ?? {})].filter(Boolean);
      for (const folder of folders) {
        for (const file of ["model.safetensors", "pytorch_model.bin", ...shardFiles(folder)]) {
          const body = readRepoFile(folder, file);
          if (body && sha256(body) === hash) return sendBody(res, file, body, { etag: `"${hash}"` });
        }
      }
      return fail(res, 404, null, "no such blob");
    }
    const at = parts.indexOf("resolve");
    if (at !== 2 || parts.length < 5) return fail(res, 404, null, "not a resolve URL");
    const repo = `${parts[0]}/${parts[1]}`;
    const revision = parts[3];
    const file = parts.slice(4).join("/");
    if (!options.repos[repo]) return fail(res, 404, "RepositoryNotFound", "Repository not found");
    const token = options.tokens?.[repo];
    if (token && !req.headers.authorization) return fail(res, 401, "GatedRepo", "Access to this model is restricted");
    if (token && req.headers.authorization !== `Bearer ${token}`) {
      return fail(res, 403, "GatedRepo", "Your token has no access to this model");
    }
    const served = revisionOf(repo, revision);
    if (served === null) return fail(res, 404, "RevisionNotFound", "Invalid rev id");
    const commit = served.commit;
    const body = readRepoFile(served.folder, file);
    if (!body) {
      // The Hub names the commit on a missing file too; huggingface_hub then records it in .no_exist.
      res.writeHead(404, { "content-type": "text/plain", "x-error-code": "EntryNotFound", "x-repo-commit": commit });
      return res.end("Entry not found");
    }
    if (file.endsWith(".safetensors") || file.endsWith(".bin")) {
      const hash = sha256(body);
      res.writeHead(302, {
        location: `${cdnUrl}/lfs/${repo}/${hash}`,
        "x-repo-commit": commit,
        "x-linked-etag": `"${hash}"`,
        "x-linked-size": String(body.byteLength),
        "content-length": "0",
      });
      return res.end();
    }
    sendBody(res, file, body, { etag: `"${gitSha1(body)}"`, "x-repo-commit": commit });
  };

  // The LFS redirect goes to another host name ("localhost", not "127.0.0.1"), as the Hub's goes
  // to its CDN: huggingface_hub compares host names to decide that a redirect leaves the Hub.
  const httpServer = http.createServer(handler);
  const cdnServer = http.createServer(handler);
  await new Promise<void>((resolve) => httpServer.listen(0, "127.0.0.1", resolve));
  await new Promise<void>((resolve) => cdnServer.listen(0, "localhost", resolve));
  const { port } = httpServer.address() as AddressInfo;
  const cdnUrl = `http://localhost:${(cdnServer.address() as AddressInfo).port}`;
  const server: HubServer = {
    url: `http://127.0.0.1:${port}`,
    requests: [],
    commitOf,
    dropOnce: null,
    stallOnce: null,
    close: async () => {
      for (const s of [httpServer, cdnServer]) {
        s.closeAllConnections();
        await new Promise<void>((resolve) => s.close(() => resolve()));
      }
    },
  };
  return server;
}

function shardFiles(folder: string): string[] {
  const out: string[] = [];
  for (const name of ["model.safetensors.index.json", "pytorch_model.bin.index.json"]) {
    try {
      const index = JSON.parse(readFileSync(path.join(folder, name), "utf8"));
      out.push(...new Set(Object.values(index.weight_map as Record<string, string>)));
    } catch {
      // no such index
    }
  }
  return out;
}

/** A port nothing listens on (opened, then closed). */
export async function closedPort(): Promise<number> {
  const s = http.createServer();
  await new Promise<void>((resolve) => s.listen(0, "127.0.0.1", resolve));
  const { port } = s.address() as AddressInfo;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}

/**
 * Writes `model.safetensors` of `src` as two valid safetensors shards plus
 * `model.safetensors.index.json` into `dst` (the tensors split in two halves, each shard's
 * offsets recomputed), as `save_pretrained(max_shard_size=…)` lays them out.
 */
export function writeShards(src: string, dst: string): string[] {
  const bytes = readFileSync(path.join(src, "model.safetensors"));
  const headerLength = Number(bytes.readBigUInt64LE(0));
  const header = JSON.parse(bytes.subarray(8, 8 + headerLength).toString("utf8")) as Record<
    string,
    { dtype: string; shape: number[]; data_offsets: [number, number] }
  >;
  const names = Object.keys(header).filter((n) => n !== "__metadata__");
  const halves = [names.slice(0, names.length >> 1), names.slice(names.length >> 1)];
  const files = halves.map((_, i) => `model-0000${i + 1}-of-00002.safetensors`);
  const weightMap: Record<string, string> = {};
  halves.forEach((group, i) => {
    const shardHeader: Record<string, unknown> = { __metadata__: { format: "pt" } };
    const parts: Buffer[] = [];
    let offset = 0;
    for (const name of group) {
      const [a, b] = header[name].data_offsets;
      const data = bytes.subarray(8 + headerLength + a, 8 + headerLength + b);
      shardHeader[name] = {
        dtype: header[name].dtype,
        shape: header[name].shape,
        data_offsets: [offset, offset + data.byteLength],
      };
      parts.push(data);
      offset += data.byteLength;
      weightMap[name] = files[i];
    }
    const json = Buffer.from(JSON.stringify(shardHeader), "utf8");
    const length = Buffer.alloc(8);
    length.writeBigUInt64LE(BigInt(json.byteLength));
    writeFileSync(path.join(dst, files[i]), Buffer.concat([length, json, ...parts]));
  });
  const index = { metadata: { total_size: bytes.byteLength - 8 - headerLength }, weight_map: weightMap };
  writeFileSync(path.join(dst, "model.safetensors.index.json"), JSON.stringify(index, null, 2));
  return files;
}

export const SHARED_HF = path.resolve(__dirname, "../../shared/models/hf");

/**
 * The repositories the hub tests serve: the two shared checkpoints as they are, and, made in
 * `tmp`, a sharded copy of longformer_tiny, a copy with tokenizer files, and one whose
 * config.json names a model type this library does not run.
 */
export function fixtureRepos(tmp: string): Record<string, string> {
  const longformer = path.join(SHARED_HF, "longformer_tiny");
  const config = readFileSync(path.join(longformer, "config.json"));
  const make = (name: string, files: Record<string, Buffer | string>) => {
    const dir = path.join(tmp, name);
    mkdirSync(dir, { recursive: true });
    for (const [file, body] of Object.entries(files)) writeFileSync(path.join(dir, file), body);
    return dir;
  };
  const weights = readFileSync(path.join(longformer, "model.safetensors"));
  const sharded = make("sharded", { "config.json": config });
  writeShards(longformer, sharded);
  const tokenizer = { version: "1.0", model: { type: "BPE", vocab: { "<s>": 0, "<pad>": 1, "</s>": 2 }, merges: [] } };
  const tokenizerConfig = { model_max_length: 1024, pad_token: "<pad>" };
  const gpt2 = { ...JSON.parse(config.toString("utf8")), model_type: "gpt2", architectures: ["GPT2Model"] };
  return {
    "test/longformer_tiny": longformer,
    "test/bigbird_tiny": path.join(SHARED_HF, "bigbird_tiny"),
    "test/sharded_tiny": sharded,
    "test/with_tokenizer": make("with_tokenizer", {
      "config.json": config,
      "model.safetensors": weights,
      "tokenizer.json": JSON.stringify(tokenizer),
      "tokenizer_config.json": JSON.stringify(tokenizerConfig),
    }),
    "test/gpt2_tiny": make("gpt2_tiny", { "config.json": JSON.stringify(gpt2), "model.safetensors": weights }),
  };
}
