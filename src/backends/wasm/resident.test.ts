/**
 * Resident buffers (resident.ts, WasmMemory.allocResident): arrays kept in the wasm memory that
 * linear(), layerNorm() and attention() on wasm read and write where they are. Each op must give
 * the same bits as with plain arrays, never write outside the caller's array (the GEMM's last
 * row tile is short: rows not a multiple of the kernel's rows), never write a resident input
 * (the NaN rule cleans a copy), and keep working after the memory grows and after the runtime
 * is released (the views are then copied like any array). Freed blocks are reused.
 */
import { describe, expect, it } from "vitest";
import { attention } from "../../attention.js";
import type { Tensor } from "../../types.js";
import { Rng } from "../../util/rng.js";
import { layerNorm, linear, releaseWorkBuffer, workBuffer } from "../dispatch.js";
import { allocResident, freeResident } from "./resident.js";
import { releaseWasm, wasmRuntime } from "./wasm.js";

function random(n: number, rng: Rng): Float32Array {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = rng.normal();
  return a;
}

/** A resident copy of `a` (the test's host keeps a shared memory: null would fail the test). */
function resident(a: Float32Array): Float32Array {
  const r = allocResident(a.length);
  expect(r).not.toBeNull();
  r!.set(a);
  return r!;
}

const bits = (a: Float32Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength);

describe("resident buffers", () => {
  it("are views of the wasm memory; workBuffer gives plain arrays for js and resident ones for wasm", () => {
    const r = allocResident(100)!;
    expect(wasmRuntime()!.mem.residentPtr(r)).toBe(r.byteOffset);
    expect(wasmRuntime()!.mem.residentPtr(new Float32Array(100))).toBe(-1);
    freeResident(r);
    const js = workBuffer(10, "js");
    expect(wasmRuntime()!.mem.residentPtr(js)).toBe(-1);
    const w = workBuffer(10, "wasm");
    expect(wasmRuntime()!.mem.residentPtr(w)).toBeGreaterThan(0);
    releaseWorkBuffer(w);
    releaseWorkBuffer(js); // ignored
  });

  for (const threads of [1, 2]) {
    it(`linear() reads x and writes y in place, bit for bit, and never past y (${threads} thread(s))`, () => {
      const rng = new Rng(1);
      for (const [rows, inF, outF, act] of [
        [37, 40, 16, null], // 37 rows: the last tile of 4 or 6 rows is short
        [5, 300, 24, "gelu"],
        [1, 8, 8, null],
        [13, 17, 10, null], // outF not a multiple of 8: y is copied out (padded columns)
      ] as const) {
        const x = random(rows * inF, rng);
        const W = random(outF * inF, rng);
        const bias = random(outF, rng);
        const opt = { backend: "wasm" as const, threads, activation: act ?? undefined };
        const plain = linear(x, rows, inF, W, outF, bias, undefined, opt);
        const xr = resident(x);
        const yr = allocResident(rows * outF)!;
        const after = allocResident(64)!; // the next block: rows · outF · 4 is a multiple of 64 in the first case
        after.fill(7);
        if ((rows * outF) % 16 === 0) expect(after.byteOffset).toBe(yr.byteOffset + yr.byteLength); // adjacent
        yr.fill(Number.NaN);
        linear(xr, rows, inF, W, outF, bias, yr, opt);
        expect(bits(yr).equals(bits(plain))).toBe(true);
        expect(bits(xr).equals(bits(x))).toBe(true);
        expect(after.every((v) => v === 7)).toBe(true);
        for (const a of [xr, yr, after]) freeResident(a);
      }
    });

    it(`attention() reads q, k, v and writes out in place, bit for bit (${threads} thread(s))`, () => {
      const rng = new Rng(2);
      const [B, H, L, D] = [2, 3, 70, 16];
      const t = (data: Float32Array): Tensor => ({ data, shape: [B, H, L, D] });
      const q = random(B * H * L * D, rng);
      const k = random(B * H * L * D, rng);
      const v = random(B * H * L * D, rng);
      const plain = attention(t(q), t(k), t(v), { backend: "wasm", threads });
      const out = allocResident(q.length)!;
      out.fill(Number.NaN);
      const res = attention(t(resident(q)), t(resident(k)), t(resident(v)), {
        backend: "wasm",
        threads,
        out: t(out),
      });
      expect(res.out.data).toBe(out);
      expect(bits(out).equals(bits(plain.out.data))).toBe(true);
      expect(bits(res.lse).equals(bits(plain.lse))).toBe(true);
      // a NaN in a resident q: the NaN rule works on a copy and leaves the caller's q as it was
      const qn = q.slice();
      qn[5] = Number.NaN;
      const plainNaN = attention(t(qn), t(k), t(v), { backend: "wasm", threads });
      const qr = resident(qn);
      const resNaN = attention(t(qr), t(resident(k)), t(resident(v)), { backend: "wasm", threads, out: t(out) });
      expect(bits(resNaN.out.data).equals(bits(plainNaN.out.data))).toBe(true);
      expect(bits(qr).equals(bits(qn))).toBe(true);
    });
  }

  it("layerNorm() normalises a resident dst in place and reads a resident add, bit for bit", () => {
    const rng = new Rng(3);
    const [rows, n] = [40, 768];
    const x = random(rows * n, rng);
    const add = random(rows * n, rng);
    const g = random(n, rng);
    const b = random(n, rng);
    const opt = { backend: "wasm" as const, threads: 2 };
    const plain = x.slice();
    layerNorm(plain, add, rows, n, g, b, 1e-5, plain, opt);
    const xr = resident(x);
    layerNorm(xr, resident(add), rows, n, g, b, 1e-5, xr, opt);
    expect(bits(xr).equals(bits(plain))).toBe(true);
    // into another resident array: x is left alone
    const plainInto = new Float32Array(rows * n);
    layerNorm(x, null, rows, n, g, b, 1e-5, plainInto, opt);
    const xr2 = resident(x);
    const dst = allocResident(rows * n)!;
    layerNorm(xr2, null, rows, n, g, b, 1e-5, dst, opt);
    expect(bits(dst).equals(bits(plainInto))).toBe(true);
    expect(bits(xr2).equals(bits(x))).toBe(true);
  });

  it("stay valid when the memory grows, and after releaseWasm() (copied then, like any array)", () => {
    const rng = new Rng(4);
    const [rows, inF, outF] = [30, 64, 32];
    const x = random(rows * inF, rng);
    const W = random(outF * inF, rng);
    const plain = linear(x, rows, inF, W, outF, null, undefined, { backend: "wasm", threads: 1 });
    const xr = resident(x);
    const yr = allocResident(rows * outF)!;
    const before = wasmRuntime()!.memory.buffer.byteLength;
    const big = 4096; // a call whose layout needs more memory than there is
    linear(random(big * 512, rng), big, 512, random(512 * 512, rng), 512, null, undefined, { backend: "wasm" });
    expect(wasmRuntime()!.memory.buffer.byteLength).toBeGreaterThan(before);
    expect(wasmRuntime()!.mem.residentPtr(xr)).toBe(xr.byteOffset); // an older buffer object, same bytes
    linear(xr, rows, inF, W, outF, null, yr, { backend: "wasm", threads: 2 });
    expect(bits(yr).equals(bits(plain))).toBe(true);
    releaseWasm();
    const y2 = new Float32Array(rows * outF);
    linear(xr, rows, inF, W, outF, null, y2, { backend: "wasm", threads: 1 });
    expect(wasmRuntime()!.mem.residentPtr(xr)).toBe(-1);
    expect(bits(y2).equals(bits(plain))).toBe(true);
  });

  it("reuse freed blocks: a forward's worth allocated and freed again does not grow the region", () => {
    releaseWasm();
    const sizes = [1000, 5000, 250, 5000, 1000];
    const first = sizes.map((n) => allocResident(n)!);
    const span = wasmRuntime()!.mem.residentBytes;
    for (const a of first) freeResident(a);
    expect(wasmRuntime()!.mem.residentBytes).toBe(0);
    for (let k = 0; k < 3; k++) {
      const again = sizes.map((n) => allocResident(n)!);
      expect(wasmRuntime()!.mem.residentBytes).toBe(span);
      for (const a of again.reverse()) freeResident(a);
    }
    expect(wasmRuntime()!.mem.residentBytes).toBe(0);
  });
});
