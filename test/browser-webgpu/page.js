// Runs in Chromium (test/browser-webgpu/webgpu.browser.test.ts): the built library from /dist.
import { attention, attentionAsync, patterns, referenceAttention } from "/dist/index.js";
import { randomTensor } from "/dist/util/rng.js";

function maxAbsDiff(a, b) {
  let m = 0;
  for (let i = 0; i < a.length; i++) {
    if (a[i] === b[i]) continue; // equal infinities too
    const d = Math.abs(a[i] - b[i]);
    if (!(d <= m)) m = Number.isNaN(d) ? Number.POSITIVE_INFINITY : d;
  }
  return m;
}

/** True when a and b hold the same bits. */
function sameBits(a, b) {
  const x = new Uint32Array(a.buffer, a.byteOffset, a.length);
  const y = new Uint32Array(b.buffer, b.byteOffset, b.length);
  if (x.length !== y.length) return false;
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return false;
  return true;
}

const SEEDS = [
  ["dense", () => patterns.dense()],
  ["causal", () => patterns.causal()],
  ["longformer", () => patterns.longformer({ window: 16, dilation: 2, global: [0, 100] })],
  ["strided", () => patterns.strided({ stride: 16 })],
  ["fixed", () => patterns.fixed({ block: 32, summary: 4 })],
  ["bigBird", () => patterns.bigBird({ blockSize: 16, randomBlocks: 2, seed: 3 })],
  ["lsh", () => patterns.lsh({ buckets: 8, hashes: 2, chunkLength: 16, seed: 5 })],
];

/** Every seed pattern through attentionAsync with backend "webgpu", against the float64 oracle (LSH: the js kernel). */
window.runSeeds = async () => {
  const [B, H, Hkv, n, D] = [1, 4, 2, 256, 32];
  const rows = [];
  for (const [name, make] of SEEDS) {
    const pattern = make();
    const q = randomTensor([B, H, n, D], 1);
    const lsh = name === "lsh";
    const k = lsh ? { data: q.data, shape: q.shape } : randomTensor([B, Hkv, n, D], 2);
    const v = randomTensor([B, lsh ? H : Hkv, n, D], 3);
    const got = await attentionAsync(q, k, v, { pattern, backend: "webgpu" });
    let want;
    if (lsh) {
      want = attention(q, k, v, { pattern, backend: "js" });
      want = { out: want.out.data, lse: want.lse };
    } else {
      want = referenceAttention(q, k, v, { pattern });
      want = { out: want.out.data, lse: want.lse };
    }
    rows.push({
      name,
      backend: got.stats.backend,
      adapter: got.stats.adapter,
      out: maxAbsDiff(got.out.data, want.out),
      lse: maxAbsDiff(got.lse, want.lse),
    });
  }
  return rows;
};

/**
 * Counts setInterval ticks while a call is pending: attentionAsync with wasm (the managed
 * worker) and, as the control, the synchronous attention() (which must freeze the page).
 */
window.ticksDuring = async (mode) => {
  const n = 2048;
  const D = 64;
  const q = randomTensor([1, 2, n, D], 11);
  const k = randomTensor([1, 2, n, D], 12);
  const v = randomTensor([1, 2, n, D], 13);
  let ticks = 0;
  const timer = setInterval(() => ticks++, 1);
  await new Promise((r) => setTimeout(r, 20)); // the interval is running
  const before = ticks;
  let result;
  if (mode === "async") result = await attentionAsync(q, k, v, { backend: "wasm" });
  else result = attention(q, k, v, { backend: "wasm" });
  const during = ticks - before;
  clearInterval(timer);
  const sync = attention(q, k, v, { backend: "wasm" });
  return {
    during,
    backend: result.stats.backend,
    sameOut: maxAbsDiff(result.out.data, sync.out.data),
    sameLse: maxAbsDiff(result.lse, sync.lse),
    sameStats: JSON.stringify(result.stats) === JSON.stringify(sync.stats),
  };
};

/** attentionAsync through the managed worker vs attention() here: the same bits and stats, every seed pattern (LSH with separate q and k: keys transformed here), also into options.out / options.lse. */
window.workerMatches = async () => {
  const [B, H, Hkv, n, D] = [2, 2, 1, 200, 16];
  const rows = [];
  for (const [name, make] of SEEDS) {
    const pattern = make();
    const lsh = name === "lsh";
    const q = randomTensor([B, H, n, D], 21);
    const k = randomTensor([B, lsh ? H : Hkv, n, D], 22);
    const v = randomTensor([B, lsh ? H : Hkv, n, D], 23);
    for (const backend of ["wasm", "js"]) {
      const got = await attentionAsync(q, k, v, { pattern, backend });
      const want = attention(q, k, v, { pattern, backend });
      // options.out / options.lse: the worker's result copied into the caller's buffers, which
      // held NaN with an odd payload (a leftover entry would show), and returned as them
      const out = { data: new Float32Array(want.out.data.length), shape: q.shape };
      new Uint32Array(out.data.buffer).fill(0x7fc0dead);
      const lse = new Float32Array(want.lse.length);
      new Uint32Array(lse.buffer).fill(0x7fc0dead);
      const into = await attentionAsync(q, k, v, { pattern, backend, out, lse });
      rows.push({
        name: `${name} ${backend}`,
        out: maxAbsDiff(got.out.data, want.out.data),
        lse: maxAbsDiff(got.lse, want.lse),
        stats: JSON.stringify(got.stats) === JSON.stringify(want.stats),
        intoSame: into.out === out && into.lse === lse,
        intoBits:
          sameBits(out.data, want.out.data) &&
          sameBits(lse, want.lse) &&
          JSON.stringify(into.stats) === JSON.stringify(want.stats),
      });
    }
  }
  return rows;
};

document.getElementById("status").textContent = "ready";
