/**
 * A loaded ModernBERT: the encoder, its task head (from config.architectures and the tensors
 * present), the tokenizer (tokenizer.json) and sentence-transformers' pooling (modules.json +
 * 1_Pooling/config.json) when the folder has them.
 *
 *   forward(inputs)               last_hidden_state (+ hidden_states)
 *   maskedLM(inputs, { rows })    MLM logits [n, vocab] at the chosen flat rows b·L + i (all by default)
 *   classify(inputs)              ForSequenceClassification logits [B, labels]
 *   classifyTokens(inputs)        ForTokenClassification logits [B, L, labels]
 *   embed(inputs)                 sentence embeddings [B, hidden] (pooling + normalize)
 *   encodeText(texts)             tokenizer → padded inputs
 */
import { Tokenizer } from "@huggingface/tokenizers";
import { AttentionArgumentError, checkInt, describe } from "../../errors.js";
import type { ForwardInputs } from "../inputs.js";
import type { LinearOptions } from "../ops.js";
import type { ModernBertConfig } from "./config.js";
import { gatherRows, headLogits, l2Normalize, pool, requireHead } from "./heads.js";
import { checkMbInputs, type MbForwardOptions, type MbForwardOutput, ModernBertEncoder } from "./model.js";
import type { SentencePooling } from "./pooling.js";
import type { ModernBertWeights } from "./weights.js";

export interface MbTokenizerFiles {
  tokenizer: unknown;
  config?: unknown;
}

export interface Logits {
  data: Float32Array;
  shape: number[];
}

export interface MbLogitsOutput extends MbForwardOutput {
  logits: Logits;
}

export interface MbEmbedOutput extends MbForwardOutput {
  /** [B, hidden] pooled (and normalised when the pooling says so). */
  embeddings: { data: Float32Array; shape: [number, number] };
  pooling: SentencePooling;
}

function linearOptions(o: MbForwardOptions): LinearOptions {
  return {
    backend: o.backend === "reference" ? "js" : (o.backend as LinearOptions["backend"]),
    threads: o.threads,
  };
}

export class ModernBertModel extends ModernBertEncoder {
  private tok: Tokenizer | null = null;

  constructor(
    config: ModernBertConfig,
    weights: ModernBertWeights,
    readonly tokenizerFiles?: MbTokenizerFiles,
    /** sentence-transformers' pooling (null when the folder has no modules.json). */
    readonly sentencePooling: SentencePooling | null = null,
  ) {
    super(config, weights);
  }

  get modelType(): "modernbert" {
    return "modernbert";
  }

  /** The tasks this checkpoint's weights can run. */
  get tasks(): string[] {
    const h = this.weights.head;
    const t: string[] = ["feature-extraction"];
    if (h?.decoder) t.push("fill-mask");
    if (h?.classifier) {
      t.push(
        this.config.architecture === "ModernBertForTokenClassification"
          ? "token-classification"
          : "text-classification",
      );
    }
    return t;
  }

  /** MLM logits [n, vocab] at flat rows b·L + i of the batch (`rows`; every row when omitted). */
  async maskedLM(
    inputs: ForwardInputs,
    options: MbForwardOptions & { rows?: ArrayLike<number> } = {},
  ): Promise<MbLogitsOutput> {
    const head = requireHead(this.weights.head, "decoder", "fill-mask", this.config.architecture);
    const { rows, ...fo } = options;
    const out = await this.forward(inputs, fo);
    const [B, L, hd] = out.lastHiddenState.shape;
    let z = out.lastHiddenState.data;
    let n = B * L;
    if (rows !== undefined) {
      for (let i = 0; i < rows.length; i++) checkInt(`options.rows[${i}]`, rows[i], 0, B * L - 1);
      z = gatherRows(z, hd, rows);
      n = rows.length;
    }
    const logits = headLogits(z, n, this.config, head, head.decoder, linearOptions(fo));
    return {
      ...out,
      logits: { data: logits, shape: rows === undefined ? [B, L, this.config.vocab] : [n, this.config.vocab] },
    };
  }

  /** ForSequenceClassification: logits [B, labels] from config.classifier_pooling ("cls" or "mean"). */
  async classify(inputs: ForwardInputs, options: MbForwardOptions = {}): Promise<MbLogitsOutput> {
    const head = requireHead(this.weights.head, "classifier", "text-classification", this.config.architecture);
    const x = checkMbInputs(inputs, this.config);
    const out = await this.forward(inputs, options);
    const [B, L, hd] = out.lastHiddenState.shape;
    const pooled = pool(out.lastHiddenState.data, B, L, hd, x.valid, this.config.classifierPooling);
    const logits = headLogits(pooled, B, this.config, head, head.classifier, linearOptions(options));
    return { ...out, logits: { data: logits, shape: [B, head.classifier.outF] } };
  }

  /** ForTokenClassification: logits [B, L, labels]. */
  async classifyTokens(inputs: ForwardInputs, options: MbForwardOptions = {}): Promise<MbLogitsOutput> {
    const head = requireHead(this.weights.head, "classifier", "token-classification", this.config.architecture);
    const out = await this.forward(inputs, options);
    const [B, L] = out.lastHiddenState.shape;
    const logits = headLogits(
      out.lastHiddenState.data,
      B * L,
      this.config,
      head,
      head.classifier,
      linearOptions(options),
    );
    return { ...out, logits: { data: logits, shape: [B, L, head.classifier.outF] } };
  }

  /**
   * Sentence embeddings [B, hidden]: sentence-transformers' pooling when the folder has it
   * (modules.json), else `options.pooling` (default "cls", normalize false).
   */
  async embed(
    inputs: ForwardInputs,
    options: MbForwardOptions & { pooling?: "cls" | "mean"; normalize?: boolean } = {},
  ): Promise<MbEmbedOutput> {
    const { pooling: pm, normalize: nm, ...fo } = options;
    if (pm !== undefined && pm !== "cls" && pm !== "mean") {
      throw new AttentionArgumentError("options.pooling", pm, `"cls" or "mean"`);
    }
    const st = this.sentencePooling;
    const pooling: SentencePooling = {
      mode: pm ?? st?.mode ?? "cls",
      normalize: nm ?? st?.normalize ?? false,
      source: pm !== undefined || nm !== undefined ? "options" : (st?.source ?? "default"),
    };
    const x = checkMbInputs(inputs, this.config);
    const out = await this.forward(inputs, fo);
    const [B, L, hd] = out.lastHiddenState.shape;
    const e = pool(out.lastHiddenState.data, B, L, hd, x.valid, pooling.mode);
    if (pooling.normalize) l2Normalize(e, B, hd);
    return { ...out, embeddings: { data: e, shape: [B, hd] }, pooling };
  }

  /** The tokenizer (built on first use); an error when the model came without tokenizer.json. */
  tokenizer(): Tokenizer {
    if (this.tok === null) {
      const files = this.tokenizerFiles;
      if (files === undefined || files.tokenizer === null || typeof files.tokenizer !== "object") {
        throw new AttentionArgumentError(
          "model.tokenizer()",
          files === undefined ? undefined : describe(files.tokenizer),
          "a model loaded with tokenizer.json (put tokenizer.json and tokenizer_config.json in the model folder); or pass token ids",
        );
      }
      this.tok = new Tokenizer(files.tokenizer as object, (files.config ?? {}) as object);
    }
    return this.tok;
  }

  /**
   * Texts → { inputIds, attentionMask } [B, L] (right padding with pad_token_id, as HF's
   * tokenizers) plus each row's ids and token strings. A row longer than maxLength (default
   * max_position_embeddings) keeps its first maxLength - 1 tokens and its closing special token.
   */
  encodeText(
    text: string | readonly string[],
    maxLength?: number,
  ): { inputs: Required<Pick<ForwardInputs, "inputIds" | "attentionMask">>; ids: number[][]; tokens: string[][] } {
    const texts = typeof text === "string" ? [text] : text;
    if (!Array.isArray(texts) || texts.length === 0 || texts.some((t) => typeof t !== "string")) {
      throw new AttentionArgumentError("text", text, "a string or a non-empty array of strings");
    }
    const limit = this.config.maxPositions;
    const ml = maxLength === undefined ? limit : checkInt("maxLength", maxLength, 1, limit);
    const tk = this.tokenizer();
    const rows = texts.map((t) => {
      const enc = tk.encode(t);
      let ids = enc.ids;
      let tokens = enc.tokens;
      if (ids.length > ml) {
        const lastId = ids[ids.length - 1];
        const special = tk.get_added_tokens_decoder().get(lastId)?.special === true;
        const keep = special && ml >= 2 ? ml - 1 : ml;
        ids = [...ids.slice(0, keep), ...(keep < ml ? [lastId] : [])];
        tokens = [...tokens.slice(0, keep), ...(keep < ml ? [tokens[tokens.length - 1]] : [])];
      }
      return { ids, tokens };
    });
    const B = rows.length;
    const L = Math.max(...rows.map((r) => r.ids.length));
    const data = new Int32Array(B * L).fill(this.config.padId); // [B, L]
    const mask = new Int32Array(B * L);
    rows.forEach((r, b) => {
      data.set(r.ids, b * L);
      mask.fill(1, b * L, b * L + r.ids.length);
    });
    return {
      inputs: { inputIds: { data, shape: [B, L] }, attentionMask: { data: mask, shape: [B, L] } },
      ids: rows.map((r) => r.ids),
      tokens: rows.map((r) => r.tokens),
    };
  }
}
