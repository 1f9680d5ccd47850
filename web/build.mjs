// Bundles the explorer (src/web, compiled by tsc into dist/web) into dist/explorer/: one
// page, one script per thread (page, plan worker, run worker), importing the library's
// ESM build from dist/. Run by `npm run build`; `sparse-attention explore` serves the result
// and `npm run build:explorer` copies it to a folder for any static host.
import { copyFileSync, mkdirSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const out = path.join(root, "dist/explorer");
mkdirSync(out, { recursive: true });
await build({
  entryPoints: {
    explorer: path.join(root, "dist/web/main.js"),
    "plan-worker": path.join(root, "dist/web/plan-worker.js"),
    "run-worker": path.join(root, "dist/web/run-worker.js"),
  },
  outdir: out,
  bundle: true,
  format: "esm",
  platform: "browser",
  target: "es2022",
  minify: true,
  sourcemap: false,
  logLevel: "warning",
});
for (const f of ["index.html", "style.css"]) copyFileSync(path.join(root, "web", f), path.join(out, f));
console.log(`wrote ${path.relative(root, out)}/`);
