/**
 * loadReformer(source): a Reformer LM from a folder (config.json + model.safetensors or
 * pytorch_model.bin, sharded or not, + tokenizer.json when present), a Hub id "owner/name"
 * (downloaded once into the HF cache), or { config, weights, tokenizer? } with the bytes.
 */
import { AttentionArgumentError } from "../../errors.js";
import { downloadModel, fetchModelFiles, type HubOptions, isRepoId } from "../../hub/index.js";
import type { TokenizerFiles } from "../encode.js";
import { type Fs, folderWeights, join, type LoadOptions, type ModelSource, nodeFs, readJson } from "../load.js";
import { CheckpointError, WeightStore } from "../safetensors.js";
import { openWeights } from "../torch/checkpoint.js";
import { parseReformerConfig } from "./config.js";
import { ReformerModel } from "./model.js";
import { loadReformerWeights } from "./weights.js";

function checkType(config: unknown, where: string): void {
  const t = (config as { model_type?: unknown } | null)?.model_type;
  if (t !== "reformer") throw new AttentionArgumentError(`${where}.model_type`, t, '"reformer"');
}

function fromFolder(fs: Fs, dir: string): ReformerModel {
  const cfgPath = join(dir, "config.json");
  if (!fs.existsSync(cfgPath)) throw new CheckpointError(`${dir}: no config.json in the model folder`);
  const c = parseReformerConfig(readJson(fs, cfgPath), cfgPath);
  const store = folderWeights(fs, dir);
  const tokPath = join(dir, "tokenizer.json");
  const tcPath = join(dir, "tokenizer_config.json");
  const tokenizer: TokenizerFiles | undefined = fs.existsSync(tokPath)
    ? { tokenizer: readJson(fs, tokPath), config: fs.existsSync(tcPath) ? readJson(fs, tcPath) : {} }
    : undefined;
  return new ReformerModel(c, loadReformerWeights(store, c), tokenizer);
}

/** A Reformer from parsed config.json, weight bytes (one per shard) and optional tokenizer files. */
export function reformerFromSource(source: ModelSource, label = "source"): ReformerModel {
  const c = parseReformerConfig(source.config, `${label}.config`);
  const list = Array.isArray(source.weights) ? source.weights : [source.weights];
  const files = list.map((w, i) =>
    openWeights(w as ArrayBuffer | Uint8Array, list.length === 1 ? `${label}.weights` : `${label}.weights[${i}]`),
  );
  return new ReformerModel(c, loadReformerWeights(new WeightStore(files, `${label}.weights`), c), source.tokenizer);
}

export async function loadReformer(source: string | ModelSource, options: LoadOptions = {}): Promise<ReformerModel> {
  if (typeof source !== "string") return reformerFromSource(source);
  const fs = nodeFs();
  if (fs?.existsSync(source) && fs.statSync(source).isDirectory()) return fromFolder(fs, source);
  if (isRepoId(source)) {
    const hub: HubOptions = { ...options, validateConfig: (c) => checkType(c, `${source}: config.json`) };
    if (fs !== null) return fromFolder(fs, await downloadModel(source, hub));
    const files = await fetchModelFiles(source, hub);
    const tokenizer =
      files.tokenizer === undefined ? undefined : { tokenizer: files.tokenizer, config: files.tokenizerConfig ?? {} };
    return reformerFromSource({ config: files.config, weights: files.weights, tokenizer }, source);
  }
  throw new AttentionArgumentError(
    "loadReformer(source)",
    source,
    'an existing model folder or a Hub id "owner/name"; that path does not exist or is not a folder',
  );
}
