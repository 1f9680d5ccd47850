/**
 * `sparse-attention encode --model DIR (--text FILE | --stdin | --ids 0,5,9) [--global 0,5]
 * [--json OUT]`: runs a Longformer / BigBird checkpoint folder on one document, with a
 * progress bar per layer (stderr) and a closing line with tokens, time and tokens/s.
 */
import { readFileSync, writeFileSync } from "node:fs";
import cliProgress from "cli-progress";
import { type Command, InvalidArgumentError, Option } from "commander";
import { type ForwardOutput, isRepoId, loadModel } from "../models/index.js";
import { modelLoadError, UsageError } from "./commands.js";
import { createHubProgress } from "./hub-progress.js";

/** A list of non-negative integers as typed: each kept as its text and its value (exact; past 2^53 it is Infinity, out of every range). */
export interface TypedInt {
  text: string;
  value: number;
}

export function intList(example: string) {
  return (v: string): TypedInt[] => {
    const parts = v.split(",").map((s) => s.trim());
    if (parts.length === 0 || parts.some((p) => !/^\d+$/.test(p))) {
      throw new InvalidArgumentError(`got "${v}"; expected comma-separated non-negative integers, e.g. ${example}`);
    }
    return parts.map((text) => {
      const value = Number(text);
      return { text, value: Number.isSafeInteger(value) ? value : Number.POSITIVE_INFINITY };
    });
  };
}

/** The token ids of `--ids`, each checked against the model's vocabulary before it becomes an Int32 (no wrap-around). */
export function checkIds(ids: TypedInt[], vocab: number): Int32Array {
  const out = new Int32Array(ids.length);
  for (let i = 0; i < ids.length; i++) {
    const { text, value } = ids[i];
    if (!(value < vocab)) {
      throw new UsageError(
        `--ids: id ${text} (number ${i + 1} in the list) is not a token id of this model; expected an integer in [0, ${vocab}) (vocab_size ${vocab})`,
      );
    }
    out[i] = value;
  }
  return out;
}

function readStdin(): string {
  return readFileSync(0, "utf8");
}

export function registerEncode(prog: Command, out: (s: string) => void, err: (s: string) => void): void {
  prog
    .command("encode")
    .description(
      "run an encoder checkpoint (Longformer, BigBird, ModernBERT, Reformer; a folder or a Hub id) on a document; print or save the hidden states",
    )
    .requiredOption(
      "--model <dir|owner/name>",
      "model folder (config.json, model.safetensors, tokenizer.json) or a Hugging Face Hub id, downloaded once into the HF cache",
    )
    .option("--text <file>", "the document, a UTF-8 text file")
    .option("--stdin", "read the document from standard input")
    .option("--ids <list>", "token ids instead of text (no tokenizer needed), e.g. 0,261,264,2", intList("0,261,264,2"))
    .option("--global <list>", "Longformer: positions with global attention, e.g. 0,5", intList("0,5"))
    .option("--max-length <n>", "truncate to n tokens (default: what the model's positions allow)", (v) => {
      const n = Number(v);
      if (!Number.isSafeInteger(n) || n < 1)
        throw new InvalidArgumentError(`got "${v}"; expected an integer >= 1, e.g. 4096`);
      return n;
    })
    .option("--json <file>", "write { tokens, ids, lastHiddenState, poolerOutput } as JSON")
    .addOption(new Option("--backend <name>", "backend").choices(["auto", "wasm", "js"]).default("auto"))
    .option("--threads <n>", "threads (default: the cores available)", (v) => {
      const n = Number(v);
      if (!Number.isSafeInteger(n) || n < 1)
        throw new InvalidArgumentError(`got "${v}"; expected an integer >= 1, e.g. 2`);
      return n;
    })
    .option("--no-progress", "no progress bar")
    .action(async (o) => {
      const sources = [o.text !== undefined, o.stdin === true, o.ids !== undefined].filter(Boolean).length;
      if (sources !== 1) throw new UsageError("give exactly one of --text FILE, --stdin or --ids LIST");
      let model: Awaited<ReturnType<typeof loadModel>>;
      const hub = isRepoId(o.model) ? createHubProgress() : null;
      try {
        model = await loadModel(o.model, { task: "none", ...(hub ? { onProgress: hub.onProgress } : {}) });
        hub?.stop();
      } catch (e) {
        hub?.stop();
        throw modelLoadError(e);
      }
      const bar =
        o.progress && process.stderr.isTTY
          ? new cliProgress.SingleBar(
              {
                format: "encoding {bar} layer {value}/{total} | {duration_formatted}",
                stream: process.stderr,
                clearOnComplete: true,
              },
              cliProgress.Presets.shades_classic,
            )
          : null;
      const onLayer = (done: number, total: number) => {
        if (done === 0) bar?.start(total, 0);
        else bar?.update(done);
      };
      const common = { backend: o.backend, threads: o.threads, onLayer };
      const t0 = performance.now();
      let res: ForwardOutput & { tokens?: string[][]; ids?: number[][] };
      if (o.ids !== undefined) {
        const ids = checkIds(o.ids as TypedInt[], model.config.vocab);
        const shape: [number, number] = [1, ids.length];
        const g = new Int32Array(ids.length);
        for (const { text, value } of (o.global as TypedInt[] | undefined) ?? []) {
          if (!(value < ids.length))
            throw new UsageError(`--global ${text}: a position below the ${ids.length} tokens`);
          g[value] = 1;
        }
        res = await model.forward(
          { inputIds: { data: ids, shape }, ...(o.global ? { globalAttentionMask: { data: g, shape } } : {}) },
          common,
        );
        res.ids = [Array.from(ids)];
      } else {
        let text: string;
        try {
          text = o.stdin ? readStdin() : readFileSync(o.text, "utf8");
        } catch (e) {
          throw new UsageError(`--text ${o.text}: cannot read it (${(e as Error).message})`);
        }
        if (!model.hasTokenizer) {
          throw new UsageError(
            `${o.stdin ? "--stdin" : `--text ${o.text}`}: the model ${o.model} has no tokenizer.json, so text cannot be turned into token ids here; put tokenizer.json (and tokenizer_config.json) beside config.json, or give the token ids yourself with --ids, e.g. --ids 0,261,264,2`,
          );
        }
        const globalTokens = (o.global as TypedInt[] | undefined)?.map((g) => g.value);
        res = await model.encode(text, { ...common, globalTokens, maxLength: o.maxLength });
      }
      const seconds = (performance.now() - t0) / 1000;
      bar?.stop();
      const [B, L, h] = res.lastHiddenState.shape;
      if (o.json) {
        const doc = {
          model: o.model,
          modelType: model.config.modelType,
          tokens: res.tokens?.[0],
          ids: res.ids?.[0],
          lastHiddenState: { shape: [B, L, h], data: Array.from(res.lastHiddenState.data) },
          poolerOutput: res.poolerOutput
            ? { shape: res.poolerOutput.shape, data: Array.from(res.poolerOutput.data) }
            : undefined,
        };
        writeFileSync(o.json, JSON.stringify(doc));
        err(`wrote ${o.json}`);
      } else {
        const first = Array.from(res.lastHiddenState.data.subarray(0, Math.min(4, h)), (x) => x.toFixed(4));
        out(`last_hidden_state [${B}, ${L}, ${h}]; token 0 starts [${first.join(", ")}, …]`);
      }
      out(`${model.config.modelType}: ${L} tokens in ${seconds.toFixed(2)} s (${(L / seconds).toFixed(1)} tokens/s)`);
    });
}
