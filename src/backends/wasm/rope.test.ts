/**
 * splitQkvRope() on wasm (assembly/rope.ts: f32x4 rows on the pool) against the js loops
 * (src/backends/js/rope.ts) bit for bit: B = 2, odd L, head sizes with and without a scalar tail
 * (D/2 not a multiple of 4), 1 and 2 threads, and hazards (NaN, ±Inf, huge values whose
 * products overflow, subnormals, −0). NaN payloads may differ between engines: NaN matches NaN.
 */
import { describe, expect, it } from "vitest";
import { ropeTables } from "../../models/modernbert/ops.js";
import { Rng } from "../../util/rng.js";
import { splitQkvRope } from "../dispatch.js";
import { splitQkvRopeJs } from "../js/rope.js";

/** Same bits everywhere except NaN, which must be NaN in both. */
function sameBits(a: Float32Array, b: Float32Array): void {
  expect(a.length).toBe(b.length);
  const ua = new Uint32Array(a.buffer, a.byteOffset, a.length);
  const ub = new Uint32Array(b.buffer, b.byteOffset, b.length);
  let bad = -1;
  for (let i = 0; i < a.length && bad < 0; i++) {
    if (Number.isNaN(a[i]) || Number.isNaN(b[i])) {
      if (Number.isNaN(a[i]) !== Number.isNaN(b[i])) bad = i;
    } else if (ua[i] !== ub[i]) bad = i;
  }
  expect(bad === -1 ? "same" : `index ${bad}: ${a[bad]} vs ${b[bad]}`).toBe("same");
}

const HAZARDS = [Number.NaN, Infinity, -Infinity, 3e38, -3e38, 1e-45, -0, 0, 1e30];

function input(n: number, seed: number, hazards: boolean): Float32Array {
  const g = new Rng(seed);
  const x = new Float32Array(n);
  for (let i = 0; i < n; i++) x[i] = g.normal() * 4;
  if (hazards) for (let i = 0; i < n; i += 7) x[i] = HAZARDS[(i / 7) % HAZARDS.length];
  return x;
}

function run(B: number, L: number, H: number, D: number, seed: number, hazards: boolean, theta = 10000): void {
  const n = B * L * H * D;
  const qkv = input(3 * n, seed, hazards);
  const { cos, sin } = ropeTables(theta, D, L + 3); // tables longer than L, as a model's cached ones
  const want = [new Float32Array(n), new Float32Array(n), new Float32Array(n)] as const;
  splitQkvRopeJs(qkv, want[0], want[1], want[2], B, L, H, D, cos, sin);
  for (const threads of [1, 2]) {
    const got = [new Float32Array(n), new Float32Array(n), new Float32Array(n)] as const;
    splitQkvRope(qkv, got[0], got[1], got[2], B, L, H, D, cos, sin, { backend: "wasm", threads });
    for (let s = 0; s < 3; s++) sameBits(got[s], want[s]);
    const js = [new Float32Array(n), new Float32Array(n), new Float32Array(n)] as const;
    splitQkvRope(qkv, js[0], js[1], js[2], B, L, H, D, cos, sin, { backend: "js", threads });
    for (let s = 0; s < 3; s++) sameBits(js[s], want[s]);
  }
}

describe("splitQkvRope on wasm (assembly/rope.ts)", () => {
  it("equals the js loops bit for bit: B = 2, odd L, D = 64, 1 and 2 threads", () => {
    run(2, 257, 3, 64, 1, false);
  });
  it("equals them with a scalar tail (D = 6, D = 10) and odd L", () => {
    run(2, 33, 2, 6, 2, false);
    run(2, 19, 5, 10, 3, false, 160000);
  });
  it("equals them with NaN, ±Inf, huge, subnormal and −0 inputs", () => {
    run(2, 101, 3, 64, 4, true);
    run(2, 15, 2, 10, 5, true);
  });
  it("runs the rotation (not a copy): q differs from the unrotated input, position 0 is unrotated", () => {
    const B = 1,
      L = 4,
      H = 1,
      D = 8;
    const qkv = input(3 * B * L * H * D, 6, false);
    const { cos, sin } = ropeTables(10000, D, L);
    const q = new Float32Array(L * D),
      k = new Float32Array(L * D),
      v = new Float32Array(L * D);
    splitQkvRope(qkv, q, k, v, B, L, H, D, cos, sin, { backend: "wasm", threads: 1 });
    expect(Array.from(q.subarray(0, D))).toEqual(Array.from(qkv.subarray(0, D))); // cos 1, sin 0
    expect(Array.from(q.subarray(D, 2 * D))).not.toEqual(Array.from(qkv.subarray(3 * D, 4 * D)));
    expect(Array.from(v.subarray(D, 2 * D))).toEqual(Array.from(qkv.subarray(3 * D + 2 * D, 4 * D + 2 * D)));
  });
  it("rejects bad arguments", () => {
    const t = ropeTables(10000, 8, 4);
    const a = (n: number) => new Float32Array(n);
    expect(() => splitQkvRope(a(96), a(32), a(32), a(32), 1, 4, 1, 7, t.cos, t.sin)).toThrow(/D/);
    expect(() => splitQkvRope(a(95), a(32), a(32), a(32), 1, 4, 1, 8, t.cos, t.sin)).toThrow(/qkv/);
    expect(() => splitQkvRope(a(96), a(32), a(31), a(32), 1, 4, 1, 8, t.cos, t.sin)).toThrow(/k/);
    expect(() => splitQkvRope(a(96), a(32), a(32), a(32), 1, 4, 1, 8, t.cos.subarray(0, 8), t.sin)).toThrow(/cos/);
    expect(() =>
      splitQkvRope(a(96), a(32), a(32), a(32), 1, 4, 1, 8, t.cos, t.sin, { backend: "gpu" as "js" }),
    ).toThrow(/backend/);
  });
});
