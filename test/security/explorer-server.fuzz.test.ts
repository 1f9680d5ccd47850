/**
 * Issue 19, item 1: the explorer's static server on hostile requests. Any web page the user
 * visits can send requests to it (`<img src="http://127.0.0.1:8123/%ff">`), so no request may
 * end the server, and no answer may come from outside the served folder.
 * Raw sockets, not fetch: fetch normalises the paths a hostile client would send as they are.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import fc from "fast-check";
import { afterAll, beforeAll, expect, it } from "vitest";
import { localHost, type StaticServer, serveStatic } from "../../src/cli/static-server.js";
import { fuzzParams, reportFuzz } from "./fuzz.js";

let tmp = "";
let server: StaticServer;
const SECRET = "SECRET-OUTSIDE-THE-MOUNT";
const INDEX = "<!doctype html><title>explorer</title>";

/** One raw HTTP/1.1 request; resolves with the status code and the body (or status 0 when the socket closed without an answer). */
function raw(requestLine: string, host = `127.0.0.1:${server.port}`, timeoutMs = 3000) {
  return new Promise<{ status: number; text: string }>((resolve, reject) => {
    const socket = net.connect(server.port, "127.0.0.1");
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no answer within ${timeoutMs} ms to ${JSON.stringify(requestLine)}`));
    }, timeoutMs);
    socket.on("data", (c) => chunks.push(c));
    socket.on("error", () => {});
    socket.on("close", () => {
      clearTimeout(timer);
      const text = Buffer.concat(chunks).toString("latin1");
      const m = /^HTTP\/1\.[01] (\d{3})/.exec(text);
      resolve({ status: m ? Number(m[1]) : 0, text });
    });
    socket.write(Buffer.from(`${requestLine}\r\nHost: ${host}\r\nConnection: close\r\n\r\n`, "latin1"));
  });
}

const get = (p: string) => raw(`GET ${p} HTTP/1.1`);

beforeAll(async () => {
  tmp = mkdtempSync(path.join(os.tmpdir(), "sa-static-"));
  const root = path.join(tmp, "site");
  mkdirSync(path.join(root, "sub"), { recursive: true });
  writeFileSync(path.join(root, "index.html"), INDEX);
  writeFileSync(path.join(root, "sub", "a.js"), "export {};");
  writeFileSync(path.join(tmp, "secret.txt"), SECRET);
  writeFileSync(path.join(tmp, "site-secret.txt"), SECRET); // a sibling whose name starts with the mount's
  server = await serveStatic({ mounts: { "/": root }, isolated: true });
});
afterAll(async () => {
  await server?.close();
  rmSync(tmp, { recursive: true, force: true });
});

it("GET /%ff answers 400 and the server keeps serving", async () => {
  const bad = await get("/%ff");
  expect(bad.status).toBe(400);
  expect(bad.text).toMatch(/malformed percent-encoding/);
  expect(bad.text).not.toContain("%ff");
  const ok = await get("/");
  expect(ok.status).toBe(200);
  expect(ok.text).toContain(INDEX);
});

it("malformed, traversing and control-character paths: 400 or 404, never a file outside the folder", async () => {
  const cases: [string, number][] = [
    ["/%E0%A4%A", 400],
    ["/%", 400],
    ["/%00", 400],
    ["/index.html%00.js", 400],
    ["/..%5c..%5csecret.txt", 400], // "\" decoded: a separator on Windows
    ["/%0d%0aSet-Cookie:%20x=1", 400],
    ["/../secret.txt", 404], // the URL parser resolves ".." to "/secret.txt", absent from the folder
    ["/%2e%2e/secret.txt", 404],
    ["/%2e%2e%2fsecret.txt", 404],
    ["/%2e%2e%2f%2e%2e%2fsecret.txt", 404],
    ["/..%2f..%2fsite-secret.txt", 404],
    ["/sub/a.js", 200],
  ];
  for (const [p, status] of cases) {
    const r = await get(p);
    expect(r.status, p).toBe(status);
    expect(r.text, p).not.toContain(SECRET);
  }
});

it("methods other than GET and HEAD get 405; a request with a foreign Host (DNS rebinding) gets 403", async () => {
  expect((await raw("POST / HTTP/1.1")).status).toBe(405);
  expect((await raw("DELETE /index.html HTTP/1.1")).status).toBe(405);
  const rebound = await raw("GET / HTTP/1.1", `evil.example:${server.port}`);
  expect(rebound.status).toBe(403);
  expect(rebound.text).not.toContain(INDEX);
  for (const h of ["127.0.0.1", "localhost:1", "[::1]:8123", undefined]) expect(localHost(h), String(h)).toBe(true);
  for (const h of ["evil.example", "127.0.0.1.evil.example", "localhost.evil:80", "[::2]:80", ""]) {
    expect(localHost(h), h).toBe(false);
  }
});

it("a garbled request line gets 400 and ends no server", async () => {
  for (const line of ["GET /\u0000 HTTP/1.1", "GARBAGE", "GET / HTTP/9.9", `GET /${"a".repeat(20_000)} HTTP/1.1`]) {
    const r = await raw(line);
    expect([400, 404, 414, 431, 505, 0], JSON.stringify(line.slice(0, 40))).toContain(r.status);
  }
  expect((await get("/")).status).toBe(200);
});

it("fuzz: random request paths end in an answer (200/400/404), never outside the folder; the server survives", async () => {
  // pieces a hostile page would combine: escapes (good and broken), dots, separators, controls, unicode
  const piece = fc.oneof(
    fc.constantFrom("/", "..", ".", "%", "%2e", "%2E", "%2f", "%5c", "%00", "%ff", "%c0%af", "%e2%80", "%", "\\"),
    fc.constantFrom("index.html", "sub", "a.js", "secret.txt", "site-secret.txt", "?", "#", "?x=%ff", ";"),
    fc.string({ unit: "grapheme-ascii", maxLength: 6 }).map((s) => s.replace(/[\s]/g, "")),
    fc.integer({ min: 0, max: 255 }).map((b) => `%${b.toString(16).padStart(2, "0")}`),
    fc.string({ unit: "binary", maxLength: 3 }).map((s) => encodeURIComponent(s)),
  );
  const requestPath = fc.array(piece, { maxLength: 12 }).map((ps) => `/${ps.join("")}`);
  let answered = 0;
  await fc.assert(
    fc.asyncProperty(requestPath, async (p) => {
      const r = await get(p);
      answered++;
      expect([200, 400, 404], p).toContain(r.status);
      expect(r.text, p).not.toContain(SECRET);
      if (r.status === 200) expect(r.text.includes(INDEX) || r.text.includes("export {};"), p).toBe(true);
    }),
    fuzzParams(400, 4000),
  );
  reportFuzz("explorer request paths", answered, "every one answered 200/400/404 from inside the folder");
  expect(answered).toBeGreaterThan(20);
  expect((await get("/")).status).toBe(200);
});
