// A module worker using the library's models API as a user's page would: loadModel / pipeline by
// Hub id (fetch + the Cache API, the Hub at request.hubUrl), forward on the wasm backend.
// test/browser/models-wasm.test.ts bundles it with esbuild (platform "browser") from dist/.

import { startWasmThreads } from "../../../../dist/index.js";
import { BROWSER_CACHE_NAME, loadModel, pipeline } from "../../../../dist/models/index.js";

const ints = (t) => (t === undefined ? undefined : { data: Int32Array.from(t.data), shape: t.shape });

async function forward(r) {
  const model = await loadModel(r.repo, { hubUrl: r.hubUrl });
  const res = await model.forward(
    {
      inputIds: ints(r.inputs.inputIds),
      attentionMask: ints(r.inputs.attentionMask),
      globalAttentionMask: ints(r.inputs.globalAttentionMask),
    },
    { backend: "wasm", threads: r.threads, profile: true },
  );
  return {
    lastHiddenState: Array.from(res.lastHiddenState.data),
    shape: res.lastHiddenState.shape,
    poolerOutput: res.poolerOutput && Array.from(res.poolerOutput.data),
    backends: res.profile.backends,
  };
}

async function embed(r) {
  const fe = await pipeline("feature-extraction", r.repo, { hubUrl: r.hubUrl, backend: "wasm", threads: r.threads });
  const v = await fe(r.text);
  const model = await loadModel(r.repo, { hubUrl: r.hubUrl, task: "none" });
  return { embedding: Array.from(v.data), shape: v.shape, sentencePooling: model.sentencePooling };
}

self.onmessage = async (e) => {
  const r = e.data;
  try {
    const ready = r.threads > 1 ? await startWasmThreads(r.threads) : 1;
    const result = r.kind === "embed" ? await embed(r) : await forward(r);
    const cached = (await (await caches.open(BROWSER_CACHE_NAME)).keys()).map((q) => q.url);
    postMessage({ ready, isolated: self.crossOriginIsolated, cached, ...result });
  } catch (err) {
    postMessage({ error: err instanceof Error ? `${err.message}\n${err.stack}` : String(err) });
  }
};
