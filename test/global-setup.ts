/**
 * One temporary folder per test run: TMPDIR points into it for every test process and every
 * process they start (CLI runs, Chromium profiles, Hub caches, checkpoint copies), and it is
 * removed when the run ends, so `npm test` leaves nothing behind in the system's temp folder.
 * Dawn (the webgpu package) and Chromium print "XDG_RUNTIME_DIR is invalid" where that variable
 * is unset (CI): the run gets a private one inside the same folder.
 */
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";

export default function setup(): () => void {
  const root = mkdtempSync(path.join(tmpdir(), "sparse-attention-tests-"));
  process.env.TMPDIR = root;
  if (!process.env.XDG_RUNTIME_DIR) {
    const xdg = path.join(root, "xdg");
    mkdirSync(xdg, { mode: 0o700 });
    process.env.XDG_RUNTIME_DIR = xdg;
  }
  return () => rmSync(root, { recursive: true, force: true });
}
