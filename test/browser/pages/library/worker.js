// A module worker importing the library's ESM build as a user's page would.

import { parsePattern } from "/dist/catalog/pattern-expr.js";
import { attention, startWasmThreads } from "/dist/index.js";
import { randomTensor } from "/dist/util/rng.js";

self.onmessage = async (e) => {
  const { cases, backend, threads } = e.data;
  try {
    const ready = backend === "wasm" && threads > 1 ? await startWasmThreads(threads) : 1;
    const results = cases.map((c) => {
      // q: [1, H, n, D]; LSH shares q and k (Reformer's shared-QK attention)
      const q = randomTensor([1, c.heads, c.n, c.headDim], c.seed);
      const k = c.sharedQK ? q : randomTensor([1, c.heads, c.n, c.headDim], c.seed + 1);
      const v = randomTensor([1, c.heads, c.n, c.headDim], c.seed + 2);
      const r = attention(q, k, v, { pattern: parsePattern(c.expr), backend, threads });
      return {
        out: Array.from(r.out.data),
        lse: Array.from(r.lse),
        backend: r.stats.backend,
        threads: r.stats.threads,
      };
    });
    postMessage({ ready, isolated: self.crossOriginIsolated, results });
  } catch (err) {
    postMessage({ error: err instanceof Error ? `${err.message}\n${err.stack}` : String(err) });
  }
};
