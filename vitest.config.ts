import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["src/**/*.test.ts", "test/**/*.test.ts"],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    // a private TMPDIR (and XDG_RUNTIME_DIR) for the run, removed at its end
    globalSetup: ["test/global-setup.ts"],
  },
});
