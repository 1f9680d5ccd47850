/**
 * A model of any registered architecture: its config, its weights, and forward(), which runs
 * the architecture's own forward when it has one and the shared encoder loop otherwise
 * (src/models/architectures/encoder.ts). Semantics in docs/models.md.
 */

import { type BigBirdConfig, bigBirdAttentionKind } from "./architectures/bigbird.js";
import { encoderForward, forwardSettings } from "./architectures/encoder.js";
import { architectureOf } from "./architectures/index.js";
import type {
  Architecture,
  EncoderWeights,
  ForwardOptions,
  ForwardOutput,
  ModelConfig,
} from "./architectures/types.js";
import type { ForwardInputs } from "./inputs.js";

export type { ForwardOptions, ForwardOutput, ForwardProfile } from "./architectures/types.js";

export class EncoderModel {
  /** The registry entry of config.modelType. */
  readonly architecture: Architecture;

  constructor(
    readonly config: ModelConfig,
    readonly weights: EncoderWeights,
  ) {
    this.architecture = architectureOf(config.modelType);
  }

  /** BigBird: the attention an input of `length` tokens runs with (HF's fallback to full attention); other models: "original_full". */
  bigBirdAttention(length: number): "block_sparse" | "original_full" {
    return bigBirdAttentionKind(this.config as BigBirdConfig, length);
  }

  async forward(inputs: ForwardInputs, options: ForwardOptions = {}): Promise<ForwardOutput> {
    forwardSettings(options); // the options object is checked before anything runs
    const a = this.architecture;
    if (a.forward !== undefined) return a.forward(this.config, this.weights, inputs, options);
    return encoderForward(a, this.config, this.weights, inputs, options);
  }
}
