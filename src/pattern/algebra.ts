/**
 * The pattern algebra (after PyTorch FlexAttention's mask_mod, or_masks, and_masks):
 * a pattern is a mask function plus an analytic tile classifier, bound to sizes on use.
 * Seed families (Longformer, Sparse Transformer, BigBird, LSH) are factories on top.
 */
import { AttentionArgumentError, describe } from "../errors.js";
import { planUnion } from "../layout/union.js";
import {
  type BoundPattern,
  type Dims,
  EMPTY,
  FULL,
  type MaskFn,
  PARTIAL,
  type Pattern,
  type TileClassifier,
  type TileKind,
} from "../types.js";

/** Every query attends every key. */
export function dense(): Pattern {
  const bound: BoundPattern = { mask: () => true, classify: () => FULL };
  return { name: "dense", headDependent: false, children: [], bind: () => bound };
}

export type CausalAlign = "top-left" | "bottom-right";

/**
 * Causal masking. `"bottom-right"` (default; FlashAttention >= 2.1) keeps `k <= q + Lk - Lq`,
 * so the last query sees every key: what decoding with a KV cache needs. `"top-left"`
 * (PyTorch SDPA's is_causal) keeps `k <= q`. They agree when Lq == Lk.
 */
export function causal(options: { align?: CausalAlign } = {}): Pattern {
  const align = options.align ?? "bottom-right";
  if (align !== "top-left" && align !== "bottom-right") {
    throw new AttentionArgumentError("causal({ align })", align, '"top-left" or "bottom-right"');
  }
  return {
    name: `causal(${align})`,
    headDependent: false,
    children: [],
    bind(dims: Dims): BoundPattern {
      const off = align === "top-left" ? 0 : dims.keyLength - dims.queryLength;
      return {
        mask: (q, k) => k <= q + off,
        classify: (q0, q1, k0, k1) => {
          if (k1 - 1 <= q0 + off) return FULL;
          if (k0 > q1 - 1 + off) return EMPTY;
          return PARTIAL;
        },
      };
    },
  };
}

export interface MaskOptions {
  /** Analytic classifier for a query-tile × key-tile rectangle. Without it tiles are scanned. */
  tileKind?: TileClassifier;
  /** Name shown in pictures and explain(). */
  name?: string;
  /** Set true when the mask uses `h`. Default true (safe). */
  headDependent?: boolean;
}

/**
 * A user mask `(q, k, h) => boolean` on original positions. Without `tileKind`, every tile
 * is treated as partial and scanned once at planning time: fine for short inputs.
 */
export function mask(fn: MaskFn, options: MaskOptions = {}): Pattern {
  if (typeof fn !== "function") {
    throw new AttentionArgumentError("patterns.mask(fn)", fn, "a function (q, k, h) => boolean");
  }
  if (options.tileKind !== undefined && typeof options.tileKind !== "function") {
    throw new AttentionArgumentError(
      "patterns.mask(fn, { tileKind })",
      options.tileKind,
      "a function (q0, q1, k0, k1, h) => 0 | 1 | 2 (empty | partial | full), or omit it",
    );
  }
  const classify: TileClassifier = options.tileKind ?? (() => PARTIAL);
  const bound: BoundPattern = { mask: (q, k, h) => fn(q, k, h) === true, classify };
  return {
    name: options.name ?? "mask",
    headDependent: options.headDependent ?? true,
    children: [],
    bind: () => bound,
  };
}

function checkComposable(what: string, members: Pattern[]): void {
  if (members.length === 0) {
    throw new AttentionArgumentError(`patterns.${what}()`, members, "at least one pattern");
  }
  members.forEach((p, i) => {
    if (p === null || typeof p !== "object" || typeof p.bind !== "function") {
      throw new AttentionArgumentError(`patterns.${what}(…) argument ${i}`, p, "a pattern from patterns.*");
    }
    if (p.content !== undefined) {
      throw new AttentionArgumentError(
        `patterns.${what}(…) argument ${i}`,
        p.name,
        "a pattern whose allowed set does not depend on the data; content-dependent patterns (lsh) do not compose — use them alone",
      );
    }
  });
}

/** Pairs allowed by ANY member. Planned as disjoint parts merged by log-sum-exp when members plan themselves. */
export function union(...members: Pattern[]): Pattern {
  checkComposable("union", members);
  if (members.length === 1) return members[0];
  return {
    name: `union(${members.map((m) => m.name).join(", ")})`,
    headDependent: members.some((m) => m.headDependent),
    children: members,
    op: "union",
    bind(dims: Dims): BoundPattern {
      const bs = members.map((m) => m.bind(dims));
      const masks = bs.map((b) => b.mask);
      const cls = bs.map((b) => b.classify);
      const n = bs.length;
      const bound: BoundPattern = {
        mask: (q, k, h) => {
          for (let i = 0; i < n; i++) if (masks[i](q, k, h)) return true;
          return false;
        },
        classify: (q0, q1, k0, k1, h) => {
          let any = false;
          for (let i = 0; i < n; i++) {
            const c = cls[i](q0, q1, k0, k1, h);
            if (c === FULL) return FULL;
            if (c === PARTIAL) any = true;
          }
          return any ? PARTIAL : EMPTY;
        },
        tile: Math.min(...bs.map((b) => b.tile ?? 64)),
      };
      if (bs.some((b) => b.plan !== undefined)) {
        bound.plan = (head) => planUnion(bs, members, dims, head);
      }
      return bound;
    },
  };
}

/** Pairs allowed by EVERY member. Planned on one tile grid. */
export function intersect(...members: Pattern[]): Pattern {
  checkComposable("intersect", members);
  if (members.length === 1) return members[0];
  return {
    name: `intersect(${members.map((m) => m.name).join(", ")})`,
    headDependent: members.some((m) => m.headDependent),
    children: members,
    op: "intersect",
    bind(dims: Dims): BoundPattern {
      const bs = members.map((m) => m.bind(dims));
      const masks = bs.map((b) => b.mask);
      const cls = bs.map((b) => b.classify);
      const n = bs.length;
      return {
        mask: (q, k, h) => {
          for (let i = 0; i < n; i++) if (!masks[i](q, k, h)) return false;
          return true;
        },
        classify: (q0, q1, k0, k1, h): TileKind => {
          let all = true;
          for (let i = 0; i < n; i++) {
            const c = cls[i](q0, q1, k0, k1, h);
            if (c === EMPTY) return EMPTY;
            if (c !== FULL) all = false;
          }
          return all ? FULL : PARTIAL;
        },
        tile: Math.min(...bs.map((b) => b.tile ?? 64)),
      };
    },
  };
}

/** Throws a clear error unless `p` is a pattern. */
export function checkPattern(argument: string, p: unknown): Pattern {
  if (p === null || typeof p !== "object" || typeof (p as Pattern).bind !== "function") {
    throw new AttentionArgumentError(
      argument,
      p,
      `a pattern from patterns.* (e.g. patterns.causal()), not ${describe(p)}`,
    );
  }
  return p as Pattern;
}
