/**
 * Issue 19, item 13: safetensors files that break the format are refused — overlapping or
 * gapped data_offsets, trailing bytes, duplicate names, a header that is not a JSON object
 * starting with "{", metadata that is not strings, sizes past 2^53 — and a fuzz suite of
 * mutations of a valid file (header JSON and raw bytes): each ends in a CheckpointError or a
 * file whose tensors read back exactly the bytes they claim, never another error.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { CheckpointError, SafetensorsFile } from "../../src/models/safetensors.js";
import { type RawTensor, writeSafetensors } from "../models-fixtures.js";
import { fuzzParams, reportFuzz } from "./fuzz.js";

const f32 = (shape: number[], values: number[]): RawTensor => {
  const data = new Float32Array(values);
  return { dtype: "F32", shape, bytes: new Uint8Array(data.buffer) };
};
const A = f32([2, 3], [1, 2, 3, 4, 5, 6]); // 24 bytes
const B = f32([3], [7, 8, 9]); // 12 bytes
const HALF: RawTensor = { dtype: "F16", shape: [2], bytes: new Uint8Array([0x00, 0x3c, 0x00, 0xc0]) }; // 1, -2

/** A file from a raw header text and data bytes (the header padded with spaces to 8 bytes). */
function rawFile(header: string, data: Uint8Array): Uint8Array {
  let json = header;
  while ((8 + json.length) % 8 !== 0) json += " ";
  const hb = new TextEncoder().encode(json);
  const out = new Uint8Array(8 + hb.length + data.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(hb.length), true);
  out.set(hb, 8);
  out.set(data, 8 + hb.length);
  return out;
}

const open = (bytes: Uint8Array) => new SafetensorsFile(bytes, "x.safetensors");

describe("format violations are refused, naming the file and the tensor", () => {
  it("overlapping data_offsets", () => {
    const bad = writeSafetensors({ a: A, b: B }, (h) => {
      (h.b as { data_offsets: number[] }).data_offsets = [12, 24];
    });
    expect(() => open(bad)).toThrow(/x\.safetensors: .*tensor "b": data_offsets \[12, 24\] overlap the tensor before/);
  });
  it("a gap between tensors", () => {
    const data = new Uint8Array(40);
    const header = JSON.stringify({
      a: { dtype: "F32", shape: [2, 3], data_offsets: [0, 24] },
      b: { dtype: "F32", shape: [3], data_offsets: [28, 40] },
    });
    expect(() => open(rawFile(header, data))).toThrow(/tensor "b": .*leave a gap of 4 bytes/);
  });
  it("data not starting at 0", () => {
    const header = JSON.stringify({ b: { dtype: "F32", shape: [3], data_offsets: [4, 16] } });
    expect(() => open(rawFile(header, new Uint8Array(16)))).toThrow(/tensor "b": .*gap of 4 bytes/);
  });
  it("trailing bytes after the last tensor", () => {
    const good = writeSafetensors({ a: A });
    const longer = new Uint8Array(good.length + 5);
    longer.set(good);
    expect(() => open(longer)).toThrow(/5 bytes follow the last tensor's data/);
  });
  it("duplicate names (JSON.parse would keep the last)", () => {
    const header = `{"a":{"dtype":"F32","shape":[3],"data_offsets":[0,12]},"a":{"dtype":"F32","shape":[3],"data_offsets":[12,24]}}`;
    expect(() => open(rawFile(header, new Uint8Array(24)))).toThrow(/the header names "a" twice/);
    const escaped = `{"a":{"dtype":"F32","shape":[3],"data_offsets":[0,12]},"\\u0061":{"dtype":"F32","shape":[3],"data_offsets":[12,24]}}`;
    expect(() => open(rawFile(escaped, new Uint8Array(24)))).toThrow(/names "a" twice/);
    const inner = `{"a":{"dtype":"F32","dtype":"F16","shape":[3],"data_offsets":[0,12]}}`;
    expect(() => open(rawFile(inner, new Uint8Array(12)))).toThrow(/names "dtype" twice/);
  });
  it("a header that does not start with '{', a huge header length, non-string metadata, sizes past 2^53", () => {
    expect(() => open(rawFile(` ${JSON.stringify({})}`, new Uint8Array(0)))).toThrow(/does not start with "\{"/);
    const huge = new Uint8Array(16);
    new DataView(huge.buffer).setBigUint64(0, 2n ** 63n, true);
    expect(() => open(huge)).toThrow(/header length is 9223372036854775808 bytes; the format allows at most 100000000/);
    expect(() => open(rawFile(JSON.stringify({ __metadata__: { a: 1 } }), new Uint8Array(0)))).toThrow(
      /"__metadata__"\."a" is 1, not a string/,
    );
    expect(() => open(rawFile(JSON.stringify({ __metadata__: [] }), new Uint8Array(0)))).toThrow(/not an object/);
    const big = JSON.stringify({ a: { dtype: "F64", shape: [2 ** 26, 2 ** 26, 2 ** 2], data_offsets: [0, 8] } });
    expect(() => open(rawFile(big, new Uint8Array(8)))).toThrow(/too large to address/);
    const proto = JSON.stringify({ a: { dtype: "constructor", shape: [1], data_offsets: [0, 1] } });
    expect(() => open(rawFile(proto, new Uint8Array(1)))).toThrow(/unknown dtype "constructor"/);
  });
  it("a valid file still opens, zero-size tensors included, and metadata is a plain record", () => {
    const empty: RawTensor = { dtype: "F32", shape: [0, 4], bytes: new Uint8Array(0) };
    const f = open(writeSafetensors({ e: empty, a: A, b: B, h: HALF }));
    expect(Array.from(f.get("a").data)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(Array.from(f.get("h").data)).toEqual([1, -2]);
    expect(f.get("e").data.length).toBe(0);
    const m = open(rawFile(JSON.stringify({ __metadata__: { __proto__: "x", format: "pt" } }), new Uint8Array(0)));
    expect(m.metadata.format).toBe("pt");
    expect(Object.getPrototypeOf(m.metadata)).toBe(null);
  });
});

/** Reads every tensor of an opened file and checks it against the bytes it claims. */
function checkOpened(f: SafetensorsFile, bytes: Uint8Array): void {
  const n = Number(new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(0, true));
  const dataStart = 8 + n;
  let covered = 0;
  for (const [name, t] of f.tensors) {
    covered += t.end - t.begin;
    if (t.dtype !== "F32") continue;
    const got = f.get(name).data;
    const want = new Float32Array(bytes.slice(dataStart + t.begin, dataStart + t.end).buffer);
    expect(Object.is(got.length, want.length)).toBe(true);
    for (let i = 0; i < want.length; i++) if (!Object.is(got[i], want[i])) expect(got[i]).toBe(want[i]);
  }
  expect(covered).toBe(bytes.length - dataStart); // contiguous and complete
}

it("fuzz: mutated headers and bodies end in a CheckpointError or a file whose tensors read back their own bytes", () => {
  const tensors = { a: A, b: B, h: HALF };
  const good = writeSafetensors(tensors);
  const goodHeader = (): Record<string, Record<string, unknown>> => {
    const n = Number(new DataView(good.buffer).getBigUint64(0, true));
    return JSON.parse(new TextDecoder().decode(good.subarray(8, 8 + n)));
  };
  const data = good.subarray(good.length - 40);
  const anyJson = fc.oneof(
    fc.integer({ min: -5, max: 60 }),
    fc.constantFrom(2 ** 53, 2 ** 64, -0, 1.5, Number.MAX_SAFE_INTEGER, null, true, "0", "F32", [], {}),
    fc.array(fc.integer({ min: -2, max: 48 }), { maxLength: 4 }),
  );
  // header mutations: a field of a tensor set to something else, a tensor added / removed / renamed
  const headerMutation = fc.record({
    tensor: fc.constantFrom("a", "b", "h", "__metadata__", "new", "__proto__"),
    field: fc.constantFrom("dtype", "shape", "data_offsets", "extra", "whole"),
    value: fc.oneof(anyJson, fc.constantFrom("F16", "BF16", "I64", "U8", "BOOL", "F8_E4M3", "toString")),
    duplicate: fc.boolean(),
  });
  // byte mutations: flips, truncation, extension, header length rewritten
  const byteMutation = fc.oneof(
    fc.record({ kind: fc.constant("flip" as const), at: fc.nat(), xor: fc.integer({ min: 1, max: 255 }) }),
    fc.record({ kind: fc.constant("cut" as const), at: fc.nat() }),
    fc.record({ kind: fc.constant("grow" as const), by: fc.integer({ min: 1, max: 16 }) }),
    fc.record({ kind: fc.constant("length" as const), n: fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }) }),
  );
  let cases = 0;
  let opened = 0;
  let refused = 0;
  fc.assert(
    fc.property(fc.array(headerMutation, { maxLength: 3 }), fc.array(byteMutation, { maxLength: 3 }), (hm, bm) => {
      cases++;
      const h = goodHeader() as Record<string, unknown>;
      let dupText: string | null = null;
      for (const m of hm) {
        if (m.field === "whole") h[m.tensor] = m.value;
        else {
          const entry = (h[m.tensor] ?? {}) as Record<string, unknown>;
          if (entry !== null && typeof entry === "object") {
            entry[m.field] = m.value;
            h[m.tensor] = entry;
          }
        }
        if (m.duplicate) dupText = `"${m.tensor}":${JSON.stringify(m.value)},`;
      }
      let text = JSON.stringify(h);
      if (dupText !== null) text = `{${dupText}${text.slice(1)}`;
      let bytes = rawFile(text, data);
      for (const m of bm) {
        if (m.kind === "flip") {
          bytes = bytes.slice();
          bytes[m.at % bytes.length] ^= m.xor;
        } else if (m.kind === "cut") bytes = bytes.slice(0, m.at % (bytes.length + 1));
        else if (m.kind === "grow") {
          const g = new Uint8Array(bytes.length + m.by);
          g.set(bytes);
          bytes = g;
        } else if (bytes.length >= 8) {
          bytes = bytes.slice();
          new DataView(bytes.buffer).setBigUint64(0, m.n, true);
        }
      }
      let f: SafetensorsFile;
      try {
        f = open(bytes);
      } catch (e) {
        if (!(e instanceof CheckpointError)) throw e;
        expect(e.message).toMatch(/^x\.safetensors: /);
        refused++;
        return;
      }
      opened++;
      checkOpened(f, bytes);
    }),
    fuzzParams(3000, 4000),
  );
  reportFuzz(
    "safetensors header and body mutations",
    cases,
    `${refused} refused with a CheckpointError, ${opened} opened and read back exactly, no other outcome`,
  );
  expect(refused).toBeGreaterThan(0);
  expect(opened).toBeGreaterThan(0);
});
