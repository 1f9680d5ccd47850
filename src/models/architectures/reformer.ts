/**
 * HF ReformerModelWithLMHead (model_type "reformer"): a causal language model with reversible
 * residual streams, local and LSH attention layers and axial position embeddings. It runs its
 * own layer loop (src/models/reformer/model.ts) through the `forward` hook, and generation
 * through `generate`; the shared encoder loop does not apply (two streams, no post-LN).
 */
import { AttentionArgumentError } from "../../errors.js";
import type { CheckedInputs } from "../inputs.js";
import { chunkMultiples, parseReformerConfig, type ReformerConfig } from "../reformer/config.js";
import { generate } from "../reformer/generate.js";
import { ReformerModel } from "../reformer/model.js";
import { embed } from "../reformer/ops.js";
import { loadReformerWeights, type ReformerWeights } from "../reformer/weights.js";
import type { Architecture } from "./types.js";

export const reformer: Architecture<ReformerConfig, ReformerWeights> = {
  modelType: "reformer",
  norm: "pre",
  mlp: "act",
  globalAttention: false,
  parseConfig: (raw, where) => parseReformerConfig(raw, where),
  maxInputLength: (c) => {
    const { lcm } = chunkMultiples(c);
    return {
      limit: Math.floor(c.maxPositions / lcm) * lcm,
      why: `max_position_embeddings ${c.maxPositions}, after HF's padding to a multiple of ${lcm} (the chunk lengths' lcm)`,
    };
  },
  loadWeights: (store, c) => loadReformerWeights(store, c),
  /** One stream's embeddings (word + axial position), [B·L, hidden]. */
  embed: (x: CheckedInputs, c, w) => {
    const out = new Float32Array(x.B * x.L * c.hidden);
    embed(c, w, x.ids, x.B, x.L, 0, out);
    return out;
  },
  attention: () => {
    throw new AttentionArgumentError(
      "architecture",
      "reformer",
      "its own forward (reversible layers); call model.forward(), not the shared encoder loop",
    );
  },
  heads: {},
  forward: (c, w, inputs, options) => new ReformerModel(c, w).forward(inputs, options),
  generate: (c, w, inputs, options) => generate(new ReformerModel(c, w), inputs, options),
};
