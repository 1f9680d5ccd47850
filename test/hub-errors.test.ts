/**
 * Errors a user understands, each against the local Hub (test/hub-server.ts): a model that
 * does not exist, a private / gated one (401 / 403, HF_TOKEN), an unsupported model type
 * refused before any weights request, no network, a full disk, bad arguments.
 */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import { AttentionArgumentError } from "../src/errors.js";
import { nodeHubFs, nodeModules } from "../src/hub/fs.js";
import {
  downloadModel,
  downloadModelWith,
  HubError,
  isRepoId,
  repoFolderName,
  resolveCacheDir,
} from "../src/hub/index.js";
import { isolateHfEnvironment } from "./hub-env.js";
import { closedPort, fixtureRepos, type HubServer, SHARED_HF, startHubServer } from "./hub-server.js";

let tmp = "";
let hub: HubServer;
let cacheDir = "";
const TOKEN = "hf_test_token_123";

beforeAll(async () => {
  tmp = mkdtempSync(path.join(os.tmpdir(), "sa-hub-err-"));
  const repos = fixtureRepos(path.join(tmp, "repos"));
  hub = await startHubServer({
    repos: { ...repos, "acme/private_tiny": repos["test/longformer_tiny"] },
    tokens: { "acme/private_tiny": TOKEN },
  });
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
  hub.stallOnce = null;
  return () => vi.unstubAllEnvs();
});

async function failure(p: Promise<unknown>): Promise<HubError> {
  const e = await p.then(
    () => null,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(HubError);
  return e as HubError;
}

describe("HTTP errors", () => {
  it("404: a model that does not exist", async () => {
    const e = await failure(downloadModel("test/no_such_model", { hubUrl: hub.url, cacheDir }));
    expect(e.code).toBe("not-found");
    expect(e.message).toContain("test/no_such_model");
    expect(e.message).toContain("does not exist");
  });

  it("404: a revision that does not exist", async () => {
    const e = await failure(downloadModel("test/longformer_tiny", { hubUrl: hub.url, cacheDir, revision: "v9" }));
    expect(e.code).toBe("not-found");
    expect(e.message).toContain('"v9"');
  });

  it("401 without a token mentions HF_TOKEN; nothing is left in the cache", async () => {
    const e = await failure(downloadModel("acme/private_tiny", { hubUrl: hub.url, cacheDir }));
    expect(e.code).toBe("unauthorized");
    expect(e.message).toContain("HF_TOKEN");
    expect(e.message).toContain("401");
    expect(hub.requests[0].authorization).toBeUndefined();
    expect(existsSync(path.join(cacheDir, repoFolderName("acme/private_tiny"), "snapshots"))).toBe(false);
  });

  it("403 with a token that has no access says the token was sent", async () => {
    vi.stubEnv("HF_TOKEN", "hf_wrong");
    const e = await failure(downloadModel("acme/private_tiny", { hubUrl: hub.url, cacheDir }));
    expect(e.code).toBe("unauthorized");
    expect(e.message).toContain("403");
    expect(e.message).toContain("HF_TOKEN");
    expect(e.message).toContain("token was sent");
    expect(hub.requests[0].authorization).toBe("Bearer hf_wrong");
  });

  it("HF_TOKEN is sent as a bearer token to the endpoint, not to the LFS redirect", async () => {
    vi.stubEnv("HF_TOKEN", TOKEN);
    const folder = await downloadModel("acme/private_tiny", { hubUrl: hub.url, cacheDir });
    expect(readdirSync(folder)).toContain("model.safetensors");
    const resolves = hub.requests.filter((r) => r.path.includes("/resolve/"));
    expect(resolves.length).toBeGreaterThan(0);
    expect(resolves.every((r) => r.authorization === `Bearer ${TOKEN}`)).toBe(true);
    const lfs = hub.requests.filter((r) => r.path.startsWith("/lfs/"));
    expect(lfs.length).toBe(1);
    expect(lfs[0].authorization).toBeUndefined(); // another origin: the token stays with the endpoint
  });

  it("without HF_TOKEN, the token file `hf auth login` writes (HF_HOME/token) is used", async () => {
    const home = path.join(tmp, `home-${caseNo}`);
    mkdirSync(home, { recursive: true });
    writeFileSync(path.join(home, "token"), `${TOKEN}\n`);
    await downloadModel("acme/private_tiny", { hubUrl: hub.url, cacheDir });
    expect(hub.requests[0].authorization).toBe(`Bearer ${TOKEN}`);
  });

  it("options.token wins over HF_TOKEN", async () => {
    vi.stubEnv("HF_TOKEN", "hf_wrong");
    await downloadModel("acme/private_tiny", { hubUrl: hub.url, cacheDir, token: TOKEN });
    expect(hub.requests[0].authorization).toBe(`Bearer ${TOKEN}`);
  });
});

describe("model type checked before the weights", () => {
  it("validateConfig refuses config.json: no weights request was made", async () => {
    const refuse = (config: unknown) => {
      const type = (config as { model_type?: string }).model_type;
      if (type !== "longformer" && type !== "big_bird") {
        throw new AttentionArgumentError("config.model_type", type, '"longformer" or "big_bird"');
      }
    };
    const err = await downloadModel("test/gpt2_tiny", { hubUrl: hub.url, cacheDir, validateConfig: refuse }).catch(
      (e) => e,
    );
    expect(err).toBeInstanceOf(AttentionArgumentError);
    expect(err.message).toContain('"gpt2"');
    expect(hub.requests.map((r) => r.path)).toEqual(["/test/gpt2_tiny/resolve/main/config.json"]);
    // the same function accepts a supported model
    await downloadModel("test/longformer_tiny", { hubUrl: hub.url, cacheDir, validateConfig: refuse });
  });
});

describe("network and disk", () => {
  it("connection refused: a network error that suggests offline mode", async () => {
    const port = await closedPort();
    const e = await failure(downloadModel("test/longformer_tiny", { hubUrl: `http://127.0.0.1:${port}`, cacheDir }));
    expect(e.code).toBe("network");
    expect(e.message).toContain("ECONNREFUSED");
    expect(e.message).toContain("offline");
  });

  it("full disk (a write that fails with ENOSPC): a disk-full error, no partial file, the next try succeeds", async () => {
    const m = nodeModules()!;
    const real = nodeHubFs(m);
    const full = {
      ...real,
      async createWriter(file: string) {
        const w = await real.createWriter(file);
        let written = 0;
        return {
          async write(chunk: Uint8Array) {
            written += chunk.byteLength;
            if (written > 50_000)
              throw Object.assign(new Error("ENOSPC: no space left on device, write"), { code: "ENOSPC" });
            await w.write(chunk);
          },
          close: () => w.close(),
        };
      },
    };
    const e = await failure(downloadModelWith("test/longformer_tiny", { hubUrl: hub.url, cacheDir }, full));
    expect(e.code).toBe("disk-full");
    expect(e.message).toContain("no space left");
    expect(e.message).toContain("model.safetensors");
    const blobs = path.join(cacheDir, repoFolderName("test/longformer_tiny"), "blobs");
    expect(readdirSync(blobs).some((f) => f.includes(".incomplete"))).toBe(false);
    const folder = await downloadModel("test/longformer_tiny", { hubUrl: hub.url, cacheDir });
    expect(readdirSync(folder)).toContain("model.safetensors");
  });
});

describe("a server that stops answering (HF_HUB_DOWNLOAD_TIMEOUT)", () => {
  it("no response headers: a network error after the timeout", async () => {
    vi.stubEnv("HF_HUB_DOWNLOAD_TIMEOUT", "0.3");
    hub.stallOnce = { file: "config.json", afterBytes: -1 };
    const e = await failure(downloadModel("test/longformer_tiny", { hubUrl: hub.url, cacheDir }));
    expect(e.code).toBe("network");
    expect(e.message).toContain("no answer for 0.3 s");
  });

  it("a body that stops mid-file: interrupted, nothing kept, the next try succeeds", async () => {
    vi.stubEnv("HF_HUB_DOWNLOAD_TIMEOUT", "0.3");
    hub.stallOnce = { file: "model.safetensors", afterBytes: 70_000 };
    const e = await failure(downloadModel("test/longformer_tiny", { hubUrl: hub.url, cacheDir }));
    expect(e.code).toBe("interrupted");
    expect(e.message).toContain("no data for 0.3 s");
    const blobs = path.join(cacheDir, repoFolderName("test/longformer_tiny"), "blobs");
    expect(readdirSync(blobs).some((f) => f.includes(".incomplete"))).toBe(false);
    const folder = await downloadModel("test/longformer_tiny", { hubUrl: hub.url, cacheDir });
    expect(readdirSync(folder)).toContain("model.safetensors");
  });

  it("a timeout that is not a positive number is refused", async () => {
    vi.stubEnv("HF_HUB_DOWNLOAD_TIMEOUT", "soon");
    await expect(downloadModel("test/longformer_tiny", { hubUrl: hub.url, cacheDir })).rejects.toThrow(
      /HF_HUB_DOWNLOAD_TIMEOUT: got "soon"/,
    );
  });
});

describe("arguments", () => {
  it("isRepoId: owner/name that is not an existing path", () => {
    expect(isRepoId("allenai/longformer-base-4096")).toBe(true);
    expect(isRepoId("google/bigbird-roberta-base")).toBe(true);
    expect(isRepoId("longformer")).toBe(false);
    expect(isRepoId("a/b/c")).toBe(false);
    expect(isRepoId("../x")).toBe(false);
    expect(isRepoId("a--b/c")).toBe(false);
    expect(isRepoId("")).toBe(false);
    const cwd = process.cwd();
    try {
      process.chdir(path.dirname(SHARED_HF));
      expect(isRepoId("hf/longformer_tiny")).toBe(false); // an existing folder is a path, not a model id
    } finally {
      process.chdir(cwd);
    }
  });

  it("a bad repo id, revision or endpoint names the argument", async () => {
    await expect(downloadModel("not a model", { cacheDir })).rejects.toThrow(/repoId: got "not a model"/);
    await expect(downloadModel("a/b", { cacheDir, revision: "../x" })).rejects.toThrow(/options.revision/);
    await expect(downloadModel("a/b", { cacheDir, hubUrl: "ftp://x" })).rejects.toThrow(/options.hubUrl/);
    vi.stubEnv("HF_ENDPOINT", "nonsense");
    await expect(downloadModel("a/b", { cacheDir })).rejects.toThrow(/HF_ENDPOINT/);
  });

  it("cache folder: cacheDir, else HF_HUB_CACHE, else HF_HOME/hub, else ~/.cache/huggingface/hub", () => {
    const m = nodeModules()!;
    vi.stubEnv("HF_HOME", "/tmp/hf-home");
    expect(resolveCacheDir({ cacheDir: "/x/y" }, m)).toBe("/x/y");
    expect(resolveCacheDir({}, m)).toBe("/tmp/hf-home/hub");
    vi.stubEnv("HF_HUB_CACHE", "/tmp/hf-cache");
    expect(resolveCacheDir({}, m)).toBe("/tmp/hf-cache");
    vi.stubEnv("HF_HUB_CACHE", "");
    vi.stubEnv("HF_HOME", "");
    vi.stubEnv("XDG_CACHE_HOME", "");
    expect(resolveCacheDir(undefined, m)).toBe(path.join(os.homedir(), ".cache", "huggingface", "hub"));
  });
});
