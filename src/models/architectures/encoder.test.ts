/**
 * The shared encoder loop on a toy architecture (attention = each token's own value
 * projection), in both residual layouts and both MLP forms, against a float64 textbook
 * forward; the timing wrapper changes no bit; the registry refuses unknown types by name.
 */
import { describe, expect, it } from "vitest";
import { Rng } from "../../util/rng.js";
import { encoderForward } from "./encoder.js";
import { architectureOf, SUPPORTED_MODEL_TYPES } from "./index.js";
import type { Architecture, EncoderLayerWeights, EncoderWeights, Linear, ModelConfig, Norm } from "./types.js";

const H = 8; // hidden
const I = 6; // intermediate
const L = 5;
const V = 11;

type ToyLayer = EncoderLayerWeights & { value: Linear };
type ToyWeights = EncoderWeights<ToyLayer> & { word: Float32Array };

function toy(norm: "post" | "pre", mlp: "act" | "gated", seed: number) {
  const rng = new Rng(seed);
  const vec = (n: number, s = 0.5) => Float32Array.from({ length: n }, () => (rng.next() * 2 - 1) * s);
  const lin = (outF: number, inF: number): Linear => ({ W: vec(outF * inF), b: vec(outF, 0.1), outF, inF });
  const ln = (): Norm => ({ gamma: Float32Array.from(vec(H, 0.2), (g) => 1 + g), beta: vec(H, 0.1) });
  const layers: ToyLayer[] = [0, 1].map((l) => ({
    value: lin(H, H),
    attnOut: lin(H, H),
    attnNorm: norm === "pre" && l === 0 ? null : ln(),
    inter: lin(mlp === "gated" ? 2 * I : I, H),
    out: lin(H, I),
    mlpNorm: ln(),
  }));
  const weights: ToyWeights = {
    word: vec(V * H),
    layers,
    finalNorm: norm === "pre" ? ln() : null,
    pooler: lin(H, H),
    prefix: "",
  };
  const config: ModelConfig = {
    modelType: "toy",
    architectures: [],
    hidden: H,
    heads: 2,
    headDim: H / 2,
    layers: 2,
    intermediate: I,
    vocab: V,
    maxPositions: 64,
    typeVocab: 0,
    padId: 0,
    eps: 1e-5,
    act: "gelu_new",
    raw: {},
  };
  const arch: Architecture<ModelConfig, ToyWeights> = {
    modelType: "toy",
    norm,
    mlp,
    globalAttention: false,
    parseConfig: () => config,
    maxInputLength: () => ({ limit: 64, why: "toy" }),
    loadWeights: () => weights,
    embed: (x, c, w) => {
      const out = new Float32Array(x.B * x.L * c.hidden);
      for (let r = 0; r < x.B * x.L; r++) out.set(w.word.subarray(x.ids[r] * H, (x.ids[r] + 1) * H), r * H);
      return out;
    },
    attention: (f) => ({
      label: "toy",
      attend: (layer, hs, ctx, ops) =>
        void ops.attention(() => ops.linear(hs, f.x.B * f.x.L, f.weights.layers[layer].value, ctx)),
    }),
    heads: {},
  };
  return { arch, config, weights };
}

/** The textbook forward in float64. */
function expected(norm: "post" | "pre", mlp: "act" | "gated", w: ToyWeights, ids: number[]): number[][] {
  const affine = (x: number[], l: Linear) =>
    Array.from({ length: l.outF }, (_, o) =>
      x.reduce((s, v, i) => s + v * l.W[o * l.inF + i], (l.b as Float32Array)[o]),
    );
  const layerNorm = (x: number[], n: Norm | null) => {
    if (n === null) return x;
    const m = x.reduce((a, b) => a + b, 0) / x.length;
    const v = x.reduce((a, b) => a + (b - m) ** 2, 0) / x.length;
    return x.map((e, i) => ((e - m) / Math.sqrt(v + 1e-5)) * n.gamma[i] + n.beta[i]);
  };
  const gelu = (v: number) => 0.5 * v * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (v + 0.044715 * v ** 3)));
  const add = (a: number[], b: number[]) => a.map((e, i) => e + b[i]);
  let xs = ids.map((id) => Array.from(w.word.subarray(id * H, (id + 1) * H)));
  for (const lw of w.layers) {
    const sub = (x: number[], f: (y: number[]) => number[], n: Norm | null) =>
      norm === "post" ? layerNorm(add(x, f(x)), n) : add(x, f(layerNorm(x, n)));
    const mlpOf = (y: number[]) => {
      const t = affine(y, lw.inter);
      const a = mlp === "act" ? t.map(gelu) : t.slice(0, I).map((e, i) => gelu(e) * t[I + i]);
      return affine(a, lw.out);
    };
    xs = xs.map((x) => sub(x, (y) => affine(affine(y, lw.value), lw.attnOut), lw.attnNorm));
    xs = xs.map((x) => sub(x, mlpOf, lw.mlpNorm));
  }
  return xs.map((x) => layerNorm(x, w.finalNorm));
}

describe("the shared encoder loop", () => {
  for (const norm of ["post", "pre"] as const) {
    for (const mlp of ["act", "gated"] as const) {
      it(`${norm}-LN, ${mlp} MLP: equals the float64 textbook forward; timing changes no bit`, async () => {
        const { arch, config, weights } = toy(norm, mlp, norm === "pre" ? 3 : 4);
        const ids = [3, 1, 4, 1, 5];
        const inputs = { inputIds: { data: Int32Array.from(ids), shape: [1, L] as [number, number] } };
        const out = await encoderForward(arch, config, weights, inputs, { backend: "js" });
        const want = expected(norm, mlp, weights, ids);
        for (let i = 0; i < L; i++) {
          for (let d = 0; d < H; d++) expect(out.lastHiddenState.data[i * H + d]).toBeCloseTo(want[i][d], 4);
        }
        const timed = await encoderForward(arch, config, weights, inputs, { backend: "js", profile: true });
        expect(Array.from(timed.lastHiddenState.data)).toEqual(Array.from(out.lastHiddenState.data));
        expect(Array.from(timed.poolerOutput?.data ?? [])).toEqual(Array.from(out.poolerOutput?.data ?? [1]));
        expect(timed.profile?.attention).toBe("toy");
        const p = timed.profile as NonNullable<typeof timed.profile>;
        expect(p.otherMs).toBeCloseTo(p.totalMs - p.attentionMs - p.gemmMs, 9);
        expect([p.length, p.plans]).toEqual([L, 0]);
        expect(out.profile).toBeUndefined();
      });
    }
  }

  it("the registry: one entry per model type, an unknown type named with the list", () => {
    expect(SUPPORTED_MODEL_TYPES).toContain("longformer");
    expect(SUPPORTED_MODEL_TYPES).toContain("big_bird");
    for (const t of SUPPORTED_MODEL_TYPES) expect(architectureOf(t).modelType).toBe(t);
    expect(() => architectureOf("gpt2")).toThrow(/model_type: got "gpt2"; expected one of "longformer", "big_bird"/);
  });
});
