import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { defineConfig } from "vitest/config";

// Dawn (the webgpu package) and chromium print "XDG_RUNTIME_DIR is invalid" to stderr where the
// variable is unset (CI): give the test processes a private one.
const xdg = process.env.XDG_RUNTIME_DIR ?? mkdtempSync(path.join(tmpdir(), "sa-xdg-"));

export default defineConfig({
  test: {
    include: ["src/**/*.test.ts", "test/**/*.test.ts"],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    env: { XDG_RUNTIME_DIR: xdg },
  },
});
