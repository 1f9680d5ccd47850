// npm run bench:models [-- --lengths 1024,2048,4096,8192,16384 --layers 12 --dense-max 4096 --repeats 1 --threads 2]
// npm run bench:models -- --rss-probe 16384   (peak RSS of the 12-layer model through its first layer)
// A Longformer with base-size shapes (hidden 768, 12 heads, intermediate 3072, attention_window
// 512, one global token at 0) and random weights made here, run by sparse-attention/models at each
// length: time per document, tokens/s, split attention / GEMM / other, peak RSS (each point in its
// own child process), fitted time exponent; the same weights with dense attention beside it.
import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { fmt, median, printTable } from "./lib.mjs";

const HIDDEN = 768;
const HEADS = 12;
const INTER = 3072;
const WINDOW = 512;
const VOCAB = 1000;

function arg(name, fallback) {
  const i = process.argv.indexOf(`--${name}`);
  return i < 0 ? fallback : process.argv[i + 1];
}

/** Bytes of a safetensors file with random base-size Longformer weights (LayerNorm gains 1). */
function baseCheckpoint(layers, maxPositions) {
  const shapes = {
    "embeddings.word_embeddings.weight": [VOCAB, HIDDEN],
    "embeddings.position_embeddings.weight": [maxPositions, HIDDEN],
    "embeddings.token_type_embeddings.weight": [1, HIDDEN],
    "embeddings.LayerNorm.weight": [HIDDEN],
    "embeddings.LayerNorm.bias": [HIDDEN],
    "pooler.dense.weight": [HIDDEN, HIDDEN],
    "pooler.dense.bias": [HIDDEN],
  };
  for (let l = 0; l < layers; l++) {
    const p = `encoder.layer.${l}.`;
    for (const n of ["query", "key", "value", "query_global", "key_global", "value_global"]) {
      shapes[`${p}attention.self.${n}.weight`] = [HIDDEN, HIDDEN];
      shapes[`${p}attention.self.${n}.bias`] = [HIDDEN];
    }
    shapes[`${p}attention.output.dense.weight`] = [HIDDEN, HIDDEN];
    shapes[`${p}attention.output.dense.bias`] = [HIDDEN];
    shapes[`${p}attention.output.LayerNorm.weight`] = [HIDDEN];
    shapes[`${p}attention.output.LayerNorm.bias`] = [HIDDEN];
    shapes[`${p}intermediate.dense.weight`] = [INTER, HIDDEN];
    shapes[`${p}intermediate.dense.bias`] = [INTER];
    shapes[`${p}output.dense.weight`] = [HIDDEN, INTER];
    shapes[`${p}output.dense.bias`] = [HIDDEN];
    shapes[`${p}output.LayerNorm.weight`] = [HIDDEN];
    shapes[`${p}output.LayerNorm.bias`] = [HIDDEN];
  }
  const header = {};
  let off = 0;
  for (const [name, shape] of Object.entries(shapes)) {
    const bytes = 4 * shape.reduce((a, b) => a * b, 1);
    header[name] = { dtype: "F32", shape, data_offsets: [off, off + bytes] };
    off += bytes;
  }
  let json = JSON.stringify(header);
  while ((8 + json.length) % 8 !== 0) json += " ";
  const buf = new Uint8Array(8 + json.length + off);
  new DataView(buf.buffer).setBigUint64(0, BigInt(json.length), true);
  buf.set(new TextEncoder().encode(json), 8);
  const data = new Float32Array(buf.buffer, 8 + json.length, off / 4);
  let s = 12345;
  for (const [name, meta] of Object.entries(header)) {
    const a = meta.data_offsets[0] / 4;
    const b = meta.data_offsets[1] / 4;
    const gain = name.endsWith("LayerNorm.weight");
    for (let i = a; i < b; i++) {
      s = (Math.imul(s, 1664525) + 1013904223) | 0;
      data[i] = gain ? 1 : ((s >>> 8) / 2 ** 24 - 0.5) * 0.06; // U(-0.03, 0.03)
    }
  }
  const config = {
    model_type: "longformer",
    hidden_size: HIDDEN,
    num_attention_heads: HEADS,
    num_hidden_layers: layers,
    intermediate_size: INTER,
    vocab_size: VOCAB,
    max_position_embeddings: maxPositions,
    type_vocab_size: 1,
    pad_token_id: 1,
    layer_norm_eps: 1e-5,
    hidden_act: "gelu",
    attention_window: WINDOW,
  };
  return { config, weights: buf };
}

async function child() {
  const [kind, L, layers, repeats, threads, backend] = process.argv
    .slice(3)
    .map((x, i) => (i === 0 || i === 5 ? x : Number(x)));
  const { loadModel } = await import("sparse-attention/models");
  const model = await loadModel(baseCheckpoint(layers, L + 2));
  const ids = new Int32Array(L);
  for (let i = 0; i < L; i++) ids[i] = 5 + ((i * 7919) % (VOCAB - 5));
  const g = new Int32Array(L);
  g[0] = 1;
  const inputs = { inputIds: { data: ids, shape: [1, L] }, globalAttentionMask: { data: g, shape: [1, L] } };
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
 * --rss-probe L: a 12-layer (or --layers) model at length L, stopped after its first layer:
 * every layer's weights are loaded and one layer's activations are live, which is the peak of
 * a full run (later layers reuse the same buffers). Prints the peak RSS.
 */
async function rssProbe() {
  const L = Number(arg("rss-probe", "16384"));
  const layers = Number(arg("layers", "12"));
  const { loadModel } = await import("sparse-attention/models");
  const model = await loadModel(baseCheckpoint(layers, L + 2));
  const ids = new Int32Array(L);
  for (let i = 0; i < L; i++) ids[i] = 5 + ((i * 7919) % (VOCAB - 5));
  const g = new Int32Array(L);
  g[0] = 1;
  const t0 = performance.now();
  const stop = new Error("stop after the first layer");
  try {
    await model.forward(
      { inputIds: { data: ids, shape: [1, L] }, globalAttentionMask: { data: g, shape: [1, L] } },
      {
        onLayer: (done) => {
          if (done === 1) throw stop;
        },
      },
    );
  } catch (e) {
    if (e !== stop) throw e;
  }
  console.log(
    `${layers}-layer base-size Longformer, L = ${L}, stopped after layer 1 (${((performance.now() - t0) / 1000).toFixed(1)} s): peak RSS ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MiB`,
  );
}

if (process.argv[2] === "--child") await child();
else if (process.argv.includes("--rss-probe")) await rssProbe();
else await main();
