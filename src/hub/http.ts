/**
 * The Hub's HTTP side, shared by the Node cache and the browser Cache API path: one GET per
 * file at `<endpoint>/<owner>/<name>/resolve/<revision>/<file>`, redirects followed by hand
 * (so the Hub's own headers on the 302 of an LFS file, `X-Repo-Commit` and `X-Linked-Etag`,
 * are kept and the token never leaves the endpoint's origin), every failure turned into a
 * `HubError` that says what happened and what to do.
 */

export type HubErrorCode =
  | "not-found" // the repository, revision or a required file does not exist
  | "unauthorized" // 401 / 403: private or gated
  | "network" // connection refused, DNS, reset before any byte
  | "interrupted" // the connection dropped or the body was shorter / different than announced
  | "disk-full" // ENOSPC / EDQUOT while writing the cache
  | "offline-missing" // offline and the cache lacks a file
  | "invalid" // a file of the repository is not what it should be (config.json not JSON, a bad shard index)
  | "http"; // any other HTTP status

/** A download or cache failure; `code` says which kind, the message says what to do. */
export class HubError extends Error {
  readonly code: HubErrorCode;
  constructor(code: HubErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "HubError";
    this.code = code;
  }
}

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
}

/** Aborts a request when nothing arrives for `ms`: armed while waiting, disarmed when something came. */
class Watchdog {
  readonly controller = new AbortController();
  fired = false;
  private timer: ReturnType<typeof setTimeout> | undefined;
  constructor(private readonly ms: number) {}
  arm(): void {
    this.disarm();
    this.timer = setTimeout(() => {
      this.fired = true;
      this.controller.abort();
    }, this.ms);
  }
  disarm(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
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

function cleanEtag(raw: string | null): string | null {
  if (!raw) return null;
  return raw.replace(/^W\//, "").replace(/^"|"$/g, "") || null;
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
  for (let hop = 0; hop <= MAX_REDIRECTS; hop++) {
    const headers: Record<string, string> = { "accept-encoding": "identity" };
    // The token goes to the endpoint only, never to the CDN a large file is redirected to.
    if (ctx.token && new URL(url).origin === origin) headers.authorization = `Bearer ${ctx.token}`;
    let response: Response;
    watchdog.arm();
    try {
      response = await ctx.fetch(url, { headers, redirect: ctx.redirect, signal: watchdog.controller.signal });
    } catch (e) {
      throw networkError(ctx, file, url, watchdog.fired ? `no answer for ${ctx.idleTimeoutMs / 1000} s` : e);
    } finally {
      watchdog.disarm();
    }
    head.commit ??= response.headers.get("x-repo-commit");
    head.etag ??= cleanEtag(response.headers.get("x-linked-etag") ?? response.headers.get("etag"));
    const linkedSize = sizeHeader(response.headers.get("x-linked-size"));
    if (response.status >= 300 && response.status < 400 && response.headers.get("location")) {
      await response.body?.cancel();
      if (linkedSize !== null) head.size = linkedSize;
      if (head.etag && haveBlob && (await haveBlob(head.etag))) return { head, response: null, watchdog };
      url = new URL(response.headers.get("location")!, url).href;
      continue;
    }
    if (response.ok) {
      head.size = sizeHeader(response.headers.get("content-length")) ?? linkedSize ?? head.size;
      return { head, response, watchdog };
    }
    const body = await response.text().catch(() => "");
    const errorCode = response.headers.get("x-error-code");
    if (response.status === 404 && errorCode !== "RepositoryNotFound" && errorCode !== "RevisionNotFound") {
      if (file !== "config.json" || errorCode === "EntryNotFound") return null;
    }
    throw statusError(ctx, file, revision, response.status, errorCode, body);
  }
  throw new HubError("http", `${ctx.repoId}: more than ${MAX_REDIRECTS} redirects fetching ${file} (last: ${url})`);
}

function statusError(
  ctx: HubRequestContext,
  file: string,
  revision: string,
  status: number,
  errorCode: string | null,
  body: string,
): HubError {
  const where = `${ctx.repoId} on ${ctx.endpoint}`;
  if (errorCode === "RevisionNotFound") {
    return new HubError(
      "not-found",
      `${where} has no revision ${JSON.stringify(revision)}: use a branch, tag or commit hash that exists`,
    );
  }
  if (status === 401 || status === 403) {
    const tokenAdvice = ctx.token
      ? "a token was sent (options.token or HF_TOKEN) but it has no access: accept the model's terms on its Hub page, or use a token of an account that may read it"
      : "set HF_TOKEN (or options.token) to an access token of an account that may read it (https://huggingface.co/settings/tokens)";
    const gated = errorCode === "GatedRepo" ? "gated" : "private or gated";
    return new HubError(
      "unauthorized",
      `${where} is ${gated}, or does not exist (HTTP ${status} for ${file}): ${tokenAdvice}`,
    );
  }
  if (status === 404) {
    const what =
      errorCode === "RepositoryNotFound" ? "does not exist" : `has no ${file} at ${JSON.stringify(revision)}`;
    return new HubError(
      "not-found",
      `model ${where} ${what} (HTTP 404): check the spelling of "owner/name"; a private model also needs HF_TOKEN`,
    );
  }
  const excerpt = body.trim().slice(0, 200);
  return new HubError("http", `${where}: HTTP ${status} fetching ${file}${excerpt ? `: ${excerpt}` : ""}`);
}

function causeCode(e: unknown): string | undefined {
  let cur: unknown = e;
  for (let depth = 0; depth < 5 && cur && typeof cur === "object"; depth++) {
    const code = (cur as { code?: unknown }).code;
    if (typeof code === "string") return code;
    cur = (cur as { cause?: unknown }).cause;
  }
  return undefined;
}

function networkError(ctx: HubRequestContext, file: string, url: string, e: unknown): HubError {
  const code = typeof e === "string" ? e : causeCode(e);
  const detail = code ?? (e instanceof Error ? e.message : String(e));
  return new HubError(
    "network",
    `cannot reach ${new URL(url).origin} (${detail}) to fetch ${file} of ${ctx.repoId}: check the network connection` +
      " and HF_ENDPOINT; a model already in the cache loads with offline: true (or HF_HUB_OFFLINE=1)",
    { cause: e },
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
  const total = got.head.size;
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
        const why = got.watchdog.fired
          ? `no data for ${ctx.idleTimeoutMs / 1000} s`
          : (causeCode(e) ?? (e instanceof Error ? e.message : String(e)));
        throw interrupted(ctx, file, loaded, total, why, e);
      } finally {
        got.watchdog.disarm();
      }
      if (step.done) break;
      try {
        await sink(step.value);
      } catch (e) {
        await reader.cancel().catch(() => undefined);
        throw e;
      }
      loaded += step.value.byteLength;
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
    { cause },
  );
}
