/**
 * Models by name: a Hugging Face Hub id ("owner/name") fetched once and cached, then loaded
 * offline. `loadModel(name)` in `sparse-attention/models` calls these; they can also be used
 * alone. Node keeps the files in the Hugging Face cache layout (cache.ts); browsers keep
 * them in the Cache API (browser.ts). Settings follow the Hugging Face tools: endpoint
 * from `hubUrl`, else HF_ENDPOINT, else https://huggingface.co; the cache from `cacheDir`,
 * else HF_HUB_CACHE, else HF_HOME/hub, else ~/.cache/huggingface/hub; HF_HUB_OFFLINE; HF_TOKEN.
 */
import { AttentionArgumentError, checkOptions } from "../errors.js";
import { forbiddenPathChar } from "../util/names.js";
import { fetchFromCacheApi } from "./browser.js";
import { downloadToCache, type ModelFiles, readSnapshot } from "./cache.js";
import { type HubFs, type NodeModules, nodeBuiltin, nodeHubFs, nodeModules } from "./fs.js";
import { checkToken, type HubProgress, type HubRequestContext } from "./http.js";

export { BROWSER_CACHE_NAME } from "./browser.js";
export { repoFolderName } from "./cache.js";
export { HubError, type HubErrorCode, type HubProgress } from "./http.js";

export interface HubOptions {
  /** Branch, tag, commit hash or pull request ref "refs/pr/N" (default "main"); sent URL-encoded as one segment. */
  revision?: string;
  /** Node: the cache folder (default HF_HUB_CACHE, else HF_HOME/hub, else ~/.cache/huggingface/hub). */
  cacheDir?: string;
  /** Never touch the network; a file missing from the cache is an error naming it (default: HF_HUB_OFFLINE). */
  offline?: boolean;
  /** The Hub's endpoint (default HF_ENDPOINT, else https://huggingface.co). */
  hubUrl?: string;
  /** Sent as a bearer token (default HF_TOKEN, else the token file `huggingface-cli login` wrote). */
  token?: string;
  /**
   * The overall deadline of one file in seconds, first request to last byte (default: 6 × the
   * idle timeout HF_HUB_DOWNLOAD_TIMEOUT for JSON files, plus the announced size at 32 KiB/s for weights).
   */
  deadline?: number;
  onProgress?: (p: HubProgress) => void;
  fetch?: typeof fetch;
  /**
   * Called with config.json before any weights are requested; throw to refuse the model. It may
   * return further optional JSON files the model reads when present (e.g. sentence-transformers'
   * modules.json): fetched like tokenizer.json (a 404 means absent, any other failure is an
   * error), in Node's cache and in the browser's, and returned in ModelFiles.extra.
   */
  validateConfig?: (config: unknown) => void | readonly string[];
}

export const DEFAULT_ENDPOINT = "https://huggingface.co";

const PART = /^[A-Za-z0-9_][\w.-]{0,95}$/;

function env(name: string): string | undefined {
  const value = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env?.[name];
  return value === undefined || value.trim() === "" ? undefined : value.trim();
}

function truthy(value: string | undefined): boolean {
  return value !== undefined && ["1", "on", "yes", "true"].includes(value.toLowerCase());
}

/** True for a string shaped like a Hub model id ("owner/name") that is not an existing path. */
export function isRepoId(s: string): boolean {
  if (typeof s !== "string") return false;
  const parts = s.split("/");
  if (parts.length !== 2 || !parts.every((p) => PART.test(p) && !p.includes("--") && !p.includes(".."))) return false;
  if (s.endsWith(".git")) return false;
  const fs = nodeBuiltin<{ existsSync(p: string): boolean }>("node:fs");
  return !fs?.existsSync(s);
}

interface Settings {
  ctx: HubRequestContext;
  revision: string;
  offline: boolean;
  validateConfig?: (config: unknown) => void | readonly string[];
}

/** Longest revision accepted (a branch, a tag, a commit hash, refs/pr/N): it becomes folder and file names. */
export const MAX_REVISION_LENGTH = 200;

/**
 * Throws unless `revision` can name a ref file and a snapshot folder on every platform: no
 * empty, "." or ".." segment, no `\`, `:`, NUL or control character, at most 200 characters.
 */
export function checkRevision(revision: string, argument = "options.revision"): string {
  const form =
    'a branch, tag, commit hash or pull request ref such as "main", "v1.0", a 40-hex commit or "refs/pr/3" (letters, digits and _ . + = @ , - /)';
  const bad = forbiddenPathChar(revision);
  if (bad !== null) {
    throw new AttentionArgumentError(argument, revision, `${form}; it holds ${bad}, which cannot be part of a path`);
  }
  if (revision.length > MAX_REVISION_LENGTH) {
    throw new AttentionArgumentError(
      argument,
      `${revision.slice(0, 40)}… (${revision.length} characters)`,
      `${form}, at most ${MAX_REVISION_LENGTH} characters`,
    );
  }
  // Git's ref name rules, stricter (letters, digits and _ . + = @ , - /): the name is sent as one
  // URL-encoded segment and becomes a path under refs/ in the cache.
  if (
    revision === "" ||
    !/^[\w.+=@,/-]+$/.test(revision) ||
    revision.startsWith("-") ||
    revision.split("/").some((p) => p === "" || p === "." || p === ".." || p.startsWith(".") || p.endsWith(".lock"))
  ) {
    throw new AttentionArgumentError(argument, revision, form);
  }
  return revision;
}

function checkRepoId(repoId: unknown): string {
  if (typeof repoId !== "string" || !isRepoId(repoId)) {
    throw new AttentionArgumentError(
      "repoId",
      repoId,
      'a Hugging Face Hub model id "owner/name" (letters, digits, "-", "_", "."; not an existing path)',
    );
  }
  return repoId;
}

function optionalType(options: Record<string, unknown>, key: string, type: "string" | "boolean" | "function"): void {
  const value = options[key];
  if (value !== undefined && typeof value !== type) {
    throw new AttentionArgumentError(`options.${key}`, value, `a ${type} or undefined`);
  }
}

function resolveSettings(repoId: unknown, options: HubOptions | undefined, token: string | undefined): Settings {
  const id = checkRepoId(repoId);
  const o = checkOptions("options", options ?? {}, "an object { revision?, cacheDir?, offline?, hubUrl?, token?, … }");
  if (o.token !== undefined && typeof o.token !== "string") {
    // the value is not shown: it may be a secret in the wrong shape
    throw new AttentionArgumentError("options.token", `a ${typeof o.token}`, "a string or undefined");
  }
  for (const key of ["revision", "cacheDir", "hubUrl"]) optionalType(o, key, "string");
  for (const key of ["onProgress", "fetch", "validateConfig"]) optionalType(o, key, "function");
  optionalType(o, "offline", "boolean");
  const revision = checkRevision((o.revision as string | undefined) ?? "main");
  let deadlineMs: number | null = null;
  if (o.deadline !== undefined) {
    if (typeof o.deadline !== "number" || !(o.deadline > 0) || !Number.isFinite(o.deadline)) {
      throw new AttentionArgumentError("options.deadline", o.deadline, "a number of seconds > 0 per file, such as 600");
    }
    deadlineMs = o.deadline * 1000;
  }
  const chosenToken = o.token !== undefined ? checkToken(o.token as string, "options.token") : token;
  const endpoint = ((o.hubUrl as string | undefined) ?? env("HF_ENDPOINT") ?? DEFAULT_ENDPOINT).replace(/\/+$/, "");
  let protocol = "";
  try {
    protocol = new URL(endpoint).protocol;
  } catch {
    // reported below
  }
  if (protocol !== "http:" && protocol !== "https:") {
    const name = o.hubUrl === undefined ? "HF_ENDPOINT" : "options.hubUrl";
    throw new AttentionArgumentError(name, endpoint, 'an http(s) URL such as "https://huggingface.co"');
  }
  const fetchFn = (o.fetch as typeof fetch | undefined) ?? globalThis.fetch;
  const offline = (o.offline as boolean | undefined) ?? truthy(env("HF_HUB_OFFLINE"));
  if (!fetchFn && !offline) {
    throw new AttentionArgumentError("options.fetch", undefined, "a fetch function (this host has no global fetch)");
  }
  const node = nodeModules();
  const ctx: HubRequestContext = {
    repoId: id,
    endpoint,
    token: chosenToken,
    fetch: fetchFn,
    onProgress: o.onProgress as HubRequestContext["onProgress"],
    redirect: node ? "manual" : "follow",
    idleTimeoutMs: downloadTimeoutMs(),
    deadlineMs,
  };
  return { ctx, revision, offline, validateConfig: o.validateConfig as Settings["validateConfig"] };
}

/** HF_HUB_DOWNLOAD_TIMEOUT (seconds, as huggingface_hub reads it), default 10 s. */
function downloadTimeoutMs(): number {
  const raw = env("HF_HUB_DOWNLOAD_TIMEOUT");
  const seconds = raw === undefined ? Number.NaN : Number(raw);
  if (raw !== undefined && !(seconds > 0)) {
    throw new AttentionArgumentError("HF_HUB_DOWNLOAD_TIMEOUT", raw, "a number of seconds > 0, such as 10");
  }
  return raw === undefined ? 10_000 : seconds * 1000;
}

function expandHome(p: string, m: NodeModules): string {
  return p === "~" || p.startsWith("~/") ? m.path.join(m.os.homedir(), p.slice(1)) : p;
}

function hfHome(m: NodeModules): string {
  const xdg = env("XDG_CACHE_HOME");
  return expandHome(
    env("HF_HOME") ?? m.path.join(xdg ? expandHome(xdg, m) : m.path.join(m.os.homedir(), ".cache"), "huggingface"),
    m,
  );
}

/** The Node cache folder the options and the environment name. */
export function resolveCacheDir(options: HubOptions | undefined, m: NodeModules): string {
  const chosen = options?.cacheDir ?? env("HF_HUB_CACHE") ?? env("HUGGINGFACE_HUB_CACHE");
  return m.path.resolve(chosen ? expandHome(chosen, m) : m.path.join(hfHome(m), "hub"));
}

/** HF_TOKEN, else HUGGING_FACE_HUB_TOKEN, else the file `hf auth login` writes (HF_TOKEN_PATH, else HF_HOME/token). */
async function environmentToken(m: NodeModules | null, io: HubFs | null): Promise<string | undefined> {
  const fromEnv = envToken();
  if (fromEnv || !m || !io) return fromEnv;
  const file = env("HF_TOKEN_PATH") ?? m.path.join(hfHome(m), "token");
  const text = await io.readText(expandHome(file, m)).catch(() => null);
  const token = text?.trim() || undefined;
  return token === undefined ? undefined : checkToken(token, `the token file ${expandHome(file, m)}`);
}

/** HF_TOKEN, else HUGGING_FACE_HUB_TOKEN, checked (a line break in it is an error that does not show it). */
function envToken(): string | undefined {
  for (const name of ["HF_TOKEN", "HUGGING_FACE_HUB_TOKEN"]) {
    const value = env(name);
    if (value !== undefined) return checkToken(value, name);
  }
  return undefined;
}

function requireNode(what: string): NodeModules {
  const m = nodeModules();
  if (!m) {
    throw new AttentionArgumentError(
      what,
      "a host without Node's file system",
      "Node >= 20.16; in a browser use fetchModelFiles, which keeps the files in the Cache API",
    );
  }
  return m;
}

/**
 * Node: downloads (or finds in the HF cache) config.json, tokenizer.json + tokenizer_config.json
 * when present, model.safetensors or the shards of model.safetensors.index.json; returns the
 * snapshot folder. `io` replaces the file operations (tests use it to simulate a full disk).
 */
export async function downloadModelWith(repoId: string, options: HubOptions | undefined, io: HubFs): Promise<string> {
  const m = requireNode("downloadModel");
  const token = options?.token === undefined ? await environmentToken(m, io) : undefined;
  const s = resolveSettings(repoId, options, token);
  return downloadToCache({ ...s, cacheDir: resolveCacheDir(options, m) }, m, io);
}

/** Node: downloads (or finds in the HF cache) a model's files; returns the snapshot folder. */
export function downloadModel(repoId: string, options?: HubOptions): Promise<string> {
  return downloadModelWith(repoId, options, nodeHubFs(requireNode("downloadModel")));
}

/**
 * Everywhere: the model's files as bytes. Node downloads into the HF cache and reads the
 * snapshot back (`folder` is set); elsewhere `fetch()` and the Cache API.
 */
export async function fetchModelFiles(repoId: string, options?: HubOptions): Promise<ModelFiles> {
  const m = nodeModules();
  if (m) {
    const io = nodeHubFs(m);
    const folder = await downloadModelWith(repoId, options, io);
    return readSnapshot(folder, repoId, m, io, options?.validateConfig);
  }
  const storage = (globalThis as { caches?: CacheStorage }).caches;
  if (!storage) {
    throw new AttentionArgumentError(
      "fetchModelFiles",
      "a host without Node's fs or the Cache API",
      "Node >= 20.16 or a browser",
    );
  }
  return fetchModelFilesFromCacheApi(repoId, options, storage);
}

/** The browser path on any host: `fetch()` and the given Cache API storage (browsers: `caches`). */
export async function fetchModelFilesFromCacheApi(
  repoId: string,
  options: HubOptions | undefined,
  storage: CacheStorage,
): Promise<ModelFiles> {
  const s = resolveSettings(repoId, options, options?.token === undefined ? envToken() : undefined);
  return fetchFromCacheApi(s, storage);
}

export type { ModelFiles };
