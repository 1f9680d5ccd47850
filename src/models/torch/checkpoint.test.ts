import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { type WriteEntry, writeZip } from "../../../test/zip-writer.js";
import { CheckpointError, SafetensorsFile, WeightStore } from "../safetensors.js";
import { TorchCheckpoint } from "./checkpoint.js";
import { MAX_INFLATED_BYTES, ZipArchive } from "./zip.js";

const TASKS = "../shared/models/tasks";
const FIXTURES = JSON.parse(readFileSync(new URL("./fixtures/pickles.json", import.meta.url), "utf8")) as {
  checkpoint: string;
};
const PICKLE = Uint8Array.from(Buffer.from(FIXTURES.checkpoint, "hex"));

function bitsEqual(a: Float32Array, b: Float32Array): boolean {
  if (a.length !== b.length) return false;
  const x = new Uint32Array(a.buffer, a.byteOffset, a.length);
  const y = new Uint32Array(b.buffer, b.byteOffset, b.length);
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return false;
  return true;
}

/** Storages of the fixture pickle: "0" F32 0..23, "1" F16 [1, -2, 0.5, 65504, 2^-24, -0], "2" BF16 of [1.5, -3, 256, 1e-3, 7, -0.25]. */
function storages(): Record<string, Uint8Array> {
  const f32 = new Float32Array(24).map((_, i) => i);
  const f16 = Uint16Array.from([0x3c00, 0xc000, 0x3800, 0x7bff, 0x0001, 0x8000]);
  const bf = new Float32Array([1.5, -3, 256, 1e-3, 7, -0.25]);
  const bf16 = Uint16Array.from(new Uint32Array(bf.buffer), (b) => b >>> 16);
  return { "0": new Uint8Array(f32.buffer), "1": new Uint8Array(f16.buffer), "2": new Uint8Array(bf16.buffer) };
}

function checkpointZip(opts: { prefix?: string; byteorder?: string; deflatePickle?: boolean; drop?: string } = {}) {
  const prefix = opts.prefix ?? "archive";
  const entries: WriteEntry[] = [{ name: `${prefix}/data.pkl`, data: PICKLE, deflate: opts.deflatePickle }];
  if (opts.byteorder !== undefined)
    entries.push({ name: `${prefix}/byteorder`, data: new TextEncoder().encode(opts.byteorder), deflate: false });
  for (const [k, v] of Object.entries(storages()))
    entries.push({ name: `${prefix}/data/${k}`, data: v, deflate: false });
  entries.push({ name: `${prefix}/version`, data: new TextEncoder().encode("3\n"), deflate: false });
  return writeZip(entries.filter((e) => e.name !== opts.drop));
}

describe("TorchCheckpoint", () => {
  it("reads a torch.save zip: parameters, offsets, strided views, F16 and BF16", () => {
    const ck = new TorchCheckpoint(checkpointZip({ byteorder: "little" }), "ck.bin");
    expect([...ck.tensors.keys()]).toEqual(["w", "w_t", "w_row", "half", "bf16"]);
    expect(ck.get("w")).toEqual({ data: new Float32Array(24).map((_, i) => i), shape: [2, 3, 4] });
    // w_t[i][j] = storage[1 + i + 4 j] (a transposed view: materialised)
    const wt = ck.get("w_t");
    expect(wt.shape).toEqual([4, 3]);
    expect([...wt.data]).toEqual([1, 5, 9, 2, 6, 10, 3, 7, 11, 4, 8, 12]);
    const row = ck.get("w_row");
    expect([...row.data]).toEqual([12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23]);
    expect(row.data.buffer).toBe(ck.get("w").data.buffer); // contiguous F32: a view, no copy
    expect([...ck.get("half").data]).toEqual([1, -2, 0.5, 65504, 2 ** -24, -0]);
    expect(Object.is(ck.get("half").data[5], -0)).toBe(true);
    // bf16 [3, 2] with stride [1, 3]: element [i][j] = storage[i + 3 j]
    const bf = ck.get("bf16");
    const top = (x: number) =>
      new Float32Array(new Uint32Array([new Uint32Array(new Float32Array([x]).buffer)[0] & 0xffff0000]).buffer)[0];
    expect([...bf.data]).toEqual([1.5, 1e-3, -3, 7, 256, -0.25].map(top));
  });

  it("any folder name (HF writes <stem>/), a deflated pickle (Node), and no byteorder entry", () => {
    const a = new TorchCheckpoint(checkpointZip({ prefix: "pytorch_model-00001-of-00002" }), "a");
    const b = new TorchCheckpoint(checkpointZip({ deflatePickle: true }), "b");
    expect(bitsEqual(a.get("w_t").data, b.get("w_t").data)).toBe(true);
  });

  it("refuses clearly: big-endian storages, a missing storage, legacy and non-zip files, dtypes it does not convert", () => {
    expect(() => new TorchCheckpoint(checkpointZip({ byteorder: "big" }), "x")).toThrow(/byte order "big"/);
    expect(() => new TorchCheckpoint(checkpointZip({ drop: "archive/data/1" }), "x")).toThrow(
      /tensor "half" needs storage entry archive\/data\/1, which is missing/,
    );
    expect(() => new TorchCheckpoint(Uint8Array.from([0x80, 2, 0x7d, 0x2e]), "old.bin")).toThrow(
      /legacy format of torch < 1.6/,
    );
    expect(() => new TorchCheckpoint(new Uint8Array(10), "z.bin")).toThrow(/does not start with a zip header/);
    const real = new TorchCheckpoint(readFileSync(`${TASKS}/longformer_mlm_bin/pytorch_model.bin`), "bin");
    expect(real.tensors.get("lm_head.bias")?.dtype).toBe("F32");
  });

  it("refuses a storage whose size disagrees with the pickle, and a view reaching past its storage", () => {
    const s = storages();
    const short = writeZip([
      { name: "archive/data.pkl", data: PICKLE },
      { name: "archive/data/0", data: s["0"].subarray(0, 92) },
      { name: "archive/data/1", data: s["1"] },
      { name: "archive/data/2", data: s["2"] },
    ]);
    expect(() => new TorchCheckpoint(short, "x")).toThrow(
      /storage archive\/data\/0 has 92 bytes but the pickle says 24 × 4/,
    );
  });
});

describe("ZipArchive against hostile archives", () => {
  const real = new Uint8Array(readFileSync(`${TASKS}/longformer_mlm_bin/pytorch_model.bin`));

  it("a truncated checkpoint is a CheckpointError at every cut, never a crash or a wrong tensor", () => {
    const cuts = [
      0,
      3,
      4,
      21,
      22,
      100,
      6800,
      262_928,
      real.length - 1000,
      real.length - 23,
      real.length - 22,
      real.length - 1,
    ];
    for (let i = 0; i < 20; i++) cuts.push(Math.floor((real.length * (i + 0.5)) / 20));
    for (const cut of cuts) {
      expect(() => new TorchCheckpoint(real.slice(0, cut), "cut.bin"), `cut at ${cut}`).toThrow(CheckpointError);
    }
  });

  it('refuses entries named "../…", absolute, or with backslashes', () => {
    for (const evil of [
      "../../../../../../etc",
      "/pytorch_model/versi",
      "pytorch_model\\versio",
      "pytorch_model/./vers",
    ]) {
      const bytes = real.slice();
      const from = Buffer.from("pytorch_model/version");
      const to = Buffer.from(evil.padEnd(from.length, "n").slice(0, from.length));
      const buf = Buffer.from(bytes.buffer);
      for (let at = buf.indexOf(from); at >= 0; at = buf.indexOf(from, at + 1)) to.copy(buf, at);
      expect(() => new ZipArchive(bytes, "evil.zip"), evil).toThrow(/unsafe entry name/);
    }
  });

  it("a zip bomb: a declared size over the cap, and a stream longer than its declared size", () => {
    const zeros = new Uint8Array(8 * 1024 * 1024); // deflates to ~8 KB
    const capped = writeZip([{ name: "a/data.pkl", data: zeros, deflate: true, declaredSize: MAX_INFLATED_BYTES + 1 }]);
    expect(() => new ZipArchive(capped, "bomb.zip").read("a/data.pkl")).toThrow(/zip bomb/);
    const lying = writeZip([{ name: "a/data.pkl", data: zeros, deflate: true, declaredSize: 1000 }]);
    expect(() => new ZipArchive(lying, "bomb.zip").read("a/data.pkl")).toThrow(
      /does not inflate to its declared 1000 bytes|inflates to/,
    );
    expect(() => new TorchCheckpoint(lying, "bomb.zip")).toThrow(CheckpointError);
  });

  it("refuses a damaged pickle entry by its CRC", () => {
    const z = checkpointZip();
    const arch = new ZipArchive(z, "z");
    const at = arch.dataOffset(arch.entries.get("archive/data.pkl")!);
    z[at + 10] ^= 0x01;
    expect(() => new TorchCheckpoint(z, "z")).toThrow(/CRC-32/);
  });
});

describe(".bin copies of the task checkpoints are bitwise equal to safetensors", () => {
  const cases: [string, string[], string][] = [
    ["longformer_mlm_bin", ["pytorch_model.bin"], "longformer_mlm"],
    ["bigbird_qa_bin", ["pytorch_model.bin"], "bigbird_qa"],
    ["bigbird_mlm_sharded", [1, 2, 3, 4, 5, 6].map((i) => `pytorch_model-0000${i}-of-00006.bin`), "bigbird_mlm"],
  ];
  for (const [bin, files, st] of cases) {
    it(`${bin} = ${st}`, () => {
      const store = new WeightStore(
        files.map((f) => new TorchCheckpoint(readFileSync(`${TASKS}/${bin}/${f}`), `${TASKS}/${bin}/${f}`)),
        bin,
      );
      const ref = new SafetensorsFile(readFileSync(`${TASKS}/${st}/model.safetensors`), st);
      for (const name of ref.tensors.keys()) {
        const a = store.get(name);
        const b = ref.get(name);
        expect(a.shape, name).toEqual(b.shape);
        expect(bitsEqual(a.data, b.data), name).toBe(true);
      }
    });
  }

  it("tied keys share one storage (longformer_mlm_bin: 56 keys, 54 storages)", () => {
    const bin = new TorchCheckpoint(readFileSync(`${TASKS}/longformer_mlm_bin/pytorch_model.bin`), "bin");
    expect(bin.tensors.size).toBe(56);
    const w = bin.get("lm_head.decoder.weight");
    const e = bin.get("longformer.embeddings.word_embeddings.weight");
    expect(w.data.buffer).toBe(e.data.buffer);
    expect(w.data.byteOffset).toBe(e.data.byteOffset);
  });
});

describe("files torch.save wrote (Debian's torch 1.13, fixtures/make_torch_save.py)", () => {
  const want = JSON.parse(readFileSync(new URL("./fixtures/torch_save.json", import.meta.url), "utf8")) as {
    tensors: Record<string, { shape: number[]; values: number[] }>;
  };
  for (const file of ["torch_save.pt", "torch_save_p4.pt"]) {
    it(`${file}: state_dict() with _metadata, Parameter, F16, BF16, transposed and offset views`, () => {
      const ck = new TorchCheckpoint(readFileSync(new URL(`./fixtures/${file}`, import.meta.url)), file);
      expect([...ck.tensors.keys()].sort()).toEqual([...Object.keys(want.tensors), "ids"].sort());
      for (const [name, t] of Object.entries(want.tensors)) {
        const got = ck.get(name);
        expect(got.shape, name).toEqual(t.shape);
        expect([...got.data], name).toEqual(t.values.map((v) => Math.fround(v)));
      }
      expect(ck.tensors.get("ids")).toEqual({ dtype: "I64", shape: [2, 3] });
      expect(() => ck.get("ids")).toThrow(/tensor "ids" has dtype I64; supported dtypes are F32, F16, BF16/);
    });
  }
});
