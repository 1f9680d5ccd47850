/**
 * Corpus mode's crash safety (src/cli/corpus.ts) with a stand-in batch function (test/corpus-child.mjs):
 * a job killed with SIGKILL at random points and rerun until it finishes has every id exactly
 * once and the same results as an uninterrupted run; a torn last line is cut; Ctrl-C stops
 * after the batch in flight; a foreign output is refused; batching groups similar lengths.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { appendFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { resumeOutput } from "../src/cli/corpus.js";
import { type CorpusDoc, runBatches } from "../src/models/corpus.js";

const CHILD = path.resolve(__dirname, "corpus-child.mjs");
const tmp = mkdtempSync(path.join(os.tmpdir(), "sa-corpus-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** A seeded generator (mulberry32), so a failing run can be replayed from its seed. */
function rng(seed: number) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function writeDocs(file: string, n: number, seed: number): void {
  const r = rng(seed);
  const words = ["alpha", "beta", "gamma", "delta", "sparse", "window", "global", "token", "é", "🙂", '"q"', "\\"];
  const lines: string[] = [];
  for (let i = 0; i < n; i++) {
    const len = 1 + Math.floor(r() * 60);
    const text = Array.from({ length: len }, () => words[Math.floor(r() * words.length)]).join(" ");
    lines.push(JSON.stringify({ id: `doc-${i}`, text }));
  }
  writeFileSync(file, `${lines.join("\n")}\n`);
}

function run(args: string[]): { child: ChildProcess; done: Promise<number | null> } {
  const child = spawn(process.execPath, [CHILD, ...args], { stdio: ["ignore", "ignore", "pipe"] });
  let stderr = "";
  child.stderr?.on("data", (d) => {
    stderr += d;
  });
  const done = new Promise<number | null>((resolve) =>
    child.on("exit", (code) => {
      if (code !== 0 && code !== null && code !== 130) console.error(stderr);
      resolve(code);
    }),
  );
  return { child, done };
}

const size = (file: string) => (existsSync(file) ? readFileSync(file).length : 0);

/** Resolves once `file` has grown past `from` bytes (the child is mid-run), or the child ended. */
async function grown(file: string, from: number, exited: () => boolean): Promise<void> {
  while (size(file) <= from && !exited()) await new Promise((r) => setTimeout(r, 5));
}

/** Complete lines must all parse; only a last line without its newline may be torn. */
function checkNoHalfLines(file: string): Map<unknown, unknown> {
  const text = existsSync(file) ? readFileSync(file, "utf8") : "";
  const lines = text.split("\n");
  lines.pop(); // after the last newline: empty, or a torn line the next run cuts
  const byId = new Map<unknown, unknown>();
  for (const line of lines) {
    const { id, result } = JSON.parse(line);
    expect(byId.has(id), `id ${id} twice`).toBe(false);
    byId.set(id, result);
  }
  return byId;
}

describe("corpus job: kill -9 at random points, rerun, every id once, results as an uninterrupted run", () => {
  it("160 documents, batches of 4, SIGKILL 0-300 ms after each run's first write", async () => {
    const input = path.join(tmp, "docs.jsonl");
    writeDocs(input, 160, 7);
    const reference = path.join(tmp, "reference.jsonl");
    expect(await run([input, reference, "4", "0"]).done).toBe(0);
    const want = checkNoHalfLines(reference);
    expect(want.size).toBe(160);

    const output = path.join(tmp, "killed.jsonl");
    const r = rng(20);
    let kills = 0;
    let torn = 0;
    for (let attempt = 0; attempt < 60; attempt++) {
      const before = size(output);
      const { child, done } = run([input, output, "4", "20"]);
      let exited = false;
      void done.then(() => {
        exited = true;
      });
      await grown(output, before, () => exited);
      if (kills < 6) {
        await new Promise((res) => setTimeout(res, Math.floor(r() * 300)));
        child.kill("SIGKILL"); // no effect when it already finished
      }
      const code = await done;
      if (code === 0) break;
      expect(child.signalCode).toBe("SIGKILL");
      kills++;
      checkNoHalfLines(output);
      if (kills % 3 === 1) {
        // what a kill in the middle of write() leaves: part of a line, no newline
        appendFileSync(output, '{"id":"doc-torn","result":{"ha');
        torn++;
      }
    }
    expect(kills).toBeGreaterThanOrEqual(3); // the test only means something if runs were cut
    expect(torn).toBeGreaterThanOrEqual(1);
    const got = checkNoHalfLines(output);
    expect(readFileSync(output, "utf8").endsWith("\n")).toBe(true);
    expect(got.size).toBe(160);
    for (const [id, result] of want) expect(got.get(id), String(id)).toEqual(result);
  }, 120_000);

  it("Ctrl-C (SIGINT) stops after the batch in flight; the rerun finishes the rest", async () => {
    const input = path.join(tmp, "docs-int.jsonl");
    writeDocs(input, 120, 9);
    const output = path.join(tmp, "int.jsonl");
    const { child, done } = run([input, output, "4", "15"]);
    await grown(output, 0, () => false);
    child.kill("SIGINT");
    expect(await done).toBe(130);
    const partial = readFileSync(output, "utf8");
    expect(partial.endsWith("\n")).toBe(true);
    const first = checkNoHalfLines(output).size;
    expect(first).toBeGreaterThan(0);
    expect(first).toBeLessThan(120);
    expect(first % 4).toBe(0); // whole batches only
    expect(await run([input, output, "4", "0"]).done).toBe(0);
    expect(checkNoHalfLines(output).size).toBe(120);
  }, 60_000);
});

describe("resumeOutput", () => {
  it("cuts a torn last line, keeps complete ones, refuses a foreign line naming it", () => {
    const f = path.join(tmp, "resume.jsonl");
    writeFileSync(f, '{"id":1,"result":[1]}\n{"id":"b","result":null}\n{"id":3,"res');
    const { done, truncated } = resumeOutput(f);
    expect([...done]).toEqual([1, "b"]);
    expect(truncated).toBe('{"id":3,"res'.length);
    expect(readFileSync(f, "utf8")).toBe('{"id":1,"result":[1]}\n{"id":"b","result":null}\n');
    writeFileSync(f, '{"id":1,"result":[1]}\nhello\n{"id":2,"result":1}\n');
    expect(() => resumeOutput(f)).toThrow(/line 2 is not a result line .*refusing to append/);
    expect(readFileSync(f, "utf8")).toBe('{"id":1,"result":[1]}\nhello\n{"id":2,"result":1}\n'); // untouched
    writeFileSync(f, '{"id":1,"result":[1]}\n{"id":2,"result":1}'); // complete JSON but no newline: redone
    expect([...resumeOutput(f).done]).toEqual([1]);
  });

  it("reads a multi-megabyte output across chunk boundaries", () => {
    const f = path.join(tmp, "big.jsonl");
    const lines = Array.from({ length: 3000 }, (_, i) => JSON.stringify({ id: i, result: "x".repeat(i % 1500) }));
    writeFileSync(f, `${lines.join("\n")}\n`);
    expect(resumeOutput(f).done.size).toBe(3000);
  });
});

describe("runBatches", () => {
  it("groups documents of similar length within the read-ahead window and keeps every document", async () => {
    const docs: CorpusDoc<number>[] = [50, 3, 40, 4, 45, 5, 1, 60].map((length, index) => ({
      id: index,
      index,
      input: length,
      length,
    }));
    const seen: number[][] = [];
    for await (const b of runBatches(docs, async (batch) => batch.map((d) => d.input * 2), {
      batchSize: 2,
      window: 4,
    })) {
      seen.push(b.docs.map((d) => d.length));
      expect(b.results.map((r) => r.result)).toEqual(b.docs.map((d) => d.length * 2));
    }
    expect(seen).toEqual([
      [3, 4],
      [40, 50],
      [1, 5],
      [45, 60],
    ]);
  });

  it("refuses a batch function that returns the wrong number of results", async () => {
    const it = runBatches([{ id: 1, index: 0, input: 0, length: 1 }], async () => [1, 2]);
    await expect(it.next()).rejects.toThrow(/an array of 1 results, one per document/);
  });
});
