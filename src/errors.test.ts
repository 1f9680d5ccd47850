import { expect, it, describe as suite } from "vitest";
import { AttentionArgumentError, describe } from "./errors.js";

suite("describe (the 'got' of every argument error)", () => {
  it("shows a short string whole, quoted", () => {
    expect(describe("top-left")).toBe('"top-left"');
    expect(describe("x".repeat(200))).toBe(JSON.stringify("x".repeat(200)));
  });

  it("shows a long string (a document) by its start and length, not whole", () => {
    const doc = `${"lorem ipsum ".repeat(1000)}END`;
    const shown = describe(doc);
    expect(shown).toBe(`${JSON.stringify(`${doc.slice(0, 80)}…`)} (${doc.length} characters)`);
    expect(shown).not.toContain("END");
    const e = new AttentionArgumentError('--input docs.jsonl line 1 "text"', doc, "a model with tokenizer.json");
    expect(e.message.length).toBeLessThan(250);
    expect(e.message).toMatch(
      /^--input docs\.jsonl line 1 "text": got "lorem ipsum .*…" \(12003 characters\); expected a model/,
    );
  });
});
