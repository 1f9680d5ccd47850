/** Errors that name the argument, the value and the fix. */
export class AttentionArgumentError extends Error {
  constructor(argument: string, value: unknown, expected: string) {
    super(`${argument}: got ${describe(value)}; expected ${expected}`);
    this.name = "AttentionArgumentError";
  }
}

/** Strings longer than this are shown by their first SHOWN_HEAD characters and their length. */
const MAX_SHOWN = 200;
const SHOWN_HEAD = 80;

export function describe(value: unknown): string {
  if (value === undefined) return "undefined";
  if (value === null) return "null";
  if (typeof value === "number") return Number.isNaN(value) ? "NaN" : String(value);
  if (typeof value === "string") {
    // a whole document (a corpus line, a text input) never floods the message: its start and length
    if (value.length > MAX_SHOWN)
      return `${JSON.stringify(`${value.slice(0, SHOWN_HEAD)}…`)} (${value.length} characters)`;
    return JSON.stringify(value);
  }
  if (Array.isArray(value)) {
    const head = value.slice(0, 8).map(describe).join(", ");
    return `[${head}${value.length > 8 ? ", …" : ""}]`;
  }
  if (ArrayBuffer.isView(value)) {
    return `${value.constructor.name}(${(value as unknown as { length: number }).length})`;
  }
  if (typeof value === "function") return "a function";
  if (typeof value === "object") return `an object with keys {${Object.keys(value as object).join(", ")}}`;
  return String(value);
}

/** Throws unless `value` is an integer in [min, max]. */
export function checkInt(argument: string, value: unknown, min: number, max = Number.MAX_SAFE_INTEGER): number {
  if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > max) {
    const range = max === Number.MAX_SAFE_INTEGER ? `an integer >= ${min}` : `an integer in [${min}, ${max}]`;
    throw new AttentionArgumentError(argument, value, range);
  }
  return value;
}

/** Throws unless `options` is a plain object; returns it as a record of its fields. */
export function checkOptions(where: string, options: unknown, form: string): Record<string, unknown> {
  if (options === null || typeof options !== "object" || Array.isArray(options)) {
    throw new AttentionArgumentError(where, options, form);
  }
  return options as Record<string, unknown>;
}
