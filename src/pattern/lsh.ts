/**
 * Reformer LSH attention: N. Kitaev, Ł. Kaiser, A. Levskaya, "Reformer: The Efficient
 * Transformer", ICLR 2020, §3 — with HuggingFace transformers' `LSHSelfAttention` semantics
 * (see ../shared/conformance/README.md and docs/lsh.md).
 *
 * Index set, per (batch, head), for n tokens with shared query/key x_i (raw) and keys
 * k_i = x_i / sqrt(mean(x_i²) + 1e-6) / sqrt(D):
 *   b_r(i) = argmax([x_i R_r, -x_i R_r]) + r·buckets            rounds r = 0..hashes-1
 *   s      = all (r, i) stably sorted by b_r(i)·n + i            length hashes·n
 *   chunk c = s[c·C, (c+1)·C) (each round padded to a multiple of C, padding dropped)
 *   the query at slot s_a in chunk c scores the keys at every slot s_b in chunks
 *   c-chunksBefore .. c+chunksAfter (mod #chunks, duplicates kept), where
 *     allowed(i, j) = !causal || j <= i, and score(i, i) = -1e5 (the self mask);
 *   rounds (repeated rows) combine by log-sum-exp. n <= C: one dense block (HF's
 *   `do_standard_self_attention`), same masks, no hashing.
 * As a plan: ONE part, qIndex = kIndex = s, tiles = chunks, chunk c visiting its neighbour
 * chunks circularly, selfScore = -1e5. The tiled kernel merges repeated rows by log-sum-exp,
 * which is HF's softmax-over-rounds of the per-round log-sum-exps.
 *
 * HF masks causal pairs with -1e9, not -inf. That equals removing them: the token's own
 * copy from the same round sits in its own chunk and is always scored (at -1e5), so every
 * row's maximum is >= -1e5 and exp(-1e9 + 1e5) is exactly 0 in float32 and float64.
 */
import { AttentionArgumentError, checkInt, describe } from "../errors.js";
import { checkKeys } from "../options.js";
import { type Dims, FULL, type MaskFn, PARTIAL, type PartSpec, type Pattern, type TileKind } from "../types.js";
import { chunkTiles, hashHead, normaliseKeys, seededRotations, sortByBucket } from "./lsh-hash.js";

/** HuggingFace's self-mask value (float32): a token attends to itself only when nothing else is allowed. */
export const LSH_SELF_SCORE = -1e5;

export interface LshRotations {
  /** Row-major [heads, headDim, hashes, buckets / 2]. */
  data: Float32Array | Float64Array;
  shape: [number, number, number, number];
}

export interface LshOptions {
  /**
   * Buckets per hash round: even, >= 2. Or a list of even factors (HuggingFace's factorised
   * `num_buckets`, e.g. [32, 64] = 2048 buckets hashed with 48 rotations instead of 1024).
   * Implied by `rotations` when given (one factor).
   */
  buckets?: number | readonly number[];
  /** Hash rounds, >= 1. Implied by `rotations` when given. */
  hashes?: number;
  /** Chunk length over the sorted sequence, >= 1. */
  chunkLength: number;
  /** Previous chunks each chunk attends (circularly). Default 1. */
  chunksBefore?: number;
  /** Following chunks each chunk attends (circularly). Default 0. */
  chunksAfter?: number;
  /** Mask keys after the query (original positions). Default false. */
  causal?: boolean;
  /** Seed of the Gaussian rotations (src/util/rng.ts). Default 0. Not with `rotations`. */
  seed?: number;
  /** Explicit rotations, HuggingFace's layout. Not with `seed`. */
  rotations?: LshRotations;
}

const KEYS = ["buckets", "hashes", "chunkLength", "chunksBefore", "chunksAfter", "causal", "seed", "rotations"];

interface LshConfig {
  factors: number[];
  nb: number;
  nr: number;
  C: number;
  before: number;
  after: number;
  causal: boolean;
  seed: number;
  rotations: LshRotations | null;
}

function checkRotations(r: unknown): LshRotations {
  const form = "{ data: Float32Array | Float64Array, shape: [heads, headDim, hashes, buckets / 2] }";
  if (r === null || typeof r !== "object") throw new AttentionArgumentError("patterns.lsh({ rotations })", r, form);
  const { data, shape } = r as LshRotations;
  if (!(data instanceof Float32Array || data instanceof Float64Array)) {
    throw new AttentionArgumentError(
      "patterns.lsh({ rotations }).data",
      data,
      `a Float32Array or Float64Array (${form})`,
    );
  }
  if (!Array.isArray(shape) || shape.length !== 4) {
    throw new AttentionArgumentError(
      "patterns.lsh({ rotations }).shape",
      shape,
      "[heads, headDim, hashes, buckets / 2]",
    );
  }
  for (let i = 0; i < 4; i++) checkInt(`patterns.lsh({ rotations }).shape[${i}]`, shape[i], 1);
  const size = shape[0] * shape[1] * shape[2] * shape[3];
  if (data.length !== size) {
    throw new AttentionArgumentError(
      "patterns.lsh({ rotations }).data.length",
      data.length,
      `${size} = product of shape ${describe(shape)}`,
    );
  }
  return { data: data.slice(), shape: [shape[0], shape[1], shape[2], shape[3]] };
}

const EVEN = "an even integer >= 2 (angular LSH takes the argmax over [xR, -xR], so buckets come in pairs)";

/** `buckets` as a list of even factors >= 2 (a number is one factor). */
function checkBuckets(b: unknown): number[] {
  const list = Array.isArray(b) ? b : [b];
  if (list.length === 0) throw new AttentionArgumentError("patterns.lsh({ buckets })", b, `${EVEN}, or a list of them`);
  list.forEach((f, i) => {
    const arg = Array.isArray(b) ? `patterns.lsh({ buckets })[${i}]` : "patterns.lsh({ buckets })";
    if (typeof f !== "number" || !Number.isInteger(f) || f < 2 || f % 2 !== 0) {
      throw new AttentionArgumentError(arg, f, EVEN);
    }
  });
  const total = list.reduce((a: number, f: number) => a * f, 1);
  if (total > 2 ** 24) throw new AttentionArgumentError("patterns.lsh({ buckets })", b, "at most 2^24 buckets in all");
  return list as number[];
}

function parseOptions(options: unknown): LshConfig {
  const o = checkKeys("patterns.lsh(options)", options, KEYS) as unknown as LshOptions;
  let rotations: LshRotations | null = null;
  let factors = o.buckets === undefined ? undefined : checkBuckets(o.buckets);
  let nr = o.hashes;
  if (o.rotations !== undefined) {
    if (o.seed !== undefined) {
      throw new AttentionArgumentError(
        "patterns.lsh({ seed, rotations })",
        o.seed,
        "either seed or rotations, not both",
      );
    }
    rotations = checkRotations(o.rotations);
    const [, , rh, rHalf] = rotations.shape;
    if (factors !== undefined && factors.reduce((a, f) => a + f, 0) !== 2 * rHalf) {
      throw new AttentionArgumentError(
        "patterns.lsh({ buckets })",
        o.buckets,
        `buckets (or the sum of bucket factors) = ${2 * rHalf} = 2 × rotations.shape[3], or omit buckets`,
      );
    }
    if (nr !== undefined && nr !== rh) {
      throw new AttentionArgumentError("patterns.lsh({ hashes })", nr, `${rh} = rotations.shape[2], or omit hashes`);
    }
    factors = factors ?? [2 * rHalf];
    nr = rh;
  }
  if (factors === undefined) {
    throw new AttentionArgumentError("patterns.lsh({ buckets })", undefined, "an even integer >= 2, e.g. 8");
  }
  const seed = o.seed ?? 0;
  if (typeof seed !== "number" || !Number.isInteger(seed)) {
    throw new AttentionArgumentError("patterns.lsh({ seed })", seed, "an integer");
  }
  if (o.causal !== undefined && typeof o.causal !== "boolean") {
    throw new AttentionArgumentError("patterns.lsh({ causal })", o.causal, "true or false");
  }
  const nb = factors.reduce((a, f) => a * f, 1);
  checkInt("patterns.lsh({ hashes })", nr, 1, Math.floor(2 ** 31 / nb) - 1); // round offsets fit int32
  return {
    factors,
    nb,
    nr: nr as number,
    C: checkInt("patterns.lsh({ chunkLength })", o.chunkLength, 1),
    before: checkInt("patterns.lsh({ chunksBefore })", o.chunksBefore ?? 1, 0),
    after: checkInt("patterns.lsh({ chunksAfter })", o.chunksAfter ?? 0, 0),
    causal: o.causal ?? false,
    seed,
    rotations,
  };
}

const allowAll: MaskFn = () => true;
const causalMask: MaskFn = (q, k) => k <= q;

/**
 * Reformer LSH attention as a content-dependent pattern. Use with shared query/key:
 * `attention(qk, qk, v, { pattern: patterns.lsh({ buckets: 8, hashes: 4, chunkLength: 64 }) })`.
 * Keys are length-normalised by the pattern and the default scale is 1, as in HuggingFace.
 * Queries are hashed (for shared QK they are the un-normalised qk, as HF hashes). It does not
 * compose with union/intersect and needs data to plan (explain(pattern, { q, k, … })).
 */
export function lsh(options: LshOptions): Pattern {
  const cfg = parseOptions(options);
  const { factors, nb, nr, C, before, after, causal } = cfg;
  const half = factors.reduce((a, f) => a + f, 0) / 2;
  let cached: { heads: number; D: number; rot: ArrayLike<number> } | null = null;

  const rotationsFor = (heads: number, D: number): ArrayLike<number> => {
    if (cfg.rotations !== null) {
      const [rHeads, rDim] = cfg.rotations.shape;
      if (rHeads !== heads || rDim !== D) {
        throw new AttentionArgumentError(
          "patterns.lsh({ rotations }).shape",
          cfg.rotations.shape,
          `[${heads}, ${D}, ${nr}, ${half}]: one rotation per query head (${heads}) and head dimension (${D}) of q`,
        );
      }
      return cfg.rotations.data;
    }
    if (cached === null || cached.heads !== heads || cached.D !== D) {
      cached = { heads, D, rot: seededRotations(cfg.seed, heads, D, nr, half) };
    }
    return cached.rot;
  };

  const kind: TileKind = causal ? PARTIAL : FULL;
  const mask = causal ? causalMask : allowAll;
  const bucketName = factors.length === 1 ? `${nb}` : `[${factors.join(",")}]`;
  const label = `lsh ${nr}×${bucketName} buckets, chunk ${C}`;

  const plan = (ctx: { dims: Dims; batch: number; head: number; q: Float32Array }): PartSpec[] => {
    const { queryLength: n, keyLength, headDim: D, heads } = ctx.dims;
    if (keyLength !== n) {
      throw new AttentionArgumentError(
        "k.shape[2] (key length)",
        keyLength,
        `${n}, the query length: LSH sorts queries and keys as one sequence (use attention(qk, qk, v) for shared QK)`,
      );
    }
    const rot = rotationsFor(heads, D);
    if (n <= C) {
      // HF's do_standard_self_attention: no hashing, one block, same masks.
      const tiles = Int32Array.of(0, n);
      return [
        {
          label: `${label} (n <= chunk: full)`,
          head: ctx.head,
          batch: ctx.batch,
          qIndex: null,
          kIndex: null,
          qTiles: tiles,
          kTiles: tiles,
          mask,
          tilesFor: (_qt, visit) => visit(0, kind),
          selfScore: LSH_SELF_SCORE,
        },
      ];
    }
    const buckets = hashHead(ctx.q, n, D, rot, ctx.head, nr, factors);
    const sorted = sortByBucket(buckets, n, nr, nb);
    const tiles = chunkTiles(n, nr, C);
    const numChunks = tiles.length - 1;
    return [
      {
        label,
        head: ctx.head,
        batch: ctx.batch,
        qIndex: sorted,
        kIndex: sorted,
        qTiles: tiles,
        kTiles: tiles,
        mask,
        // HF's _look_adjacent: chunks c-before .. c+after, circular, duplicates kept
        tilesFor: (qt, visit) => {
          for (let o = -before; o <= after; o++) visit((((qt + o) % numChunks) + numChunks) % numChunks, kind);
        },
        selfScore: LSH_SELF_SCORE,
      },
    ];
  };

  // the call that builds this pattern (labels round-trip through parsePattern), defaults left out
  const extra = [
    before === 1 ? "" : `, chunksBefore=${before}`,
    after === 0 ? "" : `, chunksAfter=${after}`,
    causal ? ", causal=true" : "",
    cfg.rotations === null ? `, seed=${cfg.seed}` : ", rotations",
  ].join("");
  return {
    name: `lsh(buckets=${bucketName}, hashes=${nr}, chunkLength=${C}${extra})`,
    headDependent: true,
    children: [],
    bind(): never {
      throw new AttentionArgumentError(
        "lsh pattern",
        "bind(dims)",
        "data to plan from: LSH's allowed set depends on q; call attention(), explain(pattern, { q, k, … }) or compile(pattern, { q, k, … })",
      );
    },
    content: {
      plan,
      transformKeys: normaliseKeys,
      defaultScale: () => 1,
    },
  };
}
