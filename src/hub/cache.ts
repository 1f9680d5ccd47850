/**
 * The Node cache, in the Hugging Face layout, so that files huggingface_hub (transformers,
 * the `hf` CLI) downloaded are reused here and the other way round:
 *
 *   <cacheDir>/models--<owner>--<name>/
 *     refs/<revision>                 the commit hash the revision pointed to (X-Repo-Commit)
 *     blobs/<etag>                    file contents, named by the Hub's ETag (sha256 for LFS files)
 *     snapshots/<commit>/<file>       relative symbolic link to ../../blobs/<etag> (a copy where links fail)
 *     .no_exist/<commit>/<file>       empty: the Hub said 404, so an optional file is not asked for again
 *
 * A file is downloaded into `blobs/<etag>.<unique>.incomplete` and renamed when every byte
 * arrived (and, for LFS files, its sha256 equals the ETag); on any failure the temporary file
 * is removed. A snapshot entry only ever points to a complete blob.
 */
import { forbiddenPathChar } from "../util/names.js";
import type { HubFs, NodeModules } from "./fs.js";
import { temporaryName } from "./fs.js";
import { HubError, type HubRequestContext, requestFile, streamBody } from "./http.js";
import { acquireBlobLock, type BlobLock } from "./lock.js";

export const WEIGHTS = "model.safetensors";
export const WEIGHTS_INDEX = "model.safetensors.index.json";
export const BIN_WEIGHTS = "pytorch_model.bin";
export const BIN_WEIGHTS_INDEX = "pytorch_model.bin.index.json";
/** The weights, in transformers' order of preference: safetensors (single, sharded), then PyTorch .bin. */
export const WEIGHT_FILES: readonly (readonly [string, string])[] = [
  [WEIGHTS, WEIGHTS_INDEX],
  [BIN_WEIGHTS, BIN_WEIGHTS_INDEX],
];
const ALL_WEIGHT_FILES = `${WEIGHTS}, ${WEIGHTS_INDEX}, ${BIN_WEIGHTS} or ${BIN_WEIGHTS_INDEX}`;
export const OPTIONAL_FILES = ["tokenizer.json", "tokenizer_config.json"] as const;

const COMMIT_HASH = /^[0-9a-f]{40}$/;
const SHA256 = /^[0-9a-f]{64}$/;
/** What a blob may be named: a digest (ETags are checked as the Hub defines them in http.ts). */
const BLOB_NAME = /^(?:[0-9a-f]{40}|[0-9a-f]{64})$/;

export interface CacheSettings {
  ctx: HubRequestContext;
  revision: string;
  cacheDir: string;
  offline: boolean;
  validateConfig?: (config: unknown) => void | readonly string[];
}

/** `models--owner--name`, as huggingface_hub names a model's folder. */
export function repoFolderName(repoId: string): string {
  return `models--${repoId.split("/").join("--")}`;
}

function isDiskFull(e: unknown): boolean {
  const code = (e as { code?: string } | null)?.code;
  return code === "ENOSPC" || code === "EDQUOT";
}

/** Parses a JSON file of the snapshot; a clear error when it is not JSON. */
export function parseJson(text: string, file: string, repoId: string): unknown {
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new HubError("invalid", `${file} of ${repoId} is not valid JSON (${(e as Error).message})`);
  }
}

/** The distinct shard file names of a `model.safetensors.index.json` (or `indexFile`), sorted by name. */
export function shardNames(index: unknown, repoId: string, indexFile: string = WEIGHTS_INDEX): string[] {
  const map = (index as { weight_map?: unknown } | null)?.weight_map;
  if (!map || typeof map !== "object" || Array.isArray(map)) {
    throw new HubError("invalid", `${indexFile} of ${repoId} has no "weight_map" object (tensor name → shard file)`);
  }
  const names = [...new Set(Object.values(map as Record<string, unknown>))];
  for (const n of names) {
    const bad = typeof n === "string" ? forbiddenPathChar(n) : null;
    if (
      typeof n !== "string" ||
      bad !== null ||
      n.length > 255 ||
      n.split("/").some((p) => p === "" || p === "." || p === "..")
    ) {
      const why = bad !== null ? ` (it holds ${bad})` : "";
      throw new HubError(
        "invalid",
        `${indexFile} of ${repoId} names a shard ${JSON.stringify(typeof n === "string" ? n.slice(0, 120) : n)}${why}; expected a file name in the repository (no "\\", ":", control characters, "." or ".." segments)`,
      );
    }
  }
  return (names as string[]).sort();
}

/**
 * Makes the snapshot of `ctx.repoId` at `revision` complete in the cache (config.json,
 * validated before any weights; the tokenizer files when the repository has them; the
 * weights, single file or shards) and returns its folder. Requests only what is missing.
 */
export async function downloadToCache(s: CacheSettings, m: NodeModules, io: HubFs): Promise<string> {
  const { path } = m;
  const repoId = s.ctx.repoId;
  const repoDir = path.join(s.cacheDir, repoFolderName(repoId));
  const refFile = path.join(repoDir, "refs", ...s.revision.split("/"));
  let commit: string | null = COMMIT_HASH.test(s.revision)
    ? s.revision
    : ((await io.readText(refFile))?.trim() ?? null);
  // an empty or foreign ref (not a commit hash, nor the revision a mirror without commits stands for): ask the Hub again
  if (commit !== null && !COMMIT_HASH.test(commit) && commit !== s.revision) commit = null;

  const snapshotPath = (file: string) => path.join(repoDir, "snapshots", commit!, ...file.split("/"));
  const noExistPath = (file: string) => path.join(repoDir, ".no_exist", commit!, ...file.split("/"));

  const offlineMissing = (file: string) =>
    new HubError(
      "offline-missing",
      `offline (options.offline or HF_HUB_OFFLINE) and the cache lacks ${file} of ${repoId}@${s.revision}` +
        ` (looked in ${commit ? path.dirname(snapshotPath(file)) : `${refFile}: no such revision cached`}):` +
        " run once with the network, or point cacheDir / HF_HUB_CACHE to the cache that has it",
    );

  // A remembered 404 (.no_exist) saves requests for optional files, but it is never the last word:
  // when a load would fail for lack of a file, it asks the Hub again (a 404 from a flaky proxy or a
  // forged answer must not break every later honest load, as issue 19 item 5 requires of the cache).
  let trustAbsence = true;
  let usedAbsence = false;

  /** true: in the snapshot; false: the Hub said it does not exist; null: not known here. */
  async function inCache(file: string): Promise<boolean | null> {
    if (!commit) return null;
    if (await io.exists(snapshotPath(file))) return true;
    if (trustAbsence && (await io.exists(noExistPath(file)))) {
      usedAbsence = true;
      return false;
    }
    return null;
  }

  async function guardDisk<T>(file: string, what: () => Promise<T>): Promise<T> {
    try {
      return await what();
    } catch (e) {
      if (!isDiskFull(e)) throw e;
      throw new HubError(
        "disk-full",
        `no space left on the disk of ${s.cacheDir} while writing ${file} of ${repoId}: free some space, or set` +
          " cacheDir (or HF_HUB_CACHE) to a disk with room; the partial file was removed",
        { cause: e },
      );
    }
  }

  const locksDir = path.join(s.cacheDir, ".locks", repoFolderName(repoId));
  const staleMs = Math.max(60_000, 3 * s.ctx.idleTimeoutMs);

  async function fetchIntoCache(file: string): Promise<boolean> {
    const blobsDir = path.join(repoDir, "blobs");
    const blobPath = (etag: string) => (BLOB_NAME.test(etag) ? path.join(blobsDir, etag) : null);
    let lock: BlobLock | null = null;
    /**
     * Holds the blob's lock, then says whether the blob is complete (another load wrote it). The
     * wait is bounded: a live holder finishes or fails within its file's deadline; a dead one's lock goes stale.
     */
    const haveBlob = async (etag: string) => {
      const blob = blobPath(etag);
      if (blob === null) return false;
      lock ??= await acquireBlobLock(path.join(locksDir, `${etag}.lock`), m, io, staleMs);
      return io.exists(blob);
    };
    try {
      return await fetchLocked(file, blobsDir, blobPath, haveBlob, () => lock?.heartbeat());
    } finally {
      await (lock as BlobLock | null)?.release();
    }
  }

  async function fetchLocked(
    file: string,
    blobsDir: string,
    blobPath: (etag: string) => string | null,
    haveBlob: (etag: string) => Promise<boolean>,
    heartbeat: () => void,
  ): Promise<boolean> {
    const got = await requestFile(s.ctx, commit ?? s.revision, file, haveBlob);
    if (!got) {
      if (commit) {
        const marker = noExistPath(file);
        await guardDisk(file, async () => {
          await io.mkdirp(path.dirname(marker));
          await io.writeText(marker, "");
        });
      }
      return false;
    }
    if (!commit) {
      // The revision's commit, as the Hub says (checked: 40 hex); a mirror that does not say keeps the revision's name.
      commit = got.head.commit ?? s.revision;
      if (!COMMIT_HASH.test(s.revision)) {
        const c = commit;
        await guardDisk(file, async () => {
          await io.mkdirp(path.dirname(refFile));
          await io.writeText(refFile, c);
        });
      }
    }
    const etag = got.head.etag;
    const link = snapshotPath(file);
    if (got.response === null || (etag && (await haveBlob(etag)))) {
      // Already in blobs/ (another revision, another load, or huggingface_hub downloaded it): link, skip the body.
      await got.response?.body?.cancel().catch(() => undefined);
      got.watchdog.stop();
      await guardDisk(file, async () => {
        await io.mkdirp(path.dirname(link));
        await io.linkOrCopy(blobPath(etag!)!, link);
      });
      return true;
    }
    await guardDisk(file, () => io.mkdirp(blobsDir));
    const tmp = temporaryName(path.join(blobsDir, etag ?? "download"));
    const sha256 = m.crypto.createHash("sha256");
    try {
      await guardDisk(file, async () => {
        const writer = await io.createWriter(tmp);
        try {
          await streamBody(s.ctx, file, got, async (chunk) => {
            sha256.update(chunk);
            await writer.write(chunk);
            heartbeat();
          });
        } finally {
          await writer.close();
        }
      });
      const digest = sha256.digest("hex");
      if (etag && SHA256.test(etag) && digest !== etag) {
        throw new HubError(
          "interrupted",
          `download of ${file} (${repoId}) arrived corrupted: its sha256 ${digest} differs from the Hub's ${etag};` +
            " nothing was kept: run again",
        );
      }
      const blob = path.join(blobsDir, etag ?? digest);
      await guardDisk(file, async () => {
        await io.rename(tmp, blob);
        await io.mkdirp(path.dirname(link));
        await io.linkOrCopy(blob, link);
      });
    } catch (e) {
      await io.remove(tmp).catch(() => undefined);
      throw e;
    }
    return true;
  }

  async function ensure(file: string, required: boolean): Promise<boolean> {
    const known = await inCache(file);
    if (known === true) return true;
    // a required file remembered absent is asked for again when online (see trustAbsence)
    if (known === false && (!required || s.offline)) {
      if (required) throw missingRequired(file);
      return false;
    }
    if (s.offline) {
      if (required) throw offlineMissing(file);
      return false;
    }
    const present = await fetchIntoCache(file);
    if (!present && required) throw missingRequired(file);
    return present;
  }

  const missingRequired = (file: string) =>
    new HubError(
      "not-found",
      `${repoId} on ${s.ctx.endpoint} has no ${file} at ${JSON.stringify(s.revision)} (HTTP 404), though its index or this library needs it`,
    );

  await ensure("config.json", true);
  const config = parseJson((await io.readText(snapshotPath("config.json"))) ?? "", "config.json", repoId);
  const extra = s.validateConfig?.(config) ?? [];
  for (const file of [...OPTIONAL_FILES, ...extra]) await ensure(file, false);
  const findWeights = async (): Promise<string | null> => {
    for (const [single, indexFile] of WEIGHT_FILES) {
      if (await ensure(single, false)) return path.dirname(snapshotPath(single));
      if (await ensure(indexFile, false)) {
        const index = parseJson((await io.readText(snapshotPath(indexFile))) ?? "", indexFile, repoId);
        for (const shard of shardNames(index, repoId, indexFile)) await ensure(shard, true);
        return path.dirname(snapshotPath(indexFile));
      }
    }
    return null;
  };
  let folder = await findWeights();
  if (folder === null && !s.offline && usedAbsence) {
    trustAbsence = false; // no weights by the remembered 404s: ask the Hub again before giving up
    folder = await findWeights();
  }
  if (folder !== null) return folder;
  if (s.offline) throw offlineMissing(`the weights (${ALL_WEIGHT_FILES})`);
  throw new HubError(
    "not-found",
    `${repoId} on ${s.ctx.endpoint} has none of ${ALL_WEIGHT_FILES} at ${JSON.stringify(s.revision)}:` +
      " check the revision (a branch, tag, commit or refs/pr/N)",
  );
}

export interface ModelFiles {
  config: unknown;
  weights: Uint8Array | Uint8Array[];
  tokenizer?: unknown;
  tokenizerConfig?: unknown;
  /**
   * The further optional JSON files `validateConfig` asked for (e.g. sentence-transformers'
   * modules.json and 1_Pooling/config.json), parsed, by their path in the repository; only
   * those the repository has.
   */
  extra?: Record<string, unknown>;
  folder?: string;
}

/**
 * Reads a complete snapshot folder (as downloadToCache leaves it) back as bytes and parsed JSON;
 * `validateConfig` names the further optional files to read (those it asked downloadToCache for).
 */
export async function readSnapshot(
  folder: string,
  repoId: string,
  m: NodeModules,
  io: HubFs,
  validateConfig?: (config: unknown) => void | readonly string[],
): Promise<ModelFiles> {
  const at = (file: string) => m.path.join(folder, ...file.split("/"));
  const json = async (file: string) => {
    const text = await io.readText(at(file));
    return text === null ? undefined : parseJson(text, file, repoId);
  };
  const files: ModelFiles = { config: await json("config.json"), weights: new Uint8Array(0), folder };
  const tokenizer = await json("tokenizer.json");
  const tokenizerConfig = await json("tokenizer_config.json");
  if (tokenizer !== undefined) files.tokenizer = tokenizer;
  if (tokenizerConfig !== undefined) files.tokenizerConfig = tokenizerConfig;
  const found: Record<string, unknown> = {};
  for (const file of validateConfig?.(files.config) ?? []) {
    const value = await json(file);
    if (value !== undefined) found[file] = value;
  }
  if (Object.keys(found).length > 0) files.extra = found;
  for (const [single, indexFile] of WEIGHT_FILES) {
    if (await io.exists(at(single))) {
      files.weights = await io.readBytes(at(single));
      return files;
    }
    if (await io.exists(at(indexFile))) {
      const shards = shardNames(await json(indexFile), repoId, indexFile);
      files.weights = await Promise.all(shards.map((shard) => io.readBytes(at(shard))));
      return files;
    }
  }
  throw new HubError("invalid", `${folder} has none of ${ALL_WEIGHT_FILES}`);
}
