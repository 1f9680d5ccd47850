// onnxruntime-node's native attention: com.microsoft MultiHeadAttention (dense) and
// GroupQueryAttention (causal; with local_window_size for causal sliding windows).
import ort from "onnxruntime-node";
import { oneNodeModel } from "./onnx-model.mjs";

/** [B, H, L, D] -> [B, L, H·D] (the BSNH layout both ops take). */
export function toBSH(t) {
  const [B, H, L, D] = t.shape;
  const out = new Float32Array(t.data.length);
  for (let b = 0; b < B; b++)
    for (let h = 0; h < H; h++)
      for (let i = 0; i < L; i++) {
        const src = ((b * H + h) * L + i) * D; // [B, H, L, D]
        const dst = ((b * L + i) * H + h) * D; // [B, L, H, D]
        out.set(t.data.subarray(src, src + D), dst);
      }
  return out;
}

const f32 = (name, dims) => ({ name, type: 1, dims });
const i32 = (name, dims) => ({ name, type: 6, dims });

/** kind: "mha" (dense) | "gqa" (causal, window = local_window_size or -1). */
export async function setup({ q, k, v, kind, window = -1, threads }) {
  const [B, H, L, D] = q.shape;
  const opts = { intraOpNumThreads: threads, interOpNumThreads: 1, graphOptimizationLevel: "all" };
  const tq = new ort.Tensor("float32", toBSH(q), [B, L, H * D]);
  const tk = new ort.Tensor("float32", toBSH(k), [B, L, H * D]);
  const tv = new ort.Tensor("float32", toBSH(v), [B, L, H * D]);
  if (kind === "mha") {
    const model = oneNodeModel({
      opType: "MultiHeadAttention",
      domain: "com.microsoft",
      inputs: [f32("q", [B, "S", H * D]), f32("k", [B, "L", H * D]), f32("v", [B, "L", H * D])],
      outputs: [f32("o", [B, "S", H * D])],
      attrs: { num_heads: { i: H } },
    });
    const s = await ort.InferenceSession.create(model, opts);
    return { run: () => s.run({ q: tq, k: tk, v: tv }) };
  }
  const model = oneNodeModel({
    opType: "GroupQueryAttention",
    domain: "com.microsoft",
    inputs: [
      f32("q", [B, "S", H * D]),
      f32("k", [B, "S", H * D]),
      f32("v", [B, "S", H * D]),
      i32("seqlens_k", [B]),
      i32("total", []),
    ],
    nodeInputs: ["q", "k", "v", "", "", "seqlens_k", "total"],
    outputs: [f32("o", [B, "S", H * D]), f32("pk", [B, H, "T", D]), f32("pv", [B, H, "T", D])],
    attrs: { num_heads: { i: H }, kv_num_heads: { i: H }, local_window_size: { i: window } },
  });
  const s = await ort.InferenceSession.create(model, opts);
  const seqlens = new ort.Tensor("int32", new Int32Array(B).fill(L - 1), [B]);
  const total = new ort.Tensor("int32", Int32Array.of(L), []);
  return { run: () => s.run({ q: tq, k: tk, v: tv, seqlens_k: seqlens, total }) };
}
