/**
 * The architecture registry's contract. An `Architecture` is everything model-type specific:
 * config.json parsing and checks, weight names and loading, embeddings, the attention of a
 * layer (its projections and plans), and the task heads keyed by HF class name. The rest —
 * input checks, the layer loop (post-LN or pre-LN, an activation MLP or a gated one), the
 * pooler, timing — is shared (encoder.ts). loadModel picks the entry by config.model_type
 * (index.ts). How to add one: docs/models.md, "Adding an architecture".
 */
import type { Backend } from "../../types.js";
import type { AttentionPlans, RandomAttention } from "../attend.js";
import type { BackendsUsed } from "../backends-used.js";
import type { LoadedHead, Model, TokenizerFiles } from "../encode.js";
import type { CheckedInputs, ForwardInputs } from "../inputs.js";
import type { GenerateOptions, GenerateOutput } from "../reformer/generate.js";
import type { WeightStore } from "../safetensors.js";
import type { TaskInputs } from "../tasks/prepare.js";
import type { Activation } from "./fields.js";

/** The config fields every architecture fills (its own fields extend this). */
export interface ModelConfig {
  /** config.model_type: the registry key. */
  modelType: string;
  /** config.architectures: HF class names (e.g. "LongformerForMaskedLM"); [] when absent. */
  architectures: string[];
  hidden: number;
  heads: number;
  headDim: number;
  layers: number;
  /** The MLP's inner width (a gated MLP's `inter` projection has 2 × this many outputs). */
  intermediate: number;
  vocab: number;
  maxPositions: number;
  /** Token types the embeddings know; 0 when the model takes none. */
  typeVocab: number;
  padId: number;
  /** sep_token_id, else the architecture's default; undefined when the model has none. */
  sepId?: number;
  eps: number;
  act: Activation;
  /** The config.json as given. */
  raw: Record<string, unknown>;
}

export interface Linear {
  W: Float32Array; // [outF, inF]
  b: Float32Array | null; // [outF]
  outF: number;
  inF: number;
}

export interface Norm {
  gamma: Float32Array; // [n]
  beta: Float32Array; // [n] (zeros for a LayerNorm without bias)
}

/** What the shared layer loop reads of a layer; the architecture's attention weights extend it. */
export interface EncoderLayerWeights {
  /** Attention output projection [hidden, hidden]. */
  attnOut: Linear;
  /** Post-LN: after the attention residual. Pre-LN: before attention (null = identity, ModernBERT's layer 0). */
  attnNorm: Norm | null;
  /** MLP in: [intermediate, hidden], or [2·intermediate, hidden] for a gated MLP ([input | gate]). */
  inter: Linear;
  /** MLP out: [hidden, intermediate]. */
  out: Linear;
  /** Post-LN: after the MLP residual. Pre-LN: before the MLP. */
  mlpNorm: Norm | null;
}

export interface EncoderWeights<LW extends EncoderLayerWeights = EncoderLayerWeights> {
  layers: LW[];
  /** Pre-LN: the norm after the last layer (null: none). */
  finalNorm: Norm | null;
  /** tanh(dense(x[:, 0])) when the checkpoint has one. */
  pooler: Linear | null;
  /** The prefix the names carried ("" or a task model's, e.g. "longformer."). */
  prefix: string;
}

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
  /** Padded length the layers ran at, and the attention kind used. */
  length: number;
  /** Distinct attention plans compiled in this forward (each reused by every layer that needs it). */
  plans: number;
  attention: string;
  /** The backends that ran the forward's attention() calls and linear layers (calls per backend), and the most threads one call ran on. */
  backends: BackendsUsed;
}

export interface ForwardOutput {
  lastHiddenState: { data: Float32Array; shape: [number, number, number] };
  poolerOutput?: { data: Float32Array; shape: [number, number] };
  profile?: ForwardProfile;
}

/**
 * The matrix products and attention calls of a forward. Plain, or timed into a profile by a
 * wrapper (encoder.ts): architecture code calls these and never reads a clock.
 */
/** An activation fused into a linear layer's output (src/backends/dispatch.ts linear's options). */
export interface Epilogue {
  act: Activation;
  gated: boolean;
}

export interface Ops {
  /**
   * nn.Linear: y[rows, outF] = x[rows, inF] · Wᵀ + b, into `out` when given; `epi` applies an
   * activation in the same call (gated: y [rows, outF / 2] = act(a) · g, GeGLU).
   */
  linear(x: Float32Array, rows: number, w: Linear, out?: Float32Array, epi?: Epilogue): Float32Array;
  /** Runs `run` as attention work (counted in profile.attentionMs). */
  attention<T>(run: () => T): T;
}

/** What a layer's attention sees of the forward in progress. */
export interface ForwardContext<C extends ModelConfig = ModelConfig, W extends EncoderWeights = EncoderWeights> {
  config: C;
  weights: W;
  /** The inputs the layers run at (after the architecture's own padding). */
  x: CheckedInputs;
  /** One compiled plan per distinct pattern of this forward, for [B, H, L, D]. */
  plans: AttentionPlans;
  mode: "model" | "dense";
  options: ForwardOptions;
}

/** The attention of every layer of one forward, prepared once (buffers, per-row globals, random tables). */
export interface LayerAttention {
  /** Profile label: the attention kind this forward runs ("longformer", "block_sparse", "dense", …). */
  readonly label: string;
  /**
   * Self-attention of `layer`: hs [B·L, hidden] (the layer's input; pre-LN: already normed)
   * → ctx [B·L, hidden], the context BEFORE the output projection (the loop applies attnOut).
   */
  attend(layer: number, hs: Float32Array, ctx: Float32Array, ops: Ops): void;
}

/** Named outputs of a head (logits, startLogits, …) as { data, shape }. */
export type TaskOutputs = Record<string, { data: Float32Array; shape: number[] }>;

/** A task head (HF `<Model>For<Task>`), registered in Architecture.heads under its HF class name. */
export interface TaskHead<C extends ModelConfig = ModelConfig, HW = unknown> {
  /** The pipeline task it serves ("fill-mask", "text-classification", "token-classification", "question-answering", "multiple-choice"). */
  readonly task: string;
  /** The head's weights, named as HF saves them (the base model's prefix is `prefix`). */
  load(store: WeightStore, c: C, prefix: string): HW;
  /** Label names (classification heads), id2label order. */
  labels?(w: HW, c: C): string[];
  /**
   * Inputs as the encoder wants them, from the caller's (e.g. Longformer QA: global attention on
   * the question; multiple choice: [B, choices, L] flattened to [B·choices, L]).
   */
  prepare?(inputs: TaskInputs, c: C): TaskInputs;
  /** The head on the encoder's output: named outputs (logits, startLogits, …); `prepared`: what the encoder ran, `given`: the caller's inputs. */
  run(encoded: ForwardOutput, w: HW, c: C, ops: Ops, prepared: ForwardInputs, given: TaskInputs): TaskOutputs;
  /** ForMaskedLM: logits [n, vocab] of n hidden rows [n, hidden] only (fill-mask). */
  runAt?(rows: Float32Array, n: number, w: HW, c: C, ops: Ops): Float32Array;
}

/** What loadModel found beside config.json and the weights (for Architecture.createModel). */
export interface ModelExtras {
  tokenizer?: TokenizerFiles;
  /** sentence-transformers' modules.json and its Pooling module's config.json, parsed, when present. */
  sentenceModules?: unknown;
  poolingConfig?: unknown;
  /** What errors call the model (its folder or Hub id). */
  label?: string;
  /** The head loadModel chose (config.architectures or its task option), with its weights. */
  head?: LoadedHead | null;
}

export interface Architecture<C extends ModelConfig = ModelConfig, W extends EncoderWeights = EncoderWeights> {
  /** config.model_type, the registry key. */
  readonly modelType: string;
  /** Residual layout of the shared loop: "post" x ← LN(x + f(x)); "pre" x ← x + f(LN(x)). */
  readonly norm: "post" | "pre";
  /** MLP: "act" act(x·Wiᵀ)·Woᵀ; "gated" [a | g] = x·Wiᵀ, (act(a)·g)·Woᵀ (GeGLU). */
  readonly mlp: "act" | "gated";
  /** Takes inputs.globalAttentionMask (per-token global attention). */
  readonly globalAttention: boolean;
  /** config.json (model_type already checked) → the checked config. */
  parseConfig(raw: Record<string, unknown>, where: string): C;
  /** Longest input (tokens per row) and why. */
  maxInputLength(c: C): { limit: number; why: string };
  /** The encoder's weights from a checkpoint, shapes checked against `c`. */
  loadWeights(store: WeightStore, c: C): W;
  /** Padding the layers need beyond the caller's (BigBird: to a multiple of the block). */
  pad?(x: CheckedInputs, c: C, mode: "model" | "dense"): CheckedInputs;
  /** The embeddings of `x` (after their norm): [B·L, hidden]. */
  embed(x: CheckedInputs, c: C, w: W): Float32Array;
  /** Prepares the attention of every layer of one forward (option checks throw here, before any work). */
  attention(f: ForwardContext<C, W>): LayerAttention;
  /** Task heads by HF class name (config.architectures), e.g. "LongformerForMaskedLM". */
  readonly heads: Readonly<Record<string, TaskHead<C>>>;
  /** Files read when the model's folder or Hub repository has them, besides tokenizer.json (Hub downloads ask for them). */
  readonly optionalFiles?: readonly string[];
  /**
   * A model class of its own (task heads, pooling) for loadModel to return instead of the
   * generic Model; it must extend Model. `files`: what the folder or source held besides the
   * weights.
   */
  createModel?(c: C, w: W, files: ModelExtras): Model;
  /**
   * An architecture whose forward is not the shared encoder loop (Reformer's reversible
   * layers) runs its own here, reusing the pieces above.
   */
  forward?(c: C, w: W, inputs: ForwardInputs, options: ForwardOptions): Promise<ForwardOutput>;
  /** A causal language model's generation (Reformer): model.generate() calls it; absent for encoders. */
  generate?(c: C, w: W, inputs: ForwardInputs, options: GenerateOptions): Promise<GenerateOutput>;
}
