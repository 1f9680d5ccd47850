// sparse-attention itself (dist/), as a bench contender: js, wasm on 1 thread, wasm on all cores,
// and webgpu (attentionAsync; Dawn in Node, on whatever adapter it finds).
import { attention, attentionAsync, patterns } from "../../dist/index.js";

/** The bench's pattern set, by name, for length n. */
export function makePattern(name, n) {
  switch (name) {
    case "dense":
      return patterns.dense();
    case "causal":
      return patterns.causal();
    case "window256":
      return patterns.slidingWindow({ left: 256, right: 0 });
    case "bigbird":
      return patterns.bigBird({ blockSize: 64, randomBlocks: 3, seed: 0 });
    case "strided":
      return patterns.strided({ stride: 128 });
    case "fixed":
      return patterns.fixed({ block: 128, summary: 8 });
    case "lsh":
      return patterns.lsh({ buckets: lshBuckets(n), hashes: 2, chunkLength: 64, seed: 0 });
    default:
      throw new Error(`unknown pattern ${name}`);
  }
}

/** About n/64 buckets (one chunk per bucket on average), factorised as HF's [a, b] once large, so hashing stays cheap. */
function lshBuckets(n) {
  const total = Math.max(2, 2 * Math.round(n / 128));
  if (total < 64) return total;
  const a = 2 ** Math.floor(Math.log2(total) / 2);
  return [a, total / a];
}

export function setup({ q, k, v, n, pattern, backend, threads }) {
  const p = makePattern(pattern, n);
  let stats = null;
  if (backend === "webgpu") {
    const inst = {
      note: null,
      async run() {
        stats = (await attentionAsync(q, k, v, { pattern: p, backend })).stats;
        const soft = /swiftshader|llvmpipe|lavapipe|software/i.test(stats.adapter);
        inst.note = `adapter ${stats.adapter}${soft ? "; a SOFTWARE adapter: these times say nothing about a real GPU" : ""}`;
      },
      work: () => ({ scoredPairs: stats.scoredPairs, allowedPairs: stats.allowedPairs, flops: stats.flops }),
    };
    return inst;
  }
  return {
    run() {
      stats = attention(q, k, v, { pattern: p, backend, threads }).stats;
    },
    work: () => ({ scoredPairs: stats.scoredPairs, allowedPairs: stats.allowedPairs, flops: stats.flops }),
  };
}
