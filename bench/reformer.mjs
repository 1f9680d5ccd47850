// npm run bench:reformer [-- --lengths 4096,8192,16384,32768,65536,131072 --prompts 4096,32768,131072
//                           --new-tokens 16 --repeats 1 --threads 2 --backend auto]
// A Reformer LM with google/reformer-crime-and-punishment's shapes (6 layers local/lsh alternating,
// hidden 256, 2 heads of 64, feed-forward 512, axial positions 512 × 1024 with dims [64, 192],
// buckets [64, 128], 1 hash, chunk 64, vocab 320) and random weights made here, run by
// sparse-attention/models: forward time and peak RSS per length (each point in its own child
// process), the fitted time exponent from 16,384 up, and cached generation (HF's decoding): ms per
// new token after prompts of 4,096 / 32,768 / 131,072 tokens. Machine load (uptime) is recorded
// with every point: the machine is shared.
import { execFileSync } from "node:child_process";
import { loadavg } from "node:os";
import { fileURLToPath } from "node:url";
import { randomSafetensors } from "./base-checkpoint.mjs";
import { fmt, median, printTable } from "./lib.mjs";

const H = 256;
const HEADS = 2;
const D = 64;
const FF = 512;
const VOCAB = 320;
const KINDS = ["local", "lsh", "local", "lsh", "local", "lsh"];

function arg(name, fallback) {
  const i = process.argv.indexOf(`--${name}`);
  return i < 0 ? fallback : process.argv[i + 1];
}

const config = {
  model_type: "reformer",
  architectures: ["ReformerModelWithLMHead"],
  attn_layers: KINDS,
  num_hidden_layers: KINDS.length,
  hidden_size: H,
  num_attention_heads: HEADS,
  attention_head_size: D,
  feed_forward_size: FF,
  hidden_act: "relu",
  layer_norm_eps: 1e-12,
  vocab_size: VOCAB,
  pad_token_id: 0,
  eos_token_id: 2,
  is_decoder: true,
  max_position_embeddings: 524288,
  axial_pos_embds: true,
  axial_pos_shape: [512, 1024],
  axial_pos_embds_dim: [64, 192],
  num_buckets: [64, 128],
  num_hashes: 1,
  hash_seed: null,
  lsh_attn_chunk_length: 64,
  lsh_num_chunks_before: 1,
  lsh_num_chunks_after: 0,
  local_attn_chunk_length: 64,
  local_num_chunks_before: 1,
  local_num_chunks_after: 0,
};

/** safetensors bytes with random weights of the config's shapes (LayerNorm gains 1). */
function checkpoint() {
  const shapes = {
    "reformer.embeddings.word_embeddings.weight": [VOCAB, H],
    "reformer.embeddings.position_embeddings.weights.0": [512, 1, 64],
    "reformer.embeddings.position_embeddings.weights.1": [1, 1024, 192],
    "reformer.encoder.layer_norm.weight": [2 * H],
    "reformer.encoder.layer_norm.bias": [2 * H],
    "lm_head.decoder.weight": [VOCAB, 2 * H],
    "lm_head.bias": [VOCAB],
  };
  KINDS.forEach((kind, l) => {
    const p = `reformer.encoder.layers.${l}.`;
    const sa = `${p}attention.self_attention.`;
    for (const n of kind === "local" ? ["query", "key", "value"] : ["query_key", "value"]) {
      shapes[`${sa}${n}.weight`] = [HEADS * D, H];
    }
    shapes[`${p}attention.layer_norm.weight`] = [H];
    shapes[`${p}attention.layer_norm.bias`] = [H];
    shapes[`${p}attention.output.dense.weight`] = [H, HEADS * D];
    shapes[`${p}feed_forward.layer_norm.weight`] = [H];
    shapes[`${p}feed_forward.layer_norm.bias`] = [H];
    shapes[`${p}feed_forward.dense.dense.weight`] = [FF, H];
    shapes[`${p}feed_forward.dense.dense.bias`] = [FF];
    shapes[`${p}feed_forward.output.dense.weight`] = [H, FF];
    shapes[`${p}feed_forward.output.dense.bias`] = [H];
  });
  // unit variance / fan-in (U(-½, ½) · 2√3 / √fan); layer norms' gains 1
  return randomSafetensors(shapes, (name, shape) => {
    if (name.endsWith("layer_norm.weight")) return null;
    const fan = shape.length === 2 && !name.includes("embeddings") ? shape[1] : 4;
    return (2 * Math.sqrt(3)) / Math.sqrt(fan);
  });
}

async function child() {
  const [kind, T, repeats, threads, backend, newTokens] = process.argv
    .slice(3)
    .map((x, i) => (i === 0 || i === 4 ? x : Number(x)));
  const { loadReformer } = await import("sparse-attention/models");
  const model = await loadReformer({ config, weights: checkpoint() });
  const ids = new Int32Array(T);
  for (let i = 0; i < T; i++) ids[i] = 2 + ((i * 7919) % 256);
  const options = { backend, threads: threads || undefined };
  await model.forward({ inputIds: { data: ids.subarray(0, 256), shape: [1, 256] } }, options); // JIT, pool
  const load0 = loadavg()[0];
  if (kind === "forward") {
    const ms = [];
    const cpu = [];
    for (let r = 0; r < repeats; r++) {
      const c0 = process.cpuUsage();
      const t0 = performance.now();
      await model.forward({ inputIds: { data: ids, shape: [1, T] } }, { ...options, logits: true });
      ms.push(performance.now() - t0);
      const c = process.cpuUsage(c0);
      cpu.push((c.user + c.system) / 1000);
    }
    const out = {
      ms: median(ms),
      cpuMs: median(cpu),
      peakRssMiB: process.resourceUsage().maxRSS / 1024,
      load: [load0, loadavg()[0]],
    };
    process.stdout.write(JSON.stringify(out));
    return;
  }
  // cached generation: the prompt forward, then newTokens cached steps timed one by one
  const stamps = [];
  const t0 = performance.now();
  await model.generate(
    { inputIds: { data: ids, shape: [1, T] } },
    { ...options, maxNewTokens: newTokens + 1, eosTokenId: null, onToken: () => stamps.push(performance.now()) },
  );
  const per = [];
  for (let i = 1; i < stamps.length; i++) per.push(stamps[i] - stamps[i - 1]);
  process.stdout.write(
    JSON.stringify({
      promptMs: stamps[0] - t0,
      msPerToken: median(per),
      peakRssMiB: process.resourceUsage().maxRSS / 1024,
      load: [load0, loadavg()[0]],
    }),
  );
}

function fitExponent(points, key = "ms") {
  const xs = points.map((p) => Math.log(p.T));
  const ys = points.map((p) => Math.log(p[key]));
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

function run(args) {
  const self = fileURLToPath(import.meta.url);
  const out = execFileSync(process.execPath, [self, "--child", ...args.map(String)], {
    encoding: "utf8",
    maxBuffer: 1 << 20,
    stdio: ["ignore", "pipe", "inherit"],
  });
  return JSON.parse(out);
}

async function main() {
  const list = (v) => (v === "none" ? [] : v.split(",").map(Number));
  const lengths = list(arg("lengths", "4096,8192,16384,32768,65536,131072"));
  const prompts = list(arg("prompts", "4096,32768,131072"));
  const repeats = Number(arg("repeats", "1"));
  const threads = Number(arg("threads", "0"));
  const backend = arg("backend", "auto");
  const newTokens = Number(arg("new-tokens", "16"));
  const up = () =>
    loadavg()
      .map((x) => x.toFixed(1))
      .join(" ");
  console.log(
    `bench:reformer  node ${process.version}, threads ${threads || "default"}, backend ${backend}; load ${up()}`,
  );
  const fwd = [];
  for (const T of lengths) {
    const r = run(["forward", T, repeats, threads, backend, 0]);
    fwd.push({ T, ...r });
    console.error(
      `  forward T=${T}: ${fmt.ms(r.ms)} ms, peak RSS ${r.peakRssMiB.toFixed(0)} MiB, load ${r.load.map((x) => x.toFixed(1)).join("→")}`,
    );
  }
  printTable(
    ["T", "forward ms", "tokens/s", "peak RSS MiB", "load (1-min, before→after)"],
    fwd.map((p) => [
      p.T,
      fmt.ms(p.ms),
      ((p.T / p.ms) * 1000).toFixed(0),
      p.peakRssMiB.toFixed(0),
      p.load.map((x) => x.toFixed(1)).join("→"),
    ]),
  );
  const tail = fwd.filter((p) => p.T >= 16384);
  if (tail.length >= 2)
    console.log(`time exponent (least squares, T >= 16,384): ${fitExponent(tail).toFixed(3)} (target <= 1.15)`);
  const big = fwd.find((p) => p.T === 131072);
  if (big) console.log(`peak RSS at 131,072: ${(big.peakRssMiB / 1024).toFixed(2)} GiB (target < 1.5 GiB)`);
  const gen = [];
  for (const T of prompts) {
    const r = run(["generate", T, 1, threads, backend, newTokens]);
    gen.push({ T, ...r });
    console.error(
      `  generate after ${T}: ${fmt.ms(r.msPerToken)} ms/token, prompt ${fmt.ms(r.promptMs)} ms, load ${r.load.map((x) => x.toFixed(1)).join("→")}`,
    );
  }
  printTable(
    ["prompt T", "prompt forward + first token ms", "ms per new token (median)", "peak RSS MiB", "load"],
    gen.map((p) => [
      p.T,
      fmt.ms(p.promptMs),
      fmt.ms(p.msPerToken),
      p.peakRssMiB.toFixed(0),
      p.load.map((x) => x.toFixed(1)).join("→"),
    ]),
  );
  if (gen.length >= 2) {
    const ratio = gen[gen.length - 1].msPerToken / gen[0].msPerToken;
    console.log(`ms/token after ${gen[gen.length - 1].T} / after ${gen[0].T}: ${ratio.toFixed(2)}x (target <= 3x)`);
  }
  console.log(`load at the end: ${up()}`);
}

if (process.argv[2] === "--child") await child();
else await main();
