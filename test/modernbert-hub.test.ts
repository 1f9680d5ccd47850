/**
 * loadModel("owner/name") of a ModernBERT embedding model from the tests' local Hub
 * (127.0.0.1): config.json picks the architecture, and sentence-transformers' modules.json and
 * 1_Pooling/config.json (asked for because the ModernBERT entry lists them) decide the pooling,
 * as for Alibaba-NLP/gte-modernbert-base (CLS + Normalize). A second load makes no request.
 */
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { fetchModelFiles, fetchModelFilesFromCacheApi } from "../src/hub/index.js";
import { loadModel } from "../src/models/index.js";
import { ModernBertModel } from "../src/models/modernbert/index.js";
import { isolateHfEnvironment } from "./hub-env.js";
import { type HubServer, startHubServer } from "./hub-server.js";
import { mbDir, mbInts } from "./modernbert-case.js";

let tmp = "";
let hub: HubServer;
const ST = "sentence_transformers.models.";

beforeAll(async () => {
  tmp = mkdtempSync(path.join(os.tmpdir(), "sa-mb-hub-"));
  const repo = path.join(tmp, "gte");
  mkdirSync(path.join(repo, "1_Pooling"), { recursive: true });
  const config = JSON.parse(
    (await import("node:fs")).readFileSync(path.join(mbDir(), "config.json"), "utf8"),
  ) as Record<string, unknown>;
  writeFileSync(path.join(repo, "config.json"), JSON.stringify({ ...config, architectures: ["ModernBertModel"] }));
  copyFileSync(path.join(mbDir(), "model.safetensors"), path.join(repo, "model.safetensors"));
  writeFileSync(
    path.join(repo, "modules.json"),
    JSON.stringify([
      { idx: 0, name: "0", path: "", type: `${ST}Transformer` },
      { idx: 1, name: "1", path: "1_Pooling", type: `${ST}Pooling` },
      { idx: 2, name: "2", path: "2_Normalize", type: `${ST}Normalize` },
    ]),
  );
  writeFileSync(
    path.join(repo, "1_Pooling", "config.json"),
    JSON.stringify({ word_embedding_dimension: 64, pooling_mode_cls_token: true, pooling_mode_mean_tokens: false }),
  );
  hub = await startHubServer({ repos: { "test/gte_tiny": repo } });
});
afterAll(async () => {
  await hub.close();
  rmSync(tmp, { recursive: true, force: true });
  vi.unstubAllEnvs();
});

describe("ModernBERT from the Hub", () => {
  it("an embedding model's pooling comes from its sentence-transformers files", async () => {
    isolateHfEnvironment(path.join(tmp, "home"));
    const cacheDir = path.join(tmp, "cache");
    const m = (await loadModel("test/gte_tiny", { hubUrl: hub.url, cacheDir })) as ModernBertModel;
    expect(m).toBeInstanceOf(ModernBertModel);
    expect(m.headKind).toBeNull();
    expect(m.sentencePooling).toEqual({ mode: "cls", normalize: true, source: "modules.json" });
    const paths = hub.requests.map((r) => r.path);
    expect(paths.some((p) => p.endsWith("/modules.json"))).toBe(true);
    expect(paths.some((p) => p.endsWith("/1_Pooling/config.json"))).toBe(true);
    const e = await m.embed({ inputIds: mbInts("c_input_ids") }, { backend: "wasm" });
    expect(Math.hypot(...e.embeddings.data)).toBeCloseTo(1, 6);
    hub.requests.length = 0;
    await loadModel("test/gte_tiny", { hubUrl: hub.url, cacheDir });
    expect(hub.requests.length).toBe(0);
  });

  it("fetchModelFiles returns the optional files validateConfig names, on Node's path and the browser's (fetch + Cache API)", async () => {
    isolateHfEnvironment(path.join(tmp, "home2"));
    const want = ["modules.json", "1_Pooling/config.json", "2_Normalize/config.json"]; // the last one the repo lacks: a 404, no error
    const options = { hubUrl: hub.url, cacheDir: path.join(tmp, "cache2"), validateConfig: () => want };
    const node = await fetchModelFiles("test/gte_tiny", options);
    expect(Object.keys(node.extra ?? {})).toEqual(["modules.json", "1_Pooling/config.json"]);
    expect(node.extra?.["1_Pooling/config.json"]).toMatchObject({ pooling_mode_cls_token: true });
    // an in-memory Cache API (match returns a copy, as a browser's does)
    const memoryStorage = () => {
      const entries = new Map<string, Response>();
      const cache = {
        match: async (k: RequestInfo | URL) => entries.get(String(k))?.clone(),
        put: async (k: RequestInfo | URL, r: Response) => void entries.set(String(k), r.clone()),
      };
      return { open: async () => cache } as unknown as CacheStorage;
    };
    const storage = memoryStorage();
    const browser = await fetchModelFilesFromCacheApi("test/gte_tiny", options, storage);
    expect(browser.extra).toEqual(node.extra);
    // no validateConfig, no extra files asked for
    hub.requests.length = 0;
    const bare = await fetchModelFilesFromCacheApi("test/gte_tiny", { hubUrl: hub.url }, memoryStorage());
    expect(bare.extra).toBeUndefined();
    expect(hub.requests.some((r) => r.path.endsWith("config.json"))).toBe(true);
    expect(hub.requests.some((r) => r.path.endsWith("modules.json"))).toBe(false);
  });
});
