// npm run bench:models [-- --lengths 1024,2048,4096,8192,16384 --layers 12 --dense-max 4096 --repeats 1 --threads 2]
// npm run bench:models -- --peer torch [--model longformer,bigbird --lengths 1024,4096 --threads 1,2 --layers 12]
//   (HF PyTorch side by side, interleaved, ratio per row; needs ../shared/peers/hf-torch, never in CI)
// npm run bench:models -- --rss-probe 16384 [--vocab 50265] [--full]   (peak RSS of the 12-layer model through its first layer, or all)
// A Longformer with base-size shapes (hidden 768, 12 heads, intermediate 3072, attention_window
// 512, one global token at 0) and random weights made here, run by sparse-attention/models at each
// length: time per document, tokens/s, split attention / GEMM / other, peak RSS (each point in its
// own child process), fitted time exponent; the same weights with dense attention beside it.
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { loadavg } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { baseCheckpoint, HEADS, HIDDEN, INTER, VOCAB, WINDOW } from "./base-checkpoint.mjs";
import { fmt, median, printTable } from "./lib.mjs";

function arg(name, fallback) {
  const i = process.argv.indexOf(`--${name}`);
  return i < 0 ? fallback : process.argv[i + 1];
}

async function child() {
  const [kind, L, layers, repeats, threads, backend, arch = "longformer", path = "wasm"] = process.argv
    .slice(3)
    .map((x, i) => (i === 0 || i >= 5 ? x : Number(x)));
  const { loadModel, useNativeLinear } = await import("sparse-attention/models");
  if (path === "native") useNativeLinear(true); // the linear layers on onnxruntime-node where it loads
  const model = await loadModel(baseCheckpoint(layers, L + 2, arch));
  const ids = new Int32Array(L);
  for (let i = 0; i < L; i++) ids[i] = 5 + ((i * 7919) % (VOCAB - 5));
  const g = new Int32Array(L);
  g[0] = 1;
  const inputs = { inputIds: { data: ids, shape: [1, L] } };
  if (arch === "longformer") inputs.globalAttentionMask = { data: g, shape: [1, L] };
  const options = {
    profile: true,
    attention: kind === "dense" ? "dense" : "model",
    backend,
    threads: threads || undefined,
  };
  await model.forward({ inputIds: { data: ids.subarray(0, 64), shape: [1, 64] } }, options); // warm the JIT and the pool
  const runs = [];
  for (let r = 0; r < repeats; r++) runs.push((await model.forward(inputs, options)).profile);
  const pick = (k) => median(runs.map((p) => p[k]));
  process.stdout.write(
    JSON.stringify({
      totalMs: pick("totalMs"),
      attentionMs: pick("attentionMs"),
      gemmMs: pick("gemmMs"),
      otherMs: pick("otherMs"),
      peakRssMiB: process.resourceUsage().maxRSS / 1024,
    }),
  );
}

function fitExponent(points) {
  const xs = points.map((p) => Math.log(p.L));
  const ys = points.map((p) => Math.log(p.totalMs));
  const mx = xs.reduce((a, b) => a + b, 0) / xs.length;
  const my = ys.reduce((a, b) => a + b, 0) / ys.length;
  let num = 0;
  let den = 0;
  for (let i = 0; i < xs.length; i++) {
    num += (xs[i] - mx) * (ys[i] - my);
    den += (xs[i] - mx) ** 2;
  }
  return num / den;
}

async function main() {
  const lengths = arg("lengths", "1024,2048,4096,8192,16384").split(",").map(Number);
  const layers = Number(arg("layers", "12"));
  const denseMax = Number(arg("dense-max", "4096"));
  const repeats = Number(arg("repeats", "1"));
  const threads = Number(arg("threads", "0"));
  const backend = arg("backend", "auto");
  const self = fileURLToPath(import.meta.url);
  const results = [];
  for (const L of lengths) {
    for (const kind of ["sparse", "dense"]) {
      if (kind === "dense" && L > denseMax) continue;
      const out = execFileSync(
        process.execPath,
        [self, "--child", kind, String(L), String(layers), String(repeats), String(threads), backend],
        { encoding: "utf8", maxBuffer: 1 << 20, stdio: ["ignore", "pipe", "inherit"] },
      );
      const r = { kind, L, ...JSON.parse(out) };
      // GEMM work per layer: q, k, v, output (+ key_global, value_global for the sparse model's global token) and the FFN
      const perToken = 2 * ((kind === "sparse" ? 6 : 4) * HIDDEN * HIDDEN + 2 * HIDDEN * INTER);
      r.gemmGflops = (perToken * L * layers) / (r.gemmMs / 1000) / 1e9;
      results.push(r);
      console.error(`${kind} L=${L}: ${(r.totalMs / 1000).toFixed(1)} s`);
    }
  }
  console.log(
    `\nLongformer, base shapes (hidden ${HIDDEN}, ${HEADS} heads, intermediate ${INTER}, window ${WINDOW}, 1 global token), ${layers} layer(s), backend ${backend}, threads ${threads || "default"}, median of ${repeats}\n`,
  );
  printTable(
    ["model", "L", "s / doc", "tokens/s", "attention s", "GEMM s", "other s", "GEMM GFLOP/s", "peak RSS MiB"],
    results.map((r) => [
      r.kind,
      r.L,
      fmt.ms(r.totalMs / 1000),
      (r.L / (r.totalMs / 1000)).toFixed(1),
      fmt.ms(r.attentionMs / 1000),
      fmt.ms(r.gemmMs / 1000),
      fmt.ms(r.otherMs / 1000),
      fmt.g(r.gemmGflops),
      r.peakRssMiB.toFixed(0),
    ]),
  );
  for (const kind of ["sparse", "dense"]) {
    const pts = results.filter((r) => r.kind === kind);
    const tail = pts.filter((r) => r.L >= 4096);
    if (pts.length >= 2) {
      const use = tail.length >= 2 ? tail : pts;
      console.log(
        `${kind}: fitted time exponent ${fitExponent(use).toFixed(3)} over L = ${use.map((r) => r.L).join(", ")}`,
      );
    }
  }
}

/**
 * --rss-probe L [--vocab N] [--full] [--threads T]: a 12-layer (or --layers) model at length L
 * (vocabulary N, default 1,000; 50,265 is Longformer-base's), stopped after its first layer
 * (--full: the whole forward):
 * every layer's weights are loaded and one layer's activations are live, which is the peak of
 * a full run (later layers reuse the same buffers). Prints the peak RSS.
 */
async function rssProbe() {
  const L = Number(arg("rss-probe", "16384"));
  const layers = Number(arg("layers", "12"));
  const vocab = Number(arg("vocab", String(VOCAB))); // --vocab 50265: Longformer-base's own embedding table
  const { loadModel } = await import("sparse-attention/models");
  const model = await loadModel(baseCheckpoint(layers, L + 2, "longformer", vocab));
  const ids = new Int32Array(L);
  for (let i = 0; i < L; i++) ids[i] = 5 + ((i * 7919) % (VOCAB - 5));
  const g = new Int32Array(L);
  g[0] = 1;
  const full = process.argv.includes("--full"); // the whole forward, output and pooler included
  const t0 = performance.now();
  const stop = new Error("stop after the first layer");
  try {
    await model.forward(
      { inputIds: { data: ids, shape: [1, L] }, globalAttentionMask: { data: g, shape: [1, L] } },
      {
        threads: arg("threads", null) === null ? undefined : Number(arg("threads", null)),
        onLayer: (done) => {
          if (done === 1 && !full) throw stop;
        },
      },
    );
  } catch (e) {
    if (e !== stop) throw e;
  }
  console.log(
    `${layers}-layer base-size Longformer (vocabulary ${vocab}), L = ${L}, ${full ? "whole forward" : "stopped after layer 1"} (${((performance.now() - t0) / 1000).toFixed(1)} s): peak RSS ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MiB`,
  );
}

/** One run of ours in a child process: {totalMs, attentionMs, gemmMs, otherMs, peakRssMiB}. */
function ours(kind, L, layers, repeats, threads, backend, arch, path = "wasm") {
  const self = fileURLToPath(import.meta.url);
  const args = [
    self,
    "--child",
    kind,
    String(L),
    String(layers),
    String(repeats),
    String(threads),
    backend,
    arch,
    path,
  ];
  const out = execFileSync(process.execPath, args, {
    encoding: "utf8",
    maxBuffer: 1 << 20,
    stdio: ["ignore", "pipe", "inherit"],
  });
  return JSON.parse(out);
}

/**
 * --peer torch: HF transformers 4.40.2 on Debian's PyTorch (../shared/peers/hf-torch, its
 * bench.py: same base shapes, random weights, batch 1) and ours, row by row, interleaved (the
 * first of the pair alternates), each its median of --repeats; the ratio per row. Never in CI.
 */
async function peer() {
  const peerDir = resolve(dirname(fileURLToPath(import.meta.url)), "../../shared/peers/hf-torch");
  if (!existsSync(join(peerDir, "bench.py"))) throw new Error(`--peer torch needs ${peerDir} (the shared peer)`);
  const archs = arg("model", "longformer,bigbird").split(",");
  const lengths = arg("lengths", "1024,4096").split(",").map(Number);
  const layers = Number(arg("layers", "12"));
  const repeats = Number(arg("repeats", "1"));
  const threadsList = arg("threads", "2").split(",").map(Number);
  const backend = arg("backend", "auto");
  const paths = arg("paths", "wasm").split(","); // wasm: the browser's engine; native: linear layers on onnxruntime-node
  const rows = [];
  let turn = 0;
  for (const arch of archs) {
    for (const L of lengths) {
      for (const threads of threadsList) {
        const runPeer = () => {
          const args = [join(peerDir, "bench.py"), "--model", arch, "--layers", String(layers), "--lengths", String(L)];
          args.push("--threads", String(threads), "--runs", String(repeats));
          if (arch === "longformer") args.push("--global-tokens", "1"); // ours: one global token at 0
          const out = execFileSync(join(peerDir, "run.sh"), args, {
            encoding: "utf8",
            stdio: ["ignore", "pipe", "inherit"],
          });
          return JSON.parse(out.trim().split("\n").pop()).median_s * 1000;
        };
        const runs = [["torch", runPeer]];
        for (const p of paths) runs.push([p, () => ours("sparse", L, layers, repeats, threads, backend, arch, p)]);
        if (turn++ % 2 === 1) runs.reverse(); // interleaved: who goes first alternates row by row
        const got = {};
        for (const [name, run] of runs) got[name] = run();
        for (const p of paths)
          rows.push({ arch, L, threads, path: p, torchMs: got.torch, ...got[p], load: loadavg()[0] });
        const ourTimes = paths.map((p) => `${p} ${(got[p].totalMs / 1000).toFixed(2)} s`).join(", ");
        console.error(`${arch} L=${L} threads=${threads}: torch ${(got.torch / 1000).toFixed(2)} s, ours ${ourTimes}`);
      }
    }
  }
  console.log(
    `\nHF PyTorch (transformers 4.40.2, Debian torch, OpenBLAS, OMP_WAIT_POLICY=PASSIVE) vs sparse-attention (backend ${backend}), base shapes, ${layers} layer(s), batch 1, median of ${repeats}; interleaved per row\n`,
  );
  printTable(
    [
      "model",
      "L",
      "threads",
      "path",
      "PyTorch s",
      "ours s",
      "ours / PyTorch docs/s",
      "attention s",
      "GEMM s",
      "other s",
      "load",
    ],
    rows.map((r) => [
      r.arch === "bigbird" ? "BigBird-base (block_sparse, 3 random)" : "Longformer-base (1 global)",
      r.L,
      r.threads,
      r.path,
      fmt.ms(r.torchMs / 1000),
      fmt.ms(r.totalMs / 1000),
      `${(r.torchMs / r.totalMs).toFixed(2)}×`,
      fmt.ms(r.attentionMs / 1000),
      fmt.ms(r.gemmMs / 1000),
      fmt.ms(r.otherMs / 1000),
      r.load.toFixed(1),
    ]),
  );
}

if (process.argv[2] === "--child") await child();
else if (process.argv.includes("--rss-probe")) await rssProbe();
else if (arg("peer", null) === "torch") await peer();
else if (arg("peer", null) !== null) throw new Error(`--peer ${arg("peer", null)}: the only peer is "torch"`);
else await main();
