/**
 * `sparse-attention generate --model <dir|owner/name> --prompt "…" --max-new-tokens N
 * [--sample --seed S --temperature T --top-k K --top-p P] [--bytes] [--no-cache]`: text from a
 * Reformer LM, streamed to stdout token by token; the closing line (stderr) gives the tokens,
 * the time and tokens/s. See docs/models.md, "Reformer".
 */
import { type Command, InvalidArgumentError, Option } from "commander";
import { isRepoId } from "../hub/index.js";
import { loadModel } from "../models/load.js";
import { modelLoadError, UsageError } from "./commands.js";
import { checkIds } from "./encode.js";
import { createHubProgress } from "./hub-progress.js";

function intArg(min: number, example: string) {
  return (v: string): number => {
    const n = Number(v);
    if (!/^\s*\d+\s*$/.test(v) || !Number.isSafeInteger(n) || n < min) {
      throw new InvalidArgumentError(`got "${v}"; expected an integer >= ${min}, e.g. ${example}`);
    }
    return n;
  };
}

function numArg(ok: (x: number) => boolean, form: string) {
  return (v: string): number => {
    const n = Number(v);
    if (v.trim() === "" || !Number.isFinite(n) || !ok(n))
      throw new InvalidArgumentError(`got "${v}"; expected ${form}`);
    return n;
  };
}

export function registerGenerate(prog: Command, out: (s: string) => void, err: (s: string) => void): void {
  prog
    .command("generate")
    .description("generate text with a causal language model (Reformer; a folder or a Hugging Face Hub id), streamed")
    .requiredOption("--model <dir|owner/name>", "model folder (config.json, weights, tokenizer.json) or a Hub id")
    .option("--prompt <text>", "the prompt text")
    .option("--ids <list>", "prompt token ids instead of text, e.g. 2,87,50 (prints ids)", (v: string) => {
      if (!/^\s*\d+(\s*,\s*\d+)*\s*$/.test(v))
        throw new InvalidArgumentError(`got "${v}"; expected comma-separated ids, e.g. 2,87,50`);
      return v.split(",").map((s) => ({ text: s.trim(), value: Number(s) }));
    })
    .option("--max-new-tokens <n>", "tokens to generate", intArg(1, "100"), 50)
    .option("--bytes", "byte-level model without tokenizer.json (enwik8: ids = UTF-8 bytes + 2)")
    .option("--no-cache", "run the full forward at every step instead of HF's cached decoding")
    .option("--sample", "sample instead of greedy argmax")
    .option("--seed <n>", "seed of the sampler (and of the LSH rotations when hash_seed is null)", intArg(0, "0"), 0)
    .option(
      "--temperature <t>",
      "sampling temperature",
      numArg((x) => x > 0, "a number > 0, e.g. 0.8"),
      1,
    )
    .option("--top-k <k>", "sample from the k most likely tokens (0 = all)", intArg(0, "50"), 50)
    .option(
      "--top-p <p>",
      "nucleus sampling mass",
      numArg((x) => x > 0 && x <= 1, "a number in (0, 1], e.g. 0.9"),
      1,
    )
    .option("--eos-token-id <id>", "stop at this id (default: config.json's; 'none' never stops)")
    .addOption(new Option("--backend <name>", "backend").choices(["auto", "wasm", "js"]).default("auto"))
    .option("--threads <n>", "threads (default: the cores available)", intArg(1, "2"))
    .addHelpText(
      "after",
      '\nExamples:\n  sparse-attention generate --model ../shared/models/hf/reformer_tiny --bytes --prompt "Hello" --max-new-tokens 20\n  sparse-attention generate --model google/reformer-crime-and-punishment --prompt "A few months later" --max-new-tokens 100 --sample --seed 1 --top-p 0.9',
    )
    .action(async (o) => {
      if ((o.prompt === undefined) === (o.ids === undefined))
        throw new UsageError("give exactly one of --prompt TEXT or --ids LIST");
      const hub = isRepoId(o.model) ? createHubProgress() : null;
      let model: Awaited<ReturnType<typeof loadModel>>;
      try {
        model = await loadModel(o.model, hub ? { onProgress: hub.onProgress } : {});
        hub?.stop();
      } catch (e) {
        hub?.stop();
        throw modelLoadError(e);
      }
      if (model.architecture.generate === undefined) {
        throw new UsageError(
          `--model ${o.model}: model_type ${model.config.modelType} is an encoder, not a causal language model (generate runs Reformer)`,
        );
      }
      let eos: number | null | undefined;
      if (o.eosTokenId !== undefined) {
        if (o.eosTokenId === "none") eos = null;
        else {
          eos = Number(o.eosTokenId);
          if (!/^\d+$/.test(o.eosTokenId) || !(eos < model.config.vocab)) {
            throw new UsageError(
              `--eos-token-id: got "${o.eosTokenId}"; expected a token id below ${model.config.vocab} or none`,
            );
          }
        }
      }
      let ids: Int32Array;
      let emit: (id: number) => string;
      let finish = () => "";
      if (o.ids !== undefined) {
        ids = checkIds(o.ids, model.config.vocab);
        emit = (id) => ` ${id}`;
        process.stdout.write(Array.from(ids).join(" "));
      } else {
        let codec: ReturnType<typeof model.textCodec>;
        try {
          codec = model.textCodec(o.bytes ? "bytes" : "tokenizer.json");
        } catch (e) {
          throw new UsageError(`${(e as Error).message} (model ${o.model})`);
        }
        ids = codec.encode(o.prompt);
        if (ids.length === 0) throw new UsageError("--prompt: the prompt has no tokens; give some text");
        const stream = codec.stream();
        emit = stream.push;
        finish = stream.end;
        process.stdout.write(o.prompt);
      }
      const t0 = performance.now();
      let first = 0;
      let count = 0;
      const res = await model.generate(
        { inputIds: { data: ids, shape: [1, ids.length] } },
        {
          maxNewTokens: o.maxNewTokens,
          useCache: o.cache,
          doSample: o.sample === true,
          seed: o.seed,
          temperature: o.temperature,
          topK: o.topK,
          topP: o.topP,
          eosTokenId: eos,
          backend: o.backend,
          threads: o.threads,
          onToken: (t) => {
            if (count++ === 0) first = performance.now();
            process.stdout.write(emit(t[0]));
          },
        },
      );
      const t1 = performance.now();
      process.stdout.write(`${finish()}\n`);
      const n = res.sequences.shape[1] - ids.length;
      const rate = n > 1 ? (n - 1) / ((t1 - first) / 1000) : 0;
      err(
        `reformer: ${n} new tokens in ${((t1 - t0) / 1000).toFixed(2)} s: prompt of ${ids.length} tokens + first token ${((first - t0) / 1000).toFixed(2)} s, then ${rate.toFixed(1)} tokens/s${o.cache ? " (cached decoding)" : " (full forward per token)"}`,
      );
      void out;
    });
}
