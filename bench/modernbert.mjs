// npm run bench:modernbert [-- --lengths 1024,2048,4096,8192 --layers 22 --repeats 1 --threads 2 --peer auto|off --hf-max 8192 --timeout 1200]
// ModernBERT-base shapes (22 layers, hidden 768, 12 heads, intermediate 1,152 (GeGLU), window 128,
// global every 3rd layer; vocab 1,000: the embedding table does not change the encoder's cost) with
// random weights made here, at each length, interleaved in one run (each point its own child process,
// in the order L1: sparse, dense, hf; L2: …; then the next repeat):
//   sparse  our forward, local layers on the sliding window (|q - k| <= 64), global layers dense
//   dense   the same weights with every layer dense (the cost an ONNX export or HF eager pays)
//   hf      HF transformers' own ModernBERT, eager attention, PyTorch on this CPU, through
//           ../shared/peers/hf-torch/ (skipped when absent; --peer off skips it)
// Per point: seconds per document, tokens/s, attention share of the layer time (everything between
// the Wqkv and Wo products: RoPE, regrouping, attention), GEMM share, and the machine-independent
// work (GEMM GFLOP, attention pairs scored). For sparse: local layers' attention time per allowed
// pair against a plain attention() call on the same pattern and shape in the same process.
// `uptime` load is printed beside every point (the machine is shared).
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { randomSafetensors } from "./base-checkpoint.mjs";
import { fmt, median, printTable } from "./lib.mjs";

const HIDDEN = 768;
const HEADS = 12;
const D = HIDDEN / HEADS;
const INTER = 1152;
const WINDOW = 128;
const EVERY = 3;
const VOCAB = 1000;
const here = path.dirname(fileURLToPath(import.meta.url));
const PEER = path.resolve(here, "../../shared/peers/hf-torch/run.sh");

function arg(name, fallback) {
  const i = process.argv.indexOf(`--${name}`);
  return i < 0 ? fallback : process.argv[i + 1];
}

const load = () => readFileSync("/proc/loadavg", "utf8").split(" ").slice(0, 3).join(" ");

/** config.json and safetensors bytes of a random ModernBERT-base-shaped backbone (bare ModernBertModel names). */
function checkpoint(layers, maxPositions) {
  const shapes = { "embeddings.tok_embeddings.weight": [VOCAB, HIDDEN], "embeddings.norm.weight": [HIDDEN] };
  for (let l = 0; l < layers; l++) {
    const p = `layers.${l}.`;
    if (l > 0) shapes[`${p}attn_norm.weight`] = [HIDDEN];
    shapes[`${p}attn.Wqkv.weight`] = [3 * HIDDEN, HIDDEN];
    shapes[`${p}attn.Wo.weight`] = [HIDDEN, HIDDEN];
    shapes[`${p}mlp_norm.weight`] = [HIDDEN];
    shapes[`${p}mlp.Wi.weight`] = [2 * INTER, HIDDEN];
    shapes[`${p}mlp.Wo.weight`] = [HIDDEN, INTER];
  }
  shapes["final_norm.weight"] = [HIDDEN];
  // U(-0.035, 0.035): std 0.02, HF's init; norms' gains 1
  const buf = randomSafetensors(shapes, (name) => (name.endsWith("norm.weight") ? null : 0.07));
  const config = {
    model_type: "modernbert",
    architectures: ["ModernBertModel"],
    hidden_size: HIDDEN,
    num_attention_heads: HEADS,
    num_hidden_layers: layers,
    intermediate_size: INTER,
    vocab_size: VOCAB,
    max_position_embeddings: maxPositions,
    pad_token_id: VOCAB - 1,
    local_attention: WINDOW,
    global_attn_every_n_layers: EVERY,
  };
  return { config, weights: buf };
}

async function child() {
  const [kind, L, layers, repeats, threads] = process.argv.slice(3).map((x, i) => (i === 0 ? x : Number(x)));
  const { loadModel } = await import("sparse-attention/models");
  const { attention, patterns } = await import("sparse-attention");
  const { config, weights } = checkpoint(layers, Math.max(8192, L));
  const model = await loadModel({ config, weights });
  const ids = new Int32Array(L);
  for (let i = 0; i < L; i++) ids[i] = 5 + ((i * 7919) % (VOCAB - 10));
  const inputs = { inputIds: { data: ids, shape: [1, L] } };
  const options = { profile: true, attention: kind === "dense" ? "dense" : "model", threads: threads || undefined };
  await model.forward({ inputIds: { data: ids.subarray(0, 256), shape: [1, 256] } }, options); // JIT, pool, packed weights
  const runs = [];
  for (let r = 0; r < repeats; r++) runs.push((await model.forward(inputs, options)).profile);
  const pick = (k) => median(runs.map((p) => p[k]));
  const out = {
    totalMs: pick("totalMs"),
    attentionMs: pick("attentionMs"),
    gemmMs: pick("gemmMs"),
    otherMs: pick("otherMs"),
    localAttentionMs: pick("localAttentionMs"),
    localKernelMs: pick("localKernelMs"),
    localPairs: runs[0].localPairs,
    peakRssMiB: process.resourceUsage().maxRSS / 1024,
  };
  if (kind === "sparse") {
    // a plain attention() call on the local layers' pattern and shape, as many calls as local layers
    let s = 99;
    const rnd = () => {
      s = (Math.imul(s, 1664525) + 1013904223) | 0;
      return (s >>> 8) / 2 ** 24 - 0.5;
    };
    const t = () => ({ data: Float32Array.from({ length: HEADS * L * D }, rnd), shape: [1, HEADS, L, D] });
    const [q, k, v] = [t(), t(), t()];
    const pattern = patterns.slidingWindow({ left: WINDOW / 2, right: WINDOW / 2 });
    const o = { pattern, threads: threads || undefined };
    attention(q, k, v, o);
    const locals = Array.from({ length: layers }, (_, l) => l % EVERY !== 0).filter(Boolean).length;
    const times = [];
    let pairs = 0;
    for (let i = 0; i < Math.max(3, locals); i++) {
      const t0 = performance.now();
      pairs = attention(q, k, v, o).stats.allowedPairs;
      times.push(performance.now() - t0);
    }
    out.plainMsPerCall = median(times);
    out.plainPairs = pairs;
  }
  process.stdout.write(JSON.stringify(out));
}

function runOurs(kind, L, layers, repeats, threads, timeoutS) {
  const self = fileURLToPath(import.meta.url);
  const o = execFileSync(
    process.execPath,
    [self, "--child", kind, String(L), String(layers), String(repeats), String(threads)],
    { encoding: "utf8", maxBuffer: 1 << 20, stdio: ["ignore", "pipe", "inherit"], timeout: timeoutS * 1000 },
  );
  return JSON.parse(o);
}

function runHf(L, layers, repeats, threads, timeoutS) {
  const o = execFileSync(
    PEER,
    [
      path.join(here, "peers/hf_modernbert.py"),
      "--layers",
      String(layers),
      "--lengths",
      String(L),
      "--threads",
      String(threads || 2),
      "--runs",
      String(repeats),
      "--vocab",
      String(VOCAB),
    ],
    { encoding: "utf8", maxBuffer: 1 << 20, stdio: ["ignore", "pipe", "inherit"], timeout: timeoutS * 1000 },
  );
  const line = o.trim().split("\n").pop();
  return JSON.parse(line);
}

async function main() {
  const lengths = arg("lengths", "1024,2048,4096,8192").split(",").map(Number);
  const layers = Number(arg("layers", "22"));
  const repeats = Number(arg("repeats", "1"));
  const rounds = Number(arg("rounds", "1"));
  const threads = Number(arg("threads", "2"));
  const hfMax = Number(arg("hf-max", "8192"));
  const timeoutS = Number(arg("timeout", "1800"));
  const peerOn = arg("peer", "auto") !== "off" && existsSync(PEER);
  const kinds = ["sparse", "dense", ...(peerOn ? ["hf"] : [])];
  const results = [];
  for (let round = 0; round < rounds; round++) {
    for (const L of lengths) {
      for (const kind of kinds) {
        if (kind === "hf" && L > hfMax) continue;
        const before = load();
        let r;
        try {
          r =
            kind === "hf"
              ? runHf(L, layers, repeats, threads, timeoutS)
              : runOurs(kind, L, layers, repeats, threads, timeoutS);
        } catch (e) {
          console.error(`${kind} L=${L}: failed (${e.message.split("\n")[0]})`);
          continue;
        }
        const rec = { kind, L, round, loadBefore: before, loadAfter: load(), ...r };
        results.push(rec);
        console.error(
          `${kind} L=${L} round ${round}: ${(r.totalMs / 1000).toFixed(2)} s (load ${before} -> ${rec.loadAfter})`,
        );
      }
    }
  }
  const locals = Array.from({ length: layers }, (_, l) => l % EVERY !== 0).filter(Boolean).length;
  const globals = layers - locals;
  const gemmGflop = (L) =>
    (2 * L * layers * (3 * HIDDEN * HIDDEN + HIDDEN * HIDDEN + 2 * INTER * HIDDEN + INTER * HIDDEN)) / 1e9;
  const bandPairs = (L) => {
    let n = 0;
    for (let i = 0; i < L; i++) n += Math.min(L - 1, i + WINDOW / 2) - Math.max(0, i - WINDOW / 2) + 1;
    return n;
  };
  const pairs = (kind, L) => HEADS * (kind === "sparse" ? globals * L * L + locals * bandPairs(L) : layers * L * L);
  const agg = [];
  for (const L of lengths) {
    for (const kind of kinds) {
      const pts = results.filter((r) => r.kind === kind && r.L === L);
      if (pts.length === 0) continue;
      const m = (k) => median(pts.map((p) => p[k]));
      agg.push({
        kind,
        L,
        totalMs: m("totalMs"),
        attentionMs: m("attentionMs"),
        gemmMs: m("gemmMs"),
        localAttentionMs: m("localAttentionMs"),
        localKernelMs: m("localKernelMs"),
        localPairs: pts[0].localPairs,
        plainMsPerCall: m("plainMsPerCall"),
        plainPairs: pts[0].plainPairs,
        loads: pts.map((p) => `${p.loadBefore.split(" ")[0]}→${p.loadAfter.split(" ")[0]}`).join(", "),
        n: pts.length,
      });
    }
  }
  console.log(
    `\nModernBERT-base shapes: ${layers} layers (${globals} global, ${locals} local, window ${WINDOW}), hidden ${HIDDEN}, ${HEADS} heads, intermediate ${INTER}; batch 1; threads ${threads}; median of ${rounds} interleaved round(s) × ${repeats} forward(s)\n`,
  );
  printTable(
    [
      "L",
      "model",
      "s / doc",
      "tokens/s",
      "attention share",
      "GEMM share",
      "GEMM GFLOP",
      "attention Mpairs",
      "1-min load (before→after)",
    ],
    agg.map((r) => [
      r.L,
      r.kind,
      fmt.ms(r.totalMs / 1000),
      (r.L / (r.totalMs / 1000)).toFixed(0),
      Number.isFinite(r.attentionMs) ? `${((100 * r.attentionMs) / r.totalMs).toFixed(0)} %` : "—",
      Number.isFinite(r.gemmMs) ? `${((100 * r.gemmMs) / r.totalMs).toFixed(0)} %` : "—",
      gemmGflop(r.L).toFixed(0),
      (pairs(r.kind === "sparse" ? "sparse" : "dense", r.L) / 1e6).toFixed(0),
      r.loads,
    ]),
  );
  console.log("\nSpeed-ups (same run):");
  const rows = [];
  for (const L of lengths) {
    const get = (k) => agg.find((r) => r.kind === k && r.L === L);
    const s = get("sparse");
    if (s === undefined) continue;
    const d = get("dense");
    const h = get("hf");
    const perPair = s.localAttentionMs / s.localPairs;
    const perPairKernel = s.localKernelMs / s.localPairs;
    const plain = s.plainMsPerCall / s.plainPairs;
    rows.push([
      L,
      d ? `${(d.totalMs / s.totalMs).toFixed(2)}×` : "—",
      h ? `${(h.totalMs / s.totalMs).toFixed(2)}×` : "—",
      `${(perPair * 1e6).toFixed(2)} ns`,
      `${(perPairKernel * 1e6).toFixed(2)} ns`,
      `${(plain * 1e6).toFixed(2)} ns`,
      `${(perPair / plain).toFixed(2)}×`,
      `${(perPairKernel / plain).toFixed(2)}×`,
    ]);
  }
  printTable(
    [
      "L",
      "sparse vs dense",
      "sparse vs HF eager",
      "local attn / pair (model)",
      "kernel / pair (model)",
      "plain attention() / pair",
      "model / plain",
      "kernel / plain",
    ],
    rows,
  );
  if (arg("json", null)) {
    const { writeFileSync } = await import("node:fs");
    writeFileSync(arg("json", null), JSON.stringify({ results, agg }, null, 1));
  }
}

if (process.argv[2] === "--child") await child();
else await main();
