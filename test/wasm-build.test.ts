/** The embedded kernel (src/kernels/wasm/bytes.ts) is what assembly/kernel.ts compiles to today. */
import { readFileSync } from "node:fs";
import { expect, test } from "vitest";
// @ts-expect-error: plain ESM build script without types
import { generate, OUTPUT } from "../assembly/build.mjs";

test("src/kernels/wasm/bytes.ts is up to date with assembly/kernel.ts (run `npm run build`)", async () => {
  const fresh: string = await generate();
  expect(readFileSync(OUTPUT, "utf8") === fresh).toBe(true);
});
