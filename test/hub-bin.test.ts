/**
 * The Hub loader's weight fallback and revisions, against the local Hub (test/hub-server.ts):
 * a repository with only pytorch_model.bin on main (as allenai/longformer-base-4096) and
 * safetensors only on "refs/pr/3" (as the Hub's conversion bot leaves them); a sharded .bin
 * repository; the revision sent URL-encoded as one segment and cached under its commit.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { downloadModel, fetchModelFilesFromCacheApi } from "../src/hub/index.js";
import { loadModel } from "../src/models/index.js";
import { isolateHfEnvironment } from "./hub-env.js";
import { type HubServer, startHubServer } from "./hub-server.js";

const TASKS = path.resolve("../shared/models/tasks");
let tmp = "";
let hub: HubServer;

beforeAll(async () => {
  tmp = mkdtempSync(path.join(os.tmpdir(), "sa-hub-bin-"));
  hub = await startHubServer({
    repos: {
      "allenai/lf_tiny": path.join(TASKS, "longformer_mlm_bin"),
      "google/bb_sharded": path.join(TASKS, "bigbird_mlm_sharded"),
    },
    revisions: {
      "allenai/lf_tiny": {
        "refs/pr/3": path.join(TASKS, "longformer_mlm"),
        "v1.0": path.join(TASKS, "longformer_mlm_bin"),
      },
    },
  });
});
afterAll(async () => {
  await hub.close();
  rmSync(tmp, { recursive: true, force: true });
  vi.unstubAllEnvs();
});

const ids = (n: number, first: number, last: number) => ({
  data: Int32Array.from({ length: n }, (_, i) => (i === 0 ? first : i === n - 1 ? last : 5 + ((i * 37) % 900))),
  shape: [1, n] as [number, number],
});

function sameBits(a: Float32Array, b: Float32Array): boolean {
  const x = new Uint32Array(a.buffer, a.byteOffset, a.length);
  const y = new Uint32Array(b.buffer, b.byteOffset, b.length);
  return x.length === y.length && x.every((v, i) => v === y[i]);
}

describe("Hub: safetensors preferred, pytorch_model.bin as the fallback, revisions", () => {
  it("main has only pytorch_model.bin: asks for safetensors first, then loads the .bin (bitwise the same model)", async () => {
    isolateHfEnvironment(path.join(tmp, "home"));
    const cacheDir = path.join(tmp, "cache");
    hub.requests.length = 0;
    const model = await loadModel("allenai/lf_tiny", { hubUrl: hub.url, cacheDir });
    const files = hub.requests.filter((r) => r.path.includes("/resolve/")).map((r) => r.path.split("/").pop());
    expect(files.indexOf("model.safetensors")).toBeLessThan(files.indexOf("pytorch_model.bin"));
    expect(files).toContain("model.safetensors.index.json");
    const ref = await loadModel(path.join(TASKS, "longformer_mlm"));
    const input = { inputIds: ids(150, 0, 2) };
    const a = await model.forward(input, { backend: "js", threads: 1 });
    const b = await ref.forward(input, { backend: "js", threads: 1 });
    expect(sameBits(a.lastHiddenState.data, b.lastHiddenState.data)).toBe(true);
    // a second load, offline, makes no request and finds the .bin in the snapshot
    hub.requests.length = 0;
    await loadModel("allenai/lf_tiny", { hubUrl: hub.url, cacheDir, offline: true });
    expect(hub.requests.length).toBe(0);
  });

  it('revision "refs/pr/3": one URL-encoded segment, safetensors from that PR, cached under its own commit', async () => {
    isolateHfEnvironment(path.join(tmp, "home"));
    const cacheDir = path.join(tmp, "cache-pr");
    hub.requests.length = 0;
    const folder = await downloadModel("allenai/lf_tiny", { hubUrl: hub.url, cacheDir, revision: "refs/pr/3" });
    const paths = hub.requests.map((r) => r.path);
    expect(paths).toContain("/allenai/lf_tiny/resolve/refs%2Fpr%2F3/config.json");
    expect(paths.some((p) => p.endsWith("pytorch_model.bin"))).toBe(false);
    const commit = hub.commitOf("allenai/lf_tiny@refs/pr/3");
    const repoDir = path.join(cacheDir, "models--allenai--lf_tiny");
    expect(folder).toBe(path.join(repoDir, "snapshots", commit));
    expect(readFileSync(path.join(repoDir, "refs", "refs", "pr", "3"), "utf8")).toBe(commit);
    expect(existsSync(path.join(folder, "model.safetensors"))).toBe(true);
    // main in the same cache: another commit, the .bin
    const main = await downloadModel("allenai/lf_tiny", { hubUrl: hub.url, cacheDir });
    expect(main).toBe(path.join(repoDir, "snapshots", hub.commitOf("allenai/lf_tiny")));
    expect(existsSync(path.join(main, "pytorch_model.bin"))).toBe(true);
    // a tag, and the PR's commit hash as the revision, both resolve without confusion
    const tag = await downloadModel("allenai/lf_tiny", { hubUrl: hub.url, cacheDir, revision: "v1.0" });
    expect(tag).toBe(path.join(repoDir, "snapshots", hub.commitOf("allenai/lf_tiny@v1.0")));
    hub.requests.length = 0;
    const byCommit = await downloadModel("allenai/lf_tiny", { hubUrl: hub.url, cacheDir, revision: commit });
    expect(byCommit).toBe(folder);
    expect(hub.requests.length).toBe(0); // the snapshot is complete: nothing asked
    const pr = await loadModel("allenai/lf_tiny", { hubUrl: hub.url, cacheDir, revision: "refs/pr/3", offline: true });
    expect(pr.modelType).toBe("longformer");
  });

  it("a sharded .bin repository (pytorch_model.bin.index.json) loads every shard", async () => {
    isolateHfEnvironment(path.join(tmp, "home"));
    const cacheDir = path.join(tmp, "cache-sharded");
    const model = await loadModel("google/bb_sharded", { hubUrl: hub.url, cacheDir });
    const ref = await loadModel(path.join(TASKS, "bigbird_mlm"));
    const input = { inputIds: ids(200, 65, 66) };
    const a = await model.forward(input, { backend: "js", threads: 1 });
    const b = await ref.forward(input, { backend: "js", threads: 1 });
    expect(sameBits(a.lastHiddenState.data, b.lastHiddenState.data)).toBe(true);
    const shards = hub.requests.filter((r) => /pytorch_model-0000\d-of-00006\.bin$/.test(r.path));
    expect(new Set(shards.map((r) => r.path.split("/").pop())).size).toBe(6);
  });

  it("the browser path (fetch + Cache API) falls back to the .bin too, per revision", async () => {
    const entries = new Map<string, Response>();
    const cache = {
      match: async (k: RequestInfo | URL) => entries.get(String(k))?.clone(),
      put: async (k: RequestInfo | URL, r: Response) => void entries.set(String(k), r.clone()),
    };
    const storage = { open: async () => cache } as unknown as CacheStorage;
    const main = await fetchModelFilesFromCacheApi("allenai/lf_tiny", { hubUrl: hub.url }, storage);
    const bin = readFileSync(path.join(TASKS, "longformer_mlm_bin", "pytorch_model.bin"));
    expect(Buffer.compare(Buffer.from(main.weights as Uint8Array), bin)).toBe(0);
    const pr = await fetchModelFilesFromCacheApi(
      "allenai/lf_tiny",
      { hubUrl: hub.url, revision: "refs/pr/3" },
      storage,
    );
    const st = readFileSync(path.join(TASKS, "longformer_mlm", "model.safetensors"));
    expect(Buffer.compare(Buffer.from(pr.weights as Uint8Array), st)).toBe(0);
    const model = await loadModel({ config: main.config, weights: main.weights });
    expect(model.modelType).toBe("longformer");
  });

  it("revisions that are not ref names are refused before any request, naming the option", async () => {
    const cacheDir = path.join(tmp, "cache-bad");
    hub.requests.length = 0;
    for (const revision of ["refs/pr/../../x", "a b", "x\\y", "main?x=1", "-x", "refs//pr", ".hidden", "a%2Fb"]) {
      await expect(downloadModel("allenai/lf_tiny", { hubUrl: hub.url, cacheDir, revision }), revision).rejects.toThrow(
        /options\.revision: got .*expected a branch, tag, commit hash or pull request ref/,
      );
    }
    expect(hub.requests.length).toBe(0);
  });
});
