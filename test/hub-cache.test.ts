/**
 * downloadModel / fetchModelFiles in Node against a local Hub (test/hub-server.ts): the HF
 * cache layout, byte-equal files, a second load without requests, offline mode, an
 * interrupted download, shards, tokenizer files, and a cache made the way huggingface_hub makes it.
 */
import { createHash } from "node:crypto";
import {
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import { downloadModel, fetchModelFiles, HubError, type HubProgress, repoFolderName } from "../src/hub/index.js";
import { isolateHfEnvironment } from "./hub-env.js";
import { fixtureRepos, type HubServer, startHubServer } from "./hub-server.js";

let tmp = "";
let repos: Record<string, string> = {};
let hub: HubServer;
let cacheDir = "";

const sha256 = (b: Uint8Array) => createHash("sha256").update(b).digest("hex");

beforeAll(async () => {
  tmp = mkdtempSync(path.join(os.tmpdir(), "sa-hub-"));
  repos = fixtureRepos(path.join(tmp, "repos"));
  hub = await startHubServer({ repos });
});
afterAll(async () => {
  await hub?.close();
  rmSync(tmp, { recursive: true, force: true });
});
let caseNo = 0;
beforeEach(() => {
  caseNo += 1;
  cacheDir = path.join(tmp, `cache-${caseNo}`);
  isolateHfEnvironment(path.join(tmp, `home-${caseNo}`));
  hub.requests.length = 0;
  hub.dropOnce = null;
  return () => vi.unstubAllEnvs();
});

const sharedFile = (repo: string, file: string) => readFileSync(path.join(repos[repo], file));

describe("download into the Hugging Face cache layout", () => {
  it("writes refs/main, blobs named by ETag, snapshot links, .no_exist markers; files equal byte for byte", async () => {
    const progress: HubProgress[] = [];
    const folder = await downloadModel("test/longformer_tiny", {
      hubUrl: hub.url,
      cacheDir,
      onProgress: (p) => progress.push(p),
    });
    const repoDir = path.join(cacheDir, repoFolderName("test/longformer_tiny"));
    const commit = hub.commitOf("test/longformer_tiny");
    expect(folder).toBe(path.join(repoDir, "snapshots", commit));
    expect(readFileSync(path.join(repoDir, "refs", "main"), "utf8")).toBe(commit);
    for (const file of ["config.json", "model.safetensors"]) {
      const link = path.join(folder, file);
      expect(lstatSync(link).isSymbolicLink()).toBe(true);
      expect(readlinkSync(link).startsWith(`..${path.sep}..${path.sep}blobs${path.sep}`)).toBe(true);
      expect(readFileSync(link).equals(sharedFile("test/longformer_tiny", file))).toBe(true);
    }
    const weights = sharedFile("test/longformer_tiny", "model.safetensors");
    expect(existsSync(path.join(repoDir, "blobs", sha256(weights)))).toBe(true); // LFS: blob = sha256
    for (const absent of ["tokenizer.json", "tokenizer_config.json", "model.safetensors.index.json"]) {
      expect(existsSync(path.join(folder, absent))).toBe(false);
    }
    expect(existsSync(path.join(repoDir, ".no_exist", commit, "tokenizer.json"))).toBe(true);
    expect(readdirSync(path.join(repoDir, "blobs")).some((f) => f.endsWith(".incomplete"))).toBe(false);
    // the weights came through the Hub's 302 to the LFS path, without the token header there
    expect(hub.requests.some((r) => r.path.startsWith("/lfs/test/longformer_tiny/"))).toBe(true);
    const last = progress.filter((p) => p.file === "model.safetensors").at(-1)!;
    expect(last).toEqual({ file: "model.safetensors", loaded: weights.byteLength, total: weights.byteLength });
  });

  it("cache hit: a second load makes no request and gives the same folder", async () => {
    const first = await downloadModel("test/longformer_tiny", { hubUrl: hub.url, cacheDir });
    const count = hub.requests.length;
    expect(count).toBeGreaterThan(0);
    const second = await downloadModel("test/longformer_tiny", { hubUrl: hub.url, cacheDir });
    expect(second).toBe(first);
    expect(hub.requests.length).toBe(count);
    const files = await fetchModelFiles("test/longformer_tiny", { hubUrl: hub.url, cacheDir });
    expect(hub.requests.length).toBe(count);
    expect(
      Buffer.from(files.weights as Uint8Array).equals(sharedFile("test/longformer_tiny", "model.safetensors")),
    ).toBe(true);
    expect(files.config).toEqual(JSON.parse(sharedFile("test/longformer_tiny", "config.json").toString("utf8")));
    expect(files.folder).toBe(first);
    expect(files.tokenizer).toBeUndefined();
  });

  it("HF_HUB_CACHE and HF_ENDPOINT from the environment", async () => {
    vi.stubEnv("HF_HUB_CACHE", cacheDir);
    vi.stubEnv("HF_ENDPOINT", `${hub.url}/`);
    const folder = await downloadModel("test/bigbird_tiny");
    expect(folder.startsWith(path.join(cacheDir, "models--test--bigbird_tiny", "snapshots"))).toBe(true);
    expect(
      readFileSync(path.join(folder, "model.safetensors")).equals(sharedFile("test/bigbird_tiny", "model.safetensors")),
    ).toBe(true);
  });
});

describe("offline", () => {
  it("offline hit: loads from the cache with a fetch that must not be called", async () => {
    await downloadModel("test/longformer_tiny", { hubUrl: hub.url, cacheDir });
    const noNetwork = vi.fn(() => Promise.reject(new Error("the network was touched")));
    const files = await fetchModelFiles("test/longformer_tiny", {
      hubUrl: hub.url,
      cacheDir,
      offline: true,
      fetch: noNetwork,
    });
    expect(noNetwork).not.toHaveBeenCalled();
    expect(
      Buffer.from(files.weights as Uint8Array).equals(sharedFile("test/longformer_tiny", "model.safetensors")),
    ).toBe(true);
  });

  it("offline miss (HF_HUB_OFFLINE=1): no request, the error names the missing file", async () => {
    vi.stubEnv("HF_HUB_OFFLINE", "1");
    const err = await downloadModel("test/longformer_tiny", { hubUrl: hub.url, cacheDir }).catch((e) => e);
    expect(err).toBeInstanceOf(HubError);
    expect(err.code).toBe("offline-missing");
    expect(err.message).toContain("config.json");
    expect(err.message).toContain("test/longformer_tiny");
    expect(hub.requests.length).toBe(0);
  });

  it("offline with config cached but the weights gone names model.safetensors", async () => {
    const folder = await downloadModel("test/longformer_tiny", { hubUrl: hub.url, cacheDir });
    rmSync(path.join(folder, "model.safetensors"));
    const count = hub.requests.length;
    const err = await downloadModel("test/longformer_tiny", { hubUrl: hub.url, cacheDir, offline: true }).catch(
      (e) => e,
    );
    expect(err.code).toBe("offline-missing");
    expect(err.message).toContain("model.safetensors");
    expect(hub.requests.length).toBe(count);
    // online again, only the missing file is fetched
    await downloadModel("test/longformer_tiny", { hubUrl: hub.url, cacheDir });
    const fetched = hub.requests.slice(count).map((r) => r.path);
    expect(fetched.every((p) => p.includes("model.safetensors") || p.startsWith("/lfs/"))).toBe(true);
  });
});

describe("interrupted download", () => {
  it("the server drops the connection mid-file: an error, no file that looks valid, the next try succeeds", async () => {
    hub.dropOnce = { file: "model.safetensors", afterBytes: 100_000 };
    const err = await downloadModel("test/longformer_tiny", { hubUrl: hub.url, cacheDir }).catch((e) => e);
    expect(err).toBeInstanceOf(HubError);
    expect(err.code).toBe("interrupted");
    expect(err.message).toContain("model.safetensors");
    const repoDir = path.join(cacheDir, repoFolderName("test/longformer_tiny"));
    const commit = hub.commitOf("test/longformer_tiny");
    const weights = sharedFile("test/longformer_tiny", "model.safetensors");
    expect(existsSync(path.join(repoDir, "snapshots", commit, "model.safetensors"))).toBe(false);
    const blobs = readdirSync(path.join(repoDir, "blobs"));
    expect(blobs).not.toContain(sha256(weights));
    expect(blobs.some((f) => f.includes(".incomplete"))).toBe(false);
    // a load now would not find the weights offline
    const offline = await downloadModel("test/longformer_tiny", { hubUrl: hub.url, cacheDir, offline: true }).catch(
      (e) => e,
    );
    expect(offline.code).toBe("offline-missing");
    const folder = await downloadModel("test/longformer_tiny", { hubUrl: hub.url, cacheDir });
    expect(readFileSync(path.join(folder, "model.safetensors")).equals(weights)).toBe(true);
  });
});

describe("repository shapes", () => {
  it("sharded: the index and every shard, equal byte for byte; weights come back as an array in index order", async () => {
    const files = await fetchModelFiles("test/sharded_tiny", { hubUrl: hub.url, cacheDir });
    const index = JSON.parse(sharedFile("test/sharded_tiny", "model.safetensors.index.json").toString("utf8"));
    const shards = [...new Set(Object.values(index.weight_map as Record<string, string>))].sort();
    expect(shards.length).toBe(2);
    expect(Array.isArray(files.weights)).toBe(true);
    const got = files.weights as Uint8Array[];
    shards.forEach((shard, i) => {
      expect(Buffer.from(got[i]).equals(sharedFile("test/sharded_tiny", shard))).toBe(true);
    });
    expect(existsSync(path.join(files.folder!, "model.safetensors"))).toBe(false);
    const count = hub.requests.length;
    await fetchModelFiles("test/sharded_tiny", { hubUrl: hub.url, cacheDir });
    expect(hub.requests.length).toBe(count);
  });

  it("tokenizer.json and tokenizer_config.json when the repository has them", async () => {
    const files = await fetchModelFiles("test/with_tokenizer", { hubUrl: hub.url, cacheDir });
    expect(files.tokenizer).toEqual(JSON.parse(sharedFile("test/with_tokenizer", "tokenizer.json").toString("utf8")));
    expect(files.tokenizerConfig).toEqual(
      JSON.parse(sharedFile("test/with_tokenizer", "tokenizer_config.json").toString("utf8")),
    );
  });

  it("reuses a cache laid out as huggingface_hub lays it out (no request)", async () => {
    const repo = "test/with_tokenizer";
    const repoDir = path.join(cacheDir, "models--test--with_tokenizer");
    const commit = "0123456789abcdef0123456789abcdef01234567";
    mkdirSync(path.join(repoDir, "refs"), { recursive: true });
    mkdirSync(path.join(repoDir, "blobs"));
    mkdirSync(path.join(repoDir, "snapshots", commit), { recursive: true });
    writeFileSync(path.join(repoDir, "refs", "main"), commit);
    for (const file of ["config.json", "tokenizer.json", "tokenizer_config.json", "model.safetensors"]) {
      const body = sharedFile(repo, file);
      const etag = sha256(body);
      writeFileSync(path.join(repoDir, "blobs", etag), body);
      symlinkSync(path.join("..", "..", "blobs", etag), path.join(repoDir, "snapshots", commit, file));
    }
    const files = await fetchModelFiles(repo, { hubUrl: hub.url, cacheDir });
    expect(hub.requests.length).toBe(0);
    expect(files.folder).toBe(path.join(repoDir, "snapshots", commit));
    expect(Buffer.from(files.weights as Uint8Array).equals(sharedFile(repo, "model.safetensors"))).toBe(true);
  });

  it("a blob already in blobs/ is linked, its body not fetched again (no request to the CDN)", async () => {
    await downloadModel("test/longformer_tiny", { hubUrl: hub.url, cacheDir });
    const repoDir = path.join(cacheDir, repoFolderName("test/longformer_tiny"));
    rmSync(path.join(repoDir, "snapshots"), { recursive: true });
    rmSync(path.join(repoDir, "refs"), { recursive: true });
    hub.requests.length = 0;
    const folder = await downloadModel("test/longformer_tiny", { hubUrl: hub.url, cacheDir });
    expect(hub.requests.some((r) => r.path.includes("model.safetensors"))).toBe(true); // asked the Hub
    expect(hub.requests.some((r) => r.path.startsWith("/lfs/"))).toBe(false); // but not the CDN
    expect(
      readFileSync(path.join(folder, "model.safetensors")).equals(
        sharedFile("test/longformer_tiny", "model.safetensors"),
      ),
    ).toBe(true);
  });

  it("a revision given as a commit hash is used as the snapshot folder", async () => {
    const commit = hub.commitOf("test/bigbird_tiny");
    const folder = await downloadModel("test/bigbird_tiny", { hubUrl: hub.url, cacheDir, revision: commit });
    expect(path.basename(folder)).toBe(commit);
    expect(hub.requests.some((r) => r.path.includes(`/resolve/${commit}/config.json`))).toBe(true);
  });
});
