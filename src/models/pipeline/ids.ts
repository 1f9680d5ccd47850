/**
 * Token ids as a pipeline input: `pipe({ inputIds: [996, 5, 999, 997] })` runs a task on ids the
 * caller made (another tokenizer, a model folder without tokenizer.json). The ids are used as
 * given (no special tokens added, no truncation); where a result names tokens (fill-mask's
 * token_str / sequence, token-classification's word) a tokenizer decodes them when the model
 * has one, else they are written as `#id`.
 */
import { AttentionArgumentError } from "../../errors.js";

/** `{ inputIds }` given to a pipeline, or null when the input is something else (a text). */
export function idsInput(input: unknown, vocab: number, maxLength: number): number[] | null {
  if (input === null || typeof input !== "object" || !("inputIds" in input)) return null;
  const raw = (input as { inputIds: unknown }).inputIds;
  const isList = Array.isArray(raw) || raw instanceof Int32Array || raw instanceof Uint32Array;
  if (!isList || (raw as ArrayLike<number>).length === 0) {
    throw new AttentionArgumentError(
      "input.inputIds",
      raw,
      "a non-empty array (or Int32Array) of token ids, e.g. { inputIds: [0, 261, 264, 2] }",
    );
  }
  const list = raw as ArrayLike<number>;
  if (list.length > maxLength) {
    throw new AttentionArgumentError(
      "input.inputIds",
      `${list.length} ids`,
      `at most ${maxLength} ids (the model's maximum length); split the input`,
    );
  }
  const ids: number[] = new Array(list.length);
  for (let i = 0; i < list.length; i++) {
    const id = list[i];
    if (!Number.isInteger(id) || id < 0 || id >= vocab) {
      throw new AttentionArgumentError(
        `input.inputIds[${i}]`,
        id,
        `an integer token id in [0, ${vocab}) (the model's vocab_size ${vocab})`,
      );
    }
    ids[i] = id;
  }
  return ids;
}

/** The model's vocabulary size from its config (vocab_size), for checking ids. */
export function vocabOf(raw: Record<string, unknown>): number {
  const v = raw.vocab_size;
  return typeof v === "number" && Number.isSafeInteger(v) && v > 0 ? v : Number.MAX_SAFE_INTEGER;
}

/** A token written without a tokenizer. */
export const idText = (id: number): string => `#${id}`;

/**
 * The mask token's id for fill-mask: the call's `maskTokenId`, else the tokenizer's <mask> /
 * [MASK], else the config's `mask_token_id`; an error naming the fix when none is known.
 */
export function maskIdOf(given: unknown, fromTokenizer: number | null, raw: Record<string, unknown>): number {
  if (given !== undefined) {
    if (!Number.isSafeInteger(given) || (given as number) < 0) {
      throw new AttentionArgumentError("options.maskTokenId", given, "a token id (an integer >= 0)");
    }
    return given as number;
  }
  if (fromTokenizer !== null) return fromTokenizer;
  const c = raw.mask_token_id;
  if (typeof c === "number" && Number.isSafeInteger(c) && c >= 0) return c;
  throw new AttentionArgumentError(
    "options.maskTokenId",
    given,
    "the mask token's id: the model has no tokenizer and its config no mask_token_id (e.g. { maskTokenId: 999 }, CLI --mask-id 999)",
  );
}

/** How a pipeline names tokens: the tokenizer's names and specials, else `#id` and the config's special ids. */
export function tokenNaming(
  tok: {
    special: Set<number>;
    idToToken(id: number): string;
    decode(ids: number[], skipSpecial?: boolean): string;
  } | null,
  raw: Record<string, unknown>,
): { specialIds: Set<number>; tokenOf(id: number): string; decode(ids: number[], skipSpecial: boolean): string } {
  /** Ids that are special tokens (skipped by token-classification): the tokenizer's, else the config's. */
  const specialIds = new Set<number>(tok?.special ?? []);
  if (tok === null) {
    for (const k of ["bos_token_id", "eos_token_id", "cls_token_id", "sep_token_id", "pad_token_id"]) {
      const v = raw[k];
      if (typeof v === "number") specialIds.add(v);
    }
  }
  return {
    specialIds,
    tokenOf: (id) => (tok === null ? idText(id) : tok.idToToken(id)),
    decode: (ids, skipSpecial) =>
      tok === null
        ? ids
            .filter((id) => !(skipSpecial && specialIds.has(id)))
            .map(idText)
            .join(" ")
        : tok.decode(ids, skipSpecial),
  };
}

/** Rows `at` of logits [1, L, V]. */
export function pick(logits: Float32Array, at: number[], L: number): Float32Array {
  const V = logits.length / L;
  const out = new Float32Array(at.length * V);
  for (const [j, r] of at.entries()) out.set(logits.subarray(r * V, (r + 1) * V), j * V);
  return out;
}
