// sparse-attention itself (dist/), as a bench contender: js, wasm on 1 thread, wasm on all cores.
import { attention, patterns } from "../../dist/index.js";

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
      return patterns.lsh({ buckets: Math.max(2, 2 * Math.round(n / 128)), hashes: 2, chunkLength: 64, seed: 0 });
    default:
      throw new Error(`unknown pattern ${name}`);
  }
}

export function setup({ q, k, v, n, pattern, backend, threads }) {
  const p = makePattern(pattern, n);
  let stats = null;
  return {
    run() {
      stats = attention(q, k, v, { pattern: p, backend, threads }).stats;
    },
    work: () => ({ scoredPairs: stats.scoredPairs, allowedPairs: stats.allowedPairs, flops: stats.flops }),
  };
}
