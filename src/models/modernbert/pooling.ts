/**
 * sentence-transformers' module list (modules.json) and Pooling config
 * (<pooling path>/config.json), so an embedding model gives the vectors its model card
 * promises: Transformer → Pooling (CLS token or mean of the real tokens) → Normalize (L2), in
 * that order. Other modules (Dense, LayerNorm, …) and other pooling modes (max, last token,
 * weighted mean, …) are refused with an error naming them, never silently skipped.
 */
import { CheckpointError } from "../safetensors.js";

export interface SentencePooling {
  mode: "cls" | "mean";
  normalize: boolean;
  /** Where the choice came from: "modules.json", "options" or "default". */
  source: string;
}

const ST = "sentence_transformers.models.";

/** The Pooling module's folder ("1_Pooling"), from modules.json; null when modules.json has none. */
export function poolingPath(modules: unknown, where: string): string | null {
  const list = checkModules(modules, where);
  const p = list.find((m) => m.type === `${ST}Pooling`);
  return p === undefined ? null : p.path;
}

function checkModules(modules: unknown, where: string): Array<{ type: string; path: string }> {
  if (!Array.isArray(modules)) throw new CheckpointError(`${where}: expected a JSON list of modules`);
  return modules.map((m, i) => {
    const o = (m ?? {}) as Record<string, unknown>;
    if (typeof o.type !== "string" || (o.path !== undefined && typeof o.path !== "string")) {
      throw new CheckpointError(`${where}[${i}]: expected { type: string, path: string }`);
    }
    return { type: o.type, path: (o.path as string | undefined) ?? "" };
  });
}

/**
 * modules.json (parsed) and the Pooling module's config.json (parsed; null when modules.json
 * lists no Pooling) → the pooling the model card's sentence-transformers code applies.
 */
export function parseSentencePooling(modules: unknown, poolingConfig: unknown, where: string): SentencePooling {
  const list = checkModules(modules, `${where}/modules.json`);
  let mode: "cls" | "mean" | null = null;
  let normalize = false;
  for (const [i, m] of list.entries()) {
    const kind = m.type.startsWith(ST) ? m.type.slice(ST.length) : m.type;
    if (kind === "Transformer") {
      if (i !== 0) throw new CheckpointError(`${where}/modules.json: the Transformer module must come first`);
    } else if (kind === "Pooling") {
      mode = poolingMode(poolingConfig, `${where}/${m.path}/config.json`);
    } else if (kind === "Normalize") {
      if (mode === null) throw new CheckpointError(`${where}/modules.json: Normalize before Pooling is not supported`);
      normalize = true;
    } else {
      throw new CheckpointError(
        `${where}/modules.json: module ${i} is ${m.type}; only Transformer, Pooling (CLS or mean) and Normalize are supported`,
      );
    }
  }
  if (mode === null) throw new CheckpointError(`${where}/modules.json: no Pooling module`);
  return { mode, normalize, source: "modules.json" };
}

function poolingMode(config: unknown, where: string): "cls" | "mean" {
  if (config === null || typeof config !== "object" || Array.isArray(config)) {
    throw new CheckpointError(`${where}: missing or not a JSON object (sentence-transformers' Pooling config)`);
  }
  const c = config as Record<string, unknown>;
  const on = Object.keys(c).filter((k) => k.startsWith("pooling_mode_") && c[k] === true);
  if (on.length === 1 && on[0] === "pooling_mode_cls_token") return "cls";
  if (on.length === 1 && on[0] === "pooling_mode_mean_tokens") return "mean";
  throw new CheckpointError(
    `${where}: pooling modes ${on.length === 0 ? "(none)" : on.join(" + ")}; supported: exactly one of pooling_mode_cls_token, pooling_mode_mean_tokens`,
  );
}
