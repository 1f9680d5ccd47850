import { existsSync, readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { CheckpointError } from "../safetensors.js";
import { PyDict, type PyValue, type TorchTensorRef, unpickle } from "./pickle.js";

// Made by Python's pickle module (fixtures/make_pickles.py; stand-in torch globals, torch's persistent ids)
const FIXTURES = JSON.parse(readFileSync(new URL("./fixtures/pickles.json", import.meta.url), "utf8")) as {
  state_dict: Record<string, string>;
  checkpoint: string;
  evil: Record<string, string>;
};
const hex = (s: string) => Uint8Array.from(Buffer.from(s, "hex"));
const bytes = (...parts: (number | string)[]) =>
  Uint8Array.from(parts.flatMap((p) => (typeof p === "number" ? [p] : [...Buffer.from(p, "latin1")])));

function tensor(v: PyValue | undefined): TorchTensorRef {
  expect((v as TorchTensorRef).kind).toBe("tensor");
  return v as TorchTensorRef;
}

describe("unpickle: the opcodes torch (and Python's pickle at protocols 1-5) write for a state dict", () => {
  for (const [protocol, data] of Object.entries(FIXTURES.state_dict)) {
    it(`protocol ${protocol}`, () => {
      const sd = unpickle(hex(data), "p");
      expect(sd).toBeInstanceOf(PyDict);
      const d = sd as PyDict;
      expect([...d.keys()]).toEqual(["a.weight", "a.t", "b.half", "c.param", "d.ids"]);
      const a = tensor(d.get("a.weight"));
      expect(a.storage).toEqual({ kind: "storage", dtype: "F32", key: "0", location: "cpu", numel: 24 });
      expect([a.offset, a.shape, a.stride]).toEqual([0, [2, 3, 4], [12, 4, 1]]);
      const t = tensor(d.get("a.t"));
      expect(t.storage).toBe(a.storage); // one storage object, shared through the memo
      expect([t.offset, t.shape, t.stride]).toEqual([1, [4, 3], [1, 4]]);
      expect(tensor(d.get("b.half")).storage.dtype).toBe("F16");
      const p = tensor(d.get("c.param")); // _rebuild_parameter unwraps to the tensor
      expect([p.shape, p.stride]).toEqual([
        [1, 1, 2, 3, 4],
        [24, 24, 12, 4, 1],
      ]);
      const ids = tensor(d.get("d.ids")); // numel past 2^31: LONG1 / LONG
      expect(ids.storage).toMatchObject({ dtype: "I64", numel: 3_000_000_000 });
      expect(ids.shape).toEqual([3_000_000_000]);
    });
  }

  it("the opcodes of HF's real pytorch_model.bin pickles (BININT2, BININT, LONG_BINPUT, LONG_BINGET, …)", async () => {
    const { ZipArchive } = await import("./zip.js");
    const zip = new ZipArchive(readFileSync("../shared/models/tasks/longformer_mlm_bin/pytorch_model.bin"), "bin");
    const sd = unpickle(zip.read("pytorch_model/data.pkl"), "bin") as PyDict;
    expect(sd.size).toBe(56);
    expect(tensor(sd.get("longformer.embeddings.position_embeddings.weight")).shape).toEqual([1100, 64]);
  });

  it("protocol-0 text opcodes: INT, LONG, FLOAT, UNICODE, PUT/GET, DICT, LIST, APPEND(S), DUP, POP", () => {
    const v = unpickle(
      bytes(
        "(dp0\n",
        "Vkey\n(I7\nL-12L\nF0.5\nI01\ntp1\ns",
        "Vlist\n(lp2\nNa(K",
        1,
        "K",
        2,
        "es",
        "Vagain\ng1\ns",
        "Vdup\nN20s",
        "Vname\nVcaf\\u00e9\ns",
        ".",
      ),
      "p",
    );
    expect(v).toBeInstanceOf(PyDict);
    const d = v as PyDict;
    expect(d.get("key")).toEqual([7, -12, 0.5, true]);
    expect(d.get("list")).toEqual([null, 1, 2]);
    expect(d.get("again")).toBe(d.get("key"));
    expect(d.get("dup")).toBe(null);
    expect(d.get("name")).toBe("café");
  });
});

describe("unpickle refuses hostile pickles without running anything", () => {
  const sentinel = `/tmp/sparse-attention-pickle-sentinel-${process.pid}`;
  const expectRefused = (data: Uint8Array, message: RegExp) => {
    expect(() => unpickle(data, "evil.pkl")).toThrow(CheckpointError);
    expect(() => unpickle(data, "evil.pkl")).toThrow(message);
    expect(existsSync(sentinel)).toBe(false);
  };
  const evil = (name: string) =>
    hex(
      FIXTURES.evil[name].replaceAll(
        Buffer.from("SENTINEL_PATH").toString("hex"),
        Buffer.from(sentinel.padEnd(13).slice(0, 13)).toString("hex"),
      ),
    );

  it("os.system via GLOBAL (protocols 0 and 2) and STACK_GLOBAL (protocol 4)", () => {
    for (const p of [0, 2, 4]) expectRefused(evil(`os.system protocol ${p}`), /global posix\.system is not allowed/);
  });
  it("builtins.eval and builtins.getattr through REDUCE", () => {
    expectRefused(evil("eval via REDUCE"), /global __builtin__\.eval is not allowed/);
    expectRefused(evil("builtins.getattr"), /global builtins\.getattr is not allowed/);
  });
  it("arbitrary classes: NEWOBJ + BUILD, INST-style copyreg._reconstructor + BUILD, BUILD on a tensor", () => {
    expectRefused(evil("BUILD on a class (NEWOBJ)"), /global __main__\.Plain is not allowed/);
    expectRefused(evil("BUILD on a class (INST)"), /global copy_reg\._reconstructor is not allowed/);
    // a tensor built from a storage, then BUILD with a state: only an OrderedDict takes a state
    const storage = [
      "(",
      "X",
      7,
      0,
      0,
      0,
      "storage",
      "ctorch\nFloatStorage\n",
      "X",
      1,
      0,
      0,
      0,
      "0",
      "X",
      3,
      0,
      0,
      0,
      "cpu",
      "K",
      1,
      "t",
      "Q",
    ];
    const tensorOps = [
      "ctorch._utils\n_rebuild_tensor_v2\n",
      "(",
      ...storage,
      "K",
      0,
      "K",
      1,
      0x85,
      "K",
      1,
      0x85,
      0x89,
      "ccollections\nOrderedDict\n)R",
      "t",
      "R",
    ];
    expect(tensor(unpickle(bytes(0x80, 2, ...tensorOps, "."), "p")).shape).toEqual([1]); // the well-formed tensor
    expectRefused(bytes(0x80, 2, ...tensorOps, "}", "b", "."), /BUILD on a tensor/);
    expectRefused(bytes(0x80, 2, "N", "}", "b", "."), /BUILD on None/);
    expectRefused(bytes("cnumpy\ndtype\n", "."), /global numpy\.dtype is not allowed/);
    expectRefused(bytes(0x80, 2, "(S'x'\n", "i", "."), /opcode|STRING/);
    expectRefused(bytes(0x80, 2, "N", ")", 0x81, "."), /NEWOBJ/);
  });
  it("calling an allowed type (a storage class) is refused", () => {
    expectRefused(evil("storage type called"), /torch\.FloatStorage cannot be called/);
  });
  it("huge integers (LONG1 of 9 bytes, LONG4 claiming 2 GB, a 30-digit LONG)", () => {
    expectRefused(bytes(0x80, 2, 0x8a, 9, 1, 2, 3, 4, 5, 6, 7, 8, 9, "."), /9-byte integer/);
    expectRefused(bytes(0x80, 2, 0x8b, 0, 0, 0, 0x80, "."), /2147483648-byte integer/);
    expectRefused(bytes("L123456789012345678901234567890L\n."), /huge or malformed integer/);
    expectRefused(bytes(0x80, 2, 0x8a, 8, 0, 0, 0, 0, 0, 0, 0, 0x7f, "."), /beyond 2\^53/);
  });
  it("recursive memo: a list holding itself, a dict holding itself, a read before a write", () => {
    // EMPTY_LIST, BINPUT 0, BINGET 0, APPEND, STOP: a list that contains itself (no walk, no recursion)
    const v = unpickle(bytes(0x80, 2, "]", "q", 0, "h", 0, "a", "."), "p") as PyValue[];
    expect(v[0]).toBe(v);
    const d = unpickle(bytes(0x80, 2, "}", "q", 0, "X", 1, 0, 0, 0, "k", "h", 0, "s", "."), "p") as PyDict;
    expect(d.get("k")).toBe(d);
    expectRefused(bytes(0x80, 2, "h", 5, "."), /memo slot 5 is read before it is written/);
  });
  it("truncated pickles and lengths larger than the pickle", () => {
    const good = hex(FIXTURES.state_dict["2"]);
    for (const cut of [0, 1, 2, 10, good.length >> 1, good.length - 1]) {
      expectRefused(good.subarray(0, cut), /truncated|pops an empty stack|needs a value|STOP/);
    }
    expectRefused(bytes(0x80, 2, "X", 0xff, 0xff, 0xff, 0xff, "ab"), /truncated/);
    expectRefused(bytes(0x80, 4, 0x8d, 0, 0, 0, 0, 1, 0, 0, 0, "."), /larger than the whole pickle/);
  });
  it("stack abuse: unbalanced marks, STOP with several values, unknown opcodes, a deep MARK bomb", () => {
    expectRefused(bytes(0x80, 2, "t", "."), /needs a MARK/);
    expectRefused(bytes(0x80, 2, "N", "N", "."), /exactly one value/);
    expectRefused(bytes(0x80, 2, 0xff), /unknown opcode 0xff/);
    expectRefused(new Uint8Array(1_000_002).fill(0x28), /stack grows past 1000000 items/);
  });
  it("persistent ids other than torch's storage tuple", () => {
    expectRefused(bytes(0x80, 2, "X", 1, 0, 0, 0, "x", "Q", "."), /persistent id/);
    expectRefused(bytes("Pfoo\n."), /PERSID/);
  });
});
