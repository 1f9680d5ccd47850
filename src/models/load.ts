/**
 * loadModel(source): a folder path (Node) with config.json and model.safetensors or a sharded
 * model.safetensors.index.json, else pytorch_model.bin or its sharded index (+ tokenizer.json /
 * tokenizer_config.json when present); a
 * Hugging Face Hub id "owner/name" (downloaded once into the HF cache by src/hub/index.ts, or
 * kept in the Cache API in a browser); or, everywhere, { config, weights, tokenizer? } with the
 * safetensors (or pytorch_model.bin) bytes. Node's fs is looked up at run time, so browser bundles stay clean.
 */
import { AttentionArgumentError, describe } from "../errors.js";
import { downloadModel, fetchModelFiles, type HubOptions, isRepoId } from "../hub/index.js";
import { architectureOf } from "./architectures/index.js";
import type { ModelExtras } from "./architectures/types.js";
import { type ModelConfig, parseConfig } from "./config.js";
import { Model, type TokenizerFiles } from "./encode.js";
import { byteLevelBpeJson } from "./pipeline/bpe-json.js";
import { CheckpointError, shardsOf, WeightStore } from "./safetensors.js";
import { chooseHead } from "./tasks/choose.js";
import { openWeights } from "./torch/checkpoint.js";
import { loadWeights } from "./weights.js";
// ModernBertModel registers itself with its registry entry when its module runs
import "./modernbert/modernbert.js";
import { poolingPath } from "./modernbert/pooling.js";

export interface ModelSource {
  /** config.json, parsed. */
  config: unknown;
  /** The bytes of model.safetensors, or of each shard. */
  weights: ArrayBuffer | Uint8Array | ReadonlyArray<ArrayBuffer | Uint8Array>;
  /** tokenizer.json and tokenizer_config.json, parsed. */
  tokenizer?: TokenizerFiles;
  /** Embedding models: sentence-transformers' modules.json and its Pooling module's config.json, parsed. */
  sentenceModules?: unknown;
  poolingConfig?: unknown;
}

/**
 * For a Hub id: the hub's options (revision, cacheDir, offline, hubUrl, token, onProgress, fetch).
 * `task`: the head to load — a pipeline task ("question-answering"), an HF head
 * ("ForQuestionAnswering") or "none"; default: config.architectures[0]'s head, if any.
 */
export type LoadOptions = Omit<HubOptions, "validateConfig"> & { task?: string };

interface Fs {
  existsSync(p: string): boolean;
  statSync(p: string): { isDirectory(): boolean };
  readFileSync(p: string): Uint8Array;
  readFileSync(p: string, enc: "utf8"): string;
}

function nodeFs(): Fs | null {
  const proc = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process;
  return (proc?.getBuiltinModule?.("node:fs") as Fs | undefined) ?? null;
}

function join(dir: string, file: string): string {
  return dir.endsWith("/") || dir.endsWith("\\") ? dir + file : `${dir}/${file}`;
}

function readJson(fs: Fs, p: string): unknown {
  try {
    return JSON.parse(fs.readFileSync(p, "utf8"));
  } catch (e) {
    throw new CheckpointError(`${p}: not valid JSON (${(e as Error).message})`);
  }
}

function withHead(store: WeightStore, config: ModelConfig, task: string | undefined, files: ModelExtras): Model {
  const weights = loadWeights(store, config);
  const name = chooseHead(config, task);
  const arch = architectureOf(config.modelType);
  const entry = name === null ? null : arch.heads[name];
  const head =
    name === null || entry === null ? null : { name, entry, weights: entry.load(store, config, weights.prefix) };
  // the architecture's own model class when it has one (ModernBERT: sentence-transformers' pooling)
  if (arch.createModel !== undefined) return arch.createModel(config, weights, { ...files, head });
  return new Model(config, weights, files.tokenizer, head);
}

/**
 * The folder's weights, in the order transformers prefers them: model.safetensors, its
 * sharded index, then pytorch_model.bin and its sharded index (read without executing the pickle).
 */
function folderWeights(fs: Fs, dir: string): WeightStore {
  for (const [single, index] of [
    ["model.safetensors", "model.safetensors.index.json"],
    ["pytorch_model.bin", "pytorch_model.bin.index.json"],
  ]) {
    const singlePath = join(dir, single);
    if (fs.existsSync(singlePath))
      return new WeightStore([openWeights(fs.readFileSync(singlePath), singlePath)], singlePath);
    const indexPath = join(dir, index);
    if (fs.existsSync(indexPath)) {
      const { files, weightMap } = shardsOf(readJson(fs, indexPath), indexPath);
      const shards = files.map((f) => {
        const p = join(dir, f);
        if (!fs.existsSync(p)) throw new CheckpointError(`${indexPath}: shard ${f} is missing from ${dir}`);
        return openWeights(fs.readFileSync(p), p);
      });
      return new WeightStore(shards, indexPath, weightMap);
    }
  }
  throw new CheckpointError(
    `${dir}: no model.safetensors, model.safetensors.index.json, pytorch_model.bin or pytorch_model.bin.index.json`,
  );
}

function fromFolder(fs: Fs, dir: string, task?: string): Model {
  const cfgPath = join(dir, "config.json");
  if (!fs.existsSync(cfgPath)) throw new CheckpointError(`${dir}: no config.json in the model folder`);
  const config = parseConfig(readJson(fs, cfgPath), cfgPath);
  const store = folderWeights(fs, dir);
  const files: ModelExtras = {
    tokenizer: folderTokenizer(fs, dir),
    label: dir,
    ...sentenceFiles((file) => {
      const p = join(dir, file);
      return fs.existsSync(p) ? readJson(fs, p) : undefined;
    }, dir),
  };
  return withHead(store, config, task, files);
}

/**
 * sentence-transformers' files, read by `read` (parsed JSON, undefined when absent):
 * modules.json, and the config.json of the Pooling module's folder it names (usually 1_Pooling).
 */
function sentenceFiles(
  read: (file: string) => unknown,
  where: string,
): Pick<ModelExtras, "sentenceModules" | "poolingConfig"> {
  const sentenceModules = read("modules.json");
  if (sentenceModules === undefined) return {};
  const pool = poolingPath(sentenceModules, join(where, "modules.json"));
  const poolingConfig = pool === null ? undefined : read(`${pool}/config.json`);
  return poolingConfig === undefined ? { sentenceModules } : { sentenceModules, poolingConfig };
}

/**
 * tokenizer.json + tokenizer_config.json; without tokenizer.json, a byte-level BPE's slow files
 * (vocab.json + merges.txt) converted as HF's convert_slow_tokenizer does.
 */
function folderTokenizer(fs: Fs, dir: string): TokenizerFiles | undefined {
  const tcPath = join(dir, "tokenizer_config.json");
  const config = fs.existsSync(tcPath) ? readJson(fs, tcPath) : {};
  const tokPath = join(dir, "tokenizer.json");
  if (fs.existsSync(tokPath)) return { tokenizer: readJson(fs, tokPath), config };
  const vocab = join(dir, "vocab.json");
  const merges = join(dir, "merges.txt");
  if (!fs.existsSync(vocab) || !fs.existsSync(merges)) return undefined;
  const stm = join(dir, "special_tokens_map.json");
  const tokenizer = byteLevelBpeJson(
    readJson(fs, vocab),
    fs.readFileSync(merges, "utf8"),
    config,
    fs.existsSync(stm) ? readJson(fs, stm) : {},
  );
  return { tokenizer, config };
}

/** Loads a Longformer or BigBird encoder. */
export async function loadModel(source: string | ModelSource, options: LoadOptions = {}): Promise<Model> {
  if (typeof source === "string") {
    const fs = nodeFs();
    const { task, ...hubOptions } = options;
    if (fs?.existsSync(source) && fs.statSync(source).isDirectory()) return fromFolder(fs, source, task);
    if (isRepoId(source)) {
      // the whole config is checked (model type, every field, every bound) before any weights are
      // requested; the architecture may ask for optional files it reads (ModernBERT: sentence-transformers' pooling)
      const hub: HubOptions = {
        ...hubOptions,
        validateConfig: (c) => architectureOf(parseConfig(c, `${source}: config.json`).modelType).optionalFiles ?? [],
      };
      if (fs !== null) return fromFolder(fs, await downloadModel(source, hub), task);
      // a browser: fetch() and the Cache API, the optional files in files.extra
      const files = await fetchModelFiles(source, hub);
      const tokenizer =
        files.tokenizer === undefined ? undefined : { tokenizer: files.tokenizer, config: files.tokenizerConfig ?? {} };
      const st = sentenceFiles((file) => files.extra?.[file], source);
      return fromSource({ config: files.config, weights: files.weights, tokenizer, ...st }, source, task);
    }
    throw new AttentionArgumentError(
      "loadModel(source)",
      source,
      fs === null
        ? 'a Hub id "owner/name" or { config, weights, tokenizer? } (folders can only be read in Node)'
        : 'an existing model folder (config.json + model.safetensors) or a Hub id "owner/name"; that path does not exist or is not a folder',
    );
  }
  if (source === null || typeof source !== "object") {
    throw new AttentionArgumentError(
      "loadModel(source)",
      source,
      'a folder path, a Hub id "owner/name" or { config, weights, tokenizer? }',
    );
  }
  return fromSource(source, "source", options.task);
}

function fromSource(source: ModelSource, label: string, task?: string): Model {
  const { config, weights, tokenizer, sentenceModules, poolingConfig } = source;
  const c = parseConfig(config, `${label}.config`);
  const list = Array.isArray(weights) ? weights : [weights];
  if (list.length === 0 || !list.every((w) => w instanceof ArrayBuffer || w instanceof Uint8Array)) {
    throw new AttentionArgumentError(
      `${label}.weights`,
      describe(weights),
      "an ArrayBuffer or Uint8Array holding a safetensors file or a pytorch_model.bin (or one per shard)",
    );
  }
  const files = list.map((w, i) =>
    openWeights(w as ArrayBuffer | Uint8Array, list.length === 1 ? `${label}.weights` : `${label}.weights[${i}]`),
  );
  const store = new WeightStore(files, `${label}.weights`);
  return withHead(store, c, task, { tokenizer, label, sentenceModules, poolingConfig });
}
