/**
 * loadModel("owner/name") and `sparse-attention encode --model owner/name` against the local
 * Hub of the tests (127.0.0.1, test/hub-server.ts): the model equals the folder it came from,
 * a sharded repo loads, an unsupported model type is refused before any weights are fetched,
 * and a second load makes no request.
 */
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { loadModel } from "../src/models/index.js";
import { isolateHfEnvironment } from "./hub-env.js";
import { fixtureRepos, type HubServer, startHubServer } from "./hub-server.js";
import { caseDir, ints, relErr } from "./models-case.js";

let tmp = "";
let hub: HubServer;

beforeAll(async () => {
  tmp = mkdtempSync(path.join(os.tmpdir(), "sa-models-hub-"));
  hub = await startHubServer({ repos: fixtureRepos(tmp) });
});
afterAll(async () => {
  await hub.close();
  rmSync(tmp, { recursive: true, force: true });
  vi.unstubAllEnvs();
});

describe("loadModel by Hub id", () => {
  it("downloads once, equals the folder's model, loads a sharded repo, refuses other model types early", async () => {
    isolateHfEnvironment(path.join(tmp, "home"));
    const cacheDir = path.join(tmp, "cache");
    const ids = ints("longformer_tiny", "input_ids");
    const fromHub = await loadModel("test/longformer_tiny", { hubUrl: hub.url, cacheDir });
    const fromFolder = await loadModel(caseDir("longformer_tiny"));
    const a = await fromHub.forward({ inputIds: ids }, { backend: "js" });
    const b = await fromFolder.forward({ inputIds: ids }, { backend: "js" });
    expect(Array.from(a.lastHiddenState.data)).toEqual(Array.from(b.lastHiddenState.data));
    hub.requests.length = 0;
    await loadModel("test/longformer_tiny", { hubUrl: hub.url, cacheDir, offline: true });
    expect(hub.requests.length).toBe(0);
    const sharded = await loadModel("test/sharded_tiny", { hubUrl: hub.url, cacheDir });
    const c = await sharded.forward({ inputIds: ids }, { backend: "js" });
    expect(relErr(c.lastHiddenState.data, b.lastHiddenState.data, 64)).toBe(0);
    hub.requests.length = 0;
    await expect(loadModel("test/gpt2_tiny", { hubUrl: hub.url, cacheDir })).rejects.toThrow(
      /model_type: got "gpt2"; expected one of "longformer", "big_bird"/,
    );
    expect(hub.requests.some((r) => r.path.includes("safetensors"))).toBe(false);
  });

  it("sparse-attention encode --model owner/name (HF_ENDPOINT) prints tokens/s", async () => {
    const main = path.resolve(__dirname, "../dist/cli/main.js");
    const env = {
      ...process.env,
      HF_ENDPOINT: hub.url,
      HF_HOME: path.join(tmp, "home-cli"),
      HF_HUB_CACHE: "",
      HF_TOKEN: "",
    };
    const r = await new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
      execFile(
        process.execPath,
        [main, "encode", "--model", "test/bigbird_tiny", "--ids", "5,6,7"],
        { env },
        (e, stdout, stderr) => resolve({ code: e ? (typeof e.code === "number" ? e.code : 1) : 0, stdout, stderr }),
      );
    });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/big_bird: 3 tokens in/);
  });
});
