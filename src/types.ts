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

/** May query position `q` attend key position `k` in head `h` of batch row `b`? (original positions) */
export type MaskFn = (q: number, k: number, h: number, b?: number) => boolean;

/**
 * Classifies the rectangle of queries `[q0, q1)` × keys `[k0, k1)` (half-open, original
 * positions) in head `h`. Must be conservative: FULL only if every pair is allowed, EMPTY
 * only if none is. `b` is the batch row.
 */
export type TileClassifier = (q0: number, q1: number, k0: number, k1: number, h: number, b?: number) => TileKind;

/** The sizes a pattern is compiled for. */
export interface Dims {
  queryLength: number;
  keyLength: number;
  heads: number;
  headDim: number;
  /** Batch rows (per-row patterns check their row count against it); default 1. */
  batch?: number;
}

/**
 * One disjoint piece of a compiled plan, as plain typed arrays (a WASM or WebGPU kernel can
 * consume it unchanged). The part's rows are `qIndex` (original query positions, in the
 * order the part scores them; null = identity 0..Lq-1), its columns `kIndex` (null =
 * identity 0..Lk-1). Tiles cut those orders at `qTiles` / `kTiles` boundaries. For query
 * tile `qt`, the key tiles to visit are `colIdx[rowPtr[qt] .. rowPtr[qt+1])`; entry `e` is
 * full when `maskOff[e] < 0`, otherwise partial with a BIT-PACKED mask of `rows × cols`
 * entries: local pair (r, c) has bit index `i = r * cols + c`, stored at word
 * `maskWords[maskOff[e] + (i >>> 5)]`, bit `i & 31` (1 = allowed). Every tile's mask starts on
 * a word boundary; `maskOff` is a WORD offset.
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
  maskOff: Int32Array; // [nnz] word offset into maskWords, or -1 for a full tile
  maskWords: Uint32Array; // concatenated bit-packed partial-tile masks
  /** When set, a score whose query and key are the same original position is replaced by this value (Reformer's self mask). */
  selfScore?: number;
  /** Pairs this part allows and score entries it visits (sum of tile areas). */
  allowedPairs: number;
  scoredPairs: number;
}

/**
 * How a planner describes one plan part before it is built (src/layout/part.ts builds it, or
 * only counts it for explain()). Internal to planners; not part of a compiled plan.
 */
export interface PartSpec {
  label: string;
  head: number;
  /** Batch row the part is planned for (passed to `mask`). */
  batch: number;
  qIndex: Int32Array | null; // gathered row -> original query position
  kIndex: Int32Array | null; // gathered column -> original key position
  qTiles: Int32Array; // [numQTiles + 1]
  kTiles: Int32Array; // [numKTiles + 1]
  /** The part's exact allowed set on original positions inside the tiles it visits. Evaluated only in partial tiles. */
  mask: MaskFn;
  /** Calls visit(kt, kind) for each key tile query tile `qt` may need (any order, no repeats). */
  tilesFor: (qt: number, visit: (kt: number, kind: TileKind) => void) => void;
  /** Exact allowed pairs of a PARTIAL tile, computed analytically; -1 = unknown (the tile is scanned). */
  count?: (qt: number, kt: number) => number;
  /**
   * Counting a whole query tile's row at once (explain of bands: the interior full tiles in
   * closed form). Adds to `acc` what building the row would give: [tiles, allowed, scored, maskWords];
   * returns false when it cannot (the row is then counted tile by tile).
   */
  countRow?: (qt: number, acc: Float64Array) => boolean;
  /** The original key positions [out[0], out[1]) query tile `qt` can visit, when they are one range (bands in identity order). */
  rowKeyRange?: (qt: number, out: Int32Array) => boolean;
  selfScore?: number;
}

/** Pattern-level knobs that only content-dependent patterns (LSH) use. */
export interface ContentPlanner {
  /** Plans one (batch, head) from its data. q: [Lq, D] and k: [Lk, D] views (k already transformed). */
  plan(ctx: { dims: Dims; batch: number; head: number; q: Float32Array; k: Float32Array }): PartSpec[];
  /** Returns transformed keys for one (batch, kv head) `[Lk, D]` (e.g. Reformer's length normalisation). */
  transformKeys?(k: Float32Array, keyLength: number, headDim: number): Float32Array;
  /** Scale used when the caller gives none. */
  defaultScale?(headDim: number): number;
}

/** A pattern bound to sizes: its semantic mask, an analytic classifier and optionally its own planner. */
export interface BoundPattern {
  mask: MaskFn;
  classify: TileClassifier;
  /** Custom planner for one (head, batch row); when absent the generic tile-grid planner is used. */
  plan?: (head: number, batch: number) => PartSpec[];
  /** Preferred square tile for the generic planner. */
  tile?: number;
  /** True when the own plan covers a wide range (dense, keyPadding): intersect() plans on another member's tiles. */
  wide?: boolean;
  /** Exact allowed pairs in the rectangle [q0, q1) × [k0, k1), analytically (explain counts partial grid tiles with it). */
  count?: (q0: number, q1: number, k0: number, k1: number, h: number, b: number) => number;
  /**
   * Present when the allowed set differs between batch rows: rows with equal keys share one
   * plan (perBatch, keyPadding). Absent: every row has the same plan.
   */
  batchKey?: (b: number) => string;
}

/** Options of Pattern.bind(): `check` makes every classifier verify its answers against its mask. */
export interface BindOptions {
  check?: boolean;
}

/** WHAT may attend. Patterns compose with union / intersect; they never subclass. */
export interface Pattern {
  readonly name: string;
  /** True when the allowed set differs between heads (per-head dilation, BigBird random blocks). */
  readonly headDependent: boolean;
  /** Members of a composed pattern (for pictures and accounting); empty for leaves. */
  readonly children: readonly Pattern[];
  readonly op?: "union" | "intersect";
  bind(dims: Dims, options?: BindOptions): BoundPattern;
  /** Present only for content-dependent patterns (LSH); such patterns do not compose. */
  readonly content?: ContentPlanner;
}

/**
 * "auto": the fastest backend that can run the problem (wasm, then js); "wasm": WebAssembly
 * SIMD kernel; "js": TypeScript kernel; "reference": the float64 oracle (fixed masks only);
 * "webgpu": the WGSL kernel on a GPU, through attentionAsync() only.
 */
export type Backend = "auto" | "wasm" | "js" | "reference" | "webgpu";

/** One part of a plan, summarised (explain()). */
export interface PartSummary {
  label: string;
  tiles: number;
  allowedPairs: number;
  scoredPairs: number;
}

/**
 * A compiled plan: a VALUE. compile() builds it once; attention(q, k, v, { plan }) runs it
 * with no planning and explain(plan) accounts it. Frozen (its typed arrays cannot be frozen
 * by JavaScript: do not write to them).
 */
export interface Plan {
  readonly kind: "sparse-attention/plan";
  /** The pattern's name. */
  readonly pattern: string;
  /** The pattern itself (for its key transform and default scale, and the reference kernel). */
  readonly source: Pattern;
  readonly dims: Readonly<Dims>;
  readonly batch: number;
  /** `rows[b * heads + h]`: the disjoint parts of batch row b, head h, in execution order; equal plans are the same array. */
  readonly rows: readonly PlanPart[][];
  /** `heads[h]` = rows of batch row 0 (the view pictures and custom kernels use). */
  readonly heads: readonly PlanPart[][];
  /** True when planned from data (content-dependent patterns): valid only for the q / k it was compiled with. */
  readonly fromData: boolean;
  /** Pairs allowed / score entries visited / tiles visited, summed over batch rows and heads. */
  readonly allowedPairs: number;
  readonly scoredPairs: number;
  readonly tiles: number;
  /** Parts of batch row 0, head 0. */
  readonly parts: readonly PartSummary[];
  /** Bytes of the plan's distinct typed arrays (shared plans counted once). */
  readonly planBytes: number;
  /** Scratch bytes the tiled kernel needs for the largest tiles. */
  readonly scratchBytes: number;
  /** Bytes of the keys a content pattern transforms (lsh; 0 otherwise), part of stats.bytes. */
  readonly keyBytes: number;
}

export interface AttentionOptions {
  pattern?: Pattern;
  /** A plan from compile(): runs it with no planning (instead of `pattern`). */
  plan?: Plan;
  /** Multiplies q·k. Default 1/sqrt(D) (or the pattern's default). */
  scale?: number;
  backend?: Backend;
  /**
   * Threads for the wasm backend (default: the cores available; Node only, browsers run one).
   * Results are bitwise identical for every thread count.
   */
  threads?: number;
  /**
   * A tensor to write the result into (PyTorch's `out=`): shape [B, H, Lq, D], the result's
   * shape (q's batch, heads and length, v's headDim), and `data` a Float32Array of exactly
   * B·H·Lq·D entries. The call overwrites every entry (its previous content, NaN or garbage,
   * does not matter: the result is bit for bit that of a call without `out`) and returns
   * `result.out === out`. Reusing one buffer across calls saves allocating and first-touching
   * a fresh result each call (at H = 8, n = 65,536, D = 64: 134 MB, ~0.5 s). It may not share
   * memory with q, k or v. If the call throws, its content is unspecified.
   */
  out?: Tensor;
  /**
   * A Float32Array of exactly B·H·Lq entries to write the log-sum-exp into, as `out` does for
   * the output: overwritten entirely, returned as `result.lse === lse`; may not share memory
   * with q, k, v or `out`.
   */
  lse?: Float32Array;
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
  /** Threads the backend ran on: never more than the cores available (a larger request is capped). */
  threads?: number;
  /** The thread count asked for, present only when it was capped to the cores available. */
  threadsRequested?: number;
  /** With backend "auto": why each faster backend was passed over (e.g. "wasm: needs … bytes …"). */
  fallbackReasons?: string[];
  /** The GPU adapter that ran the call (backend "webgpu"). */
  adapter?: string;
}

export interface AttentionResult {
  /** The output [B, H, Lq, D]: `options.out` itself when given, else a new tensor. */
  out: Tensor;
  /** Natural-log log-sum-exp of the scaled, masked scores: [B, H, Lq]; -Infinity for a row with no allowed key. `options.lse` itself when given. */
  lse: Float32Array;
  stats: AttentionStats;
}
