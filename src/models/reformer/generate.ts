/**
 * generate(): greedy or seeded sampling from a Reformer LM, as HF's `generate` does for
 * ReformerModelWithLMHead (v4.40): step 0 is the prompt's forward; with `useCache` (default,
 * HF's default) each further step runs HF's cached decoding (cache.ts), without it the full
 * forward of the whole sequence. Sampling applies HF's warpers in HF's order (temperature,
 * top-k, top-p) and draws from a TorchGenerator seeded with `seed` (reproducible; not
 * torch.multinomial's stream). Rows that produced `eosTokenId` continue with the pad id, as
 * HF does; generation stops when every row has.
 */
import { AttentionArgumentError, checkInt } from "../../errors.js";
import type { Backend } from "../../types.js";
import { TorchGenerator } from "../../util/torch-random.js";
import type { LinearOptions } from "../ops.js";
import { type DecodeCache, decodeStep } from "./cache.js";
import { bucketFactors } from "./config.js";
import type { ForwardState, ReformerInputs, ReformerModel } from "./model.js";

export interface GenerateOptions {
  maxNewTokens: number;
  /** HF's cached decoding (default true); false = the full forward at every step. */
  useCache?: boolean;
  doSample?: boolean;
  /** Sampling: divide the logits by this (default 1). */
  temperature?: number;
  /** Sampling: keep the k most likely tokens (HF's default 50; 0 = off). */
  topK?: number;
  /** Sampling: keep the smallest set of tokens whose probability reaches p (default 1 = off). */
  topP?: number;
  /** Seed of the sampler and, when the config's hash_seed is null, of the LSH rotations (default 0). */
  seed?: number;
  /** Stop a row at this token (default: config.json's eos_token_id); null never stops. */
  eosTokenId?: number | null;
  /** Called after every step with the new token of each batch row. */
  onToken?: (tokens: Int32Array, step: number) => void;
  /** Return the scores (processed logits) of every step [B, steps, vocab]. */
  outputScores?: boolean;
  backend?: Backend;
  threads?: number;
  lshRotations?: ReadonlyArray<Float32Array | null | undefined>;
}

export interface GenerateOutput {
  sequences: { data: Int32Array; shape: [number, number] };
  scores?: { data: Float32Array; shape: [number, number, number] };
}

const KEYS = [
  "maxNewTokens",
  "useCache",
  "doSample",
  "temperature",
  "topK",
  "topP",
  "seed",
  "eosTokenId",
  "onToken",
  "outputScores",
  "backend",
  "threads",
  "lshRotations",
];

function num(where: string, v: unknown, ok: (x: number) => boolean, form: string, fallback: number): number {
  if (v === undefined) return fallback;
  if (typeof v !== "number" || !ok(v)) throw new AttentionArgumentError(where, v, form);
  return v;
}

/** HF's warpers on one row of logits (in place): temperature, top-k, top-p; removed = -Infinity. */
export function warp(row: Float32Array, temperature: number, topK: number, topP: number): void {
  const V = row.length;
  if (temperature !== 1) for (let i = 0; i < V; i++) row[i] /= temperature;
  if (topK > 0 && topK < V) {
    const kth = Float32Array.from(row).sort()[V - topK]; // the k-th largest; ties with it are kept
    for (let i = 0; i < V; i++) if (row[i] < kth) row[i] = Number.NEGATIVE_INFINITY;
  }
  if (topP < 1) {
    // sort ascending, cumulative softmax; drop tokens whose cumulative mass <= 1 - p (keep the top one)
    const idx = Array.from({ length: V }, (_, i) => i).sort((a, b) => row[a] - row[b] || a - b);
    const p = softmax(row);
    let cum = 0;
    for (let j = 0; j < V - 1; j++) {
      cum += p[idx[j]];
      if (cum <= 1 - topP) row[idx[j]] = Number.NEGATIVE_INFINITY;
    }
  }
}

function softmax(row: Float32Array): Float64Array {
  let m = Number.NEGATIVE_INFINITY;
  for (const x of row) if (x > m) m = x;
  const p = new Float64Array(row.length);
  let s = 0;
  for (let i = 0; i < row.length; i++) {
    p[i] = Math.exp(row[i] - m);
    s += p[i];
  }
  for (let i = 0; i < row.length; i++) p[i] /= s;
  return p;
}

function argmax(row: Float32Array): number {
  let best = 0;
  for (let i = 1; i < row.length; i++) if (row[i] > row[best]) best = i; // first maximum, as torch.argmax
  return best;
}

export async function generate(
  model: ReformerModel,
  inputs: ReformerInputs,
  options: GenerateOptions,
): Promise<GenerateOutput> {
  const c = model.config;
  if (options === null || typeof options !== "object") {
    throw new AttentionArgumentError("options", options, "{ maxNewTokens, useCache?, doSample?, … }");
  }
  for (const k of Object.keys(options)) {
    if (!KEYS.includes(k)) throw new AttentionArgumentError(`options.${k}`, "(given)", `one of ${KEYS.join(", ")}`);
  }
  if (model.weights.lmHead === null) {
    throw new AttentionArgumentError(
      "model",
      "a ReformerModel without lm_head",
      "a ReformerModelWithLMHead checkpoint",
    );
  }
  const x = model.checkInputs(inputs);
  if (x.mask !== null) {
    throw new AttentionArgumentError(
      "inputs.attentionMask",
      "a mask with padding",
      "no padding: HF's Reformer generation ignores attention_mask (its cached decoding has none); generate rows of equal length",
    );
  }
  const maxNew = checkInt("options.maxNewTokens", options.maxNewTokens, 1);
  const useCache = options.useCache ?? true;
  const doSample = options.doSample ?? false;
  const temperature = num("options.temperature", options.temperature, (t) => t > 0, "a number > 0", 1);
  const topK = num("options.topK", options.topK, (k) => Number.isSafeInteger(k) && k >= 0, "an integer >= 0", 50);
  const topP = num("options.topP", options.topP, (p) => p > 0 && p <= 1, "a number in (0, 1]", 1);
  const seed = options.seed === undefined ? 0 : checkInt("options.seed", options.seed, 0, Number.MAX_SAFE_INTEGER);
  const eos = options.eosTokenId === undefined ? c.eosId : options.eosTokenId;
  if (eos !== null) checkInt("options.eosTokenId", eos, 0, c.vocab - 1);
  const { B, T } = x;
  const total = T + maxNew;
  if (model.paddedLength(total - 1) > c.maxPositions) {
    throw new AttentionArgumentError(
      "options.maxNewTokens",
      maxNew,
      `at most ${c.maxPositions - T} new tokens (max_position_embeddings ${c.maxPositions}, prompt ${T})`,
    );
  }
  const threads = options.threads === undefined ? undefined : checkInt("options.threads", options.threads, 1, 256);
  const backend = options.backend;
  const lo: LinearOptions = { backend: backend === "reference" || backend === "webgpu" ? "js" : backend, threads };
  const fo = { backend, threads };
  const rotations = model.rotationSource({ seed, lshRotations: options.lshRotations });
  const sampler = new TorchGenerator(seed);
  const seq = new Int32Array(B * total); // [B, total]
  for (let b = 0; b < B; b++) seq.set(x.ids.subarray(b * T, (b + 1) * T), b * total);
  const V = c.vocab;
  const scores: Float32Array[] = [];
  const done = new Uint8Array(B);
  let cache: DecodeCache | null = null;
  let len = T;
  for (let step = 0; step < maxNew; step++) {
    let logits: Float32Array; // [B, vocab] at the last position
    if (step === 0 || !useCache) {
      const ids = new Int32Array(B * len);
      for (let b = 0; b < B; b++) ids.set(seq.subarray(b * total, b * total + len), b * len);
      const state: ForwardState = { B, T: len, rotations };
      if (useCache) {
        const layers = c.attnLayers.map(() => ({ states: new Float32Array(B * total * c.hidden), buckets: null }));
        state.cache = { layers, capacity: total };
        const Lp = model.paddedLength(len);
        cache = {
          layers,
          capacity: total,
          length: len,
          factors: c.attnLayers.map((k) => (k === "lsh" && Lp > c.lsh.chunkLength ? bucketFactors(c, Lp) : null)),
        };
      }
      const out = model.run(ids, null, state, { ...fo, lastLogitsOnly: true });
      const all = (out.logits as NonNullable<typeof out.logits>).data; // [B, 1, vocab]
      logits = all;
    } else {
      const prev = new Int32Array(B);
      for (let b = 0; b < B; b++) prev[b] = seq[b * total + len - 1];
      logits = decodeStep(model, cache as DecodeCache, prev, rotations, lo);
    }
    const next = new Int32Array(B);
    for (let b = 0; b < B; b++) {
      const row = logits.slice(b * V, (b + 1) * V);
      if (doSample) warp(row, temperature, topK, topP);
      if (options.outputScores) scores.push(row.slice());
      if (done[b]) next[b] = c.padId;
      else if (!doSample) next[b] = argmax(row);
      else {
        const p = softmax(row);
        const u = sampler.uniformDouble();
        let cum = 0;
        let pick = V - 1;
        for (let i = 0; i < V; i++) {
          cum += p[i];
          if (u < cum) {
            pick = i;
            break;
          }
        }
        while (p[pick] === 0 && pick > 0) pick--; // never a removed token through rounding
        next[b] = pick;
      }
      seq[b * total + len] = next[b];
      if (eos !== null && next[b] === eos) done[b] = 1;
    }
    len++;
    options.onToken?.(next, step);
    if (done.every((d) => d === 1)) break;
    await new Promise((r) => setTimeout(r, 0)); // let a caller's stream draw
  }
  const data = new Int32Array(B * len); // [B, len]
  for (let b = 0; b < B; b++) data.set(seq.subarray(b * total, b * total + len), b * len);
  const result: GenerateOutput = { sequences: { data, shape: [B, len] } };
  if (options.outputScores) {
    const steps = len - T;
    const s = new Float32Array(B * steps * V); // [B, steps, vocab]
    for (let k = 0; k < steps; k++) for (let b = 0; b < B; b++) s.set(scores[k * B + b], (b * steps + k) * V);
    result.scores = { data: s, shape: [B, steps, V] };
  }
  return result;
}
