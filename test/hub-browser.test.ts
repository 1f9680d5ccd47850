/**
 * The browser path (fetch + Cache API) run in Node against the local Hub, with an in-memory
 * CacheStorage that keeps Response objects as a browser's does (match returns a copy).
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import { BROWSER_CACHE_NAME, fetchModelFilesFromCacheApi, HubError } from "../src/hub/index.js";
import { isolateHfEnvironment } from "./hub-env.js";
import { fixtureRepos, type HubServer, startHubServer } from "./hub-server.js";

class MemoryCache {
  readonly entries = new Map<string, Response>();
  async match(key: RequestInfo | URL): Promise<Response | undefined> {
    return this.entries.get(String(key))?.clone();
  }
  async put(key: RequestInfo | URL, response: Response): Promise<void> {
    if (response.status === 206) throw new TypeError("Cache.put: partial response");
    this.entries.set(String(key), response.clone());
  }
}

class MemoryCacheStorage {
  readonly opened = new Map<string, MemoryCache>();
  async open(name: string): Promise<MemoryCache> {
    let cache = this.opened.get(name);
    if (!cache) {
      cache = new MemoryCache();
      this.opened.set(name, cache);
    }
    return cache;
  }
}

let tmp = "";
let repos: Record<string, string> = {};
let hub: HubServer;
let storage: MemoryCacheStorage;
const asStorage = (s: MemoryCacheStorage) => s as unknown as CacheStorage; // the subset fetchModelFiles uses

beforeAll(async () => {
  tmp = mkdtempSync(path.join(os.tmpdir(), "sa-hub-browser-"));
  repos = fixtureRepos(path.join(tmp, "repos"));
  hub = await startHubServer({ repos });
});
afterAll(async () => {
  await hub?.close();
  rmSync(tmp, { recursive: true, force: true });
});
beforeEach(() => {
  storage = new MemoryCacheStorage();
  hub.requests.length = 0;
  hub.dropOnce = null;
  isolateHfEnvironment(path.join(tmp, "home"));
  return () => vi.unstubAllEnvs();
});

const shared = (repo: string, file: string) => readFileSync(path.join(repos[repo], file));
/** A browser's fetch: redirects followed by the host, the 302's own headers never seen. */
const browserFetch: typeof fetch = (url, init) => fetch(url, { ...init, redirect: "follow" });

describe("browser: fetch + Cache API", () => {
  it("first load fetches and stores; a second load makes no request", async () => {
    const options = { hubUrl: hub.url, fetch: browserFetch };
    const files = await fetchModelFilesFromCacheApi("test/longformer_tiny", options, asStorage(storage));
    expect(Buffer.from(files.weights as Uint8Array).equals(shared("test/longformer_tiny", "model.safetensors"))).toBe(
      true,
    );
    expect(files.config).toEqual(JSON.parse(shared("test/longformer_tiny", "config.json").toString("utf8")));
    expect(files.tokenizer).toBeUndefined();
    expect(files.folder).toBeUndefined();
    expect(storage.opened.has(BROWSER_CACHE_NAME)).toBe(true);
    const count = hub.requests.length;
    const again = await fetchModelFilesFromCacheApi("test/longformer_tiny", options, asStorage(storage));
    expect(hub.requests.length).toBe(count);
    expect(Buffer.from(again.weights as Uint8Array).equals(shared("test/longformer_tiny", "model.safetensors"))).toBe(
      true,
    );
  });

  it("offline: a hit needs no network, a miss names the file", async () => {
    const miss = await fetchModelFilesFromCacheApi(
      "test/bigbird_tiny",
      { hubUrl: hub.url, offline: true },
      asStorage(storage),
    ).catch((e) => e);
    expect(miss).toBeInstanceOf(HubError);
    expect(miss.code).toBe("offline-missing");
    expect(miss.message).toContain("config.json");
    expect(hub.requests.length).toBe(0);
    await fetchModelFilesFromCacheApi("test/bigbird_tiny", { hubUrl: hub.url }, asStorage(storage));
    const noNetwork = vi.fn(() => Promise.reject(new Error("the network was touched")));
    const hit = await fetchModelFilesFromCacheApi(
      "test/bigbird_tiny",
      { hubUrl: hub.url, offline: true, fetch: noNetwork },
      asStorage(storage),
    );
    expect(noNetwork).not.toHaveBeenCalled();
    expect(Buffer.from(hit.weights as Uint8Array).equals(shared("test/bigbird_tiny", "model.safetensors"))).toBe(true);
  });

  it("an interrupted download stores nothing; the next try succeeds", async () => {
    hub.dropOnce = { file: "model.safetensors", afterBytes: 10_000 };
    const err = await fetchModelFilesFromCacheApi(
      "test/longformer_tiny",
      { hubUrl: hub.url, fetch: browserFetch },
      asStorage(storage),
    ).catch((e) => e);
    expect(err).toBeInstanceOf(HubError);
    expect(err.code).toBe("interrupted");
    const cache = await storage.open(BROWSER_CACHE_NAME);
    expect([...cache.entries.keys()].some((k) => k.endsWith("/model.safetensors"))).toBe(false);
    const files = await fetchModelFilesFromCacheApi(
      "test/longformer_tiny",
      { hubUrl: hub.url, fetch: browserFetch },
      asStorage(storage),
    );
    expect(Buffer.from(files.weights as Uint8Array).equals(shared("test/longformer_tiny", "model.safetensors"))).toBe(
      true,
    );
  });

  it("shards and tokenizer files", async () => {
    const sharded = await fetchModelFilesFromCacheApi("test/sharded_tiny", { hubUrl: hub.url }, asStorage(storage));
    const names = ["model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors"];
    const shards = sharded.weights as Uint8Array[];
    expect(shards.length).toBe(2);
    expect(shards.map((w, i) => Buffer.from(w).equals(shared("test/sharded_tiny", names[i])))).toEqual([true, true]);
    const tok = await fetchModelFilesFromCacheApi("test/with_tokenizer", { hubUrl: hub.url }, asStorage(storage));
    expect(tok.tokenizer).toEqual(JSON.parse(shared("test/with_tokenizer", "tokenizer.json").toString("utf8")));
    expect(tok.tokenizerConfig).toEqual(
      JSON.parse(shared("test/with_tokenizer", "tokenizer_config.json").toString("utf8")),
    );
  });

  it("the model type is checked before any weights request", async () => {
    const refuse = () => {
      throw new Error("unsupported model_type");
    };
    await expect(
      fetchModelFilesFromCacheApi("test/gpt2_tiny", { hubUrl: hub.url, validateConfig: refuse }, asStorage(storage)),
    ).rejects.toThrow("unsupported model_type");
    expect(hub.requests.map((r) => r.path)).toEqual(["/test/gpt2_tiny/resolve/main/config.json"]);
  });

  it("no Node module is imported on the way: src/hub/*.ts import Node only as types", () => {
    const dir = path.join(__dirname, "../src/hub");
    const files = readdirSync(dir).filter((f) => f.endsWith(".ts") && !f.endsWith(".test.ts"));
    expect(files).toContain("browser.ts");
    for (const file of [...files.map((f) => path.join(dir, f)), path.join(__dirname, "../src/errors.ts")]) {
      const lines = readFileSync(file, "utf8").split("\n");
      const valueImports = lines.filter(
        (l) => /from "node:|require\(|import\("node:/.test(l) && !l.startsWith("import type"),
      );
      expect(valueImports, file).toEqual([]);
    }
  });

  it("fetch is called as a plain function (a browser's fetch throws 'Illegal invocation' as a method of another object)", async () => {
    const strict = function (this: unknown, url: RequestInfo | URL, init?: RequestInit) {
      if (this !== undefined && this !== globalThis) throw new TypeError("Illegal invocation");
      return browserFetch(url, init);
    } as typeof fetch;
    const files = await fetchModelFilesFromCacheApi(
      "test/bigbird_tiny",
      { hubUrl: hub.url, fetch: strict },
      asStorage(storage),
    );
    expect(Buffer.from(files.weights as Uint8Array).equals(shared("test/bigbird_tiny", "model.safetensors"))).toBe(
      true,
    );
  });
});
