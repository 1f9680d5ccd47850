/**
 * Issue 19, Hub items: the token (2), ETags and commits (5), concurrent loads (6), path
 * characters (7), deadlines and size caps (10), raw errors (14). Against the local Hub
 * (test/hub-server.ts) behind a hostile front (./hostile-hub.ts), all on 127.0.0.1.
 */
import { execFile } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { inspect } from "node:util";
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import { AttentionArgumentError } from "../../src/errors.js";
import { redact } from "../../src/hub/http.js";
import { downloadModel, HubError, repoFolderName } from "../../src/hub/index.js";
import { loadModel } from "../../src/models/index.js";
import { isolateHfEnvironment } from "../hub-env.js";
import { fixtureRepos, type HubServer, startHubServer } from "../hub-server.js";
import { checkCache, type HostileHub, startHostileHub } from "./hostile-hub.js";

const REPO = "test/longformer_tiny";
const TOKEN = "hf_SecretToken0123456789";
let tmp = "";
let hub: HubServer;
let front: HostileHub;
let repos: Record<string, string>;
let cacheDir = "";
let caseNo = 0;

beforeAll(async () => {
  tmp = mkdtempSync(path.join(os.tmpdir(), "sa-sec-hub-"));
  repos = fixtureRepos(path.join(tmp, "repos"));
  const evil = path.join(tmp, "repos", "evil_index");
  mkdirSync(evil, { recursive: true });
  writeFileSync(path.join(evil, "config.json"), readFileSync(path.join(repos[REPO], "config.json")));
  writeFileSync(
    path.join(evil, "model.safetensors.index.json"),
    JSON.stringify({ weight_map: { "a.weight": "..\\x.safetensors" } }),
  );
  repos["test/evil_index"] = evil;
  repos["acme/private"] = repos[REPO];
  hub = await startHubServer({ repos, tokens: { "acme/private": TOKEN } });
  front = await startHostileHub(hub.url);
});
afterAll(async () => {
  await front?.close();
  await hub?.close();
  rmSync(tmp, { recursive: true, force: true });
});
beforeEach(() => {
  caseNo += 1;
  cacheDir = path.join(tmp, `cache-${caseNo}`);
  isolateHfEnvironment(path.join(tmp, `home-${caseNo}`));
  front.override = null;
  front.requests.length = 0;
  hub.requests.length = 0;
  return () => vi.unstubAllEnvs();
});

async function failure(p: Promise<unknown>): Promise<Error> {
  const e = await p.then(
    () => null,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(Error);
  return e as Error;
}

/** Everything a user could see of an error: message, stack, and util.inspect with its causes. */
const shown = (e: Error) => `${e.message}\n${e.stack}\n${inspect(e, { depth: 5 })}`;

describe("item 2: the token", () => {
  it('HF_TOKEN="hf_abc\\nx": refused before any request, the message does not contain it', async () => {
    vi.stubEnv("HF_TOKEN", "hf_abcdef\nx");
    const e = await failure(downloadModel(REPO, { hubUrl: front.url, cacheDir }));
    expect(e).toBeInstanceOf(HubError);
    expect((e as HubError).code).toBe("bad-token");
    expect(e.message).toMatch(/the token from HF_TOKEN \(11 characters\) holds a line break at character 10/);
    expect(shown(e)).not.toContain("hf_abcdef");
    expect(front.requests).toEqual([]);
  });

  it("a token file with \\r\\n inside names the file, not the token; options.token with a space likewise", async () => {
    const home = path.join(tmp, `home-${caseNo}`);
    mkdirSync(home, { recursive: true });
    writeFileSync(path.join(home, "token"), "hf_abcdef\r\nsecond\n");
    const e = await failure(downloadModel(REPO, { hubUrl: front.url, cacheDir }));
    expect(e.message).toContain(`the token file ${path.join(home, "token")}`);
    expect(e.message).toContain("a line break");
    expect(shown(e)).not.toContain("hf_abcdef");
    const f = await failure(downloadModel(REPO, { hubUrl: front.url, cacheDir, token: "hf_abc def" }));
    expect(f.message).toMatch(/options\.token .* a space at character 7/);
    expect(shown(f)).not.toContain("hf_abc def");
    const g = await failure(downloadModel(REPO, { hubUrl: front.url, cacheDir, token: 42 as unknown as string }));
    expect(g).toBeInstanceOf(AttentionArgumentError);
    expect(g.message).toContain('options.token: got "a number"');
    expect(front.requests).toEqual([]);
  });

  it("a 500 whose body echoes the request (a proxy): the token is not in the error", async () => {
    front.override = (req, res) => {
      res.writeHead(500, { "content-type": "text/plain", "x-error-message": `bad ${req.headers.authorization}` });
      res.end(`upstream failed; your request: Authorization: ${req.headers.authorization}`);
      return true;
    };
    const e = await failure(downloadModel("acme/private", { hubUrl: front.url, cacheDir, token: TOKEN }));
    expect((e as HubError).code).toBe("http");
    expect(e.message).toMatch(/HTTP 500 fetching config\.json/);
    expect(shown(e)).not.toContain(TOKEN);
    expect(shown(e)).not.toContain("SecretToken");
  });

  it("every Hub error redacts token-shaped strings; the honest token still works", async () => {
    expect(redact("bad Bearer hf_abc123XYZ and api_org_Q1w2E3 and sk")).toBe(
      "bad Bearer hf_<redacted> and api_org_<redacted> and sk",
    );
    expect(new HubError("http", "saw hf_abcdef123 in a header").message).toBe("saw hf_<redacted> in a header");
    const cause = new TypeError('Headers.append: "Bearer hf_abcdef123" is an invalid header value.');
    const wrapped = new HubError("network", "x", { cause });
    expect(inspect(wrapped, { depth: 5 })).not.toContain("hf_abcdef123");
    const folder = await downloadModel("acme/private", { hubUrl: front.url, cacheDir, token: TOKEN });
    expect(readdirSync(folder)).toContain("model.safetensors");
  });
});

describe("item 5: ETags and commits are hex digests", () => {
  for (const etag of ['".."', '"."', '"../../../x"', '"abc"', 'W/"d41d8cd98f00b204e9800998ecf8427e"']) {
    it(`config.json with ETag ${etag}: a HubError, nothing linked; an honest load on the same cache then works`, async () => {
      front.override = (_req, res, file) => {
        if (file !== "config.json") return false;
        const body = readFileSync(path.join(repos[REPO], "config.json"));
        res.writeHead(200, { etag, "x-repo-commit": hub.commitOf(REPO), "content-length": String(body.length) });
        res.end(body);
        return true;
      };
      const e = await failure(downloadModel(REPO, { hubUrl: front.url, cacheDir }));
      expect(e).toBeInstanceOf(HubError);
      expect((e as HubError).code).toBe("invalid");
      expect(e.message).toContain("not a hex digest");
      expect(checkCache(cacheDir, REPO, repos[REPO])).toBe(0);
      front.override = null;
      front.requests.length = 0;
      const folder = await downloadModel(REPO, { hubUrl: front.url, cacheDir });
      expect(front.requests.length).toBeGreaterThan(0);
      expect(readdirSync(folder)).toContain("model.safetensors");
      expect(checkCache(cacheDir, REPO, repos[REPO])).toBe(2);
    });
  }

  it("an X-Linked-Etag of '..' on the weights' redirect and an X-Repo-Commit of '..' are refused too", async () => {
    front.override = (_req, res, file) => {
      if (file !== "model.safetensors") return false;
      res.writeHead(302, { location: "/nowhere", "x-linked-etag": '".."', "x-repo-commit": hub.commitOf(REPO) });
      res.end();
      return true;
    };
    const e = await failure(downloadModel(REPO, { hubUrl: front.url, cacheDir }));
    expect(e.message).toMatch(/model\.safetensors .*ETag "\\"\.\.\\"".*not a hex digest/);
    const other = path.join(tmp, `cache-${caseNo}-b`);
    front.override = (_req, res) => {
      res.writeHead(200, { "x-repo-commit": "..", etag: '"0000000000000000000000000000000000000000"' });
      res.end("{}");
      return true;
    };
    const f = await failure(downloadModel(REPO, { hubUrl: front.url, cacheDir: other }));
    expect(f.message).toMatch(/commit "\.\.", which is not a 40-hex commit hash/);
    expect(existsSync(path.join(other, repoFolderName(REPO), "refs"))).toBe(false);
  });

  it("a cache an older version let '..' poison (a folder where config.json belongs) is repaired", async () => {
    const folder = await downloadModel(REPO, { hubUrl: front.url, cacheDir });
    rmSync(path.join(folder, "config.json"));
    mkdirSync(path.join(folder, "config.json", "x"), { recursive: true });
    const again = await downloadModel(REPO, { hubUrl: front.url, cacheDir });
    expect(again).toBe(folder);
    expect(checkCache(cacheDir, REPO, repos[REPO])).toBe(2);
  });
});

describe("item 6: concurrent loads of one repository", () => {
  it("10 rounds of 3 downloads at once in one process, each on a fresh cache: all 30 succeed", async () => {
    let ok = 0;
    for (let round = 0; round < 10; round++) {
      const dir = path.join(tmp, `cache-${caseNo}-${round}`);
      const folders = await Promise.all([0, 1, 2].map(() => downloadModel(REPO, { hubUrl: hub.url, cacheDir: dir })));
      expect(new Set(folders).size).toBe(1);
      expect(checkCache(dir, REPO, repos[REPO])).toBe(2);
      expect(existsSync(path.join(dir, ".locks", repoFolderName(REPO)))).toBe(true);
      expect(readdirSync(path.join(dir, ".locks", repoFolderName(REPO)))).toEqual([]); // every lock released
      ok += folders.length;
    }
    expect(ok).toBe(30);
  });

  it("three loadModel calls at once (Promise.all) give three equal models", async () => {
    const models = await Promise.all([0, 1, 2].map(() => loadModel(REPO, { hubUrl: hub.url, cacheDir })));
    const ids = { data: new Int32Array([0, 5, 9, 2]), shape: [1, 4] as [number, number] };
    const outs = await Promise.all(models.map((m) => m.forward({ inputIds: ids }, { backend: "js" })));
    expect(outs[1].lastHiddenState.data).toEqual(outs[0].lastHiddenState.data);
    expect(outs[2].lastHiddenState.data).toEqual(outs[0].lastHiddenState.data);
  });

  it("3 rounds of 3 processes on one fresh cache each: all 9 succeed with one folder", async () => {
    const entry = path.resolve(__dirname, "../../dist/hub/index.js");
    if (!existsSync(entry)) throw new Error(`${entry} is missing: run "npm run build" first (npm test does)`);
    const script = `import(${JSON.stringify(entry)}).then(h => h.downloadModel(${JSON.stringify(REPO)}, { hubUrl: process.argv[1], cacheDir: process.argv[2] })).then(f => console.log(f), e => { console.error(String(e)); process.exit(3); })`;
    for (let round = 0; round < 3; round++) {
      const dir = path.join(tmp, `cache-${caseNo}-p${round}`);
      const runs = await Promise.all(
        [0, 1, 2].map(
          () =>
            new Promise<{ code: number; out: string; err: string }>((resolve) => {
              execFile(process.execPath, ["-e", script, hub.url, dir], (e, out, err) =>
                resolve({ code: e ? Number(e.code ?? 1) : 0, out: out.trim(), err }),
              );
            }),
        ),
      );
      for (const r of runs) expect(r.code, r.err).toBe(0);
      expect(new Set(runs.map((r) => r.out)).size).toBe(1);
      expect(checkCache(dir, REPO, repos[REPO])).toBe(2);
    }
  });

  it("a lock left by a process that died is taken over", async () => {
    const locks = path.join(cacheDir, ".locks", repoFolderName(REPO));
    mkdirSync(locks, { recursive: true });
    const blobs = hub.requests.length;
    const dead = await new Promise<number>((resolve) => {
      const c = execFile(process.execPath, ["-e", "0"], () => resolve(c.pid ?? 999999));
    });
    // every digest the repository's files have: lock them all as the dead process
    await downloadModel(REPO, { hubUrl: hub.url, cacheDir: path.join(tmp, `cache-${caseNo}-probe`) });
    const probeBlobs = readdirSync(path.join(tmp, `cache-${caseNo}-probe`, repoFolderName(REPO), "blobs"));
    for (const b of probeBlobs) writeFileSync(path.join(locks, `${b}.lock`), `${dead} ${os.hostname()}`);
    expect(blobs).toBe(0);
    const folder = await downloadModel(REPO, { hubUrl: hub.url, cacheDir });
    expect(readdirSync(folder)).toContain("model.safetensors");
    expect(readdirSync(locks)).toEqual([]);
  });
});

describe("item 7 and 14: names that become paths; raw errors", () => {
  for (const [revision, why] of [
    ["..\\..\\..\\x", "a backslash"],
    ["main\0", "U+0000"],
    ["a:b", "a colon"],
    ["main\n", "U+000A"],
    ["x".repeat(300), "at most 200 characters"],
    ["refs/../main", 'such as "main"'],
  ] as const) {
    it(`revision ${JSON.stringify(revision.slice(0, 20))}: one-line error naming options.revision (${why}), no request`, async () => {
      const e = await failure(downloadModel(REPO, { hubUrl: front.url, cacheDir, revision }));
      expect(e).toBeInstanceOf(AttentionArgumentError);
      expect(e.message).toMatch(/^options\.revision: /);
      expect(e.message).toContain(why);
      expect(e.message.split("\n")).toHaveLength(1);
      expect(front.requests).toEqual([]);
    });
  }

  it("an index naming ..\\x.safetensors: a HubError naming the shard, no shard requested", async () => {
    const e = await failure(downloadModel("test/evil_index", { hubUrl: front.url, cacheDir }));
    expect(e).toBeInstanceOf(HubError);
    expect(e.message).toMatch(/names a shard "\.\.\\\\x\.safetensors" \(it holds a backslash/);
    expect(front.requests.some((r) => r.includes("x.safetensors"))).toBe(false);
  });

  it("a redirect to file: (or to an unparsable place) is a one-line HubError, not 'cannot reach null'", async () => {
    for (const location of ["file:///etc/passwd", "data:text/plain,{}", "http://[::1"]) {
      front.override = (_req, res) => {
        res.writeHead(302, { location });
        res.end();
        return true;
      };
      const e = await failure(downloadModel(REPO, { hubUrl: front.url, cacheDir }));
      expect(e).toBeInstanceOf(HubError);
      expect(e.message).toMatch(
        /redirected the download of config\.json .* to (a (file|data): URL|an unparsable URL); only http\(s\) redirects are followed/,
      );
      expect(e.message).not.toContain("null");
    }
  });
});

describe("item 10: deadlines and size caps", () => {
  /** Sends config.json one byte per `everyMs` (each byte well inside the idle timeout). */
  const trickle = (everyMs: number) => (_req: unknown, res: import("node:http").ServerResponse, file: string) => {
    if (file !== "config.json") return false;
    const body = readFileSync(path.join(repos[REPO], "config.json"));
    res.writeHead(200, { "x-repo-commit": hub.commitOf(REPO), "content-length": String(body.length) });
    let i = 0;
    const t = setInterval(() => {
      if (i >= body.length || res.destroyed) {
        clearInterval(t);
        res.end();
        return;
      }
      res.write(body.subarray(i, ++i));
    }, everyMs);
    res.on("close", () => clearInterval(t));
    return true;
  };

  it("config.json trickled a byte at a time ends at options.deadline, nothing kept", async () => {
    front.override = trickle(20);
    const t0 = Date.now();
    const e = await failure(downloadModel(REPO, { hubUrl: front.url, cacheDir, deadline: 0.5 }));
    expect((e as HubError).code).toBe("timeout");
    expect(e.message).toMatch(
      /config\.json .* not complete after the 0\.5 s deadline of one file \(\d+ bytes arrived\)/,
    );
    expect(Date.now() - t0).toBeLessThan(5000);
    expect(checkCache(cacheDir, REPO, repos[REPO])).toBe(0);
  });

  it("without options.deadline the default follows HF_HUB_DOWNLOAD_TIMEOUT (6 × it for a JSON file)", async () => {
    vi.stubEnv("HF_HUB_DOWNLOAD_TIMEOUT", "0.5"); // silences of 0.5 s; bytes come every 30 ms
    front.override = trickle(30);
    const e = await failure(downloadModel(REPO, { hubUrl: front.url, cacheDir }));
    expect(e.message).toMatch(/not complete after the 3 s deadline/);
  });

  it("a 64 MiB config.json is refused by its Content-Length, and mid-stream without one; nothing is stored", async () => {
    const huge = Buffer.alloc(64 << 20, 0x20);
    for (const announce of [true, false]) {
      let sent = 0;
      front.override = (_req, res, file) => {
        if (file !== "config.json") return false;
        res.writeHead(200, {
          "x-repo-commit": hub.commitOf(REPO),
          ...(announce ? { "content-length": String(huge.length) } : {}),
        });
        const chunk = huge.subarray(0, 1 << 20);
        const push = () => {
          while (sent < huge.length && !res.destroyed) {
            sent += chunk.length;
            if (!res.write(chunk)) return void res.once("drain", push);
          }
          res.end();
        };
        push();
        return true;
      };
      const e = await failure(downloadModel(REPO, { hubUrl: front.url, cacheDir }));
      expect((e as HubError).code).toBe("invalid");
      expect(e.message).toMatch(
        /config\.json of test\/longformer_tiny is \d+ bytes; this library reads at most 1048576 bytes/,
      );
      const blobs = path.join(cacheDir, repoFolderName(REPO), "blobs");
      expect(existsSync(blobs) ? readdirSync(blobs) : []).toEqual([]);
      expect(sent).toBeLessThan(huge.length);
    }
  });
});
