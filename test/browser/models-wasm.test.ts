/**
 * Whole models in a real browser: a module Web Worker of a cross-origin isolated page in
 * headless chromium loads the shared tiny HF checkpoints BY HUB ID (loadModel / pipeline from
 * `sparse-attention/models`, bundled with esbuild for the browser as a user's bundler would;
 * fetch + the Cache API against a local stand-in for the Hub on 127.0.0.1, cross-origin with
 * CORS as huggingface.co answers), runs forward on the wasm backend with 1 and 2 threads, and
 * matches HF's stored outputs to 1e-5 relative; the profile must say that wasm ran every
 * attention() call and every linear layer. ModernBERT's embedding pooling comes from
 * sentence-transformers' modules.json + 1_Pooling/config.json fetched by the browser path too.
 */
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { build } from "esbuild";
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { StaticServer } from "../../src/cli/static-server.js";
import type { BackendsUsed } from "../../src/models/backends-used.js";
import { loadModel } from "../../src/models/index.js";
import type { ModernBertModel } from "../../src/models/modernbert/index.js";
import { type HubServer, SHARED_HF, startHubServer } from "../hub-server.js";
import { ints, readArray, relErr } from "../models-case.js";
import { errs, mbArray, mbDir, mbInts } from "../modernbert-case.js";
import { tinyFolder } from "../modernbert-tokenizer.js";
import { launchChromium, type OpenedPage, openPage, PAGES, serve } from "./harness.js";

const TOL = 1e-5;
const ST = "sentence_transformers.models.";

type Ints = { data: number[]; shape: number[] };
interface Answer {
  error?: string;
  ready?: number;
  isolated?: boolean;
  cached?: string[];
  lastHiddenState?: number[];
  shape?: number[];
  poolerOutput?: number[];
  backends?: BackendsUsed;
  embedding?: number[];
  sentencePooling?: unknown;
}

const plain = (t: { data: Int32Array; shape: number[] }): Ints => ({ data: Array.from(t.data), shape: t.shape });

let browser: Browser;
let server: StaticServer;
let hub: HubServer;
let opened: OpenedPage;
let tmp = "";
let gteFolder = "";
let plainFolder = "";

beforeAll(async () => {
  tmp = mkdtempSync(path.join(os.tmpdir(), "sa-browser-models-"));
  // the worker as a user's bundler makes it: the library's ESM build (dist/) for platform "browser"
  await build({
    entryPoints: [path.join(PAGES, "models/worker.js")],
    outfile: path.join(tmp, "bundle/worker.js"),
    bundle: true,
    format: "esm",
    platform: "browser",
    target: "es2022",
    logLevel: "silent",
  });
  gteFolder = tinyFolder("", {
    "modules.json": [
      { idx: 0, name: "0", path: "", type: `${ST}Transformer` },
      { idx: 1, name: "1", path: "1_Pooling", type: `${ST}Pooling` },
      { idx: 2, name: "2", path: "2_Normalize", type: `${ST}Normalize` },
    ],
    "1_Pooling/config.json": { pooling_mode_cls_token: true, pooling_mode_mean_tokens: false },
  });
  plainFolder = tinyFolder(); // the same model and tokenizer without sentence-transformers' files
  hub = await startHubServer({
    repos: {
      "test/longformer_tiny": path.join(SHARED_HF, "longformer_tiny"),
      "test/bigbird_tiny": path.join(SHARED_HF, "bigbird_tiny"),
      "test/modernbert_tiny": mbDir(),
      "test/gte_tiny": gteFolder,
      "test/mb_plain": plainFolder,
    },
    cors: true,
  });
  browser = await launchChromium();
  server = await serve({ "/bundle/": path.join(tmp, "bundle") });
  opened = await openPage(browser, `${server.url}pages/models/`);
  await opened.page.waitForFunction(() => (window as unknown as { pageReady?: boolean }).pageReady === true);
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
  await hub?.close();
  rmSync(tmp, { recursive: true, force: true });
  for (const f of [gteFolder, plainFolder]) if (f) rmSync(f, { recursive: true, force: true });
});

async function run(request: Record<string, unknown>): Promise<Answer> {
  const answer = (await opened.page.evaluate(
    (r) => (window as unknown as { runInWorker(r: unknown): Promise<unknown> }).runInWorker(r),
    { hubUrl: hub.url, ...request },
  )) as Answer;
  expect(answer.error).toBeUndefined();
  expect(answer.isolated).toBe(true);
  expect(answer.ready).toBe(request.threads);
  // the body of a 404 (an optional file the repository lacks) is cancelled unread: chromium calls that ERR_ABORTED
  expect(opened.errors.filter((e) => !e.endsWith("net::ERR_ABORTED"))).toEqual([]);
  return answer;
}

/** Every attention() call and every linear layer ran on wasm with `threads`. */
function expectWasm(used: BackendsUsed | undefined, threads: number): void {
  expect(used).toBeDefined();
  expect(Object.keys(used!.attention)).toEqual(["wasm"]);
  expect(Object.keys(used!.linear)).toEqual(["wasm"]);
  expect(used!.attention.wasm).toBeGreaterThan(0);
  expect(used!.linear.wasm).toBeGreaterThan(0);
  expect(used!.threads).toBe(threads);
}

describe("HF models by Hub id in headless chromium (module worker, wasm)", () => {
  it.each([1, 2])("Longformer, %i thread(s): last_hidden_state and pooler_output match HF", async (threads) => {
    const N = "longformer_tiny";
    const mask = ints(N, "attention_mask");
    const a = await run({
      repo: `test/${N}`,
      threads,
      inputs: {
        inputIds: plain(ints(N, "input_ids")),
        attentionMask: plain(mask),
        globalAttentionMask: plain(ints(N, "global_attention_mask")),
      },
    });
    expect(a.shape).toEqual([2, 500, 64]);
    const got = Float32Array.from(a.lastHiddenState!);
    expect(relErr(got, readArray(N, "last_hidden_state").data as Float32Array, 64, mask.data)).toBeLessThan(TOL);
    const pool = readArray(N, "pooler_output").data as Float32Array;
    expect(relErr(Float32Array.from(a.poolerOutput!), pool, 64)).toBeLessThan(TOL);
    expectWasm(a.backends, threads);
    expect(a.cached!.some((u) => u.endsWith(`/test/${N}/resolve/main/model.safetensors`))).toBe(true);
  });

  it.each([1, 2])("BigBird block_sparse, %i thread(s): last_hidden_state matches HF", async (threads) => {
    const N = "bigbird_tiny";
    const a = await run({ repo: `test/${N}`, threads, inputs: { inputIds: plain(ints(N, "input_ids")) } });
    expect(a.shape).toEqual([1, 512, 64]);
    const want = readArray(N, "last_hidden_state").data as Float32Array;
    expect(relErr(Float32Array.from(a.lastHiddenState!), want, 64)).toBeLessThan(TOL);
    expectWasm(a.backends, threads);
  });

  it.each([1, 2])(
    "ModernBERT (padded batch of 600 > window), %i thread(s): last_hidden_state matches HF",
    async (threads) => {
      const mask = mbInts("a_attention_mask");
      const a = await run({
        repo: "test/modernbert_tiny",
        threads,
        inputs: { inputIds: plain(mbInts("a_input_ids")), attentionMask: plain(mask) },
      });
      expect(a.shape).toEqual([2, 600, 64]);
      const e = errs(
        Float32Array.from(a.lastHiddenState!),
        mbArray("a_last_hidden_state").data as Float32Array,
        64,
        mask.data,
      );
      expect(e.relMax).toBeLessThan(TOL);
      expect(e.relFro).toBeLessThan(TOL);
      expectWasm(a.backends, threads);
    },
  );

  it("a second load, in a new worker, takes every file from the Cache API: no request", async () => {
    const N = "bigbird_tiny";
    const request = { repo: `test/${N}`, threads: 1, inputs: { inputIds: plain(ints(N, "input_ids")) } };
    const first = await run(request);
    const count = hub.requests.length;
    const second = await run(request);
    expect(hub.requests.length).toBe(count);
    expect(second.lastHiddenState).toEqual(first.lastHiddenState);
  });

  it("ModernBERT embedding model: the browser fetches modules.json + 1_Pooling/config.json and pipeline pools by them", async () => {
    const text = "w5 w17 w230 w9 w400";
    const a = await run({ kind: "embed", repo: "test/gte_tiny", threads: 1, text });
    // asked for at the commit "main" resolved to, as huggingface_hub does after the first file
    const paths = hub.requests.map((r) => r.path).filter((p) => p.startsWith("/test/gte_tiny/resolve/"));
    expect(paths.some((p) => p.endsWith("/modules.json"))).toBe(true);
    expect(paths.some((p) => p.endsWith("/1_Pooling/config.json"))).toBe(true);
    expect(a.sentencePooling).toEqual({ mode: "cls", normalize: true, source: "modules.json" });
    expect(a.shape).toEqual([1, 64]);
    // the same vector as Node's loadModel of the same files: CLS pooling, normalised
    const model = (await loadModel(gteFolder, { task: "none" })) as ModernBertModel;
    const ids = Int32Array.from([996, 5, 17, 230, 9, 400, 997]);
    const want = await model.embed({ inputIds: { data: ids, shape: [1, ids.length] } }, { backend: "wasm" });
    expect(relErr(Float32Array.from(a.embedding!), want.embeddings.data, 64)).toBeLessThan(TOL);
    expect(Math.hypot(...a.embedding!)).toBeCloseTo(1, 5);
    // a repository without them: modules.json is a 404, which is no error (the pooling is then the caller's choice)
    const plainRepo = await run({ kind: "embed", repo: "test/mb_plain", threads: 1, text });
    expect(plainRepo.sentencePooling).toBeNull();
    // same weights, same text: without the files, feature-extraction's default (one vector per token, as transformers.js)
    expect(plainRepo.shape).toEqual([1, 7, 64]);
    expect(hub.requests.some((r) => r.path.startsWith("/test/mb_plain/") && r.path.endsWith("/modules.json"))).toBe(
      true,
    );
  });
});
