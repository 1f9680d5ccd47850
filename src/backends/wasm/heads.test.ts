/**
 * regroupHeads() (dispatcher; wasm assembly/heads.ts, js loops): both directions on random
 * shapes and the hazards (one row, D not a multiple of 4, B > 1, every row invalid, NaN and -0
 * carried as bits), wasm on 1 and 2 threads bit for bit equal to js; resident arrays in place;
 * argument errors.
 */
import { describe, expect, it } from "vitest";
import { AttentionArgumentError } from "../../errors.js";
import { Rng } from "../../util/rng.js";
import { regroupHeads, releaseWorkBuffer, workBuffer } from "../dispatch.js";

const bits = (a: Float32Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength);

function random(n: number, rng: Rng): Float32Array {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = rng.normal();
  if (n > 3) {
    a[1] = Number.NaN;
    a[2] = -0;
  }
  return a;
}

const shapes: [number, number, number, number][] = [
  [1, 1, 1, 1],
  [1, 300, 12, 64],
  [3, 70, 5, 7],
  [2, 33, 4, 16],
];

describe("regroupHeads", () => {
  for (const [B, L, H, D] of shapes) {
    it(`[${B}, ${L}, ${H}, ${D}]: to heads and back, wasm (1, 2 threads) = js = the definition`, () => {
      const rng = new Rng(B * 1000 + L);
      const n = B * L * H * D;
      const m = random(n, rng);
      const valid = Uint8Array.from({ length: B * L }, (_, r) => (r % 5 === 3 ? 0 : 1));
      const want = new Float32Array(n);
      for (let b = 0; b < B; b++)
        for (let i = 0; i < L; i++)
          for (let h = 0; h < H; h++)
            for (let d = 0; d < D; d++) want[((b * H + h) * L + i) * D + d] = m[(b * L + i) * H * D + h * D + d];
      for (const options of [
        { backend: "js" as const },
        { backend: "wasm" as const, threads: 1 },
        { backend: "wasm" as const, threads: 2 },
      ]) {
        const t = new Float32Array(n).fill(9);
        regroupHeads(m, t, B, L, H, D, true, null, options);
        expect(bits(t).equals(bits(want))).toBe(true);
        const back = new Float32Array(n).fill(9);
        regroupHeads(back, t, B, L, H, D, false, valid, options);
        for (let r = 0; r < B * L; r++) {
          const row = back.subarray(r * H * D, (r + 1) * H * D);
          if (valid[r] === 0) expect(row.every((x) => Object.is(x, 0))).toBe(true);
          else expect(bits(row).equals(bits(m.subarray(r * H * D, (r + 1) * H * D)))).toBe(true);
        }
        const all = new Float32Array(n).fill(9);
        regroupHeads(all, t, B, L, H, D, false, null, options);
        expect(bits(all).equals(bits(m))).toBe(true);
      }
    });
  }

  it("resident m and t are read and written in place", () => {
    const [B, L, H, D] = [2, 500, 12, 64];
    const n = B * L * H * D;
    const m = workBuffer(n, "wasm");
    const t = workBuffer(n, "wasm");
    m.set(random(n, new Rng(5)));
    const want = new Float32Array(n);
    regroupHeads(m, want, B, L, H, D, true, null, { backend: "js" });
    regroupHeads(m, t, B, L, H, D, true, null, { backend: "wasm", threads: 2 });
    expect(bits(t).equals(bits(want))).toBe(true);
    const back = workBuffer(n, "wasm");
    regroupHeads(back, t, B, L, H, D, false, null, { backend: "wasm", threads: 2 });
    expect(bits(back).equals(bits(m))).toBe(true);
    for (const a of [m, t, back]) releaseWorkBuffer(a);
  });

  it("argument errors name the argument, the value and the expectation", () => {
    const a = new Float32Array(24);
    const cases: [() => void, RegExp][] = [
      [() => regroupHeads(a, new Float32Array(23), 1, 2, 3, 4, true), /^t: got Float32Array\(23\)/],
      [() => regroupHeads(a, a.subarray(0, 24), 1, 2, 3, 4, true), /^t: .*does not overlap m/],
      [() => regroupHeads(a, new Float32Array(24), 1, 2, 3, 4, false, new Uint8Array(3)), /^valid: /],
      [
        () => regroupHeads(a, new Float32Array(24), 1, 2, 3, 4, true, null, { backend: "gpu" as "js" }),
        /^options\.backend: got "gpu"/,
      ],
    ];
    for (const [call, message] of cases) {
      let error: unknown = null;
      try {
        call();
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(AttentionArgumentError);
      expect((error as Error).message).toMatch(message);
    }
  });
});
