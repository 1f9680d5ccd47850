/**
 * Properties of the Reformer LM (issue 21), on random small configs and weights:
 * - with one hash bucket (zero rotations: every token hashes to bucket 0) and chunk windows
 *   covering the whole input, an LSH layer is causal dense shared-QK attention (keys
 *   length-normalised, scale 1, a token's own score -1e5), and a local layer is causal dense
 *   attention; so the whole reversible forward must equal an independent float64 transformer
 *   run with plain residuals in the stated order
 *     h1 += Wo·attn(LN_a(h2));  h2 += FF(LN_f(h1));  out = LN([h1, h2])
 *   for every length, short (<= chunk: HF's standard attention), padded or not;
 * - greedy generation without cache equals arg-maxing a full forward per step.
 */
import fc from "fast-check";
import { describe, expect, test } from "vitest";
import type { ReformerConfig } from "../src/models/reformer/config.js";
import { ReformerModel } from "../src/models/reformer/model.js";
import type { ReformerWeights, RLinear, RNorm } from "../src/models/reformer/weights.js";
import { Rng } from "../src/util/rng.js";

interface Shape {
  hidden: number;
  heads: number;
  headDim: number;
  kinds: ("local" | "lsh")[];
  T: number;
  C: number;
  seed: number;
}

function build(s: Shape): ReformerModel {
  const rng = new Rng(s.seed);
  const rand = (n: number, scale: number) => Float32Array.from({ length: n }, () => rng.normal() * scale);
  const { hidden: h, heads: H, headDim: D } = s;
  const HD = H * D;
  const ff = 2 * h;
  const vocab = 23;
  const axialShape = [8, 8];
  const axialDims = [h / 2, h / 2];
  // chunk windows that cover every chunk of the longest padded input exactly once
  const Lp = Math.ceil(s.T / s.C) * s.C;
  const before = Lp / s.C - 1;
  const config: ReformerConfig = {
    modelType: "reformer",
    architectures: ["ReformerModelWithLMHead"],
    intermediate: 2 * h,
    typeVocab: 0,
    attnLayers: s.kinds,
    layers: s.kinds.length,
    hidden: h,
    heads: H,
    headDim: D,
    feedForward: ff,
    act: "relu",
    eps: 1e-12,
    vocab,
    padId: 0,
    eosId: null,
    isDecoder: true,
    maxPositions: 64,
    axialShape,
    axialDims,
    numBuckets: 4,
    numHashes: 1,
    hashSeed: null,
    lsh: { chunkLength: s.C, chunksBefore: before, chunksAfter: 0 },
    local: { chunkLength: s.C, chunksBefore: before, chunksAfter: 0 },
    raw: {},
  };
  const lin = (outF: number, inF: number, bias: boolean): RLinear => ({
    W: rand(outF * inF, 1 / Math.sqrt(inF)),
    b: bias ? rand(outF, 0.1) : null,
    outF,
    inF,
  });
  const norm = (n: number): RNorm => ({ gamma: rand(n, 0.2).map((x) => 1 + x), beta: rand(n, 0.1) });
  const weights: ReformerWeights = {
    word: rand(vocab * h, 0.5),
    position: [rand(8 * (h / 2), 0.5), rand(8 * (h / 2), 0.5)],
    layers: s.kinds.map((kind) => ({
      kind,
      attnNorm: norm(h),
      query: kind === "local" ? lin(HD, h, false) : null,
      key: kind === "local" ? lin(HD, h, false) : null,
      queryKey: kind === "lsh" ? lin(HD, h, false) : null,
      value: lin(HD, h, false),
      attnOut: lin(h, HD, false),
      mlpNorm: norm(h),
      inter: lin(ff, h, true),
      out: lin(h, ff, true),
    })),
    finalNorm: norm(2 * h),
    lmHead: lin(vocab, 2 * h, true),
    pooler: null,
    prefix: "reformer.",
  };
  return new ReformerModel(config, weights);
}

// ---- the independent float64 oracle ----
function ln(x: Float64Array, n: Norm64): Float64Array {
  const k = x.length;
  let m = 0;
  for (const v of x) m += v / k;
  let s = 0;
  for (const v of x) s += (v - m) ** 2 / k;
  return x.map((v, i) => ((v - m) / Math.sqrt(s + 1e-12)) * n.gamma[i] + n.beta[i]);
}
type Norm64 = RNorm;
function apply(l: RLinear, x: Float64Array): Float64Array {
  const y = new Float64Array(l.outF);
  for (let o = 0; o < l.outF; o++) {
    let s = l.b === null ? 0 : l.b[o];
    for (let i = 0; i < l.inF; i++) s += l.W[o * l.inF + i] * x[i];
    y[o] = s;
  }
  return y;
}

/** logits [T, vocab] of the plain-residual float64 transformer. */
function oracle(model: ReformerModel, ids: Int32Array): Float64Array[] {
  const c = model.config;
  const w = model.weights;
  const { hidden: h, heads: H, headDim: D } = c;
  const T = ids.length;
  const half = h / 2;
  let h1 = Array.from({ length: T }, (_, p) => {
    const x = new Float64Array(h);
    const a = Math.floor(p / 8);
    const b = p % 8;
    for (let d = 0; d < h; d++) {
      const pos = d < half ? w.position[0][a * half + d] : w.position[1][b * half + d - half];
      x[d] = w.word[ids[p] * h + d] + pos;
    }
    return x;
  });
  let h2 = h1.map((x) => x.slice());
  for (const lw of w.layers) {
    const xn = h2.map((x) => ln(x, lw.attnNorm));
    const ctx = Array.from({ length: T }, () => new Float64Array(H * D));
    const v = xn.map((x) => apply(lw.value, x));
    const lsh = lw.kind === "lsh";
    const q = xn.map((x) => apply((lsh ? lw.queryKey : lw.query) as RLinear, x));
    const k = lsh ? q : xn.map((x) => apply(lw.key as RLinear, x));
    for (let hh = 0; hh < H; hh++) {
      const key = (j: number) => {
        const kv = k[j].subarray(hh * D, (hh + 1) * D);
        if (!lsh) return kv.map((t) => t / Math.sqrt(D));
        let ms = 0;
        for (const t of kv) ms += (t * t) / D;
        return kv.map((t) => t / Math.sqrt(ms + 1e-6) / Math.sqrt(D));
      };
      for (let i = 0; i < T; i++) {
        const qi = q[i].subarray(hh * D, (hh + 1) * D);
        const s = new Float64Array(i + 1);
        for (let j = 0; j <= i; j++) {
          const kj = key(j);
          let dot = 0;
          for (let d = 0; d < D; d++) dot += qi[d] * kj[d];
          s[j] = lsh && j === i ? -1e5 : dot;
        }
        const m = Math.max(...s);
        let z = 0;
        for (let j = 0; j <= i; j++) z += Math.exp(s[j] - m);
        for (let j = 0; j <= i; j++) {
          const p = Math.exp(s[j] - m) / z;
          for (let d = 0; d < D; d++) ctx[i][hh * D + d] += p * v[j][hh * D + d];
        }
      }
    }
    h1 = h1.map((x, i) => x.map((t, d) => t + apply(lw.attnOut, ctx[i])[d]));
    h2 = h2.map((x, i) => {
      const f = apply(lw.inter, ln(h1[i], lw.mlpNorm)).map((t) => Math.max(0, t));
      const o = apply(lw.out, f);
      return x.map((t, d) => t + o[d]);
    });
  }
  return h1.map((x, i) => {
    const cat = new Float64Array(2 * h);
    cat.set(x);
    cat.set(h2[i], h);
    return apply(w.lmHead as RLinear, ln(cat, w.finalNorm));
  });
}

const shapes = fc.record({
  hidden: fc.constantFrom(8, 16),
  heads: fc.integer({ min: 1, max: 2 }),
  headDim: fc.constantFrom(4, 8),
  kinds: fc.array(fc.constantFrom<"local" | "lsh">("local", "lsh"), { minLength: 1, maxLength: 3 }),
  T: fc.integer({ min: 1, max: 40 }),
  C: fc.constantFrom(4, 8, 16),
  seed: fc.integer({ min: 0, max: 2 ** 30 }),
});

describe("Reformer LM properties", () => {
  test("one bucket + covering chunks: the reversible forward equals plain residuals over causal dense attention", async () => {
    await fc.assert(
      fc.asyncProperty(shapes, fc.constantFrom("js", "wasm"), async (s, backend) => {
        const model = build(s);
        const rng = new Rng(s.seed + 1);
        const ids = Int32Array.from({ length: s.T }, () => 1 + rng.int(22));
        const zeros = s.kinds.map((k) => (k === "lsh" ? new Float32Array(s.heads * s.headDim * 1 * 2) : null));
        const out = await model.forward(
          { inputIds: { data: ids, shape: [1, s.T] } },
          { backend: backend as "js" | "wasm", lshRotations: zeros },
        );
        const want = oracle(model, ids);
        const got = out.logits?.data ?? new Float32Array(0);
        let num = 0;
        let den = 0;
        for (let i = 0; i < s.T; i++) {
          for (let v = 0; v < 23; v++) {
            num += (got[i * 23 + v] - want[i][v]) ** 2;
            den += want[i][v] ** 2;
          }
        }
        expect(Math.sqrt(num / den)).toBeLessThan(1e-5);
      }),
      { numRuns: 25, seed: 21 },
    );
  }, 120_000);

  test("greedy generation without cache = argmax of a full forward per step", async () => {
    const model = build({ hidden: 16, heads: 2, headDim: 8, kinds: ["local", "lsh"], T: 24, C: 8, seed: 5 });
    const ids = Int32Array.from({ length: 10 }, (_, i) => 1 + ((i * 7) % 22));
    const gen = await model.generate(
      { inputIds: { data: ids, shape: [1, 10] } },
      { maxNewTokens: 6, useCache: false, eosTokenId: null, lshRotations: [null, new Float32Array(2 * 8 * 2)] },
    );
    const seq = Array.from(ids);
    for (let step = 0; step < 6; step++) {
      const out = await model.forward(
        { inputIds: { data: Int32Array.from(seq), shape: [1, seq.length] } },
        { lshRotations: [null, new Float32Array(2 * 8 * 2)] },
      );
      const row = (out.logits?.data ?? new Float32Array(0)).subarray((seq.length - 1) * 23, seq.length * 23);
      let best = 0;
      for (let v = 1; v < 23; v++) if (row[v] > row[best]) best = v;
      seq.push(best);
    }
    expect(Array.from(gen.sequences.data)).toEqual(seq);
  });
});
