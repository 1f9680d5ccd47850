/**
 * The Hub client's errors: `HubError` (a `code` saying which kind, a message saying what to do)
 * and the token hygiene every message goes through (`redact`, `checkToken`).
 */
import type { HubRequestContext } from "./http.js";
export type HubErrorCode =
  | "not-found" // the repository, revision or a required file does not exist
  | "unauthorized" // 401 / 403: private or gated
  | "network" // connection refused, DNS, reset before any byte
  | "interrupted" // the connection dropped or the body was shorter / different than announced
  | "disk-full" // ENOSPC / EDQUOT while writing the cache
  | "offline-missing" // offline and the cache lacks a file
  | "invalid" // a file of the repository, or an answer of the server, is not what it should be (config.json not JSON, a bad shard index, an ETag that is no digest, a file over its size cap)
  | "bad-token" // the token (options.token, HF_TOKEN, the token file) cannot be sent: a line break, a space, a control character
  | "timeout" // a file took longer than its overall deadline
  | "http"; // any other HTTP status

/** Token shapes the Hub issues (user `hf_…`, organisation `api_org_…`), replaced in every message this module builds. */
const TOKEN_SHAPES = /\b(hf_|api_org_)[A-Za-z0-9_-]+/g;

/** `text` with every Hub-token-shaped string and every given secret replaced by "<redacted>". */
export function redact(text: string, ...secrets: (string | undefined)[]): string {
  let out = text;
  for (const secret of secrets) {
    if (secret !== undefined && secret.length >= 4) out = out.split(secret).join("<redacted>");
  }
  return out.replace(TOKEN_SHAPES, "$1<redacted>");
}

/** A download or cache failure; `code` says which kind, the message says what to do. */
export class HubError extends Error {
  readonly code: HubErrorCode;
  constructor(code: HubErrorCode, message: string, options?: { cause?: unknown; secret?: string }) {
    const cause = options?.cause;
    const clean = redact(message, options?.secret);
    // a cause whose text holds a token (fetch's "invalid header value" names the header) is replaced by its redacted text
    let safeCause = cause;
    if (cause instanceof Error) {
      const text = `${cause.message}\n${cause.stack ?? ""}`;
      if (redact(text, options?.secret) !== text) safeCause = new Error(redact(cause.message, options?.secret));
    }
    super(clean, safeCause === undefined ? undefined : { cause: safeCause });
    this.name = "HubError";
    this.code = code;
  }
}

/**
 * Throws unless `token` can be sent as `Authorization: Bearer <token>`: visible ASCII only
 * (no line break, space, tab or other control character; nothing outside ASCII). The message
 * names where the token came from and what is wrong, never the token.
 */
export function checkToken(token: string, source: string): string {
  for (let i = 0; i < token.length; i++) {
    const c = token.charCodeAt(i);
    if (c < 0x21 || c > 0x7e) {
      const what =
        c === 0x0a || c === 0x0d
          ? "a line break"
          : c === 0x20
            ? "a space"
            : c < 0x20 || c === 0x7f
              ? `the control character U+${c.toString(16).padStart(4, "0").toUpperCase()}`
              : "a character outside ASCII";
      throw new HubError(
        "bad-token",
        `the token from ${source} (${token.length} characters) holds ${what} at character ${i + 1}, so it cannot be sent as an HTTP header;` +
          " copy the token again from https://huggingface.co/settings/tokens (one line, nothing around it)",
      );
    }
  }
  return token;
}

/** The origin (scheme://host:port) of a URL, for messages; never its path or query. */
export function originOf(url: string): string {
  try {
    return new URL(url).origin;
  } catch {
    return "an unparsable URL";
  }
}

export function tooLarge(ctx: HubRequestContext, file: string, size: number, cap: number): HubError {
  return new HubError(
    "invalid",
    `${file} of ${ctx.repoId} is ${size} bytes; this library reads at most ${cap} bytes of ${file} (a JSON file that large is not a model's); nothing was stored`,
  );
}

/** The HubError of an HTTP status (and the Hub's X-Error-Code): what happened and what to do. */
export function statusError(
  ctx: HubRequestContext,
  file: string,
  revision: string,
  status: number,
  errorCode: string | null,
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
  const code = errorCode ? ` (X-Error-Code ${errorCode})` : "";
  return new HubError(
    "http",
    `${where}: HTTP ${status}${code} fetching ${file}; try again later, or check HF_ENDPOINT`,
  );
}

export function causeCode(e: unknown): string | undefined {
  let cur: unknown = e;
  for (let depth = 0; depth < 5 && cur && typeof cur === "object"; depth++) {
    const code = (cur as { code?: unknown }).code;
    if (typeof code === "string") return code;
    cur = (cur as { cause?: unknown }).cause;
  }
  return undefined;
}

/** The HubError of a failed connection (the cause's code, e.g. ECONNREFUSED, named). */
export function networkError(ctx: HubRequestContext, file: string, url: string, e: unknown): HubError {
  const code = typeof e === "string" ? e : causeCode(e);
  const detail = code ?? (e instanceof Error ? e.message : String(e));
  return new HubError(
    "network",
    `cannot reach ${originOf(url)} (${detail}) to fetch ${file} of ${ctx.repoId}: check the network connection` +
      " and HF_ENDPOINT; a model already in the cache loads with offline: true (or HF_HUB_OFFLINE=1)",
    { cause: e, secret: ctx.token },
  );
}
