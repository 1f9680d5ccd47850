/**
 * HuggingFace's ReformerModelWithLMHead (v4.40, eval) from its weights: the forward pass.
 *
 *   x = word[id] + pos(p)                                  (axial or plain positions)
 *   X1 = X2 = x;   per layer i:  Y1 = X1 + Wo·Attn_i(LN_a(X2)),   Y2 = X2 + FF(LN_f(Y1))
 *   last = LN_final([Y1, Y2]),   logits = lm_head(last)
 *
 * Attn_i is local (chunked, causal) or LSH attention on this library's attention(): the local
 * pattern is compiled once per forward and reused by every local layer; LSH layers plan from
 * their data (patterns.ts). Inputs longer than the smallest chunk and not a multiple of the
 * chunks' lcm are padded at the end as HF does (pad id, mask 0) and cut back; hidden states
 * stay padded, as in HF. Rotations: hash_seed → PyTorch's generator seeded with it (HF's
 * torch.manual_seed(hash_seed); torch.randn), else a TorchGenerator seeded with options.seed
 * drawn layer after layer, or options.lshRotations. Semantics: docs/models.md.
 */
import { attention } from "../../attention.js";
import { compile } from "../../compile.js";
import { AttentionArgumentError, checkInt } from "../../errors.js";
import type { Backend, Plan, Tensor } from "../../types.js";
import { TorchGenerator } from "../../util/torch-random.js";
import type { TokenizerFiles } from "../encode.js";
import type { LinearOptions } from "../ops.js";
import { bucketFactors, chunkMultiples, type ReformerConfig } from "./config.js";
import { type GenerateOptions, type GenerateOutput, generate } from "./generate.js";
import { activate, embed, gatherHeads, layerNorm, linearRows, projectHeads, ROW_BLOCK } from "./ops.js";
import { localChunks, reformerLsh, selfOnlyRows } from "./patterns.js";
import { byteCodec, type TextCodec, tokenizerCodec } from "./text.js";
import type { ReformerWeights } from "./weights.js";

export interface ReformerInputs {
  inputIds: { data: Int32Array; shape: [number, number] };
  attentionMask?: { data: Int32Array; shape: [number, number] };
}

export interface ReformerForwardOptions {
  backend?: Backend;
  threads?: number;
  /** Return HF's hidden_states: the X2 stream before each layer and after the last, [B, Lp, hidden] each (Lp = padded length). */
  hiddenStates?: boolean;
  /** Return each LSH layer's buckets [B, H, hashes, T] (HF's, round offsets included); null for local layers and short inputs. */
  lshBuckets?: boolean;
  /** Seed of the rotations when the config's hash_seed is null (default 0). */
  seed?: number;
  /** Explicit rotations per layer ([heads, headDim, hashes, buckets/2] each; null/undefined = the default). */
  lshRotations?: ReadonlyArray<Float32Array | null | undefined>;
  /** Skip the LM head (logits) when only hidden states are needed. */
  logits?: boolean;
  /** Logits of the last position only ([B, 1, vocab]; generation). */
  lastLogitsOnly?: boolean;
}

export interface ReformerForwardOutput {
  logits?: { data: Float32Array; shape: [number, number, number] };
  lastHiddenState: { data: Float32Array; shape: [number, number, number] };
  hiddenStates?: { data: Float32Array; shape: [number, number, number] }[];
  lshBuckets?: ({ data: Int32Array; shape: [number, number, number, number] } | null)[];
}

/** What the prompt forward of cached generation keeps per layer (HF's past_buckets_states). */
export interface LayerCache {
  /** Post-LayerNorm attention inputs [B, capacity, hidden]; the first `length` rows are filled. */
  states: Float32Array;
  /** LSH layers: buckets [B, H, hashes, capacity] with HF's offsets, or null (HF's None: not hashed yet). */
  buckets: Int32Array | null;
}

export interface ForwardState {
  B: number;
  T: number;
  /** Supplies the rotations of LSH layer `layer` for these bucket factors. */
  rotations: (layer: number, factors: number[]) => ArrayLike<number>;
  /** When set, filled for cached decoding (capacity = rows reserved per batch row). */
  cache?: { layers: LayerCache[]; capacity: number };
}

const now = () => (globalThis.performance ?? Date).now();

export class ReformerModel {
  private codec: TextCodec | null = null;

  constructor(
    readonly config: ReformerConfig,
    readonly weights: ReformerWeights,
    /** tokenizer.json and tokenizer_config.json, parsed (when the checkpoint ships them). */
    readonly tokenizerFiles?: TokenizerFiles,
  ) {}

  /**
   * Text ↔ ids: the checkpoint's tokenizer.json, or `"bytes"` for enwik8-style byte models
   * (id = UTF-8 byte + 2). Without a tokenizer.json and without "bytes" this throws.
   */
  textCodec(kind: "tokenizer.json" | "bytes" = "tokenizer.json"): TextCodec {
    if (kind === "bytes") return byteCodec(this.config.vocab);
    if (this.codec === null) {
      if (this.tokenizerFiles === undefined) {
        throw new AttentionArgumentError(
          "tokenizer",
          "none",
          'a model folder with tokenizer.json; for a byte-level model (enwik8: ids = bytes + 2) use textCodec("bytes") / --bytes',
        );
      }
      this.codec = tokenizerCodec(this.tokenizerFiles);
    }
    return this.codec;
  }

  /** Rotations source for one forward (or one generate() call): HF's rule, see the file comment. */
  rotationSource(options: { seed?: number; lshRotations?: ReformerForwardOptions["lshRotations"] }) {
    const c = this.config;
    const seeded = new Map<string, Float32Array>();
    const seed = options.seed === undefined ? 0 : checkInt("options.seed", options.seed, 0, Number.MAX_SAFE_INTEGER);
    const gen = new TorchGenerator(seed);
    const given = options.lshRotations;
    if (given !== undefined && (!Array.isArray(given) || given.length !== c.layers)) {
      throw new AttentionArgumentError(
        "options.lshRotations",
        given,
        `one entry per layer (${c.layers}): a Float32Array [heads, headDim, hashes, buckets/2] for LSH layers, null otherwise`,
      );
    }
    return (layer: number, factors: number[]): ArrayLike<number> => {
      const size = c.heads * c.headDim * c.numHashes * (factors.reduce((a, f) => a + f, 0) / 2);
      const g = given?.[layer];
      if (g !== undefined && g !== null) {
        if (!(g instanceof Float32Array) || g.length !== size) {
          throw new AttentionArgumentError(
            `options.lshRotations[${layer}]`,
            g,
            `a Float32Array of ${size} values [${c.heads}, ${c.headDim}, ${c.numHashes}, ${size / (c.heads * c.headDim * c.numHashes)}]`,
          );
        }
        return g;
      }
      if (c.hashSeed !== null) {
        const key = factors.join(",");
        let r = seeded.get(key);
        if (r === undefined) {
          r = new TorchGenerator(c.hashSeed).randn(size); // torch.manual_seed(hash_seed); torch.randn(...)
          seeded.set(key, r);
        }
        return r;
      }
      return gen.randn(size); // HF draws from the global generator, layer after layer
    };
  }

  /** Greedy or sampled generation, with HF's cached decoding by default (generate.ts). */
  generate(inputs: ReformerInputs, options: GenerateOptions): Promise<GenerateOutput> {
    return generate(this, inputs, options);
  }

  /** HF's padded length for T tokens (end padding to a multiple of the chunks' lcm). */
  paddedLength(T: number): number {
    const { lcm, min } = chunkMultiples(this.config);
    return T % lcm !== 0 && T > min ? Math.ceil(T / lcm) * lcm : T;
  }

  checkInputs(inputs: unknown): { B: number; T: number; ids: Int32Array; mask: Uint8Array | null } {
    const c = this.config;
    if (inputs === null || typeof inputs !== "object") {
      throw new AttentionArgumentError(
        "inputs",
        inputs,
        "{ inputIds: { data: Int32Array, shape: [B, T] }, attentionMask? }",
      );
    }
    for (const k of Object.keys(inputs)) {
      if (k !== "inputIds" && k !== "attentionMask") {
        throw new AttentionArgumentError(
          `inputs.${k}`,
          "(given)",
          "no such Reformer input; inputs are inputIds and attentionMask",
        );
      }
    }
    const { inputIds, attentionMask } = inputs as ReformerInputs;
    const t = inputIds as ReformerInputs["inputIds"] | undefined;
    if (
      t === undefined ||
      t === null ||
      !(t.data instanceof Int32Array) ||
      !Array.isArray(t.shape) ||
      t.shape.length !== 2
    ) {
      throw new AttentionArgumentError("inputs.inputIds", t, "{ data: Int32Array, shape: [batch, length] }");
    }
    const [B, T] = t.shape;
    checkInt("inputs.inputIds.shape[0]", B, 1);
    checkInt("inputs.inputIds.shape[1]", T, 1);
    if (t.data.length !== B * T) {
      throw new AttentionArgumentError("inputs.inputIds.data", t.data.length, `${B * T} values (shape [${B}, ${T}])`);
    }
    for (let i = 0; i < t.data.length; i++) {
      if (!(t.data[i] >= 0 && t.data[i] < c.vocab)) {
        throw new AttentionArgumentError(`inputs.inputIds.data[${i}]`, t.data[i], `a token id in [0, ${c.vocab})`);
      }
    }
    const Lp = this.paddedLength(T);
    if (Lp > c.maxPositions) {
      throw new AttentionArgumentError(
        "inputs.inputIds.shape[1]",
        T,
        `a length whose padded length (${Lp}) is <= max_position_embeddings ${c.maxPositions}`,
      );
    }
    let mask: Uint8Array | null = null;
    if (attentionMask !== undefined) {
      const m = attentionMask;
      if (m === null || !(m.data instanceof Int32Array) || m.data.length !== B * T) {
        throw new AttentionArgumentError("inputs.attentionMask", m, `{ data: Int32Array, shape: [${B}, ${T}] }`);
      }
      mask = new Uint8Array(B * T);
      for (let i = 0; i < B * T; i++) {
        if (m.data[i] !== 0 && m.data[i] !== 1) {
          throw new AttentionArgumentError(`inputs.attentionMask.data[${i}]`, m.data[i], "1 (token) or 0 (padding)");
        }
        mask[i] = m.data[i];
      }
      if (mask.every((x) => x === 1)) mask = null;
    }
    return { B, T, ids: t.data, mask };
  }

  /** The forward pass, as HF ReformerModelWithLMHead in eval mode. */
  async forward(inputs: ReformerInputs, options: ReformerForwardOptions = {}): Promise<ReformerForwardOutput> {
    if (options === null || typeof options !== "object") {
      throw new AttentionArgumentError(
        "options",
        options,
        "{ backend?, threads?, hiddenStates?, lshBuckets?, seed?, lshRotations?, logits? }",
      );
    }
    const x = this.checkInputs(inputs);
    const state: ForwardState = { B: x.B, T: x.T, rotations: this.rotationSource(options) };
    return this.run(x.ids, x.mask, state, options);
  }

  /** The forward over ids [B, T] with mask (null = all real); fills state.cache when given. */
  run(
    ids0: Int32Array,
    mask0: Uint8Array | null,
    state: ForwardState,
    options: ReformerForwardOptions,
  ): ReformerForwardOutput {
    const c = this.config;
    const w = this.weights;
    const { B, T } = state;
    const Lp = this.paddedLength(T);
    const h = c.hidden;
    const H = c.heads;
    const D = c.headDim;
    const nr = c.numHashes;
    const threads = options.threads === undefined ? undefined : checkInt("options.threads", options.threads, 1, 256);
    const backend = options.backend;
    const lo: LinearOptions = { backend: backend === "reference" || backend === "webgpu" ? "js" : backend, threads };
    // HF's end padding: pad id, mask 0
    let ids = ids0;
    let valid: Uint8Array | null = mask0;
    if (Lp !== T) {
      ids = new Int32Array(B * Lp).fill(c.padId);
      valid = new Uint8Array(B * Lp);
      for (let b = 0; b < B; b++) {
        ids.set(ids0.subarray(b * T, (b + 1) * T), b * Lp);
        if (mask0 === null) valid.fill(1, b * Lp, b * Lp + T);
        else valid.set(mask0.subarray(b * T, (b + 1) * T), b * Lp);
      }
    }
    const rows = B * Lp;
    const X1 = new Float32Array(rows * h); // [B, Lp, hidden]
    embed(c, w, ids, B, Lp, 0, X1);
    const X2 = X1.slice();
    const hidden: ReformerForwardOutput["hiddenStates"] = options.hiddenStates ? [] : undefined;
    const buckets: ReformerForwardOutput["lshBuckets"] = options.lshBuckets ? [] : undefined;
    const HL = B * H * Lp * D; // [B, H, Lp, D]
    const h2 = 2 * h;
    // q, k, v and the attention output share one allocation, which then holds last_hidden_state
    // [B, T, 2·hidden] (the layers' buffers are dead by then): one long-context peak fewer
    const arena = new Float32Array(Math.max(4 * HL, B * T * h2));
    const qBuf = arena.subarray(0, HL);
    const kBuf = c.attnLayers.includes("local") ? arena.subarray(HL, 2 * HL) : null;
    const vBuf = arena.subarray(2 * HL, 3 * HL);
    const outBuf = arena.subarray(3 * HL, 4 * HL);
    const blk = Math.min(ROW_BLOCK, Lp);
    const xn = new Float32Array(blk * h); // [blk, hidden]
    const ctx = new Float32Array(blk * H * D); // [blk, H·D]
    const tmp = new Float32Array(blk * h);
    const inter = new Float32Array(blk * c.feedForward);
    const shape: Tensor["shape"] = [B, H, Lp, D];
    let localPlan: Plan | null = null;
    for (let layer = 0; layer < c.layers; layer++) {
      const lw = w.layers[layer];
      hidden?.push({ data: X2.slice(), shape: [B, Lp, h] });
      const lc = state.cache?.layers[layer];
      // q/k/v (local) or qk/v (LSH) of LN_a(X2), straight into [B, H, Lp, D]
      for (let b = 0; b < B; b++) {
        for (let r0 = 0; r0 < Lp; r0 += blk) {
          const n = Math.min(blk, Lp - r0);
          const xs = xn.subarray(0, n * h);
          layerNorm(X2.subarray((b * Lp + r0) * h, (b * Lp + r0 + n) * h), xs, n, h, lw.attnNorm, c.eps);
          if (lc !== undefined && r0 < T) {
            // HF caches the post-LayerNorm states of the unpadded input
            const m = Math.min(n, T - r0);
            lc.states.set(xs.subarray(0, m * h), (b * (state.cache as { capacity: number }).capacity + r0) * h);
          }
          if (lw.kind === "local") {
            projectHeads(xs, n, lw.query as NonNullable<typeof lw.query>, H, D, qBuf, b, Lp, r0, lo);
            projectHeads(xs, n, lw.key as NonNullable<typeof lw.key>, H, D, kBuf as Float32Array, b, Lp, r0, lo);
          } else {
            projectHeads(xs, n, lw.queryKey as NonNullable<typeof lw.queryKey>, H, D, qBuf, b, Lp, r0, lo);
          }
          projectHeads(xs, n, lw.value, H, D, vBuf, b, Lp, r0, lo);
        }
      }
      const q: Tensor = { data: qBuf, shape };
      const v: Tensor = { data: vBuf, shape };
      if (lw.kind === "local") {
        if (localPlan === null) {
          const pattern = localChunks(c.local, c.isDecoder, Lp, valid);
          localPlan = compile(pattern, { queryLength: Lp, keyLength: Lp, heads: H, headDim: D, batch: B });
        }
        attention(q, { data: kBuf as Float32Array, shape }, v, {
          plan: localPlan,
          backend,
          threads,
          out: { data: outBuf, shape },
        });
        buckets?.push(null);
      } else {
        const hashed = Lp > c.lsh.chunkLength;
        const factors = bucketFactors(c, Lp);
        const out = hashed && (buckets !== undefined || lc !== undefined) ? new Int32Array(B * H * nr * Lp) : null;
        const chunks = hashed && c.isDecoder ? new Int32Array(B * H * nr * Lp) : null;
        const pattern = reformerLsh({
          window: c.lsh,
          causal: c.isDecoder,
          rotations: hashed ? state.rotations(layer, factors) : new Float32Array(0),
          factors,
          hashes: nr,
          Lp,
          valid,
          heads: H,
          bucketsOut: out,
          chunksOut: chunks,
        });
        const { lse } = attention(q, q, v, { pattern, backend, threads, out: { data: outBuf, shape } });
        if (chunks !== null) {
          const numChunks = nr * Math.ceil(Lp / c.lsh.chunkLength);
          selfOnlyRows(outBuf, lse, chunks, B, H, Lp, D, nr, numChunks, c.lsh);
        }
        const cut = out === null ? null : cutBuckets(out, B * H * nr, Lp, T);
        buckets?.push(cut === null ? null : { data: cut, shape: [B, H, nr, T] });
        if (lc !== undefined && state.cache !== undefined) {
          lc.buckets = null;
          if (cut !== null) {
            const cap = state.cache.capacity;
            lc.buckets = new Int32Array(B * H * nr * cap); // [B, H, nr, capacity]
            for (let s = 0; s < B * H * nr; s++) lc.buckets.set(cut.subarray(s * T, (s + 1) * T), s * cap);
          }
        }
      }
      // Y1 = X1 + Wo·ctx;  Y2 = X2 + W2·act(W1·LN_f(Y1) + b1) + b2, block by block
      for (let b = 0; b < B; b++) {
        for (let r0 = 0; r0 < Lp; r0 += blk) {
          const n = Math.min(blk, Lp - r0);
          const o = (b * Lp + r0) * h; // X1, X2: [B, Lp, hidden]
          gatherHeads(outBuf, b, H, Lp, D, r0, n, ctx);
          const t = tmp.subarray(0, n * h);
          linearRows(ctx.subarray(0, n * H * D), n, lw.attnOut, t, lo);
          for (let i = 0; i < n * h; i++) X1[o + i] += t[i];
          layerNorm(X1.subarray(o, o + n * h), t, n, h, lw.mlpNorm, c.eps);
          const f = inter.subarray(0, n * c.feedForward);
          linearRows(t, n, lw.inter, f, lo);
          activate(f, c.act);
          linearRows(f, n, lw.out, t, lo);
          for (let i = 0; i < n * h; i++) X2[o + i] += t[i];
        }
      }
    }
    hidden?.push({ data: X2.slice(), shape: [B, Lp, h] });
    // final LayerNorm over [Y1, Y2] of the real length
    const last = arena.subarray(0, B * T * h2); // [B, T, 2·hidden]
    const row = new Float32Array(h2);
    for (let b = 0; b < B; b++) {
      for (let i = 0; i < T; i++) {
        const s = (b * Lp + i) * h;
        row.set(X1.subarray(s, s + h), 0);
        row.set(X2.subarray(s, s + h), h);
        layerNorm(row, last.subarray((b * T + i) * h2, (b * T + i + 1) * h2), 1, h2, w.finalNorm, c.eps);
      }
    }
    const result: ReformerForwardOutput = { lastHiddenState: { data: last, shape: [B, T, h2] } };
    if (options.logits !== false && w.lmHead !== null) {
      if (options.lastLogitsOnly) {
        const rowsLast = new Float32Array(B * h2); // [B, 2·hidden] the last position of each row
        for (let b = 0; b < B; b++) rowsLast.set(last.subarray((b * T + T - 1) * h2, (b * T + T) * h2), b * h2);
        const logits = new Float32Array(B * c.vocab);
        linearRows(rowsLast, B, w.lmHead, logits, lo);
        result.logits = { data: logits, shape: [B, 1, c.vocab] };
      } else {
        const logits = new Float32Array(B * T * c.vocab); // [B, T, vocab]
        linearRows(last, B * T, w.lmHead, logits, lo);
        result.logits = { data: logits, shape: [B, T, c.vocab] };
      }
    }
    if (hidden !== undefined) result.hiddenStates = hidden;
    if (buckets !== undefined) result.lshBuckets = buckets;
    return result;
  }
}

/** [S, Lp] → [S, T] (the first T of each row). */
function cutBuckets(b: Int32Array, S: number, Lp: number, T: number): Int32Array {
  if (Lp === T) return b;
  const out = new Int32Array(S * T);
  for (let s = 0; s < S; s++) out.set(b.subarray(s * Lp, s * Lp + T), s * T);
  return out;
}

export { now };
