/**
 * Patterns on the command line, written as the API call they stand for:
 *
 *   slidingWindow({left: 64, right: 0})      slidingWindow(left=64, right=0)
 *   union(causal(), globalTokens([0, 1]))    bigBird(blockSize=16, randomBlocks=2, seed=1)
 *   causal(align=top-left)                   dense
 *
 * Values: numbers, true/false, "strings" (or bare words), [arrays], {objects}, nested calls.
 * `name=value` arguments are gathered into one options object after the positional ones.
 * A bare word that names a factory is a call with no arguments.
 */

import type { Pattern } from "../index.js";
import { patterns } from "../index.js";
import { didYouMean } from "../options.js";

export const PATTERN_FORM =
  'a pattern call as in the API, e.g. "causal()", "slidingWindow(left=64, right=0)", "union(causal(), globalTokens([0]))"';

export class PatternExpressionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "PatternExpressionError";
  }
}

/** Options whose value is data built in code; a label prints the bare name as a marker (see src/catalog/labels.test.ts). */
const DATA_OPTIONS = ["rotations", "randomTable"];

type Value = number | string | boolean | null | Value[] | { [key: string]: Value } | Pattern;

/** The factory names usable on the command line (mask needs a function and is not one of them). */
export function factoryNames(): string[] {
  return Object.keys(patterns)
    .filter((k) => typeof (patterns as Record<string, unknown>)[k] === "function" && k !== "mask")
    .sort();
}

/** Brackets and calls nest at most this deep: deeper input is refused before it can exhaust the stack. */
export const MAX_NESTING = 64;

class Parser {
  pos = 0;
  depth = 0;
  constructor(readonly src: string) {}

  fail(what: string): never {
    // at most 60 characters either side of the position, so a huge expression stays a one-line message
    const before = this.pos > 60 ? `…${this.src.slice(this.pos - 60, this.pos)}` : this.src.slice(0, this.pos);
    const after =
      this.src.length - this.pos > 60 ? `${this.src.slice(this.pos, this.pos + 60)}…` : this.src.slice(this.pos);
    const here = `${before}⟨here⟩${after}`;
    throw new PatternExpressionError(
      `pattern: ${what} at character ${this.pos + 1}: ${here}; expected ${PATTERN_FORM}`,
    );
  }

  ws(): void {
    while (this.pos < this.src.length && /\s/.test(this.src[this.pos])) this.pos++;
  }

  peek(): string {
    this.ws();
    return this.src[this.pos] ?? "";
  }

  eat(ch: string): boolean {
    if (this.peek() === ch) {
      this.pos++;
      return true;
    }
    return false;
  }

  expect(ch: string): void {
    if (!this.eat(ch)) this.fail(`expected "${ch}"`);
  }

  word(): string | null {
    this.ws();
    const m = /^[A-Za-z_][A-Za-z0-9_-]*/.exec(this.src.slice(this.pos));
    if (!m) return null;
    this.pos += m[0].length;
    return m[0];
  }

  value(): Value {
    if (++this.depth > MAX_NESTING) this.fail(`nested deeper than ${MAX_NESTING} levels`);
    try {
      return this.valueAt();
    } finally {
      this.depth--;
    }
  }

  valueAt(): Value {
    const c = this.peek();
    if (c === "[") return this.array();
    if (c === "{") return this.object();
    if (c === '"' || c === "'") return this.string();
    if (/[-+.0-9]/.test(c)) {
      const m = /^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?/.exec(this.src.slice(this.pos));
      if (!m) this.fail("a malformed number");
      this.pos += m[0].length;
      return Number(m[0]);
    }
    const start = this.pos;
    const w = this.word();
    if (w === null) this.fail(c === "" ? "unexpected end" : `unexpected "${c}"`);
    if (this.peek() === "(") return this.call(w, start);
    if (w === "true") return true;
    if (w === "false") return false;
    if (w === "null") return null;
    if (factoryNames().includes(w)) return invoke(w, []);
    return w;
  }

  string(): string {
    const q = this.src[this.pos++];
    const end = this.src.indexOf(q, this.pos);
    if (end < 0) this.fail("an unterminated string");
    const s = this.src.slice(this.pos, end);
    this.pos = end + 1;
    return s;
  }

  array(): Value[] {
    this.expect("[");
    const out: Value[] = [];
    if (this.eat("]")) return out;
    do out.push(this.value());
    while (this.eat(","));
    this.expect("]");
    return out;
  }

  object(): { [key: string]: Value } {
    this.expect("{");
    const out: { [key: string]: Value } = {};
    if (this.eat("}")) return out;
    do {
      const c = this.peek();
      const key = c === '"' || c === "'" ? this.string() : this.word();
      if (key === null) this.fail("an option name");
      if (!this.eat(":") && !this.eat("=")) this.fail(`":" after "${key}"`);
      out[key] = this.value();
    } while (this.eat(","));
    this.expect("}");
    return out;
  }

  call(name: string, start: number): Pattern {
    this.expect("(");
    const positional: Value[] = [];
    const named: { [key: string]: Value } = {};
    let hasNamed = false;
    if (!this.eat(")")) {
      do {
        const save = this.pos;
        const w = this.word();
        if (w !== null && (this.peek() === "=" || this.peek() === ":") && this.src[this.pos + 1] !== "=") {
          this.pos++;
          named[w] = this.value();
          hasNamed = true;
        } else {
          this.pos = save;
          positional.push(this.value());
        }
      } while (this.eat(","));
      this.expect(")");
    }
    for (const v of positional) {
      if (typeof v === "string" && DATA_OPTIONS.includes(v)) {
        throw new PatternExpressionError(
          `pattern: ${name}(…, ${v}) was built from data an expression cannot write (its ${v} is an array of numbers made in code): build it with the API, or write seed=<n> to draw the ${v === "rotations" ? "rotations" : "random blocks"} from a seed`,
        );
      }
    }
    if (hasNamed) positional.push(named);
    const saved = this.pos;
    this.pos = start;
    try {
      return invoke(name, positional, this);
    } finally {
      this.pos = saved;
    }
  }
}

function invoke(name: string, args: Value[], parser?: Parser): Pattern {
  const f = (patterns as Record<string, unknown>)[name];
  if (typeof f !== "function" || name === "mask") {
    const why =
      name === "mask"
        ? "patterns.mask needs a JavaScript function and cannot be written on the command line"
        : `unknown pattern "${name}"`;
    const where = parser ? ` in ${JSON.stringify(parser.src)}` : "";
    const near = name === "mask" ? null : didYouMean(name, factoryNames());
    throw new PatternExpressionError(
      `pattern: ${why}${where}; expected one of ${factoryNames().join(", ")}${near === null ? "" : `: did you mean "${near}"?`}`,
    );
  }
  return (f as (...a: Value[]) => Pattern)(...args);
}

/** Parses and builds a pattern; throws PatternExpressionError (syntax) or the factory's AttentionArgumentError. */
export function parsePattern(src: string): Pattern {
  const p = new Parser(src);
  const v = p.value();
  if (p.peek() !== "") p.fail("text after the pattern");
  if (v === null || typeof v !== "object" || Array.isArray(v) || typeof (v as Pattern).bind !== "function") {
    throw new PatternExpressionError(`pattern: got ${JSON.stringify(src)}; expected ${PATTERN_FORM}`);
  }
  return v as Pattern;
}
