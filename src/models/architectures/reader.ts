/**
 * Named, shape-checked tensors of one checkpoint: names as HF saves them, with or without the
 * prefix of a task model (`longformer.` for LongformerFor*, `bert.` for BigBirdFor*); old
 * checkpoints' LayerNorm `gamma` / `beta` are accepted for `weight` / `bias`. Weights stay
 * views into the loaded file (no copies).
 */
import { CheckpointError, type WeightStore } from "../safetensors.js";
import type { Linear, Norm } from "./types.js";

/** Named, shape-checked tensors of one checkpoint under the prefix it uses. */
export class WeightReader {
  readonly prefix: string;

  /**
   * `prefixes`: the base model's names in task checkpoints ("" first); `probe`: a tensor every
   * checkpoint of the architecture has; `sizes`: the config fields the shapes come from (for errors).
   */
  constructor(
    readonly store: WeightStore,
    prefixes: readonly string[],
    probe: string,
    readonly what: string,
    readonly sizes: string,
  ) {
    const prefix = prefixes.find((p) => store.has(p + probe));
    if (prefix === undefined) {
      throw new CheckpointError(
        `${store.label}: missing tensor "${probe}" (also looked for ${prefixes
          .filter((p) => p !== "")
          .map((p) => `"${p}${probe}"`)
          .join(", ")}); is this a ${what} checkpoint?`,
      );
    }
    this.prefix = prefix;
  }

  has(name: string): boolean {
    return this.store.has(this.prefix + name);
  }

  get(name: string, shape: number[]): Float32Array {
    const store = this.store;
    let full = this.prefix + name;
    if (!store.has(full)) {
      const alt = full.replace(/LayerNorm\.weight$/, "LayerNorm.gamma").replace(/LayerNorm\.bias$/, "LayerNorm.beta");
      if (store.has(alt)) full = alt;
    }
    const t = store.get(full);
    const want = shape.join(", ");
    if (t.shape.length !== shape.length || t.shape.some((d, i) => d !== shape[i])) {
      throw new CheckpointError(
        `${store.label}: tensor "${full}" has shape [${t.shape.join(", ")}]; the config (${this.sizes}) needs [${want}]`,
      );
    }
    return t.data;
  }

  /** nn.Linear `name` (weight [outF, inF], bias [outF] unless `bias` is false). */
  linear(name: string, outF: number, inF: number, bias = true): Linear {
    return {
      W: this.get(`${name}.weight`, [outF, inF]),
      b: bias ? this.get(`${name}.bias`, [outF]) : null,
      outF,
      inF,
    };
  }

  /** nn.LayerNorm `name` (bias zeros when `bias` is false). */
  norm(name: string, n: number, bias = true): Norm {
    return { gamma: this.get(`${name}.weight`, [n]), beta: bias ? this.get(`${name}.bias`, [n]) : new Float32Array(n) };
  }
}
