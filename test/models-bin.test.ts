/**
 * loadModel on PyTorch .bin folders (single and sharded, ../shared/models/tasks): the same
 * weights, bit for bit, as the safetensors folders, so the same outputs; the folder order of
 * preference; bytes given directly.
 */
import { copyFileSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { loadModel } from "../src/models/index.js";

const TASKS = "../shared/models/tasks";

function bitsEqual(a: Float32Array, b: Float32Array): boolean {
  const x = new Uint32Array(a.buffer, a.byteOffset, a.length);
  const y = new Uint32Array(b.buffer, b.byteOffset, b.length);
  return x.length === y.length && x.every((v, i) => v === y[i]);
}

const ids = (n: number, first: number, last: number) =>
  Int32Array.from({ length: n }, (_, i) => (i === 0 ? first : i === n - 1 ? last : 5 + ((i * 37) % 900)));

describe("loadModel reads pytorch_model.bin folders", () => {
  const tmp = mkdtempSync(join(tmpdir(), "sa-bin-"));
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));

  for (const [bin, st, first, last] of [
    ["longformer_mlm_bin", "longformer_mlm", 0, 2],
    ["bigbird_qa_bin", "bigbird_qa", 65, 66],
    ["bigbird_mlm_sharded", "bigbird_mlm", 65, 66],
  ] as const) {
    it(`${bin}: the same hidden states, bit for bit, as ${st}`, async () => {
      const a = await loadModel(`${TASKS}/${bin}`);
      const b = await loadModel(`${TASKS}/${st}`);
      const input = { inputIds: { data: ids(200, first, last), shape: [1, 200] as [number, number] } };
      const x = await a.forward(input, { backend: "js", threads: 1 });
      const y = await b.forward(input, { backend: "js", threads: 1 });
      expect(bitsEqual(x.lastHiddenState.data, y.lastHiddenState.data)).toBe(true);
    });
  }

  it("prefers model.safetensors over pytorch_model.bin in one folder; bytes of a .bin load too", async () => {
    const dir = join(tmp, "both");
    rmSync(dir, { recursive: true, force: true });
    const { mkdirSync } = await import("node:fs");
    mkdirSync(dir);
    copyFileSync(`${TASKS}/longformer_mlm/config.json`, join(dir, "config.json"));
    copyFileSync(`${TASKS}/longformer_mlm/model.safetensors`, join(dir, "model.safetensors"));
    // a .bin that would fail: safetensors must win without reading it
    const { writeFileSync } = await import("node:fs");
    writeFileSync(join(dir, "pytorch_model.bin"), "PK\u0003\u0004 broken");
    await expect(loadModel(dir)).resolves.toBeDefined();
    rmSync(join(dir, "model.safetensors"));
    await expect(loadModel(dir)).rejects.toThrow(/pytorch_model\.bin: not a valid PyTorch zip checkpoint/);
    const config = JSON.parse(readFileSync(`${TASKS}/longformer_mlm_bin/config.json`, "utf8"));
    const model = await loadModel({ config, weights: readFileSync(`${TASKS}/longformer_mlm_bin/pytorch_model.bin`) });
    expect(model.modelType).toBe("longformer");
  });

  it("a folder with no weights names all four file names", async () => {
    const dir = join(tmp, "none");
    const { mkdirSync } = await import("node:fs");
    mkdirSync(dir, { recursive: true });
    copyFileSync(`${TASKS}/longformer_mlm/config.json`, join(dir, "config.json"));
    await expect(loadModel(dir)).rejects.toThrow(
      /no model\.safetensors, model\.safetensors\.index\.json, pytorch_model\.bin or pytorch_model\.bin\.index\.json/,
    );
  });
});
