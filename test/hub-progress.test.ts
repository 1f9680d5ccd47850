/**
 * The CLI's download display (src/cli/hub-progress.ts) on a real download from the local Hub:
 * a bar per downloaded file on a TTY, the cache folder at the end; nothing but the folder
 * line when everything comes from the cache.
 */
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { PassThrough } from "node:stream";
import { afterAll, beforeAll, beforeEach, expect, it, vi } from "vitest";
import { createHubProgress } from "../src/cli/hub-progress.js";
import { downloadModel } from "../src/hub/index.js";
import { isolateHfEnvironment } from "./hub-env.js";
import { fixtureRepos, type HubServer, startHubServer } from "./hub-server.js";

let tmp = "";
let hub: HubServer;

beforeAll(async () => {
  tmp = mkdtempSync(path.join(os.tmpdir(), "sa-hub-progress-"));
  hub = await startHubServer({ repos: fixtureRepos(path.join(tmp, "repos")) });
});
afterAll(async () => {
  await hub?.close();
  rmSync(tmp, { recursive: true, force: true });
});
beforeEach(() => {
  isolateHfEnvironment(path.join(tmp, "home"));
  return () => vi.unstubAllEnvs();
});

/** A stream that says it is a terminal and keeps what is written. */
function fakeTerminal(): { stream: NodeJS.WritableStream; text: () => string } {
  const stream = Object.assign(new PassThrough(), { isTTY: true, columns: 120 });
  const chunks: string[] = [];
  stream.on("data", (c: Buffer) => chunks.push(c.toString("utf8")));
  return { stream, text: () => chunks.join("") };
}

it("a bar per downloaded file, then the cache folder; from the cache: no bar", async () => {
  const cacheDir = path.join(tmp, "cache");
  const first = fakeTerminal();
  const progress = createHubProgress({ stream: first.stream });
  const folder = await downloadModel("test/longformer_tiny", {
    hubUrl: hub.url,
    cacheDir,
    onProgress: progress.onProgress,
  });
  progress.finish(folder);
  await new Promise((r) => setImmediate(r));
  expect(progress.files).toEqual(["config.json", "model.safetensors"]);
  const out = first.text();
  expect(out).toContain("model.safetensors");
  expect(out).toContain("100%");
  expect(out).toContain(`model files (downloaded 2 files): ${folder}`);

  const second = fakeTerminal();
  const again = createHubProgress({ stream: second.stream });
  await downloadModel("test/longformer_tiny", { hubUrl: hub.url, cacheDir, onProgress: again.onProgress });
  again.finish(folder);
  await new Promise((r) => setImmediate(r));
  expect(again.files).toEqual([]);
  expect(second.text()).toBe(`model files (from the cache): ${folder}\n`);
});
