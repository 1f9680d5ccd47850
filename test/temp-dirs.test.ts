/** The run's temporary folder (test/global-setup.ts) reaches the test processes and the processes they start. */
import { execFileSync } from "node:child_process";
import { tmpdir } from "node:os";
import { describe, expect, it } from "vitest";

describe("test temp folder", () => {
  it("os.tmpdir() and XDG_RUNTIME_DIR are inside the run's own folder, in child processes too", () => {
    expect(tmpdir()).toMatch(/sparse-attention-tests-[^/]+$/);
    expect(process.env.XDG_RUNTIME_DIR ?? "").not.toBe("");
    const child = execFileSync(process.execPath, ["-e", "process.stdout.write(require('os').tmpdir())"], {
      encoding: "utf8",
    });
    expect(child).toBe(tmpdir());
  });
});
