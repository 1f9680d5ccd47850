import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, test } from "vitest";
import { fmaf, TorchGenerator } from "./torch-random.js";

interface Case {
  name: string;
  seed: string;
  shape: number[];
  f32: string;
}
const fixture = JSON.parse(readFileSync(path.resolve(__dirname, "../../test/fixtures/torch-randn.json"), "utf8")) as {
  cases: Case[];
};

function decode(b64: string): Float32Array {
  const buf = Buffer.from(b64, "base64");
  return new Float32Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength));
}

/** Replays a fixture's call on a fresh generator. */
function replay(c: Case): Float32Array {
  const g = new TorchGenerator(BigInt(c.seed));
  const n = c.shape.reduce((a, b) => a * b, 1);
  if (c.name.startsWith("rand(")) return g.rand(n);
  const two = c.name.match(/^randn\((\d+)\)\+randn\((\d+)\)$/);
  if (two !== null) {
    const a = g.randn(Number(two[1]));
    const b = g.randn(Number(two[2]));
    const out = new Float32Array(a.length + b.length);
    out.set(a);
    out.set(b, a.length);
    return out;
  }
  return g.randn(n);
}

describe("TorchGenerator: PyTorch's CPU generator bit for bit", () => {
  test("the fixture covers both paths, the tail rule, the cached sample and several seeds", () => {
    const sizes = new Set(fixture.cases.map((c) => c.shape.reduce((a, b) => a * b, 1)));
    for (const n of [1, 5, 15, 16, 17, 31, 33, 231, 384, 6144]) expect(sizes.has(n)).toBe(true);
    expect(new Set(fixture.cases.map((c) => c.seed)).size).toBeGreaterThanOrEqual(5);
  });

  for (const c of fixture.cases) {
    test(`${c.name} after manual_seed(${c.seed})`, () => {
      const want = decode(c.f32);
      const got = replay(c);
      expect(got.length).toBe(want.length);
      let first = -1;
      for (let i = 0; i < want.length && first < 0; i++) if (!Object.is(got[i], want[i])) first = i;
      expect(first === -1 ? "all equal" : `first difference at ${first}: ${got[first]} vs ${want[first]}`).toBe(
        "all equal",
      );
    });
  }

  test("HF reformer_tiny: manual_seed(1234), randn(4, 16, 2, 3) are its stored rotations", () => {
    const file = path.resolve(__dirname, "../../../shared/models/hf/reformer_tiny/lsh_random_rotations.f32");
    const buf = readFileSync(file);
    const want = new Float32Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength));
    expect(Array.from(new TorchGenerator(1234).randn(4 * 16 * 2 * 3))).toEqual(Array.from(want));
  });

  test("seeds are taken mod 2^32 by the engine; bad seeds and sizes are refused", () => {
    expect(new TorchGenerator(2n ** 32n + 5n).random()).toBe(new TorchGenerator(5).random());
    expect(() => new TorchGenerator(-1)).toThrow(/seed/);
    expect(() => new TorchGenerator(1.5)).toThrow(/seed/);
    expect(() => new TorchGenerator(2n ** 64n)).toThrow(/seed/);
    expect(() => new TorchGenerator(0).randn(-1)).toThrow(/size/);
  });

  test("MT19937 reference output (seed 5489: 3499211612, 581869302, ...)", () => {
    const g = new TorchGenerator(5489);
    expect([g.random(), g.random(), g.random()]).toEqual([3499211612, 581869302, 3890346734]);
  });

  test("fmaf rounds once where float64-then-float32 would round twice", () => {
    const a = 1 + 2 ** -12; // a·a = 1 + 2^-11 + 2^-24: a float32 midpoint
    expect(Math.fround(a * a + 2 ** -80)).toBe(1 + 2 ** -11); // two roundings: tie to even
    expect(fmaf(a, a, 2 ** -80)).toBe(1 + 2 ** -11 + 2 ** -23); // one rounding: just above the tie
    expect(fmaf(a, a, -(2 ** -80))).toBe(1 + 2 ** -11);
    expect(fmaf(a, a, 0)).toBe(1 + 2 ** -11);
    expect(fmaf(3, 5, -15)).toBe(0);
  });
});
