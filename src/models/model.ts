/**
 * The encoder forward pass of HF's LongformerModel and BigBirdModel (eval mode), one layer's
 * activations at a time: embeddings + LayerNorm, then per layer (post-LN)
 *   x ← LN(x + dense(attention(x))),   x ← LN(x + dense(act(dense(x)))),
 * and the pooler tanh(dense(x[:, 0])). Semantics in docs/models.md.
 */
import { AttentionArgumentError, checkInt } from "../errors.js";
import type { Backend } from "../types.js";
import {
  type AttendOptions,
  AttentionPlans,
  bigBirdLayer,
  denseLayer,
  longformerGlobalRows,
  longformerLocal,
  type RandomAttention,
} from "./attend.js";
import type { ModelConfig } from "./config.js";
import { type CheckedInputs, checkInputs, type ForwardInputs } from "./inputs.js";
import { activate, addLayerNorm, type LinearOptions, linear } from "./ops.js";
import type { EncoderWeights, Linear } from "./weights.js";

export interface ForwardOptions {
  /** Backend of attention() and of the linear layers ("reference" runs the linear layers in js). */
  backend?: Backend;
  threads?: number;
  /** BigBird: "hf-eval" (default: HF's eval-mode table, all zeros), { seed }, or one Int32Array [heads, nb-2, R] per layer. */
  randomAttention?: RandomAttention;
  /** "model" (default): the checkpoint's attention; "dense": every layer dense over the real tokens (comparison baseline). */
  attention?: "model" | "dense";
  /** Called after each layer (and once with 0 before the first). */
  onLayer?: (done: number, total: number) => void;
  /** Fill result.profile with a time split. */
  profile?: boolean;
}

export interface ForwardProfile {
  attentionMs: number;
  gemmMs: number;
  otherMs: number;
  totalMs: number;
  /** Padded length the layers ran at, and the attention BigBird used. */
  length: number;
  /** Distinct attention plans compiled in this forward (each reused by every layer that needs it). */
  plans: number;
  attention: string;
}

export interface ForwardOutput {
  lastHiddenState: { data: Float32Array; shape: [number, number, number] };
  poolerOutput?: { data: Float32Array; shape: [number, number] };
  profile?: ForwardProfile;
}

const now = () => (globalThis.performance ?? Date).now();

export class EncoderModel {
  constructor(
    readonly config: ModelConfig,
    readonly weights: EncoderWeights,
  ) {}

  /** The attention a BigBird input of `length` tokens runs with (HF's fallback to full attention). */
  bigBirdAttention(length: number): "block_sparse" | "original_full" {
    const c = this.config;
    if (c.attentionType !== "block_sparse") return "original_full";
    // HF BigBirdModel.forward: block_sparse needs seq_length > (5 + 2·num_random_blocks)·block_size
    return length <= (5 + 2 * c.randomBlocks) * c.blockSize ? "original_full" : "block_sparse";
  }

  async forward(inputs: ForwardInputs, options: ForwardOptions = {}): Promise<ForwardOutput> {
    if (options === null || typeof options !== "object") {
      throw new AttentionArgumentError(
        "options",
        options,
        "{ backend?, threads?, randomAttention?, attention?, onLayer?, profile? }",
      );
    }
    const c = this.config;
    const x0 = checkInputs(inputs, c);
    const threads = options.threads === undefined ? undefined : checkInt("options.threads", options.threads, 1, 256);
    const mode = options.attention ?? "model";
    if (mode !== "model" && mode !== "dense") {
      throw new AttentionArgumentError("options.attention", mode, `"model" or "dense"`);
    }
    const ao: AttendOptions = { backend: options.backend, threads };
    const lo: LinearOptions = {
      backend: options.backend === "reference" ? "js" : (options.backend as LinearOptions["backend"]),
      threads,
    };
    const prof = { attention: 0, gemm: 0, other: 0 };
    const t0 = now();
    const kind = c.modelType === "big_bird" && mode === "model" ? this.bigBirdAttention(x0.L) : "";
    const x = kind === "block_sparse" ? padToBlock(x0, c.blockSize, c.padId) : x0;
    const { B, L } = x;
    const h = c.hidden;
    const H = c.heads;
    const D = c.headDim;
    const rows = B * L;
    const random = kind === "block_sparse" ? this.randomPlan(options.randomAttention, L / c.blockSize) : null;
    const plans = new AttentionPlans(B, L, H, D, x.valid, ao);
    const globals = Array.from({ length: B }, (_, b) => globalIndices(x.global, b, L));

    let ts = now();
    const hs = this.embed(x); // [B·L, hidden]
    prof.other += now() - ts;
    const lin = (inp: Float32Array, n: number, w: Linear, out?: Float32Array): Float32Array => {
      const s = now();
      const y = linear(inp, n, w.inF, w.W, w.outF, w.b, out, lo);
      prof.gemm += now() - s;
      return y;
    };
    const q = new Float32Array(rows * h); // [B·L, H·D]
    const k = new Float32Array(rows * h);
    const v = new Float32Array(rows * h);
    const ctx = new Float32Array(rows * h);
    const tmp = new Float32Array(rows * h);
    const inter = new Float32Array(rows * c.intermediate); // [B·L, intermediate]
    options.onLayer?.(0, c.layers);
    for (let layer = 0; layer < c.layers; layer++) {
      const w = this.weights.layers[layer];
      lin(hs, rows, w.query, q);
      lin(hs, rows, w.key, k);
      lin(hs, rows, w.value, v);
      if (mode === "dense" || kind === "original_full") {
        ts = now();
        denseLayer(q, k, v, ctx, plans);
        prof.attention += now() - ts;
      } else if (c.modelType === "longformer") {
        ts = now();
        longformerLocal(q, k, v, ctx, c.attentionWindow[layer] / 2, globals, plans);
        prof.attention += now() - ts;
        for (let b = 0; b < B; b++) {
          const g = globals[b];
          if (g.length === 0) continue;
          const r0 = b * L;
          ts = now();
          const xg = new Float32Array(g.length * h); // [G, hidden] the global rows
          for (let j = 0; j < g.length; j++) xg.set(hs.subarray((r0 + g[j]) * h, (r0 + g[j] + 1) * h), j * h);
          prof.other += now() - ts;
          const qg = lin(xg, g.length, w.queryGlobal as Linear);
          const kg = lin(hs.subarray(r0 * h, (r0 + L) * h), L, w.keyGlobal as Linear);
          const vg = lin(hs.subarray(r0 * h, (r0 + L) * h), L, w.valueGlobal as Linear);
          ts = now();
          longformerGlobalRows(qg, kg, vg, ctx, r0, L, H, D, g, x.valid.subarray(r0, r0 + L), ao);
          prof.attention += now() - ts;
        }
      } else {
        const rnd = random as NonNullable<typeof random>;
        ts = now();
        bigBirdLayer(q, k, v, ctx, c.blockSize, c.randomBlocks, rnd(layer), plans);
        prof.attention += now() - ts;
      }
      lin(ctx, rows, w.attnOut, tmp);
      ts = now();
      addLayerNorm(hs, tmp, rows, h, w.attnNorm.gamma, w.attnNorm.beta, c.eps);
      prof.other += now() - ts;
      lin(hs, rows, w.inter, inter);
      ts = now();
      activate(inter, c.act);
      prof.other += now() - ts;
      lin(inter, rows, w.out, tmp);
      ts = now();
      addLayerNorm(hs, tmp, rows, h, w.outNorm.gamma, w.outNorm.beta, c.eps);
      prof.other += now() - ts;
      if (options.onLayer) {
        options.onLayer(layer + 1, c.layers);
        await new Promise((r) => setTimeout(r, 0)); // let a progress bar draw
      }
    }
    const L0 = x0.L;
    let last = hs;
    if (L !== L0) {
      last = new Float32Array(B * L0 * h); // [B, L0, hidden] without the block padding
      for (let b = 0; b < B; b++) last.set(hs.subarray(b * L * h, (b * L + L0) * h), b * L0 * h);
    }
    const result: ForwardOutput = { lastHiddenState: { data: last, shape: [B, L0, h] } };
    const pooler = this.weights.pooler;
    if (pooler !== null) {
      const first = new Float32Array(B * h); // [B, hidden] token 0 of each row
      for (let b = 0; b < B; b++) first.set(hs.subarray(b * L * h, (b * L + 1) * h), b * h);
      const p = lin(first, B, pooler);
      for (let i = 0; i < p.length; i++) p[i] = Math.tanh(p[i]);
      result.poolerOutput = { data: p, shape: [B, h] };
    }
    if (options.profile) {
      const total = now() - t0;
      result.profile = {
        attentionMs: prof.attention,
        gemmMs: prof.gemm,
        otherMs: total - prof.attention - prof.gemm,
        totalMs: total,
        length: L,
        plans: plans.planned,
        attention: mode === "dense" ? "dense" : c.modelType === "longformer" ? "longformer" : kind,
      };
    }
    return result;
  }

  /** word + position + token type embeddings, LayerNorm. */
  private embed(x: CheckedInputs): Float32Array {
    const c = this.config;
    const wts = this.weights;
    const h = c.hidden;
    const { B, L } = x;
    const out = new Float32Array(B * L * h); // [B·L, hidden]
    const scale = c.rescaleEmbeddings ? Math.sqrt(h) : 1;
    for (let b = 0; b < B; b++) {
      let count = 0; // Longformer: real (non-pad id) tokens so far
      for (let i = 0; i < L; i++) {
        const r = b * L + i; // [B, L]
        const id = x.ids[r];
        let pos = i;
        if (c.modelType === "longformer") {
          // HF create_position_ids_from_input_ids: pad id + running count of non-pad tokens; pad tokens get pad id
          if (id !== c.padId) pos = c.padId + ++count;
          else pos = c.padId;
        }
        const tt = x.types === null ? 0 : x.types[r];
        const o = r * h;
        for (let d = 0; d < h; d++) {
          out[o + d] = wts.word[id * h + d] * scale + wts.tokenType[tt * h + d] + wts.position[pos * h + d]; // tables: [n, hidden]
        }
      }
    }
    addLayerNorm(out, null, B * L, h, wts.embNorm.gamma, wts.embNorm.beta, c.eps);
    return out;
  }

  /** Per layer: the random blocks of a BigBird input with nb blocks. */
  private randomPlan(
    ra: RandomAttention | undefined,
    nb: number,
  ): (layer: number) => { table: Int32Array; key: string } | { seed: number } {
    const c = this.config;
    const R = c.randomBlocks;
    const size = c.heads * (nb - 2) * R;
    if (ra === undefined || ra === "hf-eval") {
      const zeros = new Int32Array(size); // HF eval mode: rand_attn is all zeros
      return () => ({ table: zeros, key: "hf-eval" }); // one plan for every layer
    }
    if (Array.isArray(ra)) {
      if (ra.length !== c.layers) {
        throw new AttentionArgumentError(
          "options.randomAttention",
          ra,
          `one Int32Array [heads, nb - 2, R] per layer: ${c.layers} tables`,
        );
      }
      ra.forEach((t, l) => {
        if (!(t instanceof Int32Array) || t.length !== size) {
          throw new AttentionArgumentError(
            `options.randomAttention[${l}]`,
            t,
            `an Int32Array of shape [${c.heads}, ${nb - 2}, ${R}] (${size} values; nb = ${nb} blocks of ${c.blockSize} after padding)`,
          );
        }
        for (let i = 0; i < size; i++) {
          if (t[i] < 0 || t[i] >= nb) {
            throw new AttentionArgumentError(
              `options.randomAttention[${l}][${i}]`,
              t[i],
              `a block index in [0, ${nb})`,
            );
          }
        }
      });
      return (layer) => ({ table: ra[layer], key: `layer${ra.indexOf(ra[layer])}` });
    }
    if (ra !== null && typeof ra === "object" && "seed" in ra) {
      const seed = checkInt("options.randomAttention.seed", ra.seed, 0, 2 ** 32 - 1 - c.layers);
      return (layer) => ({ seed: seed + layer }); // each layer its own draw
    }
    throw new AttentionArgumentError(
      "options.randomAttention",
      ra,
      `"hf-eval", { seed }, or one Int32Array [heads, nb - 2, R] per layer`,
    );
  }
}

function globalIndices(global: Uint8Array | null, b: number, L: number): Int32Array {
  if (global === null) return new Int32Array(0);
  const row = global.subarray(b * L, (b + 1) * L); // [B, L] row b
  let n = 0;
  for (let i = 0; i < L; i++) n += row[i];
  const out = new Int32Array(n);
  n = 0;
  for (let i = 0; i < L; i++) if (row[i] === 1) out[n++] = i;
  return out;
}

/** HF _pad_to_block_size: pad id, mask 0, token type 0 up to a multiple of the block size. */
function padToBlock(x: CheckedInputs, b: number, padId: number): CheckedInputs {
  const L = Math.ceil(x.L / b) * b;
  if (L === x.L) return x;
  const { B } = x;
  const ids = new Int32Array(B * L).fill(padId); // [B, L]
  const valid = new Uint8Array(B * L);
  const types = x.types === null ? null : new Int32Array(B * L);
  for (let r = 0; r < B; r++) {
    ids.set(x.ids.subarray(r * x.L, (r + 1) * x.L), r * L);
    valid.set(x.valid.subarray(r * x.L, (r + 1) * x.L), r * L);
    types?.set((x.types as Int32Array).subarray(r * x.L, (r + 1) * x.L), r * L);
  }
  return { B, L, ids, valid, global: null, types };
}
