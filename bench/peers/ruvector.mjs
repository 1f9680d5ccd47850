// ruvector-attention-wasm: WasmFlashAttention (dense) and WasmLocalGlobalAttention. Its API
// takes ONE query vector per call (compute(query, keys[], values[])), so the bench times
// `sample` queries of head 0 and scales to L queries × H heads (reported as extrapolated).
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";

const require = createRequire(import.meta.url);
const dir = dirname(require.resolve("ruvector-attention-wasm/package.json"));

export async function setup({ q, k, v, kind, sample = 8 }) {
  const ru = await import(join(dir, "ruvector_attention_wasm.js"));
  ru.initSync({ module: readFileSync(join(dir, "ruvector_attention_wasm_bg.wasm")) });
  const [, H, L, D] = q.shape;
  const row = (t, i) => t.data.slice(i * D, (i + 1) * D); // head 0 of batch 0: [L, D]
  const keys = Array.from({ length: L }, (_, i) => row(k, i));
  const values = Array.from({ length: L }, (_, i) => row(v, i));
  const queries = Array.from({ length: Math.min(sample, L) }, (_, i) =>
    row(q, Math.floor((i * L) / Math.min(sample, L))),
  );
  const op = kind === "flash" ? new ru.WasmFlashAttention(D, 64) : new ru.WasmLocalGlobalAttention(D, 256, 0);
  return {
    run() {
      for (const x of queries) op.compute(x, keys, values);
    },
    /** Multiply the measured time by this to get the whole problem. */
    scale: (L * H) / queries.length,
    note: `${queries.length} of ${L * H} query rows timed, scaled ×${((L * H) / queries.length).toFixed(0)}`,
  };
}
