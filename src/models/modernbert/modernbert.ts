/**
 * A loaded ModernBERT: the generic Model (encoder, the task head loadModel chose from the
 * registry entry's heads, tokenizer) plus sentence-transformers' pooling when the folder or
 * repository has modules.json + 1_Pooling/config.json:
 *
 *   forward(inputs)            last_hidden_state (+ hidden_states with outputHiddenStates), and
 *                              the head's logits when the model has a head
 *   encoderForward(inputs)     the encoder alone
 *   maskedLogitsAt(inputs, rows)  MLM logits at flat rows b·L + i only
 *   embed(inputs)              sentence embeddings [B, hidden] (pooling + normalize)
 */
import { AttentionArgumentError } from "../../errors.js";
import { registerModernBertModel } from "../architectures/modernbert.js";
import type { LoadedHead, TaskOutput, TokenizerFiles } from "../encode.js";
import { Model } from "../encode.js";
import { checkInputs, type ForwardInputs } from "../inputs.js";
import type { TaskInputs } from "../tasks/prepare.js";
import type { ModernBertConfig } from "./config.js";
import { l2Normalize, pool } from "./heads.js";
import { type MbForwardOptions, type MbForwardOutput, mbMaxInputLength } from "./model.js";
import type { SentencePooling } from "./pooling.js";
import type { ModernBertWeights } from "./weights.js";

export interface MbEmbedOutput extends MbForwardOutput {
  /** [B, hidden] pooled (and normalised when the pooling says so). */
  embeddings: { data: Float32Array; shape: [number, number] };
  pooling: SentencePooling;
}

export class ModernBertModel extends Model {
  declare readonly config: ModernBertConfig;
  declare readonly weights: ModernBertWeights;

  constructor(
    config: ModernBertConfig,
    weights: ModernBertWeights,
    tokenizerFiles?: TokenizerFiles,
    /** sentence-transformers' pooling (null when the folder has no modules.json). */
    readonly sentencePooling: SentencePooling | null = null,
    head: LoadedHead | null = null,
  ) {
    super(config, weights, tokenizerFiles, head);
  }

  /** HF's forward of the checkpoint's class (the head's logits when it has one); `outputHiddenStates` adds HF's hidden_states. */
  override forward(inputs: TaskInputs, options: MbForwardOptions = {}): Promise<TaskOutput & MbForwardOutput> {
    return super.forward(inputs, options) as Promise<TaskOutput & MbForwardOutput>;
  }

  /** The encoder alone (no head); `outputHiddenStates` adds HF's hidden_states. */
  override encoderForward(inputs: ForwardInputs, options: MbForwardOptions = {}): Promise<MbForwardOutput> {
    return super.encoderForward(inputs, options) as Promise<MbForwardOutput>;
  }

  /**
   * Sentence embeddings [B, hidden]: CLS row or masked mean of last_hidden_state, L2-normalised
   * or not, as sentence-transformers' modules.json says (gte-modernbert-base: CLS + Normalize);
   * `options.pooling` / `options.normalize` override; default CLS, not normalised.
   */
  async embed(
    inputs: ForwardInputs,
    options: MbForwardOptions & { pooling?: "cls" | "mean"; normalize?: boolean } = {},
  ): Promise<MbEmbedOutput> {
    const { pooling: pm, normalize: nm, ...fo } = options;
    if (pm !== undefined && pm !== "cls" && pm !== "mean") {
      throw new AttentionArgumentError("options.pooling", pm, `"cls" or "mean"`);
    }
    if (nm !== undefined && typeof nm !== "boolean") {
      throw new AttentionArgumentError("options.normalize", nm, "true or false");
    }
    const st = this.sentencePooling;
    const pooling: SentencePooling = {
      mode: pm ?? st?.mode ?? "cls",
      normalize: nm ?? st?.normalize ?? false,
      source: pm !== undefined || nm !== undefined ? "options" : (st?.source ?? "default"),
    };
    const x = checkInputs(inputs, this.config, { globalAttention: false, maxInputLength: mbMaxInputLength });
    const out = await this.encoderForward(inputs, fo);
    const [B, L, hd] = out.lastHiddenState.shape;
    const e = pool(out.lastHiddenState.data, B, L, hd, x.valid, pooling.mode);
    if (pooling.normalize) l2Normalize(e, B, hd);
    return { ...out, embeddings: { data: e, shape: [B, hd] }, pooling };
  }
}

registerModernBertModel(ModernBertModel);
