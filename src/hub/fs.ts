/**
 * The file operations the Node cache needs, behind one small interface so that a test can
 * make a write fail (a full disk) without root tricks. Node's modules are looked up at run
 * time with `process.getBuiltinModule`, as src/platform.ts does, so a browser bundle that
 * reaches this file sees "not available" instead of an import of `node:fs`.
 */
import type * as Crypto from "node:crypto";
import type * as FsPromises from "node:fs/promises";
import type * as Os from "node:os";
import type * as Path from "node:path";

export interface BlobWriter {
  write(chunk: Uint8Array): Promise<void>;
  close(): Promise<void>;
}

export interface HubFs {
  /** The file's text, or null when it does not exist. */
  readText(file: string): Promise<string | null>;
  readBytes(file: string): Promise<Uint8Array>;
  exists(file: string): Promise<boolean>;
  mkdirp(dir: string): Promise<void>;
  /** Writes a small file through a temporary name and a rename. */
  writeText(file: string, text: string): Promise<void>;
  createWriter(file: string): Promise<BlobWriter>;
  rename(from: string, to: string): Promise<void>;
  remove(file: string): Promise<void>;
  /**
   * A relative symbolic link at `link` to `target`, made at a temporary name and renamed over
   * `link` (atomic: a concurrent reader sees the old entry or the new one, never none); a copy
   * where links are not allowed.
   */
  linkOrCopy(target: string, link: string): Promise<void>;
  /** Creates `file` holding `text` unless it exists (O_EXCL): true when this call created it. */
  createExclusive(file: string, text: string): Promise<boolean>;
  /** The file's text and modification time, or null when it does not exist. */
  statText(file: string): Promise<{ text: string; mtimeMs: number } | null>;
  /** Sets the file's modification time to now (a lock's heartbeat); a missing file is ignored. */
  touch(file: string): Promise<void>;
}

type Getter = (id: string) => unknown;

export function nodeBuiltin<T>(id: string): T | undefined {
  const proc = (globalThis as { process?: { getBuiltinModule?: Getter } }).process;
  return proc?.getBuiltinModule?.(id) as T | undefined;
}

export interface NodeModules {
  fs: typeof FsPromises;
  path: typeof Path;
  os: typeof Os;
  crypto: typeof Crypto;
}

/** Node's fs/promises, path, os and crypto, or null outside Node. */
export function nodeModules(): NodeModules | null {
  const fs = nodeBuiltin<typeof FsPromises>("node:fs/promises");
  const path = nodeBuiltin<typeof Path>("node:path");
  const os = nodeBuiltin<typeof Os>("node:os");
  const crypto = nodeBuiltin<typeof Crypto>("node:crypto");
  return fs && path && os && crypto ? { fs, path, os, crypto } : null;
}

function errnoCode(e: unknown): string | undefined {
  return (e as { code?: string } | null)?.code;
}

let tmpCounter = 0;
/** A sibling name no other writer uses: `<file>.<pid>.<n>.<random>.incomplete`. */
export function temporaryName(file: string): string {
  const pid = (globalThis as { process?: { pid?: number } }).process?.pid ?? 0;
  tmpCounter += 1;
  return `${file}.${pid}.${tmpCounter}.${Math.random().toString(36).slice(2, 8)}.incomplete`;
}

export function nodeHubFs(m: NodeModules): HubFs {
  const { fs, path } = m;
  return {
    async readText(file) {
      try {
        return await fs.readFile(file, "utf8");
      } catch (e) {
        if (errnoCode(e) === "ENOENT" || errnoCode(e) === "ENOTDIR") return null;
        throw e;
      }
    },
    async readBytes(file) {
      const buf = await fs.readFile(file);
      return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
    },
    async exists(file) {
      try {
        // follows the link: a snapshot link to a deleted blob does not count, nor a folder where a file should be
        return (await fs.stat(file)).isFile();
      } catch {
        return false;
      }
    },
    async mkdirp(dir) {
      await fs.mkdir(dir, { recursive: true });
    },
    async writeText(file, text) {
      const tmp = temporaryName(file);
      try {
        await fs.writeFile(tmp, text);
        await fs.rename(tmp, file);
      } catch (e) {
        await fs.rm(tmp, { force: true }).catch(() => undefined);
        throw e;
      }
    },
    async createWriter(file) {
      const handle = await fs.open(file, "w");
      return {
        async write(chunk) {
          let off = 0;
          while (off < chunk.byteLength) {
            const { bytesWritten } = await handle.write(chunk, off, chunk.byteLength - off);
            off += bytesWritten;
          }
        },
        close: () => handle.close(),
      };
    },
    rename: (from, to) => fs.rename(from, to),
    remove: (file) => fs.rm(file, { force: true }),
    async linkOrCopy(target, link) {
      const tmp = temporaryName(link);
      try {
        try {
          await fs.symlink(path.relative(path.dirname(link), target), tmp);
        } catch (e) {
          if (errnoCode(e) !== "EPERM" && errnoCode(e) !== "EACCES" && errnoCode(e) !== "ENOTSUP") throw e;
          // Windows without developer mode, some network drives: a copy, as huggingface_hub does there.
          await fs.copyFile(target, tmp);
        }
        try {
          await fs.rename(tmp, link);
        } catch (e) {
          const code = errnoCode(e);
          if (code !== "EISDIR" && code !== "ENOTEMPTY" && code !== "EEXIST" && code !== "EPERM") throw e;
          // a folder where the entry belongs (a cache an older version let an ETag of ".." poison): replaced
          await fs.rm(link, { recursive: true, force: true });
          await fs.rename(tmp, link);
        }
      } catch (e) {
        await fs.rm(tmp, { force: true }).catch(() => undefined);
        throw e;
      }
    },
    async createExclusive(file, text) {
      try {
        await fs.writeFile(file, text, { flag: "wx" });
        return true;
      } catch (e) {
        if (errnoCode(e) === "EEXIST") return false;
        throw e;
      }
    },
    async statText(file) {
      try {
        const [st, text] = await Promise.all([fs.stat(file), fs.readFile(file, "utf8")]);
        return { text, mtimeMs: st.mtimeMs };
      } catch (e) {
        if (errnoCode(e) === "ENOENT" || errnoCode(e) === "ENOTDIR") return null;
        throw e;
      }
    },
    async touch(file) {
      const now = new Date();
      await fs.utimes(file, now, now).catch(() => undefined);
    },
  };
}
