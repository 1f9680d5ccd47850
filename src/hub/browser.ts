/**
 * Browsers (and any host without Node's fs): the same files fetched with `fetch()` and kept
 * in the Cache API under "sparse-attention-models", keyed by their resolve URL at the
 * requested revision. A file the Hub does not have is remembered as a stored 404, so a
 * second load makes no request either. No Node module is imported here.
 */
import type { ModelFiles } from "./cache.js";
import { OPTIONAL_FILES, parseJson, shardNames, WEIGHT_FILES } from "./cache.js";
import { HubError, type HubRequestContext, requestFile, resolveUrl, streamBody } from "./http.js";

export const BROWSER_CACHE_NAME = "sparse-attention-models";

export interface BrowserSettings {
  ctx: HubRequestContext;
  revision: string;
  offline: boolean;
  validateConfig?: (config: unknown) => void | readonly string[];
}

const ABSENT_HEADER = "x-sparse-attention-absent";

/**
 * Fetches (or finds in the Cache API) config.json, the tokenizer files and the optional files
 * `validateConfig` names when present, and the weights.
 */
export async function fetchFromCacheApi(s: BrowserSettings, storage: CacheStorage): Promise<ModelFiles> {
  const cache = await storage.open(BROWSER_CACHE_NAME);
  const repoId = s.ctx.repoId;
  let commit: string | null = null;

  /** The file's bytes, or null when the repository does not have it. */
  async function get(file: string, required: boolean): Promise<Uint8Array | null> {
    const key = resolveUrl(s.ctx, s.revision, file);
    const hit = await cache.match(key);
    if (hit) {
      if (hit.headers.get(ABSENT_HEADER) === "1") {
        if (required) throw missing(file);
        return null;
      }
      return new Uint8Array(await hit.arrayBuffer());
    }
    if (s.offline) {
      if (!required) return null;
      throw new HubError(
        "offline-missing",
        `offline (options.offline) and the browser cache "${BROWSER_CACHE_NAME}" lacks ${file} of ${repoId}@${s.revision}: load it once online`,
      );
    }
    const got = await requestFile(s.ctx, commit ?? s.revision, file);
    if (!got) {
      await cache.put(key, new Response(null, { status: 404, headers: { [ABSENT_HEADER]: "1" } }));
      if (required) throw missing(file);
      return null;
    }
    commit ??= got.head.commit;
    const chunks: Uint8Array[] = [];
    const length = await streamBody(s.ctx, file, got, (chunk) => {
      chunks.push(chunk);
    });
    const bytes = new Uint8Array(length);
    let off = 0;
    for (const c of chunks) {
      bytes.set(c, off);
      off += c.byteLength;
    }
    // Stored only once complete: an interrupted download leaves nothing in the cache.
    await cache.put(key, new Response(bytes, { headers: { "content-length": String(length) } }));
    return bytes;
  }

  const missing = (file: string) =>
    new HubError(
      "not-found",
      `${repoId} on ${s.ctx.endpoint} has no ${file} at ${JSON.stringify(s.revision)} (HTTP 404)`,
    );
  const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);

  const config = parseJson(text((await get("config.json", true))!), "config.json", repoId);
  const extra = s.validateConfig?.(config) ?? [];
  const files: ModelFiles = { config, weights: new Uint8Array(0) };
  const [tokenizerFile, tokenizerConfigFile] = OPTIONAL_FILES;
  const tokenizer = await get(tokenizerFile, false);
  const tokenizerConfig = await get(tokenizerConfigFile, false);
  if (tokenizer) files.tokenizer = parseJson(text(tokenizer), tokenizerFile, repoId);
  if (tokenizerConfig) files.tokenizerConfig = parseJson(text(tokenizerConfig), tokenizerConfigFile, repoId);
  // the files the architecture reads when present (ModernBERT: sentence-transformers' pooling), as Node's cache fetches them
  const found: Record<string, unknown> = {};
  for (const file of extra) {
    const bytes = await get(file, false);
    if (bytes) found[file] = parseJson(text(bytes), file, repoId);
  }
  if (Object.keys(found).length > 0) files.extra = found;
  for (const [singleFile, indexFile] of WEIGHT_FILES) {
    const single = await get(singleFile, false);
    if (single) {
      files.weights = single;
      return files;
    }
    const index = await get(indexFile, false);
    if (index) {
      const shards: Uint8Array[] = [];
      for (const shard of shardNames(parseJson(text(index), indexFile, repoId), repoId, indexFile)) {
        shards.push((await get(shard, true))!);
      }
      files.weights = shards;
      return files;
    }
  }
  const names = WEIGHT_FILES.flat().join(", ");
  throw new HubError(
    s.offline ? "offline-missing" : "not-found",
    `${repoId} has none of ${names} at ${JSON.stringify(s.revision)}` +
      (s.offline ? ` in the browser cache "${BROWSER_CACHE_NAME}" (offline)` : ` on ${s.ctx.endpoint}`),
  );
}
