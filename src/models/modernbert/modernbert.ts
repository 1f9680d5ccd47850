/**
 * A loaded ModernBERT: the encoder, its task head (from config.architectures and the tensors
 * present), the tokenizer (tokenizer.json) and sentence-transformers' pooling (modules.json +
 * 1_Pooling/config.json) when the folder has them.
 *
 *   forward(inputs)               last_hidden_state (+ hidden_states), and the head's logits when
 *                                 the model has a head (HF's forward of the checkpoint's class)
 *   encoderForward(inputs)        the encoder alone
 *   maskedLM(inputs, { rows })    MLM logits [n, vocab] at the chosen flat rows b·L + i (all by default)
 *   classify(inputs)              ForSequenceClassification logits [B, labels]
 *   classifyTokens(inputs)        ForTokenClassification logits [B, L, labels]
 *   embed(inputs)                 sentence embeddings [B, hidden] (pooling + normalize)
 *   encodeText(texts)             tokenizer → padded inputs
 */
import { AttentionArgumentError, checkInt } from "../../errors.js";
import { registerModernBertModel } from "../architectures/modernbert.js";
import { Model } from "../encode.js";
import type { ForwardInputs } from "../inputs.js";
import type { LinearOptions } from "../ops.js";
import type { ModernBertConfig } from "./config.js";
import { gatherRows, headLogits, l2Normalize, pool, requireHead } from "./heads.js";
import { checkMbInputs, type MbForwardOptions, type MbForwardOutput } from "./model.js";
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

/** The heads a ModernBERT checkpoint can carry (HF class name without "ModernBert"). */
export type MbHeadKind = "ForMaskedLM" | "ForSequenceClassification" | "ForTokenClassification";

/** Pipeline task → the head it needs (null: the encoder alone). */
const TASK_HEAD: Record<string, MbHeadKind | null> = {
  "feature-extraction": null,
  none: null,
  "fill-mask": "ForMaskedLM",
  "text-classification": "ForSequenceClassification",
  "sentiment-analysis": "ForSequenceClassification",
  "token-classification": "ForTokenClassification",
  ner: "ForTokenClassification",
};

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

export class ModernBertModel extends Model {
  declare readonly config: ModernBertConfig;
  declare readonly weights: ModernBertWeights;
  /** The head forward() runs: from `task` when given, else from config.architectures. */
  readonly mbHead: MbHeadKind | null;

  constructor(
    config: ModernBertConfig,
    weights: ModernBertWeights,
    tokenizerFiles?: MbTokenizerFiles,
    /** sentence-transformers' pooling (null when the folder has no modules.json). */
    readonly sentencePooling: SentencePooling | null = null,
    task?: string,
  ) {
    super(config, weights, tokenizerFiles);
    this.mbHead = this.chooseHead(task);
  }

  /** "ForMaskedLM", "ForSequenceClassification", "ForTokenClassification", or null (the encoder alone). */
  get headKind(): MbHeadKind | null {
    return this.mbHead;
  }

  private chooseHead(task: string | undefined): MbHeadKind | null {
    const h = this.weights.head;
    const arch = this.config.architecture;
    const tokenCls = arch === "ModernBertForTokenClassification";
    if (task === undefined) {
      if (arch === "ModernBertForMaskedLM" && h?.decoder) return "ForMaskedLM";
      if (h?.classifier) return tokenCls ? "ForTokenClassification" : "ForSequenceClassification";
      return null;
    }
    if (!(task in TASK_HEAD)) {
      throw new AttentionArgumentError(
        "options.task",
        task,
        `one of ${Object.keys(TASK_HEAD)
          .map((t) => `"${t}"`)
          .join(", ")} (ModernBERT's heads)`,
      );
    }
    const want = TASK_HEAD[task];
    if (want === null) return null;
    const ok =
      want === "ForMaskedLM"
        ? h?.decoder != null
        : h?.classifier != null && (want === "ForTokenClassification") === tokenCls;
    if (!ok) {
      throw new AttentionArgumentError(
        "options.task",
        task,
        `a task this checkpoint's head serves: it is ${arch || "a ModernBertModel"} (${this.tasks.join(", ")})`,
      );
    }
    return want;
  }

  /** The head's label names (id2label order). */
  get labels(): string[] {
    const n = this.weights.head?.classifier?.outF ?? 0;
    return this.config.labels.length > 0 ? this.config.labels : Array.from({ length: n }, (_, i) => `LABEL_${i}`);
  }

  /** Most tokens per input row (max_position_embeddings). */
  get maxLength(): number {
    return this.config.maxPositions;
  }

  /** The encoder alone (no head). */
  encoderForward(inputs: ForwardInputs, options: MbForwardOptions = {}): Promise<MbForwardOutput> {
    return super.forward(inputs, options) as Promise<MbForwardOutput>;
  }

  /** HF's forward of the checkpoint's class: the encoder's outputs and, with a head, its logits. */
  override async forward(
    inputs: ForwardInputs,
    options: MbForwardOptions = {},
  ): Promise<MbForwardOutput & { logits?: Logits }> {
    if (this.headKind === "ForMaskedLM") return this.maskedLM(inputs, options);
    if (this.headKind === "ForSequenceClassification") return this.classify(inputs, options);
    if (this.headKind === "ForTokenClassification") return this.classifyTokens(inputs, options);
    return this.encoderForward(inputs, options);
  }

  /** ForMaskedLM: logits [rows.length, vocab] at flat rows b·L + i only (what fill-mask needs). */
  async maskedLogitsAt(inputs: ForwardInputs, rows: number[], options: MbForwardOptions = {}): Promise<Float32Array> {
    return (await this.maskedLM(inputs, { ...options, rows })).logits.data;
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
    const out = await this.encoderForward(inputs, fo);
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
    if (this.headKind === "ForTokenClassification") {
      throw new AttentionArgumentError(
        "model.classify",
        this.config.architecture,
        "a ModernBertForSequenceClassification checkpoint (this one classifies tokens: classifyTokens)",
      );
    }
    const x = checkMbInputs(inputs, this.config);
    const out = await this.encoderForward(inputs, options);
    const [B, L, hd] = out.lastHiddenState.shape;
    const pooled = pool(out.lastHiddenState.data, B, L, hd, x.valid, this.config.classifierPooling);
    const logits = headLogits(pooled, B, this.config, head, head.classifier, linearOptions(options));
    return { ...out, logits: { data: logits, shape: [B, head.classifier.outF] } };
  }

  /** ForTokenClassification: logits [B, L, labels]. */
  async classifyTokens(inputs: ForwardInputs, options: MbForwardOptions = {}): Promise<MbLogitsOutput> {
    const head = requireHead(this.weights.head, "classifier", "token-classification", this.config.architecture);
    if (this.headKind === "ForSequenceClassification") {
      throw new AttentionArgumentError(
        "model.classifyTokens",
        this.config.architecture,
        "a ModernBertForTokenClassification checkpoint (this one classifies sequences: classify)",
      );
    }
    const out = await this.encoderForward(inputs, options);
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
    const out = await this.encoderForward(inputs, fo);
    const [B, L, hd] = out.lastHiddenState.shape;
    const e = pool(out.lastHiddenState.data, B, L, hd, x.valid, pooling.mode);
    if (pooling.normalize) l2Normalize(e, B, hd);
    return { ...out, embeddings: { data: e, shape: [B, hd] }, pooling };
  }
}

registerModernBertModel(ModernBertModel);
