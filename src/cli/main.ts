#!/usr/bin/env node
/**
 * `sparse-attention`: show, explain, bench, report. Parameters use the API's names
 * (--query-length = queryLength, --head-dim = headDim, …); patterns are written as the API
 * call (see pattern-expr.ts). Bad arguments print what was wrong and the accepted form and
 * exit with status 2; so do commander's own parse errors.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { Command, CommanderError, InvalidArgumentError, Option } from "commander";
import { available, MECHANISMS, mechanismById } from "../catalog/mechanisms.js";
import { PATTERN_FORM, PatternExpressionError, parsePattern } from "../catalog/pattern-expr.js";
import { AttentionArgumentError } from "../index.js";
import { MissingOptionalDependency } from "../viz/optional.js";
import { explainCli, explainText, RunFailure, show, UsageError } from "./commands.js";
import { corpusMode } from "./corpus-mode.js";
import { formatTable } from "./cost.js";
import { registerEncode } from "./encode.js";
import { buildExplorer, openInBrowser, serveExplorer } from "./explore.js";
import { registerGenerate } from "./generate.js";
import { fitsText, runReport, SCALING_MECHANISMS } from "./report.js";
import { registerRun } from "./run.js";
import { measureScaling, scalingCsv } from "./scaling.js";

const out = (s: string) => process.stdout.write(s.endsWith("\n") ? s : `${s}\n`);
const err = (s: string) => process.stderr.write(s.endsWith("\n") ? s : `${s}\n`);

function int(min: number, example: string) {
  return (v: string): number => {
    const n = Number(v);
    if (!/^\s*[-+]?\d+\s*$/.test(v) || !Number.isSafeInteger(n) || n < min) {
      throw new InvalidArgumentError(`got "${v}"; expected an integer >= ${min}, e.g. ${example}`);
    }
    return n;
  };
}

function positive(example: string) {
  return (v: string): number => {
    const n = Number(v);
    if (!Number.isFinite(n) || n <= 0)
      throw new InvalidArgumentError(`got "${v}"; expected a positive number, e.g. ${example}`);
    return n;
  };
}

function backendOption(): Option {
  return new Option("--backend <name>", "attention backend (backend)").choices(["auto", "wasm", "js"]).default("auto");
}

function version(): string {
  const pkg = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as { version: string };
  return pkg.version;
}

function pattern(src: string) {
  return parsePattern(src);
}

function sizeOptions(cmd: Command, defaultN?: number): Command {
  const n = new Option("-n, --query-length <n>", "query length (queryLength)").argParser(int(1, "1024"));
  if (defaultN !== undefined) n.default(defaultN);
  else n.makeOptionMandatory();
  return cmd
    .addOption(n)
    .option("--key-length <n>", "key length (keyLength); default = query length", int(1, "1024"))
    .option("--heads <n>", "query heads (heads)", int(1, "8"), 1)
    .option("--seed <n>", "seed of the example q/k a content-dependent pattern (lsh) plans from", int(0, "1"), 0);
}

export function program(): Command {
  const prog = new Command("sparse-attention")
    .version(version(), "-V, --version")
    .description(
      "Exact dense and sparse attention: pictures, cost accounting and measured scaling of attention patterns.",
    )
    .exitOverride()
    .configureOutput({ writeOut: out, writeErr: err, outputError: (s, write) => write(s) })
    .showHelpAfterError("(add --help for the accepted form)")
    .addHelpText("after", `\nPATTERN is ${PATTERN_FORM}.\nExit status: 0 ok, 2 bad arguments, 1 other failure.`);

  sizeOptions(
    prog
      .command("show")
      .description("draw a pattern's compiled plan: allowed pairs coloured by plan part, tiles outlined")
      .argument("<pattern>", PATTERN_FORM),
    32,
  )
    .option("--head <h>", "which head to draw", int(0, "0"), 0)
    .option("--batch <b>", "batch rows to plan (batch; per-row patterns: perBatch, keyPadding)", int(1, "1"), 1)
    .option("--row <b>", "which batch row to draw", int(0, "0"), 0)
    .option("--head-dim <d>", "head dimension (headDim; matters for lsh inputs)", int(1, "16"), 16)
    .addOption(new Option("--format <format>", "output format").choices(["text", "svg", "png"]).default("text"))
    .option("-o, --out <file>", "write to a file instead of the terminal (required for png)")
    .option(
      "--width <chars>",
      "text grid: most characters per line (and lines); longer axes are pooled into blocks",
      int(4, "64"),
      64,
    )
    .option("--size <px>", "svg/png: side of the matrix in pixels", int(16, "512"), 512)
    .option("--no-color", "text grid without ANSI colours")
    .addHelpText(
      "after",
      '\nExamples:\n  sparse-attention show "causal()" -n 16\n  sparse-attention show "longformer(window=8, global=[0])" -n 128 --format png -o lf.png',
    )
    .action(async (src: string, o) => {
      await show(pattern(src), { ...o, color: o.color && process.stdout.isTTY === true }, out);
    });

  sizeOptions(
    prog
      .command("explain")
      .description(
        "count a pattern's work at a length without running it: parts, tiles, allowed/scored pairs, FLOPs, bytes, vs dense",
      )
      .argument("<pattern>", PATTERN_FORM),
  )
    .option("--head-dim <d>", "head dimension (headDim)", int(1, "64"), 64)
    .option("--batch <b>", "batch size (batch)", int(1, "1"), 1)
    .option("--json", "print the numbers as JSON")
    .addHelpText(
      "after",
      '\nExample:\n  sparse-attention explain "slidingWindow(left=128, right=0)" -n 65536 --head-dim 64',
    )
    .action((src: string, o) => {
      const r = explainCli(pattern(src), { ...o, json: o.json === true });
      out(o.json ? JSON.stringify(r, null, 2) : explainText(r));
    });

  const ids = MECHANISMS.map((m) => m.id);
  prog
    .command("bench")
    .description("measure time and peak memory vs n (log-spaced) per mechanism; fit log-log exponents")
    .option("--mechanisms <list>", `comma-separated, from ${ids.join(", ")}`, SCALING_MECHANISMS.join(","))
    .option("--min-n <n>", "smallest n (doubles up to --max-n)", int(1, "256"), 256)
    .option("--max-n <n>", "largest n", int(1, "65536"), 65536)
    .option("--head-dim <d>", "head dimension (headDim)", int(1, "32"), 32)
    .option("--heads <h>", "heads", int(1, "1"), 1)
    .addOption(backendOption())
    .option("--threads <n>", "threads for the wasm backend (1 = cleanest exponents)", int(1, "1"), 1)
    .option("--run-seconds <s>", "stop a mechanism before a call predicted longer than this (CPU s)", positive("2"), 2)
    .option("--total-seconds <s>", "budget for all mechanisms together (CPU s)", positive("60"), 60)
    .option("--json <file>", "write points and fits as JSON")
    .option("--csv <file>", "write points as CSV")
    .option("--no-progress", "no progress bar")
    .action(async (o) => {
      const mechs = String(o.mechanisms)
        .split(",")
        .map((s) => s.trim())
        .filter((s) => s !== "");
      for (const id of mechs) {
        if (!mechanismById(id) || available([id]).length === 0) {
          throw new UsageError(`--mechanisms: got "${id}"; expected a comma-separated list from ${ids.join(", ")}`);
        }
      }
      if (o.minN > o.maxN) throw new UsageError(`--min-n: got ${o.minN}; expected at most --max-n (${o.maxN})`);
      const r = await measureScaling({
        mechanisms: available(mechs),
        minN: o.minN,
        maxN: o.maxN,
        headDim: o.headDim,
        heads: o.heads,
        backend: o.backend,
        threads: o.threads,
        runSeconds: o.runSeconds,
        totalSeconds: o.totalSeconds,
        progress: o.progress,
      });
      if (o.json) writeFileSync(o.json, `${JSON.stringify(r, null, 2)}\n`);
      if (o.csv) writeFileSync(o.csv, scalingCsv(r));
      const rows = r.points.map((p) => [
        p.mechanism,
        String(p.n),
        (p.seconds * 1000).toFixed(2),
        (p.peakBytes / 2 ** 20).toFixed(1),
        String(p.scoredPairs),
      ]);
      out(formatTable(["mechanism", "n", "ms (median)", "peak MiB", "scored pairs"], rows));
      out(`\n${fitsText(r)}`);
    });

  prog
    .command("report")
    .description("write the HTML report (figures 1–4, cost table, measured scaling) and print the summary")
    .option("-o, --out <dir>", "output folder", "report")
    .option("--quick", "small sizes and budgets (seconds; for tests and a first look)")
    .option("--cost-n <n>", "length of the cost table", int(16, "4096"))
    .option("--max-n <n>", "largest n of the scaling runs", int(2, "65536"))
    .option("--head-dim <d>", "head dimension (headDim)", int(1, "32"), 32)
    .option(
      "--total-seconds <s>",
      "CPU-second budget of the scaling runs (default 150, --quick 10); each mechanism otherwise stops before a call over 1 CPU s",
      positive("150"),
    )
    .addOption(backendOption())
    .option("--threads <n>", "threads for the wasm backend", int(1, "1"), 1)
    .option("--no-progress", "no progress bar")
    .action(async (o) => {
      const quick = o.quick === true;
      const r = await runReport({
        out: o.out,
        costN: o.costN ?? (quick ? 256 : 4096),
        headDim: o.headDim,
        backend: o.backend,
        threads: o.threads,
        minN: quick ? 64 : 256,
        maxN: o.maxN ?? (quick ? 256 : 65536),
        runSeconds: quick ? 0.5 : 1,
        totalSeconds: o.totalSeconds ?? (quick ? 10 : 150),
        repeatProcesses: quick ? 0 : undefined, // --quick: one process per point (its exponents are not growth classes anyway)
        progress: o.progress,
        scaling: SCALING_MECHANISMS,
        log: err,
      });
      out(`${r.summary}\n`);
    });
  registerEncode(prog, out, err);
  registerGenerate(prog, out, err);
  registerRun(prog, out, err, [corpusMode]);

  prog
    .command("explore")
    .description("serve the interactive explorer on 127.0.0.1 (cross-origin isolated: wasm threads) and open it")
    .option("--port <n>", "port (0 picks a free one)", int(0, "8080"), 0)
    .option("--no-open", "print the URL only; do not open a browser")
    .option("--build <dir>", "write the page to <dir> for a static host instead of serving it")
    .addHelpText(
      "after",
      "\nExamples:\n  sparse-attention explore\n  sparse-attention explore --port 8080 --no-open\n  sparse-attention explore --build site/",
    )
    .action(async (o: { port: number; open: boolean; build?: string }) => {
      if (o.build !== undefined) {
        const dir = buildExplorer(o.build);
        out(`wrote the explorer to ${dir} (any static host; threads need COOP/COEP headers, see ${dir}/_headers)`);
        return;
      }
      const server = await serveExplorer(o.port);
      out(`sparse-attention explorer: ${server.url}  (Ctrl-C to stop)`);
      if (o.open) openInBrowser(server.url, err);
    });
  return prog;
}

const FILE_REASONS: Record<string, string> = {
  EACCES: "permission denied",
  EPERM: "operation not permitted",
  ENOENT: "no such file or directory (does the folder exist?)",
  ENOTDIR: "a part of the path is not a folder",
  EISDIR: "it is a folder, not a file",
  EEXIST: "a file with that name is in the way",
  EROFS: "read-only file system",
  ENOSPC: "no space left on the device",
  EDQUOT: "disk quota exceeded",
  ENAMETOOLONG: "the name is too long",
  EMFILE: "too many open files",
};

/** A Node file-system error as one line naming the path and the reason, or null for other errors. */
export function fileError(e: unknown): string | null {
  if (!(e instanceof Error)) return null;
  const { code, path, syscall } = e as NodeJS.ErrnoException;
  if (typeof code !== "string" || typeof path !== "string") return null;
  const verb =
    syscall === "mkdir" ? "create the folder" : syscall === "open" || syscall === "write" ? "write" : syscall;
  return `cannot ${verb ?? "access"} ${path}: ${FILE_REASONS[code] ?? code} (${code})`;
}

function usageOf(prog: Command, argv: string[]): string {
  const sub = prog.commands.find((c) => c.name() === argv[2]);
  return `usage: ${(sub ?? prog).name() === prog.name() ? "" : `${prog.name()} `}${(sub ?? prog).name()} ${(sub ?? prog).usage()}\n(add --help for the accepted form)`;
}

export async function main(argv: string[]): Promise<number> {
  const prog = program();
  try {
    await prog.parseAsync(argv);
    return 0;
  } catch (e) {
    if (e instanceof CommanderError) {
      if (e.code === "commander.helpDisplayed" || e.code === "commander.version") return 0;
      if (e.code === "commander.help" && e.exitCode === 0) return 0; // `sparse-attention help show`
      return 2;
    }
    if (e instanceof UsageError || e instanceof PatternExpressionError || e instanceof AttentionArgumentError) {
      err(`error: ${e.message}\n${usageOf(prog, argv)}`);
      return 2;
    }
    if (e instanceof MissingOptionalDependency || e instanceof RunFailure) {
      err(`error: ${e.message}`); // what to install, not a stack trace
      return 1;
    }
    const file = fileError(e);
    if (file !== null) {
      err(`error: ${file}`);
      return 1;
    }
    err(`error: ${(e as Error).stack ?? String(e)}`);
    return 1;
  }
}

process.exitCode = await main(process.argv);
