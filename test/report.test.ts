/** `sparse-attention report` at small sizes: the page, every file it references, the summary. */
import { execFile } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { XMLValidator } from "fast-xml-parser";
import { PNG } from "pngjs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const MAIN = path.resolve(__dirname, "../dist/cli/main.js");
let tmp = "";
let run = { code: -1, stdout: "", stderr: "" };

beforeAll(async () => {
  if (!existsSync(MAIN)) throw new Error(`${MAIN} is missing: run "npm run build" first (npm test does)`);
  tmp = mkdtempSync(path.join(os.tmpdir(), "sa-report-"));
  run = await new Promise((resolve) => {
    execFile(
      process.execPath,
      [
        MAIN,
        "report",
        "--quick",
        "--out",
        path.join(tmp, "r"),
        "--max-n",
        "128",
        "--total-seconds",
        "5",
        "--no-progress",
      ],
      { maxBuffer: 16 << 20 },
      (err, stdout, stderr) => resolve({ code: err ? Number(err.code ?? 1) : 0, stdout, stderr }),
    );
  });
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe("report --quick", () => {
  it("exits 0, prints the cost table, the fitted exponents and where the report is", () => {
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain("Cost at n = 256");
    expect(run.stdout).toContain("counted exp.");
    expect(run.stdout).toContain(path.join(tmp, "r", "index.html"));
    for (const m of ["dense (tiled)", "sliding window", "BigBird", "strided", "fixed", "LSH"])
      expect(run.stdout).toContain(m);
  });

  it("every file the page references exists; SVGs are valid XML and PNGs decode", () => {
    const dir = path.join(tmp, "r");
    const html = readFileSync(path.join(dir, "index.html"), "utf8");
    const refs = [...html.matchAll(/(?:href|src)="([^"]+)"/g)]
      .map((m) => m[1])
      .filter((r) => !r.startsWith("data:") && !r.startsWith("#"));
    const figures = ["fig1-lsh", "fig2-sparse-transformer", "fig3-bigbird", "fig4-longformer", "scaling"];
    for (const f of figures) {
      expect(refs).toContain(`figures/${f}.svg`);
      expect(refs).toContain(`figures/${f}.png`);
    }
    expect(refs).toEqual(expect.arrayContaining(["scaling.json", "scaling.csv", "cost.json"]));
    for (const r of refs) {
      expect(r, "relative link").not.toMatch(/^(https?:|\/)/);
      const file = path.join(dir, r);
      expect(existsSync(file), r).toBe(true);
      if (r.endsWith(".svg")) expect(XMLValidator.validate(readFileSync(file, "utf8")), r).toBe(true);
      if (r.endsWith(".png")) expect(PNG.sync.read(readFileSync(file)).width, r).toBeGreaterThan(100);
    }
  });

  it("is self-contained: every image is inline, the figures, cost table and notes are there", () => {
    const html = readFileSync(path.join(tmp, "r", "index.html"), "utf8");
    const imgs = [...html.matchAll(/<img [^>]*src="([^"]+)"/g)].map((m) => m[1]);
    expect(imgs.length).toBe(5);
    for (const src of imgs) {
      expect(src.startsWith("data:image/svg+xml;base64,")).toBe(true);
      expect(XMLValidator.validate(Buffer.from(src.slice(26), "base64").toString("utf8"))).toBe(true);
    }
    for (const id of ["fig1-lsh", "fig2-sparse-transformer", "fig3-bigbird", "fig4-longformer", "scaling"])
      expect(html).toContain(`id="${id}"`);
    for (const s of [
      "Why each mechanism is cheap",
      "allowed/scored",
      "FLOPs",
      "O(n²)",
      "slidingWindow(left=64, right=64)",
    ])
      expect(html).toContain(s);
    const cost = JSON.parse(readFileSync(path.join(tmp, "r", "cost.json"), "utf8"));
    expect(cost.map((r: { id: string }) => r.id)).toEqual(
      expect.arrayContaining([
        "dense",
        "causal",
        "sliding",
        "dilated",
        "longformer",
        "bigbird",
        "strided",
        "fixed",
        "lsh",
      ]),
    );
    const scaling = JSON.parse(readFileSync(path.join(tmp, "r", "scaling.json"), "utf8"));
    expect(scaling.fits.map((f: { mechanism: string }) => f.mechanism)).toEqual([
      "dense",
      "causal",
      "sliding",
      "bigbird",
      "strided",
      "fixed",
      "lsh",
    ]);
  });
});
