/**
 * ModernBERT's encoder forward pass (HF ModernBertModel, eval mode, the eager path's math),
 * one layer's activations at a time:
 *   x = LN_emb(E[ids])                                  (no position embeddings: RoPE)
 *   per layer i (pre-norm):
 *     h = x (layer 0) or LN_attn(x);  q | k | v = h Wqkvᵀ;  RoPE(θ_i) on q, k
 *     x = x + attention(q, k, v) Woᵀ     global layer: dense; local: |q - k| <= window/2
 *     [a | g] = LN_mlp(x) Wiᵀ;  x = x + (act(a) · g) Wo₂ᵀ
 *   last_hidden_state = LN_final(x)
 * Local layers run this library's slidingWindow pattern at its true cost; padded keys are
 * masked (trailing padding by patterns.keyPadding, scattered by a valid-pair mask), padded
 * query rows get a zero attention output (HF computes values there that no real token reads;
 * see docs/models.md). Position ids are 0 … L-1 in every row, padding included (HF).
 */
import { attention } from "../../attention.js";
import { AttentionArgumentError, checkInt } from "../../errors.js";
import { dense } from "../../pattern/algebra.js";
import { slidingWindow } from "../../pattern/longformer.js";
import { tallied } from "../architectures/encoder.js";
import type { ForwardOptions, ForwardOutput, ForwardProfile } from "../architectures/types.js";
import { AttentionPlans } from "../attend.js";
import { BackendTally } from "../backends-used.js";
import { fromHeadsBatch } from "../heads.js";
import { type CheckedInputs, checkInputs, type ForwardInputs } from "../inputs.js";
import { type LinearOptions, linear, WorkBuffers } from "../ops.js";
import type { Linear } from "../weights.js";
import type { ModernBertConfig } from "./config.js";
import { addInto, layerNormInto, ropeTables, splitQkvRope } from "./ops.js";
import type { ModernBertWeights } from "./weights.js";

/** forward()'s options; `attention: "dense"` runs every layer dense (the cost an ONNX export pays). */
export interface MbForwardOptions extends ForwardOptions {
  /** Also return the input of every layer and the last layer's output (before the final norm), as HF's hidden_states. */
  outputHiddenStates?: boolean;
}

export interface MbProfile extends ForwardProfile {
  /** Everything between the Wqkv and Wo products: RoPE, regrouping, attention() (global + local layers). */
  attentionMs: number;
  /** The same, local layers only, and their allowed (query, key) pairs summed over batch and heads, per layer. */
  localAttentionMs: number;
  localPairs: number;
  /** attention() calls alone, local layers. */
  localKernelMs: number;
}

export interface MbForwardOutput extends ForwardOutput {
  /** layers + 1 entries, each [B, L, hidden]: the embeddings, then each layer's output (HF's hidden_states). */
  hiddenStates?: Float32Array[];
  profile?: MbProfile;
}

const now = () => (globalThis.performance ?? Date).now();

/** Inputs checked as for the other encoders (ids below vocab_size, masks 0/1, length within the limit). */
export function checkMbInputs(inputs: ForwardInputs, c: ModernBertConfig): CheckedInputs {
  if (inputs !== null && typeof inputs === "object") {
    for (const k of ["globalAttentionMask", "tokenTypeIds"] as const) {
      if ((inputs as unknown as Record<string, unknown>)[k] !== undefined) {
        throw new AttentionArgumentError(
          `inputs.${k}`,
          "given",
          "no such input for ModernBERT: inputIds and attentionMask only",
        );
      }
    }
  }
  return checkInputs(inputs, c, { globalAttention: false, maxInputLength: mbMaxInputLength });
}

/** Longest input: max_position_embeddings (RoPE has no table, but the model was trained to this length). */
export function mbMaxInputLength(c: { maxPositions: number }): { limit: number; why: string } {
  return { limit: c.maxPositions, why: `max_position_embeddings ${c.maxPositions}` };
}

/** RoPE tables by base and head size, grown to the longest input seen. */
const ropeCache = new Map<string, { cos: Float32Array; sin: Float32Array; L: number }>();

export function ropeFor(theta: number, D: number, L: number): { cos: Float32Array; sin: Float32Array } {
  const key = `${theta}:${D}`;
  const t = ropeCache.get(key);
  if (t !== undefined && t.L >= L) return t;
  const made = { ...ropeTables(theta, D, L), L };
  ropeCache.set(key, made);
  return made;
}

/** The encoder forward of config `c`, weights `w` (the registry entry's forward). */
export async function modernBertForward(
  c: ModernBertConfig,
  w: ModernBertWeights,
  inputs: ForwardInputs,
  options: MbForwardOptions = {},
): Promise<MbForwardOutput> {
  {
    if (options === null || typeof options !== "object") {
      throw new AttentionArgumentError(
        "options",
        options,
        "{ backend?, threads?, attention?, outputHiddenStates?, onLayer?, profile? }",
      );
    }
    const x0 = checkMbInputs(inputs, c);
    const threads = options.threads === undefined ? undefined : checkInt("options.threads", options.threads, 1, 256);
    const mode = options.attention ?? "model";
    if (mode !== "model" && mode !== "dense") {
      throw new AttentionArgumentError("options.attention", mode, `"model" or "dense"`);
    }
    const lo: LinearOptions = {
      backend: options.backend === "reference" ? "js" : (options.backend as LinearOptions["backend"]),
      threads,
    };
    const prof = { attention: 0, local: 0, localKernel: 0, gemm: 0, localPairs: 0 };
    const t0 = now();
    const { B, L } = x0;
    const hd = c.hidden;
    const H = c.heads;
    const D = c.headDim;
    const rows = B * L;
    const tally = options.profile ? new BackendTally() : undefined;
    const plans = new AttentionPlans(B, L, H, D, x0.valid, { backend: options.backend, threads, tally });
    const half = Math.floor(c.window / 2); // HF: distance <= local_attention // 2

    const gegluOptions: LinearOptions = { ...lo, activation: c.act, gated: true }; // act(a) · g inside the product
    const lin = (inp: Float32Array, n: number, wt: Linear, out: Float32Array, gated = false): Float32Array => {
      const s = now();
      const o = gated ? gegluOptions : lo;
      const y =
        tally === undefined ? linear(inp, n, wt.inF, wt.W, wt.outF, wt.b, out, o) : tallied(tally, inp, n, wt, out, o);
      prof.gemm += now() - s;
      return y;
    };
    // the activations live in work buffers the wasm ops use in place (workBuffer: no copy in
    // or out per call), given back when the forward ends, however it ends
    const work = new WorkBuffers(lo.backend);
    const buffer = (n: number): Float32Array => work.take(n);
    try {
      // x: the residual stream [B·L, hidden]
      const x = buffer(rows * hd);
      for (let r = 0; r < rows; r++) {
        const id = x0.ids[r];
        x.set(w.embeddings.subarray(id * hd, (id + 1) * hd), r * hd); // embeddings: [vocab, hidden]
      }
      layerNormInto(x, x, rows, hd, w.embNorm.gamma, w.embNorm.beta, c.eps, lo);
      const hiddenStates: Float32Array[] | undefined = options.outputHiddenStates ? [x.slice()] : undefined;
      const hn = buffer(rows * hd); // normed input of a sublayer
      const qkv = buffer(rows * 3 * hd); // [B·L, 3·H·D]
      const q = buffer(rows * hd); // [B, H, L, D]
      const k = buffer(rows * hd);
      const v = buffer(rows * hd);
      const o = { data: buffer(rows * hd), shape: [B, H, L, D] as [number, number, number, number] };
      const ctx = buffer(rows * hd); // [B·L, H·D]
      const tmp = buffer(rows * hd);
      const inter = buffer(rows * c.intermediate); // [B·L, I]
      options.onLayer?.(0, c.layers);
      for (let layer = 0; layer < c.layers; layer++) {
        const lw = w.layers[layer];
        if (lw.attnNorm === null) hn.set(x);
        else layerNormInto(x, hn, rows, hd, lw.attnNorm.gamma, lw.attnNorm.beta, c.eps, lo);
        lin(hn, rows, lw.wqkv, qkv);
        const ts = now();
        const { cos, sin } = ropeFor(c.ropeTheta[layer], D, L);
        splitQkvRope(qkv, q, k, v, B, L, H, D, cos, sin, lo);
        const local = mode === "model" && !c.global[layer];
        const plan = local
          ? plans.plan(`window:${half}`, () => plans.restrict(slidingWindow({ left: half, right: half })))
          : plans.plan("dense", () => plans.restrict(dense()));
        const tk = now();
        const res = attention(
          { data: q, shape: o.shape },
          { data: k, shape: o.shape },
          { data: v, shape: o.shape },
          {
            plan,
            backend: options.backend,
            threads,
            out: o,
          },
        );
        const tkEnd = now();
        tally?.note("attention", res.stats.backend, res.stats.threads);
        fromHeadsBatch(res.out.data, ctx, B, L, H, D, x0.valid, { backend: options.backend, threads });
        const te = now();
        prof.attention += te - ts;
        if (local) {
          prof.local += te - ts;
          prof.localKernel += tkEnd - tk;
          prof.localPairs += res.stats.allowedPairs;
        }
        lin(ctx, rows, lw.attnOut, tmp);
        addInto(x, tmp);
        layerNormInto(x, hn, rows, hd, lw.mlpNorm.gamma, lw.mlpNorm.beta, c.eps, lo);
        lin(hn, rows, lw.inter, inter, true); // GeGLU: [a | g] = x Wiᵀ, act(a) · g in the product's epilogue
        lin(inter, rows, lw.out, tmp);
        addInto(x, tmp);
        hiddenStates?.push(x.slice());
        if (options.onLayer) {
          options.onLayer(layer + 1, c.layers);
          await new Promise((r) => setTimeout(r, 0)); // let a progress bar draw
        }
      }
      const last = new Float32Array(rows * hd); // [B, L, hidden]
      layerNormInto(x, last, rows, hd, w.finalNorm.gamma, w.finalNorm.beta, c.eps, lo);
      const result: MbForwardOutput = { lastHiddenState: { data: last, shape: [B, L, hd] } };
      if (hiddenStates !== undefined) result.hiddenStates = hiddenStates;
      if (options.profile) {
        const total = now() - t0;
        result.profile = {
          attentionMs: prof.attention,
          localAttentionMs: prof.local,
          localPairs: prof.localPairs,
          localKernelMs: prof.localKernel,
          gemmMs: prof.gemm,
          otherMs: total - prof.attention - prof.gemm,
          totalMs: total,
          length: L,
          plans: plans.planned,
          attention: mode === "dense" ? "dense" : "modernbert",
          backends: tally!.snapshot(),
        };
      }
      return result;
    } finally {
      work.release();
    }
  }
}
