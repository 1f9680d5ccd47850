// tfjs with tfjs-backend-wasm: dense attention as matMul -> softmax -> matMul (what a tfjs
// user writes). Materialises the [H, L, L] scores.
import * as tf from "@tensorflow/tfjs-core";
import "@tensorflow/tfjs-backend-wasm";

export async function setup({ q, k, v }) {
  await tf.setBackend("wasm");
  await tf.ready();
  const [B, H, L, D] = q.shape;
  const tq = tf.tensor4d(q.data, [B, H, L, D]);
  const tk = tf.tensor4d(k.data, [B, H, L, D]);
  const tv = tf.tensor4d(v.data, [B, H, L, D]);
  const scale = 1 / Math.sqrt(D);
  return {
    run() {
      const o = tf.tidy(() => tf.matMul(tf.softmax(tf.mul(tf.matMul(tq, tk, false, true), scale)), tv));
      o.dataSync();
      o.dispose();
    },
    note: `simd ${tf.env().getBool("WASM_HAS_SIMD_SUPPORT")}, threads ${tf.env().getBool("WASM_HAS_MULTITHREAD_SUPPORT")}`,
  };
}
