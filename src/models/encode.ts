/**
 * The user's path: text → tokens (tokenizer.json through @huggingface/tokenizers) → padded
 * batch → forward → hidden states with their tokens. Truncation and batch padding are ours:
 * a row longer than maxLength keeps its first maxLength - 1 tokens and its closing special
 * token (</s>, [SEP]); rows are padded to the longest with pad_token_id and mask 0. Padding to
 * the window or block multiple happens inside forward(), as in HF.
 */
import { Tokenizer } from "@huggingface/tokenizers";
import { AttentionArgumentError, checkInt, describe } from "../errors.js";
import { forwardSettings, plainOps } from "./architectures/encoder.js";
import type { TaskHead } from "./architectures/types.js";
import { type ModelConfig, maxInputLength } from "./config.js";
import type { ForwardInputs } from "./inputs.js";
import { EncoderModel, type ForwardOptions, type ForwardOutput } from "./model.js";
import type { GenerateOptions, GenerateOutput } from "./reformer/generate.js";
import { byteCodec, type TextCodec, tokenizerCodec } from "./reformer/text.js";
import { gatherRows, type HeadKind } from "./tasks/heads.js";
import type { TaskInputs } from "./tasks/prepare.js";
import type { EncoderWeights } from "./weights.js";

/**
 * What the library uses of @huggingface/tokenizers' Tokenizer. Its own types are not part of
 * the published .d.ts: they break consumers compiling with moduleResolution "nodenext" and
 * skipLibCheck false (extensionless relative imports, TS2834; test/packaging-consumer.test.ts).
 */
export interface TokenizerLike {
  encode(text: string): { ids: number[]; tokens: string[] };
  get_added_tokens_decoder(): Map<number, { special: boolean }>;
}

/** tokenizer.json and tokenizer_config.json, parsed. */
export interface TokenizerFiles {
  tokenizer: unknown;
  config?: unknown;
}

export interface EncodeOptions extends ForwardOptions {
  /** Longformer: positions given global attention in every row (default none, as HF without a global mask). */
  globalTokens?: readonly number[];
  /** Tokens per row at most (default: what max_position_embeddings allows). */
  maxLength?: number;
}

export interface EncodeOutput extends ForwardOutput {
  /** Per row: the token strings and ids (after truncation, before padding). */
  tokens: string[][];
  ids: number[][];
}

export interface FloatTensor<S extends number[] = number[]> {
  data: Float32Array;
  shape: S;
}

/** What HF's task models return, camel-cased (plus the encoder's states). */
export interface TaskOutput extends ForwardOutput {
  /** ForMaskedLM [B, L, vocab]; ForSequenceClassification [B, labels]; ForTokenClassification [B, L, labels]; ForMultipleChoice [B, choices]. */
  logits?: FloatTensor;
  /** ForQuestionAnswering [B, L]. */
  startLogits?: FloatTensor;
  endLogits?: FloatTensor;
}

/** A head picked from the architecture's registry entry, with its weights. */
export interface LoadedHead {
  /** HF class name, e.g. "LongformerForQuestionAnswering". */
  name: string;
  entry: TaskHead;
  weights: unknown;
}

export class Model extends EncoderModel {
  private tok: TokenizerLike | null = null;

  constructor(
    config: ModelConfig,
    weights: EncoderWeights,
    readonly tokenizerFiles?: TokenizerFiles,
    /** The task head (from config.architectures or loadModel's { task }); null: the encoder alone. */
    readonly head: LoadedHead | null = null,
  ) {
    super(config, weights);
  }

  /** "ForQuestionAnswering", …: the HF head (the class name from "For" on), or null for the encoder alone. */
  get headKind(): HeadKind | null {
    if (this.head === null) return null;
    return this.head.name.slice(this.head.name.lastIndexOf("For")) as HeadKind;
  }

  /** The head's label names (sequence / token classification), id2label order. */
  get labels(): string[] {
    return this.head?.entry.labels?.(this.head.weights, this.config) ?? [];
  }

  /**
   * HF's forward of the model's class: the encoder's lastHiddenState / poolerOutput, and with a
   * head its logits (or startLogits / endLogits), inputs derived as HF derives them (docs/tasks.md).
   */
  override async forward(inputs: TaskInputs, options: ForwardOptions = {}): Promise<TaskOutput> {
    const head = this.head;
    if (head === null) return super.forward(inputs as ForwardInputs, options);
    const settings = forwardSettings(options);
    const prepared = (head.entry.prepare?.(inputs, this.config) ?? inputs) as ForwardInputs;
    const enc = await super.forward(prepared, options);
    const out = head.entry.run(enc, head.weights, this.config, plainOps(settings.linear), prepared, inputs);
    return { ...enc, ...out };
  }

  /** Most tokens per input row (what max_position_embeddings allows). */
  get maxLength(): number {
    return maxInputLength(this.config).limit;
  }

  /** ForMaskedLM: logits [rows.length, vocab] at flat rows b·L + i only (what fill-mask needs). */
  async maskedLogitsAt(inputs: TaskInputs, rows: number[], options: ForwardOptions = {}): Promise<Float32Array> {
    const head = this.head;
    if (head === null || head.entry.runAt === undefined) {
      throw new AttentionArgumentError("model.maskedLogitsAt", this.headKind, "a ForMaskedLM model");
    }
    const settings = forwardSettings(options);
    const prepared = (head.entry.prepare?.(inputs, this.config) ?? inputs) as ForwardInputs;
    const enc = await super.forward(prepared, options);
    const x = gatherRows(enc.lastHiddenState.data, rows, this.config.hidden);
    return head.entry.runAt(x, rows.length, head.weights, this.config, plainOps(settings.linear));
  }

  /** The encoder alone (no head), whatever the model's task. */
  encoderForward(inputs: ForwardInputs, options: ForwardOptions = {}): Promise<ForwardOutput> {
    return super.forward(inputs, options);
  }

  get modelType(): string {
    return this.config.modelType;
  }

  /**
   * Causal language models (Reformer): greedy or sampled generation, with HF's cached decoding
   * by default (docs/models.md, "Reformer"). Encoders throw.
   */
  generate(inputs: ForwardInputs, options: GenerateOptions): Promise<GenerateOutput> {
    const g = this.architecture.generate;
    if (g === undefined) {
      throw new AttentionArgumentError(
        "model.generate",
        this.config.modelType,
        "a causal language model (model_type reformer); this architecture is an encoder: use forward() or encode()",
      );
    }
    return g(this.config, this.weights, inputs, options);
  }

  /**
   * Text ↔ ids for generation: the checkpoint's tokenizer.json, or "bytes" for enwik8-style
   * byte models (id = UTF-8 byte + 2).
   */
  textCodec(kind: "tokenizer.json" | "bytes" = "tokenizer.json"): TextCodec {
    if (kind === "bytes") return byteCodec(this.config.vocab);
    if (this.tokenizerFiles === undefined) {
      throw new AttentionArgumentError(
        "tokenizer",
        "none",
        'a model folder with tokenizer.json; for a byte-level model (enwik8: ids = bytes + 2) use textCodec("bytes") / --bytes',
      );
    }
    return tokenizerCodec(this.tokenizerFiles);
  }

  /** True when the model came with tokenizer.json (encode() takes text). */
  get hasTokenizer(): boolean {
    const t = this.tokenizerFiles?.tokenizer;
    return t !== null && typeof t === "object";
  }

  /** The tokenizer (built on first use); an error when the model came without tokenizer.json. */
  tokenizer(): TokenizerLike {
    if (this.tok === null) {
      const files = this.tokenizerFiles;
      if (files === undefined || files.tokenizer === null || typeof files.tokenizer !== "object") {
        throw new AttentionArgumentError(
          "model.encode (tokenizer)",
          files === undefined ? undefined : describe(files.tokenizer),
          "a model loaded with tokenizer.json (put tokenizer.json and tokenizer_config.json in the model folder, or pass { tokenizer: { tokenizer, config } }); or call forward() with token ids",
        );
      }
      const tok: TokenizerLike = new Tokenizer(files.tokenizer as object, (files.config ?? {}) as object);
      this.tok = tok;
      return tok;
    }
    return this.tok;
  }

  /** Token ids of one text, truncated to maxLength (keeping a closing special token). */
  tokenize(text: string, maxLength: number): { ids: number[]; tokens: string[] } {
    const enc = this.tokenizer().encode(text);
    let ids = enc.ids;
    let tokens = enc.tokens;
    if (ids.length > maxLength) {
      const lastId = ids[ids.length - 1];
      const special = this.tokenizer().get_added_tokens_decoder().get(lastId)?.special === true;
      const keep = special && maxLength >= 2 ? maxLength - 1 : maxLength;
      ids = [...ids.slice(0, keep), ...(keep < maxLength ? [lastId] : [])];
      tokens = [...tokens.slice(0, keep), ...(keep < maxLength ? [tokens[tokens.length - 1]] : [])];
    }
    return { ids, tokens };
  }

  async encode(text: string | readonly string[], options: EncodeOptions = {}): Promise<EncodeOutput> {
    const texts = typeof text === "string" ? [text] : text;
    if (!Array.isArray(texts) || texts.length === 0 || texts.some((t) => typeof t !== "string")) {
      throw new AttentionArgumentError("model.encode(text)", text, "a string or a non-empty array of strings");
    }
    const { globalTokens, maxLength: ml, ...forwardOptions } = options;
    const limit = maxInputLength(this.config);
    const maxLength = ml === undefined ? limit.limit : checkInt("model.encode({ maxLength })", ml, 1, limit.limit);
    const rows = texts.map((t) => this.tokenize(t, maxLength));
    const B = rows.length;
    const L = Math.max(...rows.map((r) => r.ids.length));
    const ids = new Int32Array(B * L).fill(this.config.padId); // [B, L]
    const mask = new Int32Array(B * L);
    rows.forEach((r, b) => {
      ids.set(r.ids, b * L);
      mask.fill(1, b * L, b * L + r.ids.length);
    });
    const inputs: Parameters<EncoderModel["forward"]>[0] = {
      inputIds: { data: ids, shape: [B, L] },
      attentionMask: { data: mask, shape: [B, L] },
    };
    if (globalTokens !== undefined && globalTokens.length > 0) {
      if (!this.architecture.globalAttention) {
        throw new AttentionArgumentError(
          "model.encode({ globalTokens })",
          globalTokens,
          "no global tokens: only Longformer takes per-token global attention",
        );
      }
      const g = new Int32Array(B * L); // [B, L]
      for (const [i, p] of globalTokens.entries()) {
        checkInt(`model.encode({ globalTokens[${i}] })`, p, 0, L - 1);
        for (let b = 0; b < B; b++) if (p < rows[b].ids.length) g[b * L + p] = 1;
      }
      inputs.globalAttentionMask = { data: g, shape: [B, L] };
    }
    const out = await this.encoderForward(inputs, forwardOptions); // hidden states: never a head
    return { ...out, tokens: rows.map((r) => r.tokens), ids: rows.map((r) => r.ids) };
  }
}
