/**
 * Public types of sparse-attention.
 *
 * Shapes are named once, here, and used everywhere:
 *   B   batch            H    query heads        Hkv  key/value heads (H % Hkv == 0)
 *   Lq  query length     Lk   key length         D    head dimension
 * A tensor is row-major: q is [B, H, Lq, D], k and v are [B, Hkv, Lk, D].
 *
 * Name prefixes in kernel and layout code:
 *   qi / ki   token positions in the ORIGINAL sequence
 *   si / sj   rows / columns in a part's gathered ("sorted") order
 *   qt / kt   tile indices          *Off   flat offsets into typed arrays
 */

/** A dense float32 tensor of rank 4: `[batch, heads, length, headDim]`, row-major. */
export interface Tensor {
  data: Float32Array;
  shape: [number, number, number, number];
}

/** Tile classification: no pair allowed, some pairs allowed, every pair allowed. */
export const EMPTY = 0;
export const PARTIAL = 1;
export const FULL = 2;
export type TileKind = typeof EMPTY | typeof PARTIAL | typeof FULL;

/** May query position `q` attend key position `k` in head `h`? (original positions) */
export type MaskFn = (q: number, k: number, h: number) => boolean;

/**
 * Classifies the rectangle of queries `[q0, q1)` × keys `[k0, k1)` (half-open, original
 * positions) in head `h`. Must be conservative: FULL only if every pair is allowed, EMPTY
 * only if none is.
 */
export type TileClassifier = (q0: number, q1: number, k0: number, k1: number, h: number) => TileKind;

/** The sizes a pattern is compiled for. */
export interface Dims {
  queryLength: number;
  keyLength: number;
  heads: number;
  headDim: number;
}

/**
 * One disjoint piece of a compiled plan, as plain typed arrays (a WASM or WebGPU kernel can
 * consume it unchanged). The part's rows are `qIndex` (original query positions, in the
 * order the part scores them; null = identity 0..Lq-1), its columns `kIndex` (null =
 * identity 0..Lk-1). Tiles cut those orders at `qTiles` / `kTiles` boundaries. For query
 * tile `qt`, the key tiles to visit are `colIdx[rowPtr[qt] .. rowPtr[qt+1])`; entry `e` is
 * full when `maskOff[e] < 0`, otherwise partial with a row-major byte mask of
 * `rows × cols` entries (1 = allowed) at `maskBits[maskOff[e] ...]`.
 * Rows may repeat across parts or inside one part (LSH rounds): every row's result is merged
 * into the output by log-sum-exp.
 */
export interface PlanPart {
  label: string;
  qIndex: Int32Array | null;
  kIndex: Int32Array | null;
  qTiles: Int32Array; // [numQTiles + 1] boundaries in gathered row order
  kTiles: Int32Array; // [numKTiles + 1] boundaries in gathered column order
  rowPtr: Int32Array; // [numQTiles + 1]
  colIdx: Int32Array; // [nnz] key tile index
  maskOff: Int32Array; // [nnz] offset into maskBits, or -1 for a full tile
  maskBits: Uint8Array; // concatenated partial-tile masks
  /** When set, a score whose query and key are the same original position is replaced by this value (Reformer's self mask). */
  selfScore?: number;
  /** Pairs this part allows and score entries it visits (sum of tile areas). */
  allowedPairs: number;
  scoredPairs: number;
}

/** Pattern-level knobs that only content-dependent patterns (LSH) use. */
export interface ContentPlanner {
  /** Plans one (batch, head) from its data. q: [Lq, D] and k: [Lk, D] views (k already transformed). */
  plan(ctx: { dims: Dims; batch: number; head: number; q: Float32Array; k: Float32Array }): PlanPart[];
  /** Returns transformed keys for one (batch, kv head) `[Lk, D]` (e.g. Reformer's length normalisation). */
  transformKeys?(k: Float32Array, keyLength: number, headDim: number): Float32Array;
  /** Scale used when the caller gives none. */
  defaultScale?(headDim: number): number;
}

/** A pattern bound to sizes: its semantic mask, an analytic classifier and optionally its own planner. */
export interface BoundPattern {
  mask: MaskFn;
  classify: TileClassifier;
  /** Custom planner for one head; when absent the generic tile-grid planner is used. */
  plan?: (head: number) => PlanPart[];
  /** Preferred square tile for the generic planner. */
  tile?: number;
}

/** WHAT may attend. Patterns compose with union / intersect; they never subclass. */
export interface Pattern {
  readonly name: string;
  /** True when the allowed set differs between heads (per-head dilation, BigBird random blocks). */
  readonly headDependent: boolean;
  /** Members of a composed pattern (for pictures and accounting); empty for leaves. */
  readonly children: readonly Pattern[];
  readonly op?: "union" | "intersect";
  bind(dims: Dims): BoundPattern;
  /** Present only for content-dependent patterns (LSH); such patterns do not compose. */
  readonly content?: ContentPlanner;
}

/**
 * "auto": the fastest backend that can run the problem (wasm, then js); "wasm": WebAssembly
 * SIMD kernel; "js": TypeScript kernel; "reference": the float64 oracle (fixed masks only);
 * "webgpu": the WGSL kernel on a GPU, through attentionAsync() only.
 */
export type Backend = "auto" | "wasm" | "js" | "reference" | "webgpu";

export interface AttentionOptions {
  pattern?: Pattern;
  /** Multiplies q·k. Default 1/sqrt(D) (or the pattern's default). */
  scale?: number;
  backend?: Backend;
  /**
   * Threads for the wasm backend (default: the cores available; Node only, browsers run one).
   * Results are bitwise identical for every thread count.
   */
  threads?: number;
}

export interface AttentionStats {
  /** Pairs the pattern allows, summed over batch and heads. */
  allowedPairs: number;
  /** Score entries the kernel visited (sum of visited tile areas), summed over batch and heads. */
  scoredPairs: number;
  /** Floating-point operations: 4·D per scored entry (q·k and p·v), the usual convention. */
  flops: number;
  /**
   * Bytes of working memory the algorithm needs beyond inputs and outputs: the largest plan
   * held at once + one query tile's state in the tiled kernel + transformed keys. The same
   * on every backend, and what explain() reports.
   */
  bytes: number;
  /** Bytes the backend itself holds on top (the wasm backend's linear memory: copies of inputs, outputs, its tile buffers); 0 for js. */
  backendBytes: number;
  /** Plan parts per head (for one batch). */
  parts: number;
  /** Visited tiles, summed over batch and heads. */
  tiles: number;
  backend: string;
  /** Threads the backend ran on. */
  threads?: number;
  /** The GPU adapter that ran the call (backend "webgpu"). */
  adapter?: string;
}

export interface AttentionResult {
  out: Tensor;
  /** Natural-log log-sum-exp of the scaled, masked scores: [B, H, Lq]; -Infinity for a row with no allowed key. */
  lse: Float32Array;
  stats: AttentionStats;
}
