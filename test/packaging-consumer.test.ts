/**
 * The published package as a strict TypeScript user gets it: `npm pack` (dist as built by
 * `npm test`'s pretest), unpacked into an empty project's node_modules with its dependency
 * closure linked from this repository's node_modules (no network), then a consumer .ts that
 * imports the root, /models and /viz compiled with moduleResolution "nodenext" and
 * skipLibCheck false, and the root imported by Node from that project. The installed size
 * (package + dependency closure) stays under 10 MB and holds none of the optional peers.
 */
import { execFileSync, spawnSync } from "node:child_process";
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const root = path.resolve(import.meta.dirname, "..");
const pkg = JSON.parse(readFileSync(path.join(root, "package.json"), "utf8"));
let tmp = "";
let project = "";

/** Names of the runtime dependency closure of `names`, read from this repository's node_modules. */
function closure(names: string[], seen = new Set<string>()): Set<string> {
  for (const name of names) {
    if (seen.has(name)) continue;
    seen.add(name);
    const dep = JSON.parse(readFileSync(path.join(root, "node_modules", name, "package.json"), "utf8"));
    closure(Object.keys(dep.dependencies ?? {}), seen);
  }
  return seen;
}

function bytesIn(dir: string): number {
  let total = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) total += bytesIn(p);
    else if (e.isFile()) total += statSync(p).size;
  }
  return total;
}

beforeAll(() => {
  if (!existsSync(path.join(root, "dist/index.d.ts"))) throw new Error("dist/ is missing: run `npm run build` first");
  tmp = mkdtempSync(path.join(os.tmpdir(), "sa-consumer-"));
  const out = execFileSync("npm", ["pack", "--ignore-scripts", "--json", "--pack-destination", tmp], {
    cwd: root,
    encoding: "utf8",
    stdio: ["ignore", "pipe", "pipe"],
  });
  const tarball = path.join(tmp, JSON.parse(out)[0].filename);
  project = path.join(tmp, "consumer");
  const mod = path.join(project, "node_modules");
  mkdirSync(path.join(mod, "sparse-attention"), { recursive: true });
  execFileSync("tar", ["-xzf", tarball, "-C", path.join(mod, "sparse-attention"), "--strip-components=1"]);
  // what `npm install <tarball>` would add: the dependency closure (optional peers are not installed)
  for (const name of [...closure(Object.keys(pkg.dependencies ?? {})), "@types/node"]) {
    mkdirSync(path.dirname(path.join(mod, name)), { recursive: true });
    symlinkSync(path.join(root, "node_modules", name), path.join(mod, name), "dir");
  }
  writeFileSync(path.join(project, "package.json"), '{ "name": "consumer", "private": true, "type": "module" }\n');
  writeFileSync(
    path.join(project, "tsconfig.json"),
    JSON.stringify({
      compilerOptions: {
        strict: true,
        module: "nodenext",
        moduleResolution: "nodenext",
        target: "es2022",
        skipLibCheck: false,
        noEmit: true,
        types: ["node"],
      },
      files: ["consumer.ts"],
    }),
  );
  writeFileSync(
    path.join(project, "consumer.ts"),
    `import { attention, attentionAsync, compile, explain, patterns, type Tensor } from "sparse-attention";
import { loadModel } from "sparse-attention/models";
import { matrixSvg } from "sparse-attention/viz";

const p = patterns.union(patterns.causal(), patterns.globalTokens([0]));
const plan = compile(p, { queryLength: 128, headDim: 16 });
const q: Tensor = { data: new Float32Array(128 * 16), shape: [1, 1, 128, 16] };
const r = attention(q, q, q, { plan });
export const later = attentionAsync(q, q, q, { pattern: p, backend: "auto" });
export const model = loadModel("./model");
export const out: number = explain(p, { queryLength: 128, headDim: 16 }).scoredPairs + r.lse.length;
export const svg: string = matrixSvg(plan.heads[0], 128, 128, {});
`,
  );
}, 120_000);
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe("the packed package for a strict TypeScript consumer", () => {
  it("compiles under moduleResolution nodenext with skipLibCheck false", () => {
    const tsc = path.join(root, "node_modules/typescript/bin/tsc");
    let output = "";
    try {
      output = execFileSync(process.execPath, [tsc, "-p", project], { encoding: "utf8" });
    } catch (e) {
      output = String((e as { stdout?: string }).stdout ?? e);
    }
    expect(output).toBe("");
  }, 600_000); // tsc type-checks the package's .d.ts and @types/node: ~17 CPU s, minutes on a loaded machine

  it("Node imports it from the consumer project", () => {
    const got = execFileSync(
      process.execPath,
      ["--input-type=module", "-e", 'import("sparse-attention").then((m) => console.log(typeof m.attention))'],
      { cwd: project, encoding: "utf8" },
    );
    expect(got.trim()).toBe("function");
  });

  it("its CLI names a missing optional peer in one line, without a stack trace", () => {
    const main = path.join(project, "node_modules/sparse-attention/dist/cli/main.js");
    const run = spawnSync(process.execPath, [main, "show", "causal()", "-n", "8", "--format", "png", "-o", "x.png"], {
      cwd: project,
      encoding: "utf8",
    });
    expect(run.status).toBe(1);
    expect(run.stderr).toBe(
      'error: PNG output needs the optional package "@resvg/resvg-js": install it with `npm install @resvg/resvg-js`\n',
    );
    const text = spawnSync(process.execPath, [main, "show", "causal()", "-n", "8"], { cwd: project, encoding: "utf8" });
    expect(text.status, text.stderr).toBe(0); // the text picture needs no optional package
  });

  it("installs under 10 MB and without the optional peers (webgpu, vega, resvg)", () => {
    const mod = path.join(project, "node_modules");
    const names = [...closure(Object.keys(pkg.dependencies ?? {}))];
    for (const peer of ["webgpu", "vega", "vega-lite", "@resvg/resvg-js"]) {
      expect(names).not.toContain(peer);
      expect(pkg.peerDependenciesMeta[peer]?.optional, peer).toBe(true);
      expect(pkg.dependencies?.[peer], peer).toBeUndefined();
      expect(pkg.optionalDependencies?.[peer], peer).toBeUndefined();
    }
    const bytes =
      bytesIn(path.join(mod, "sparse-attention")) +
      names.reduce((s, n) => s + bytesIn(path.join(root, "node_modules", n)), 0);
    expect(bytes).toBeLessThan(10 * 2 ** 20);
  });
});
