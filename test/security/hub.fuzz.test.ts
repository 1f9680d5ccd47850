/**
 * Issue 19, fuzz: Hub responses mutated between the local Hub (test/hub-server.ts, 127.0.0.1)
 * and the client, through options.fetch — the status, the ETag / X-Linked-Etag / X-Repo-Commit /
 * Content-Length / X-Linked-Size / Location headers, truncated, padded and trickled bodies.
 * Each load must end, within its deadline, in a HubError (or an argument error) whose text
 * holds no token, or in a correct snapshot; and either way the cache holds only complete
 * files equal to the repository's, so an honest load on the same cache afterwards succeeds.
 */
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { inspect } from "node:util";
import fc from "fast-check";
import { afterAll, beforeAll, expect, it, vi } from "vitest";
import { AttentionArgumentError } from "../../src/errors.js";
import { downloadModel, HubError } from "../../src/hub/index.js";
import { isolateHfEnvironment } from "../hub-env.js";
import { fixtureRepos, type HubServer, startHubServer } from "../hub-server.js";
import { fuzzParams, reportFuzz } from "./fuzz.js";
import { checkCache } from "./hostile-hub.js";

const TOKEN = "hf_FuzzToken0123456789abc";
let tmp = "";
let hub: HubServer;
let repos: Record<string, string>;

beforeAll(async () => {
  tmp = mkdtempSync(path.join(os.tmpdir(), "sa-sec-hubfuzz-"));
  repos = fixtureRepos(path.join(tmp, "repos"));
  repos["acme/private"] = repos["test/longformer_tiny"];
  repos["acme/sharded"] = repos["test/sharded_tiny"];
  hub = await startHubServer({ repos, tokens: { "acme/private": TOKEN, "acme/sharded": TOKEN } });
  isolateHfEnvironment(path.join(tmp, "home"));
  // silences end at 2 s, whole files at options.deadline (0.4 s for the mutated loads): a stalled
  // or trickled body ends by the deadline; honest loads keep room on a loaded machine
  vi.stubEnv("HF_HUB_DOWNLOAD_TIMEOUT", "2");
});
afterAll(async () => {
  vi.unstubAllEnvs();
  await hub?.close();
  rmSync(tmp, { recursive: true, force: true });
});

type Mutation =
  | { kind: "status"; status: number }
  | { kind: "header"; name: string; value: string | null }
  | { kind: "truncate"; keep: number }
  | { kind: "pad"; extra: number }
  | { kind: "trickle"; everyMs: number }
  | { kind: "stall" };

const FILES = ["config.json", "model.safetensors", "model.safetensors.index.json", "tokenizer.json", "lfs"];

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({
    kind: fc.constant("status" as const),
    status: fc.constantFrom(200, 201, 204, 206, 301, 302, 304, 307, 400, 401, 403, 404, 410, 429, 500, 502, 503),
  }),
  fc.record({
    kind: fc.constant("header" as const),
    name: fc.constantFrom(
      "etag",
      "x-linked-etag",
      "x-repo-commit",
      "content-length",
      "x-linked-size",
      "location",
      "x-error-code",
    ),
    value: fc.oneof(
      fc.constant(null),
      fc.constantFrom('".."', '"."', "..", '"../x"', "/etc", 'W/""', '"0"', "-1", "1e9", "0", "99999999999999999999"),
      fc.constantFrom(
        "file:///etc/passwd",
        "data:,{}",
        "//",
        "http://[::1",
        "/test/longformer_tiny/resolve/main/config.json",
      ),
      fc.constantFrom("RepositoryNotFound", "RevisionNotFound", "EntryNotFound", "GatedRepo", "hf_leak\r\n"),
      fc.stringMatching(/^[0-9a-f]{40}$/),
      fc.stringMatching(/^[0-9a-f]{64}$/).map((h) => `"${h}"`),
      fc.string({ maxLength: 12 }).map((s) => s.replace(/[^\x20-\x7e]/g, "")),
    ),
  }),
  fc.record({ kind: fc.constant("truncate" as const), keep: fc.nat({ max: 4096 }) }),
  fc.record({ kind: fc.constant("pad" as const), extra: fc.integer({ min: 1, max: 64 }) }),
  fc.record({ kind: fc.constant("trickle" as const), everyMs: fc.integer({ min: 1, max: 40 }) }),
  fc.constant({ kind: "stall" as const }),
);

/** A body stream that honours the request's abort signal. */
function bodyStream(bytes: Uint8Array, signal: AbortSignal | undefined, everyMs: number | null, stall: boolean) {
  let at = 0;
  let timer: ReturnType<typeof setTimeout> | undefined;
  return new ReadableStream<Uint8Array>({
    start(controller) {
      signal?.addEventListener("abort", () => {
        clearTimeout(timer);
        try {
          controller.error(new DOMException("aborted", "AbortError"));
        } catch {}
      });
    },
    pull(controller) {
      if (stall && at > 0) return new Promise<void>(() => {}); // sends the first chunk, then nothing
      if (at >= bytes.length) {
        controller.close();
        return;
      }
      const step = everyMs === null ? bytes.length : 16;
      const chunk = bytes.subarray(at, at + step);
      at += chunk.length;
      if (everyMs === null) {
        controller.enqueue(chunk);
        return;
      }
      return new Promise<void>((resolve) => {
        timer = setTimeout(() => {
          try {
            controller.enqueue(chunk);
          } catch {}
          resolve();
        }, everyMs);
      });
    },
    cancel() {
      clearTimeout(timer);
    },
  });
}

/** fetch through which one file's answer is mutated. */
function mutatingFetch(target: string, ms: Mutation[]): typeof fetch {
  return (async (input: RequestInfo | URL, init?: RequestInit) => {
    const url = String(input);
    const r = await fetch(input, init);
    const isTarget = target === "lfs" ? url.includes("/lfs/") : url.endsWith(`/${target}`);
    if (!isTarget) return r;
    let body = new Uint8Array(await r.arrayBuffer());
    let status = r.status;
    const headers = new Headers(r.headers);
    let trickle: number | null = null;
    let stall = false;
    for (const m of ms) {
      if (m.kind === "status") status = m.status;
      else if (m.kind === "header") {
        if (m.value === null) headers.delete(m.name);
        else headers.set(m.name, m.value);
      } else if (m.kind === "truncate") body = body.subarray(0, Math.min(body.length, m.keep));
      else if (m.kind === "pad") {
        const b = new Uint8Array(body.length + m.extra);
        b.set(body);
        body = b;
      } else if (m.kind === "trickle") trickle = m.everyMs;
      else stall = true;
    }
    const noBody = status === 204 || status === 304;
    return new Response(noBody ? null : bodyStream(body, init?.signal ?? undefined, trickle, stall), {
      status,
      headers,
    });
  }) as typeof fetch;
}

it("fuzz: mutated Hub responses end in a clear error or a correct snapshot; the cache stays honest", async () => {
  let cases = 0;
  const outcomes = { ok: 0, hubError: 0, argumentError: 0 };
  const codes = new Map<string, number>();
  await fc.assert(
    fc.asyncProperty(
      fc.constantFrom("acme/private", "acme/sharded"),
      fc.constantFrom(...FILES),
      fc.array(mutation, { minLength: 1, maxLength: 3 }),
      async (repo, file, ms) => {
        cases++;
        const cacheDir = path.join(tmp, `cache-${cases}`);
        const honest = { hubUrl: hub.url, cacheDir, token: TOKEN, deadline: 10 };
        const t0 = Date.now();
        let loaded: string | null = null;
        try {
          loaded = await downloadModel(repo, { ...honest, deadline: 0.4, fetch: mutatingFetch(file, ms) });
          outcomes.ok++;
        } catch (e) {
          if (e instanceof HubError) {
            outcomes.hubError++;
            codes.set(e.code, (codes.get(e.code) ?? 0) + 1);
          } else if (e instanceof AttentionArgumentError) outcomes.argumentError++;
          else throw new Error(`a raw error: ${inspect(e)}`);
          const text = `${(e as Error).message}\n${inspect(e, { depth: 5 })}`;
          expect(text).not.toContain(TOKEN);
          expect((e as Error).message).not.toContain("\n");
        }
        if (loaded !== null) expect(path.dirname(loaded)).toMatch(/snapshots$/);
        expect(Date.now() - t0).toBeLessThan(20_000); // the per-file deadline bounds every load (generous: a loaded CI machine)
        checkCache(cacheDir, repo, repos[repo]); // only complete files equal to the repository's
        const folder = await downloadModel(repo, honest); // and an honest load on the same cache succeeds
        expect(checkCache(cacheDir, repo, repos[repo])).toBeGreaterThanOrEqual(2);
        expect(folder).toContain(cacheDir);
        rmSync(cacheDir, { recursive: true, force: true });
      },
    ),
    fuzzParams(300, 8000),
  );
  const codeList = [...codes].map(([c, n]) => `${c} ${n}`).join(", ");
  reportFuzz(
    "Hub responses",
    cases,
    `${outcomes.ok} loaded correctly, ${outcomes.hubError} HubErrors (${codeList}), ${outcomes.argumentError} argument errors; no raw error, no token, no dishonest cache entry`,
  );
  expect(cases).toBeGreaterThan(3); // the time budget, not the run count, ends the search on a loaded machine
}, 60_000);
