/**
 * `sparse-attention run text-classification --input docs.jsonl --output out.jsonl` on the shared
 * task model (../shared/models/tasks/longformer_seqcls): killed with SIGKILL at random points
 * and rerun, the output has every id exactly once and the results of an uninterrupted run,
 * which equal pipeline() called per document; pipeline.stream gives the same results.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { pipeline } from "../src/models/index.js";

const MAIN = path.resolve(__dirname, "../dist/cli/main.js");
const MODEL = path.resolve("../shared/models/tasks/longformer_seqcls");
const tmp = mkdtempSync(path.join(os.tmpdir(), "sa-corpus-cli-"));
const input = path.join(tmp, "docs.jsonl");
const SENTENCES = [
  "The committee met in Berlin to discuss the long report.",
  "A quiet morning, then rain over the harbour and the old bridge.",
  "Prices rose again; the market closed lower than expected.",
  "She wrote the letter twice before sending it to Paris.",
];
const docs = Array.from({ length: 16 }, (_, i) => ({
  id: `doc-${i}`,
  text: Array.from({ length: 1 + ((i * 7) % 5) }, (_, j) => SENTENCES[(i + j) % 4]).join(" "),
}));

beforeAll(() => writeFileSync(input, `${docs.map((d) => JSON.stringify(d)).join("\n")}\n`));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function run(output: string): { child: ChildProcess; done: Promise<number | null> } {
  const args = [MAIN, "run", "text-classification", "--model", MODEL, "--input", input, "--output", output];
  const child = spawn(process.execPath, [...args, "--batch-size", "2", "--backend", "js", "--threads", "1"], {
    stdio: ["ignore", "ignore", "pipe"],
  });
  let stderr = "";
  child.stderr?.on("data", (d) => {
    stderr += d;
  });
  const done = new Promise<number | null>((resolve) =>
    child.on("exit", (code) => {
      if (code !== 0 && code !== null) console.error(stderr);
      resolve(code);
    }),
  );
  return { child, done };
}

const size = (f: string) => (existsSync(f) ? readFileSync(f).length : 0);

function results(file: string): Map<string, unknown> {
  const lines = readFileSync(file, "utf8").split("\n");
  lines.pop();
  const m = new Map<string, unknown>();
  for (const line of lines) {
    const { id, result } = JSON.parse(line);
    expect(m.has(id), `id ${id} twice`).toBe(false);
    m.set(id, result);
  }
  return m;
}

describe("run text-classification --input/--output survives kill -9", () => {
  it("killed at random points and rerun: every id once, results equal to an uninterrupted run and to pipeline()", async () => {
    const reference = path.join(tmp, "reference.jsonl");
    expect(await run(reference).done).toBe(0);
    const want = results(reference);
    expect(want.size).toBe(docs.length);
    const pipe = await pipeline("text-classification", MODEL, { backend: "js", threads: 1 });
    for (const d of docs.slice(0, 6)) expect(want.get(d.id)).toEqual(JSON.parse(JSON.stringify(await pipe(d.text))));

    const output = path.join(tmp, "killed.jsonl");
    let kills = 0;
    let seed = 12345;
    for (let attempt = 0; attempt < 40; attempt++) {
      const before = size(output);
      const { child, done } = run(output);
      let exited = false;
      void done.then(() => {
        exited = true;
      });
      while (size(output) <= before && !exited) await new Promise((r) => setTimeout(r, 5));
      if (kills < 3) {
        // up to three runs are killed 0-120 ms after their first write; on a fast machine a run may
        // finish first (then the job is simply complete), so at least the first kill must land
        seed = (seed * 1103515245 + 12345) % 2 ** 31;
        await new Promise((r) => setTimeout(r, seed % 120));
        child.kill("SIGKILL");
      }
      if ((await done) === 0) break;
      kills++;
      results(output); // never a half-written complete line
    }
    expect(kills).toBeGreaterThanOrEqual(1);
    expect(kills).toBeLessThanOrEqual(3);
    const got = results(output);
    expect(got.size).toBe(docs.length);
    for (const [id, r] of want) expect(got.get(id), id).toEqual(r);
  }, 180_000);

  it("pipeline.stream: the same results as one call per document, every id once", async () => {
    const pipe = await pipeline("text-classification", MODEL, { backend: "js", threads: 1 });
    async function* source() {
      for (const d of docs.slice(0, 10)) yield d;
    }
    const seen = new Map<string | number, unknown>();
    for await (const r of pipe.stream(source(), { batchSize: 3, callOptions: { topK: null } })) {
      expect(seen.has(r.id)).toBe(false);
      seen.set(r.id, r.result);
    }
    expect(seen.size).toBe(10);
    for (const d of docs.slice(0, 10)) expect(seen.get(d.id)).toEqual(await pipe(d.text, { topK: null }));
    const plain: unknown[] = [];
    for await (const r of pipe.stream(["a short one", "and another text"])) plain.push(r.id);
    expect(plain.sort()).toEqual([0, 1]);
  }, 60_000);
});
