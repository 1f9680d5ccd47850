/**
 * Download progress for the CLI: one cli-progress bar per file the Hub sends (none when
 * everything comes from the cache), then a line with the cache folder. Used as
 *
 *   const progress = createHubProgress();
 *   const folder = await downloadModel(id, { onProgress: progress.onProgress });
 *   progress.finish(folder);
 */
import cliProgress from "cli-progress";
import type { HubProgress } from "../hub/index.js";

export interface HubProgressDisplay {
  /** Pass as `options.onProgress` of downloadModel / fetchModelFiles / loadModel. */
  onProgress: (p: HubProgress) => void;
  /** Stops the bars and prints where the model's files are. */
  finish(folder: string | undefined): void;
  /** Stops the bars without a message (on an error). */
  stop(): void;
  /** The files a bar was shown for, in the order they started. */
  readonly files: readonly string[];
}

export interface HubProgressOptions {
  /** Where bars and the closing line go (default process.stderr). Bars only draw on a TTY. */
  stream?: NodeJS.WritableStream;
}

function megabytes(bytes: number): string {
  return (bytes / 1e6).toFixed(bytes < 10e6 ? 2 : 1);
}

export function createHubProgress(options: HubProgressOptions = {}): HubProgressDisplay {
  const stream = options.stream ?? process.stderr;
  let multi: cliProgress.MultiBar | null = null;
  const bars = new Map<string, cliProgress.SingleBar>();
  const files: string[] = [];
  const stop = () => {
    multi?.stop();
    multi = null;
  };
  const onProgress = (p: HubProgress) => {
    multi ??= new cliProgress.MultiBar(
      {
        format: "{file} {bar} {percentage}% | {mb} MB",
        stream,
        hideCursor: true,
        clearOnComplete: false,
        autopadding: true,
      },
      cliProgress.Presets.shades_classic,
    );
    // A file without Content-Length grows its own total as bytes arrive.
    const total = Math.max(p.total ?? p.loaded, 1);
    const payload = { file: p.file, mb: `${megabytes(p.loaded)}/${p.total === null ? "?" : megabytes(p.total)}` };
    let bar = bars.get(p.file);
    if (!bar) {
      bar = multi.create(total, p.loaded, payload);
      bars.set(p.file, bar);
      files.push(p.file);
      return;
    }
    if (bar.getTotal() !== total) bar.setTotal(total);
    bar.update(p.loaded, payload);
  };
  return {
    onProgress,
    stop,
    files,
    finish(folder) {
      stop();
      const how =
        files.length === 0 ? "from the cache" : `downloaded ${files.length} file${files.length === 1 ? "" : "s"}`;
      stream.write(`model files (${how}): ${folder ?? "browser cache"}\n`);
    },
  };
}
