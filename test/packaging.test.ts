/**
 * What a user installs: the library and its `sparse-attention/viz` export import no package
 * at all (only their own files), and the plotting/rasterising packages are optional peer
 * dependencies, loaded only on use with an error naming the package when missing.
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { loadOptional, MissingOptionalDependency } from "../src/viz/optional.js";

const root = path.resolve(import.meta.dirname, "..");
const pkg = JSON.parse(readFileSync(path.join(root, "package.json"), "utf8"));

/** Static import specifiers reachable from a dist entry (relative ones followed). */
function staticImports(entry: string, seen = new Set<string>()): string[] {
  if (seen.has(entry)) return [];
  seen.add(entry);
  const src = readFileSync(entry, "utf8");
  const out: string[] = [];
  for (const m of src.matchAll(/^\s*(?:import|export)\s[^;]*?\bfrom\s*["']([^"']+)["']/gm)) {
    const spec = m[1];
    if (spec.startsWith(".")) out.push(...staticImports(path.resolve(path.dirname(entry), spec), seen));
    else out.push(spec);
  }
  return out;
}

describe("packaging", () => {
  it.each(["./dist/index.js", "./dist/viz/index.js"])("%s statically imports no package", (entry) => {
    expect(staticImports(path.join(root, entry))).toEqual([]);
  });

  it("./dist/models/index.js imports only @huggingface/tokenizers, the CLI only the package's dependencies", () => {
    const deps = Object.keys(pkg.dependencies).sort();
    expect(deps).toEqual(["@huggingface/tokenizers", "@webgpu/types", "cli-progress", "commander"]);
    // @webgpu/types is types only: the published .d.ts reference it (GPUDevice), no .js imports it
    const runtime = deps.filter((d) => d !== "@webgpu/types");
    const models = new Set(staticImports(path.join(root, "dist/models/index.js")));
    expect([...models]).toEqual(["@huggingface/tokenizers"]);
    const cli = new Set(staticImports(path.join(root, "dist/cli/main.js")).filter((s) => !s.startsWith("node:")));
    expect([...cli].sort()).toEqual(runtime);
  });

  it("the public entries export what a user calls, not the tests' helpers", async () => {
    const rootApi = await import(path.join(root, "dist/index.js"));
    const models = await import(path.join(root, "dist/models/index.js"));
    for (const name of ["Rng", "randomTensor"]) expect(rootApi[name], name).toBeUndefined();
    for (const name of ["linear", "erf", "halfToFloat", "WeightStore", "activate", "addLayerNorm", "bigBirdExtras"]) {
      expect(models[name], name).toBeUndefined();
    }
    expect(typeof rootApi.referenceAttention).toBe("function");
    expect(typeof models.loadModel).toBe("function");
  });

  it("exports . and ./viz; vega, vega-lite and @resvg/resvg-js are optional peers, not dependencies", () => {
    expect(pkg.exports["./viz"].import).toBe("./dist/viz/index.js");
    for (const name of ["vega", "vega-lite", "@resvg/resvg-js"]) {
      expect(pkg.dependencies[name]).toBeUndefined();
      expect(pkg.peerDependenciesMeta[name].optional).toBe(true);
      expect(pkg.devDependencies[name]).toBeDefined();
    }
    expect(pkg.scripts.prepack).toContain("build");
    expect(pkg.files).toContain("LICENSE");
    expect(readFileSync(path.join(root, "LICENSE"), "utf8")).toContain(`${pkg.license} License`);
  });

  it("a missing optional package is an error that names it and how to install it", async () => {
    const e = await loadOptional("sparse-attention-no-such-package", "PNG output").catch((x: unknown) => x);
    expect(e).toBeInstanceOf(MissingOptionalDependency);
    expect((e as Error).message).toBe(
      'PNG output needs the optional package "sparse-attention-no-such-package": install it with `npm install sparse-attention-no-such-package`',
    );
  });
});
