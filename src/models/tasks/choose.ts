/**
 * Which head of the architecture's registry entry a load gets: `task` undefined →
 * config.architectures[0] when the entry has that class (else the encoder alone); "none" /
 * "base" / "feature-extraction" → the encoder alone; an HF class name
 * ("LongformerForQuestionAnswering"), a head ("ForQuestionAnswering") or a pipeline task
 * ("question-answering", "ner", …) → that head, an error listing the entry's heads otherwise.
 */
import { AttentionArgumentError } from "../../errors.js";
import { architectureOf } from "../architectures/index.js";
import type { ModelConfig } from "../architectures/types.js";
import { TASK_HEADS } from "./heads.js";

export function chooseHead(c: ModelConfig, task: string | undefined): string | null {
  const heads = architectureOf(c.modelType).heads;
  const names = Object.keys(heads);
  const arch = Array.isArray(c.raw.architectures) ? (c.raw.architectures as unknown[]) : [];
  const first = typeof arch[0] === "string" ? arch[0] : "";
  if (task === undefined) return first in heads ? first : null;
  const form = () =>
    `"none", a pipeline task (${[...new Set(Object.values(heads).map((h) => `"${h.task}"`))].join(", ")}), a head (${names
      .map((n) => `"${n.slice(n.lastIndexOf("For"))}"`)
      .join(", ")}) or a class name (${names.map((n) => `"${n}"`).join(", ")})`;
  if (typeof task !== "string") throw new AttentionArgumentError("options.task", task, form());
  if (task === "none" || task === "base" || task === "feature-extraction") return null;
  if (task in heads) return task;
  const kind = TASK_HEADS[task] ?? (task.startsWith("For") ? task : undefined);
  const matches = kind === undefined ? [] : names.filter((n) => n.endsWith(kind));
  if (matches.length === 0) throw new AttentionArgumentError("options.task", task, form());
  return matches.includes(first) ? first : matches[0];
}
