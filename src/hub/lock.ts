/**
 * One lock file per blob, as huggingface_hub keeps them (`<cache>/.locks/models--owner--name/<etag>.lock`):
 * the first load of a blob downloads it, concurrent loads (in this process or another) wait
 * and then link the blob the first one wrote. The lock only saves duplicate downloads;
 * correctness never depends on it, because every write is a temporary file renamed into place
 * (a blob, a snapshot link, a ref), so a broken or stolen lock costs bandwidth, not a cache.
 *
 * A lock holds "<pid> <host>" and is touched while its download makes progress. It is stale,
 * and taken over, when its process is gone (same host) or it was not touched for `staleMs`.
 */
import type { HubFs, NodeModules } from "./fs.js";
import { temporaryName } from "./fs.js";

export interface BlobLock {
  /** Marks progress (throttled to one touch a second). */
  heartbeat(): void;
  release(): Promise<void>;
}

function processAlive(pid: number): boolean {
  const proc = (globalThis as { process?: { kill?: (pid: number, signal: number) => void } }).process;
  try {
    proc?.kill?.(pid, 0);
    return true;
  } catch (e) {
    return (e as { code?: string }).code === "EPERM"; // exists, owned by someone else
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Waits until this caller holds the lock file `file`. */
export async function acquireBlobLock(file: string, m: NodeModules, io: HubFs, staleMs: number): Promise<BlobLock> {
  const pid = (globalThis as { process?: { pid?: number } }).process?.pid ?? 0;
  const host = m.os.hostname();
  const me = `${pid} ${host}`;
  await io.mkdirp(m.path.dirname(file));
  let wait = 20;
  for (;;) {
    if (await io.createExclusive(file, me)) break;
    const held = await io.statText(file);
    if (held !== null) {
      const [holderPid, holderHost] = held.text.trim().split(" ");
      const gone = holderHost === host && Number(holderPid) !== pid && !processAlive(Number(holderPid));
      if (gone || Date.now() - held.mtimeMs > staleMs) {
        // take it over: move it aside (atomic; one of several waiters wins), then race for a new one
        const aside = temporaryName(file);
        await io.rename(file, aside).catch(() => undefined);
        await io.remove(aside).catch(() => undefined);
        continue;
      }
    }
    await sleep(wait);
    wait = Math.min(250, wait * 2);
  }
  let last = Date.now();
  return {
    heartbeat() {
      if (Date.now() - last < 1000) return;
      last = Date.now();
      void io.touch(file);
    },
    async release() {
      const held = await io.statText(file).catch(() => null);
      if (held?.text.trim() === me) await io.remove(file).catch(() => undefined);
    },
  };
}
