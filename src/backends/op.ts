/**
 * The dispatcher's machinery, xformers style, for every kind of problem (attention, linear):
 * an ordered list of ops, fastest first; each says why it cannot run a problem
 * (`notSupportedReasons`, pure: it counts, it never prepares or allocates); "auto" takes the
 * first with no reasons and records the reasons of every op it passed over; a forced op that
 * cannot run throws an error listing its reasons. The lists live in dispatch.ts; each op
 * lives in its backend's folder. No imports: every backend folder may depend on this file.
 */
import { AttentionArgumentError } from "../errors.js";

export interface Op<P, R> {
  readonly name: string;
  /** run returns a Promise: only the asynchronous entry points (attentionAsync) take this op. */
  readonly async?: boolean;
  /** Why this op cannot run `p` here (empty when it can). Pure: no preparation, no allocation of the problem's size. */
  notSupportedReasons(p: P): string[];
  /** Why "auto" passes this op over although it could run `p` (a cost heuristic); a forced op ignores them. */
  autoDeclines?(p: P): string[];
  run(p: P): R | Promise<R>;
}

/**
 * An op refused the resources a run needs after it had said it could run (the host would not
 * grow memory): raised before anything is written, so "auto" falls back to the next op.
 */
export class OpRefusedError extends Error {
  override name = "OpRefusedError";
}

/** The op to run and, under "auto", why each op before it was passed over ("name: reason; reason"). */
export interface Choice<P, R> {
  op: Op<P, R>;
  /** Index of op in the list: a refusal at run time falls back to the ops after it. */
  at: number;
  skipped: string[];
}

export interface ChooseContext {
  /** The caller can await a Promise (attentionAsync); otherwise async ops are not candidates. */
  async: boolean;
  /** The option naming the op in errors ("options.backend"). */
  option: string;
  /** What is being run, for errors ("this problem", "this linear"). */
  what: string;
}

/** Why `op` cannot run `p` for this caller (empty when it can); `auto` adds its heuristics. */
export function reasonsFor<P, R>(op: Op<P, R>, p: P, ctx: ChooseContext, auto: boolean): string[] {
  const reasons = op.notSupportedReasons(p);
  if (op.async && !ctx.async && reasons.length === 0) {
    reasons.push(`${op.name} runs asynchronously: call the asynchronous entry point (attentionAsync) instead`);
  }
  if (auto && reasons.length === 0 && op.autoDeclines !== undefined) reasons.push(...op.autoDeclines(p));
  return reasons;
}

/** The named op (or an error listing its reasons), or under "auto" the first op that can run. */
export function choose<P, R>(ops: readonly Op<P, R>[], name: string, p: P, ctx: ChooseContext): Choice<P, R> {
  if (name !== "auto") {
    const at = ops.findIndex((x) => x.name === name);
    if (at < 0) {
      throw new AttentionArgumentError(
        ctx.option,
        name,
        `one of ${namesOf(ops)
          .map((b) => `"${b}"`)
          .join(", ")}`,
      );
    }
    const reasons = reasonsFor(ops[at], p, ctx, false);
    if (reasons.length > 0) {
      throw new AttentionArgumentError(
        ctx.option,
        name,
        `a backend that can run ${ctx.what}; "${name}" cannot: ${reasons.join("; ")}. Use backend "auto" to fall back automatically`,
      );
    }
    return { op: ops[at], at, skipped: [] };
  }
  const skipped: string[] = [];
  for (let at = 0; at < ops.length; at++) {
    const op = ops[at];
    // an async op is no candidate of a synchronous caller: attention() does not list webgpu as skipped
    if (op.async && !ctx.async) continue;
    const reasons = reasonsFor(op, p, ctx, true);
    if (reasons.length === 0) return { op, at, skipped };
    skipped.push(`${op.name}: ${reasons.join("; ")}`);
  }
  throw new AttentionArgumentError(ctx.option, name, `a backend that can run ${ctx.what} (${skipped.join(" | ")})`);
}

/** "auto" and the ops' names, synchronous ones first (the order error messages list them in). */
export function namesOf<P, R>(ops: readonly Op<P, R>[]): string[] {
  return ["auto", ...ops.filter((o) => !o.async).map((o) => o.name), ...ops.filter((o) => o.async).map((o) => o.name)];
}

/**
 * Runs a choice synchronously. Under "auto" (the choice came from auto when `auto`), an
 * OpRefusedError falls back to the next op that can run, saying why; `record` receives the
 * reasons of every op passed over (empty: none).
 */
export function runChoice<P, R>(
  ops: readonly Op<P, R>[],
  c: Choice<P, R>,
  p: P,
  ctx: ChooseContext,
  auto: boolean,
  record: (r: R, reasons: string[]) => void,
): R {
  if (c.op.async) throw new Error(`${c.op.name} is asynchronous: runChoiceAsync runs it`);
  const skipped = [...c.skipped];
  let r: R;
  try {
    r = c.op.run(p) as R;
  } catch (e) {
    const next = auto && e instanceof OpRefusedError ? nextAfter(ops, c.at, p, ctx) : undefined;
    if (next === undefined) throw e;
    skipped.push(`${c.op.name}: ${(e as Error).message}`);
    r = runChoice(ops, next, p, ctx, auto, (_, more) => skipped.push(...more));
  }
  record(r, skipped);
  return r;
}

/** runChoice for a caller that can await (an async op's run is awaited). */
export async function runChoiceAsync<P, R>(
  ops: readonly Op<P, R>[],
  c: Choice<P, R>,
  p: P,
  ctx: ChooseContext,
  auto: boolean,
  record: (r: R, reasons: string[]) => void,
): Promise<R> {
  const skipped = [...c.skipped];
  let r: R;
  try {
    r = await c.op.run(p);
  } catch (e) {
    const next = auto && e instanceof OpRefusedError ? nextAfter(ops, c.at, p, ctx) : undefined;
    if (next === undefined) throw e;
    skipped.push(`${c.op.name}: ${(e as Error).message}`);
    r = await runChoiceAsync(ops, next, p, ctx, auto, (_, more) => skipped.push(...more));
  }
  record(r, skipped);
  return r;
}

function nextAfter<P, R>(ops: readonly Op<P, R>[], at: number, p: P, ctx: ChooseContext): Choice<P, R> | undefined {
  for (let i = at + 1; i < ops.length; i++) {
    if (ops[i].async && !ctx.async) continue;
    if (reasonsFor(ops[i], p, ctx, true).length === 0) return { op: ops[i], at: i, skipped: [] };
  }
  return undefined;
}
