/**
 * The Hub's HTTP side, shared by the Node cache and the browser Cache API path: one GET per
 * file at `<endpoint>/<owner>/<name>/resolve/<revision>/<file>`, redirects followed by hand
 * (so the Hub's own headers on the 302 of an LFS file, `X-Repo-Commit` and `X-Linked-Etag`,
 * are kept and the token never leaves the endpoint's origin), every failure turned into a
 * `HubError` that says what happened and what to do.
 */
import {
  causeCode,
  checkToken,
  HubError,
  type HubErrorCode,
  networkError,
  originOf,
  redact,
  statusError,
  tooLarge,
} from "./errors.js";

export { checkToken, HubError, type HubErrorCode, redact };

export interface HubProgress {
  file: string;
  loaded: number;
  total: number | null;
}

/** Everything a request needs, resolved once from the options and the environment. */
export interface HubRequestContext {
  repoId: string;
  endpoint: string; // no trailing slash
  token: string | undefined;
  fetch: typeof fetch;
  onProgress: ((p: HubProgress) => void) | undefined;
  /** "manual" in Node (to read the Hub's headers on redirects); "follow" in browsers, where a manual redirect is opaque. */
  redirect: "manual" | "follow";
  /** Longest wait for a response or for the next bytes of a body (HF_HUB_DOWNLOAD_TIMEOUT, default 10 s). */
  idleTimeoutMs: number;
  /**
   * The overall deadline of one file, from its first request to its last byte (options.deadline;
   * default fileDeadlineMs()): a body trickled a byte at a time ends too.
   */
  deadlineMs: number | null;
}

/** Size caps of the JSON files: a server cannot make us store (or parse) more than this. */
export const JSON_CAPS: Record<string, number> = {
  "config.json": 1 << 20,
  "tokenizer_config.json": 1 << 20,
  "model.safetensors.index.json": 16 << 20,
  "tokenizer.json": 64 << 20,
};

/** The cap of `file`: a JSON file's, or none (weights; their size is the Hub's X-Linked-Size, checked against the body). */
export function sizeCap(file: string): number | null {
  return JSON_CAPS[file] ?? (file.endsWith(".json") ? 16 << 20 : null);
}

/**
 * A file's overall deadline when options.deadline is not given: 6 × the idle timeout (60 s by
 * default) for the capped JSON files; for weights, the same plus the announced size at 32 KiB/s
 * (a slow link still finishes; a trickle does not run forever).
 */
export function fileDeadlineMs(ctx: HubRequestContext, file: string, size: number | null): number {
  if (ctx.deadlineMs !== null) return ctx.deadlineMs;
  const base = 6 * ctx.idleTimeoutMs;
  return size === null || sizeCap(file) !== null ? base : base + Math.ceil((size / 32768) * 1000);
}

/** Node: the timer does not keep the process alive by itself (the request it guards does). */
function unref<T>(t: T): T {
  (t as { unref?: () => void }).unref?.();
  return t;
}

/**
 * Aborts a request when nothing arrives for `ms` (armed while waiting, disarmed when something
 * came), or when the file's overall deadline passes (`deadline`, set once the size is known).
 */
class Watchdog {
  readonly controller = new AbortController();
  fired = false;
  /** The overall deadline passed (not only a silence). */
  late = false;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private deadlineTimer: ReturnType<typeof setTimeout> | undefined;
  readonly started = Date.now();
  deadlineMs = 0;
  constructor(private readonly ms: number) {}
  arm(): void {
    this.disarm();
    this.timer = unref(
      setTimeout(() => {
        this.fired = true;
        this.controller.abort();
      }, this.ms),
    );
  }
  disarm(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
  }
  /** (Re)sets the overall deadline, counted from the first request of the file. */
  deadline(ms: number): void {
    this.stop();
    this.deadlineMs = ms;
    const left = Math.max(0, this.started + ms - Date.now());
    this.deadlineTimer = unref(
      setTimeout(() => {
        this.late = true;
        this.fired = true;
        this.controller.abort();
      }, left),
    );
  }
  /** Clears both timers (the file is done, or failed). */
  stop(): void {
    this.disarm();
    if (this.deadlineTimer !== undefined) clearTimeout(this.deadlineTimer);
    this.deadlineTimer = undefined;
  }
  /** Why it fired, for a message. */
  why(silence: string): string {
    const seconds = Math.round(this.deadlineMs / 100) / 10;
    return this.late ? `not complete after the ${seconds} s deadline of one file` : silence;
  }
}

/** What the first response of a file said about it (on a redirect: the redirect's headers, as the Hub sends them). */
export interface HubFileHead {
  commit: string | null; // X-Repo-Commit
  etag: string | null; // X-Linked-Etag or ETag, without W/ and quotes
  size: number | null; // Content-Length of the body (X-Linked-Size when that is all we have)
}

export interface HubFileResponse {
  head: HubFileHead;
  /** The final response, status 2xx, body unread; null when `haveBlob` said the file is already here. */
  response: Response | null;
  watchdog: Watchdog; // the request's idle timer, for the body
}

const MAX_REDIRECTS = 10;

export function resolveUrl(ctx: HubRequestContext, revision: string, file: string): string {
  const filePath = file.split("/").map(encodeURIComponent).join("/");
  return `${ctx.endpoint}/${ctx.repoId}/resolve/${encodeURIComponent(revision)}/${filePath}`;
}

const HEX_DIGEST = /^(?:[0-9a-f]{40}|[0-9a-f]{64})$/;
const COMMIT = /^[0-9a-f]{40}$/;

/**
 * The ETag as the Hub defines it: a git blob sha1 (40 hex) or, for LFS files, a sha256 (64
 * hex), quoted, perhaps weak (`W/"…"`). Absent: null. Anything else — `".."`, `"."`, a path, a
 * 32-hex md5 — is an error: the ETag names a file of the cache.
 */
export function parseEtag(ctx: HubRequestContext, file: string, raw: string | null): string | null {
  if (raw === null || raw.trim() === "") return null;
  const value = raw
    .trim()
    .replace(/^W\//, "")
    .replace(/^"(.*)"$/, "$1")
    .toLowerCase();
  if (!HEX_DIGEST.test(value)) {
    throw new HubError(
      "invalid",
      `${ctx.endpoint} answered ${file} of ${ctx.repoId} with the ETag ${JSON.stringify(raw.slice(0, 80))}, which is not a hex digest` +
        " (the Hub sends a 40-hex git sha1 or a 64-hex sha256); nothing was stored: check HF_ENDPOINT (a proxy or mirror rewrote it?)",
    );
  }
  return value;
}

/** X-Repo-Commit as the Hub defines it (40 hex); absent: null; anything else is an error (it names a snapshot folder). */
export function parseCommit(ctx: HubRequestContext, file: string, raw: string | null): string | null {
  if (raw === null || raw.trim() === "") return null;
  const value = raw.trim().toLowerCase();
  if (!COMMIT.test(value)) {
    throw new HubError(
      "invalid",
      `${ctx.endpoint} answered ${file} of ${ctx.repoId} with the commit ${JSON.stringify(raw.slice(0, 80))}, which is not a 40-hex commit hash;` +
        " nothing was stored: check HF_ENDPOINT (a proxy or mirror rewrote it?)",
    );
  }
  return value;
}

function sizeHeader(raw: string | null): number | null {
  if (raw === null || !/^\d+$/.test(raw.trim())) return null;
  return Number(raw.trim());
}

/**
 * GETs one file of the repository; `null` when the repository exists but the file does not
 * (404 EntryNotFound, or a plain 404 on any file but config.json). Throws `HubError` otherwise.
 * `haveBlob(etag)`: when it says yes on a redirect's ETag, the redirect is not followed (the
 * large body is not fetched) and `response` is null.
 */
export async function requestFile(
  ctx: HubRequestContext,
  revision: string,
  file: string,
  haveBlob?: (etag: string) => Promise<boolean>,
): Promise<HubFileResponse | null> {
  let url = resolveUrl(ctx, revision, file);
  const origin = new URL(ctx.endpoint).origin;
  const head: HubFileHead = { commit: null, etag: null, size: null };
  const watchdog = new Watchdog(ctx.idleTimeoutMs);
  watchdog.deadline(fileDeadlineMs(ctx, file, null));
  try {
    return await follow();
  } catch (e) {
    watchdog.stop();
    throw e;
  }

  async function follow(): Promise<HubFileResponse | null> {
    for (let hop = 0; hop <= MAX_REDIRECTS; hop++) {
      const headers: Record<string, string> = { "accept-encoding": "identity" };
      // The token goes to the endpoint only, never to the CDN a large file is redirected to.
      if (ctx.token && new URL(url).origin === origin) headers.authorization = `Bearer ${ctx.token}`;
      let response: Response;
      watchdog.arm();
      try {
        // called as a plain function: a browser's fetch throws "Illegal invocation" when `this` is not the global
        const fetchFn = ctx.fetch;
        response = await fetchFn(url, { headers, redirect: ctx.redirect, signal: watchdog.controller.signal });
      } catch (e) {
        if (watchdog.late) throw timedOut(ctx, file, watchdog);
        throw networkError(ctx, file, url, watchdog.fired ? `no answer for ${ctx.idleTimeoutMs / 1000} s` : e);
      } finally {
        watchdog.disarm();
      }
      try {
        head.commit ??= parseCommit(ctx, file, response.headers.get("x-repo-commit"));
        head.etag ??= parseEtag(ctx, file, response.headers.get("x-linked-etag") ?? response.headers.get("etag"));
      } catch (e) {
        await response.body?.cancel().catch(() => undefined);
        throw e;
      }
      const linkedSize = sizeHeader(response.headers.get("x-linked-size"));
      if (response.status >= 300 && response.status < 400 && response.headers.get("location")) {
        await response.body?.cancel().catch(() => undefined);
        if (linkedSize !== null) head.size = linkedSize;
        if (head.etag && haveBlob && (await haveBlob(head.etag))) {
          watchdog.stop();
          return { head, response: null, watchdog };
        }
        url = redirectTarget(ctx, file, url, response.headers.get("location")!);
        continue;
      }
      if (response.ok) {
        head.size = sizeHeader(response.headers.get("content-length")) ?? linkedSize ?? head.size;
        const cap = sizeCap(file);
        if (cap !== null && head.size !== null && head.size > cap) {
          await response.body?.cancel().catch(() => undefined);
          throw tooLarge(ctx, file, head.size, cap);
        }
        watchdog.deadline(fileDeadlineMs(ctx, file, head.size));
        return { head, response, watchdog };
      }
      // The body of an error answer is not read into the message: a proxy that echoes the request
      // would put the token there. The Hub's X-Error-Code says what went wrong.
      await response.body?.cancel().catch(() => undefined);
      const rawCode = response.headers.get("x-error-code");
      const errorCode = rawCode !== null && /^[A-Za-z]{1,64}$/.test(rawCode) ? rawCode : null;
      if (response.status === 404 && errorCode !== "RepositoryNotFound" && errorCode !== "RevisionNotFound") {
        if (file !== "config.json" || errorCode === "EntryNotFound") {
          watchdog.stop();
          return null;
        }
      }
      throw statusError(ctx, file, revision, response.status, errorCode);
    }
    throw new HubError(
      "http",
      `${ctx.repoId}: more than ${MAX_REDIRECTS} redirects fetching ${file} (last: ${originOf(url)})`,
    );
  }
}

/** The next URL of a redirect: http(s) only (a `file:`, `data:` or unparsable Location is an error). */
function redirectTarget(ctx: HubRequestContext, file: string, from: string, location: string): string {
  let next: URL | null = null;
  try {
    next = new URL(location, from);
  } catch {
    // reported below
  }
  if (next === null || (next.protocol !== "http:" && next.protocol !== "https:")) {
    const scheme = next === null ? "an unparsable URL" : `a ${next.protocol} URL`;
    throw new HubError(
      "http",
      `${originOf(from)} redirected the download of ${file} (${ctx.repoId}) to ${scheme}; only http(s) redirects are followed:` +
        " check HF_ENDPOINT (a proxy or mirror?)",
    );
  }
  return next.href;
}

function timedOut(ctx: HubRequestContext, file: string, watchdog: Watchdog, loaded?: number): HubError {
  const got = loaded === undefined ? "" : ` (${loaded} bytes arrived)`;
  return new HubError(
    "timeout",
    `download of ${file} (${ctx.repoId}) was ${watchdog.why("too slow")}${got}; nothing was kept:` +
      " run again, or allow more time with options.deadline (seconds per file) or a larger HF_HUB_DOWNLOAD_TIMEOUT",
  );
}

/**
 * Reads a response body chunk by chunk into `sink`, reporting progress. Throws `HubError`
 * "interrupted" when the connection drops or fewer / more bytes arrive than announced.
 */
export async function streamBody(
  ctx: HubRequestContext,
  file: string,
  got: HubFileResponse,
  sink: (chunk: Uint8Array) => Promise<void> | void,
): Promise<number> {
  try {
    return await streamChunks(ctx, file, got, sink);
  } finally {
    got.watchdog.stop();
  }
}

async function streamChunks(
  ctx: HubRequestContext,
  file: string,
  got: HubFileResponse,
  sink: (chunk: Uint8Array) => Promise<void> | void,
): Promise<number> {
  const total = got.head.size;
  const cap = sizeCap(file);
  let loaded = 0;
  ctx.onProgress?.({ file, loaded, total });
  const body = got.response?.body;
  if (body) {
    const reader = body.getReader();
    for (;;) {
      let step: ReadableStreamReadResult<Uint8Array>;
      got.watchdog.arm();
      try {
        step = await reader.read();
      } catch (e) {
        if (got.watchdog.late) throw timedOut(ctx, file, got.watchdog, loaded);
        const why = got.watchdog.fired
          ? `no data for ${ctx.idleTimeoutMs / 1000} s`
          : (causeCode(e) ?? (e instanceof Error ? e.message : String(e)));
        throw interrupted(ctx, file, loaded, total, why, e);
      } finally {
        got.watchdog.disarm();
      }
      if (step.done) break;
      const next = loaded + step.value.byteLength;
      if ((cap !== null && next > cap) || (total !== null && next > total)) {
        await reader.cancel().catch(() => undefined);
        if (cap !== null && next > cap) throw tooLarge(ctx, file, next, cap);
        throw interrupted(ctx, file, next, total, "more bytes arrived than announced");
      }
      try {
        await sink(step.value);
      } catch (e) {
        await reader.cancel().catch(() => undefined);
        throw e;
      }
      loaded = next;
      ctx.onProgress?.({ file, loaded, total });
    }
  }
  if (total !== null && loaded !== total) {
    throw interrupted(ctx, file, loaded, total, "the body ended early");
  }
  return loaded;
}

export function interrupted(
  ctx: HubRequestContext,
  file: string,
  loaded: number,
  total: number | null,
  why: string,
  cause?: unknown,
): HubError {
  const of = total === null ? "" : ` of ${total}`;
  return new HubError(
    "interrupted",
    `download of ${file} (${ctx.repoId}) was interrupted after ${loaded}${of} bytes (${why}); nothing was kept: run again`,
    { cause, secret: ctx.token },
  );
}
