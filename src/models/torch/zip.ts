/**
 * A small, strict reader of the zip archives `torch.save` writes (since PyTorch 1.6):
 * stored (uncompressed) entries, each payload aligned to 64 bytes by padding in the local
 * header's extra field, zip64 records when the archive or an entry passes 4 GiB.
 *
 * Layout read here (APPNOTE.TXT):
 *   end of central directory (EOCD, "PK\5\6", 22 bytes + comment) at the end of the file;
 *   zip64 EOCD locator ("PK\6\7", 20 bytes) just before it when a field is saturated;
 *   central directory: one "PK\1\2" record per entry (sizes, local header offset, name);
 *   local header "PK\3\4" (30 bytes + name + extra) followed by the entry's bytes.
 * Everything is bounds-checked against the buffer; names with "..", absolute paths or
 * backslashes are refused; a deflated entry (torch never writes one) is inflated only in Node
 * and only up to its declared size, itself capped, so a zip bomb cannot grow memory.
 */
import { CheckpointError } from "../safetensors.js";

export interface ZipEntry {
  name: string;
  /** 0 stored, 8 deflated. */
  method: number;
  compressedSize: number;
  size: number;
  crc32: number;
  /** Offset of the local header in the archive. */
  localOffset: number;
}

/** Largest deflated entry we inflate (torch pickles are kilobytes to a few megabytes). */
export const MAX_INFLATED_BYTES = 256 * 1024 * 1024;
/** Most entries we accept (a checkpoint has one per storage; 10⁶ is far beyond any model). */
export const MAX_ENTRIES = 1_000_000;

const EOCD = 0x06054b50;
const EOCD64_LOCATOR = 0x07064b50;
const EOCD64 = 0x06064b50;
const CENTRAL = 0x02014b50;
const LOCAL = 0x04034b50;

export class ZipArchive {
  readonly entries = new Map<string, ZipEntry>();
  private readonly dv: DataView;

  constructor(
    readonly bytes: Uint8Array,
    /** What errors call the file. */
    readonly label: string,
  ) {
    this.dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const size = bytes.byteLength;
    const eocd = this.findEocd();
    let count = this.u16(eocd + 10);
    let cdSize = this.u32(eocd + 12);
    let cdOffset = this.u32(eocd + 16);
    if (count === 0xffff || cdSize === 0xffffffff || cdOffset === 0xffffffff) {
      const loc = eocd - 20;
      if (loc < 0 || this.u32(loc) !== EOCD64_LOCATOR) this.fail("a saturated end record without a zip64 locator");
      const at = this.u64(loc + 8);
      if (at + 56 > size || this.u32(at) !== EOCD64) this.fail("the zip64 end record is missing or out of the file");
      count = this.u64(at + 32);
      cdSize = this.u64(at + 40);
      cdOffset = this.u64(at + 48);
    }
    if (count > MAX_ENTRIES) this.fail(`it claims ${count} entries (more than ${MAX_ENTRIES})`);
    if (cdOffset + cdSize > size) {
      this.fail(
        `the central directory [${cdOffset}, ${cdOffset + cdSize}) reaches past the ${size} bytes (truncated file?)`,
      );
    }
    let p = cdOffset;
    const decoder = new TextDecoder("utf-8", { fatal: true });
    for (let i = 0; i < count; i++) {
      if (p + 46 > size || this.u32(p) !== CENTRAL) this.fail(`central directory record ${i} is missing or damaged`);
      const flags = this.u16(p + 8);
      const method = this.u16(p + 10);
      const crc32 = this.u32(p + 16);
      let compressedSize = this.u32(p + 20);
      let entrySize = this.u32(p + 24);
      const nameLen = this.u16(p + 28);
      const extraLen = this.u16(p + 30);
      const commentLen = this.u16(p + 32);
      let localOffset = this.u32(p + 42);
      const end = p + 46 + nameLen + extraLen + commentLen;
      if (end > size) this.fail(`central directory record ${i} reaches past the end of the file`);
      let name: string;
      try {
        name = decoder.decode(this.bytes.subarray(p + 46, p + 46 + nameLen));
      } catch {
        this.fail(`entry ${i} has a name that is not UTF-8`);
      }
      if (flags & 1) this.fail(`entry "${name!}" is encrypted`);
      // zip64 extra field (id 1): the saturated fields, in this order
      let e = p + 46 + nameLen;
      const extraEnd = e + extraLen;
      while (e + 4 <= extraEnd) {
        const id = this.u16(e);
        const len = this.u16(e + 2);
        if (e + 4 + len > extraEnd) this.fail(`entry "${name!}" has a damaged extra field`);
        if (id === 1) {
          let q = e + 4;
          const take = (): number => {
            if (q + 8 > e + 4 + len) this.fail(`entry "${name!}" has a short zip64 field`);
            const v = this.u64(q);
            q += 8;
            return v;
          };
          if (entrySize === 0xffffffff) entrySize = take();
          if (compressedSize === 0xffffffff) compressedSize = take();
          if (localOffset === 0xffffffff) localOffset = take();
        }
        e += 4 + len;
      }
      checkName(name!, this.label);
      if (this.entries.has(name!)) this.fail(`entry "${name!}" appears twice`);
      if (method !== 0 && method !== 8)
        this.fail(`entry "${name!}" uses compression method ${method} (only stored and deflate are read)`);
      if (method === 0 && compressedSize !== entrySize) {
        this.fail(`stored entry "${name!}" has compressed size ${compressedSize} but size ${entrySize}`);
      }
      this.entries.set(name!, { name: name!, method, compressedSize, size: entrySize, crc32, localOffset });
      p = end;
    }
  }

  private fail(why: string): never {
    throw new CheckpointError(`${this.label}: not a valid PyTorch zip checkpoint: ${why}`);
  }

  private u16(at: number): number {
    return this.dv.getUint16(at, true);
  }
  private u32(at: number): number {
    return this.dv.getUint32(at, true);
  }
  private u64(at: number): number {
    const v = this.dv.getBigUint64(at, true);
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) this.fail(`a 64-bit size or offset ${v} is absurd`);
    return Number(v);
  }

  private findEocd(): number {
    const size = this.bytes.byteLength;
    // the record is 22 bytes plus a comment of at most 65,535 bytes
    for (let p = size - 22; p >= Math.max(0, size - 22 - 65535); p--) {
      if (this.u32(p) === EOCD && p + 22 + this.u16(p + 20) === size) return p;
    }
    if (size < 22) this.fail(`it has ${size} bytes (truncated file?)`);
    return this.fail("no end-of-central-directory record (truncated file, or not a zip archive)");
  }

  /** Where the entry's bytes start in the archive, checked against the file's size. */
  dataOffset(entry: ZipEntry): number {
    const p = entry.localOffset;
    if (p + 30 > this.bytes.byteLength || this.u32(p) !== LOCAL) {
      this.fail(`the local header of "${entry.name}" is missing or damaged`);
    }
    const start = p + 30 + this.u16(p + 26) + this.u16(p + 28);
    if (start + entry.compressedSize > this.bytes.byteLength) {
      this.fail(
        `entry "${entry.name}" needs bytes [${start}, ${start + entry.compressedSize}) but the file has ${this.bytes.byteLength} (truncated file?)`,
      );
    }
    return start;
  }

  /** The entry's bytes: a view for stored entries, inflated (Node only, bounded) for deflated ones. */
  read(name: string): Uint8Array {
    const entry = this.entries.get(name);
    if (entry === undefined) this.fail(`no entry "${name}"`);
    const start = this.dataOffset(entry);
    const raw = this.bytes.subarray(start, start + entry.compressedSize);
    if (entry.method === 0) return raw;
    if (entry.size > MAX_INFLATED_BYTES) {
      this.fail(`deflated entry "${name}" claims ${entry.size} bytes (more than ${MAX_INFLATED_BYTES}; a zip bomb?)`);
    }
    const zlib = (
      globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }
    ).process?.getBuiltinModule?.("node:zlib") as
      | { inflateRawSync(b: Uint8Array, o: { maxOutputLength: number }): Uint8Array }
      | undefined;
    if (zlib === undefined)
      this.fail(`entry "${name}" is deflated; only Node can inflate it (torch writes stored entries)`);
    let out: Uint8Array;
    try {
      // one byte more than declared so that a stream longer than its header says is caught
      out = zlib.inflateRawSync(raw, { maxOutputLength: entry.size + 1 });
    } catch (e) {
      this.fail(
        `deflated entry "${name}" does not inflate to its declared ${entry.size} bytes (${(e as Error).message})`,
      );
    }
    if (out.byteLength !== entry.size) {
      this.fail(`deflated entry "${name}" inflates to ${out.byteLength} bytes, not the declared ${entry.size}`);
    }
    if (crc32(out) !== entry.crc32) this.fail(`entry "${name}" fails its CRC-32 check`);
    return out;
  }

  /** read() plus the CRC-32 check (for the small entries: the pickle, version, byteorder). */
  readChecked(name: string): Uint8Array {
    const out = this.read(name);
    if (crc32(out) !== this.entries.get(name)!.crc32)
      this.fail(`entry "${name}" fails its CRC-32 check (damaged file?)`);
    return out;
  }
}

function checkName(name: string, label: string): void {
  const parts = name.split("/");
  if (
    name === "" ||
    name.startsWith("/") ||
    name.includes("\\") ||
    name.includes("\0") ||
    /^[A-Za-z]:/.test(name) ||
    parts.some((p) => p === ".." || p === ".")
  ) {
    throw new CheckpointError(
      `${label}: not a valid PyTorch zip checkpoint: unsafe entry name ${JSON.stringify(name)}`,
    );
  }
}

let crcTable: Uint32Array | null = null;

/** CRC-32 (IEEE, as zip uses it). */
export function crc32(bytes: Uint8Array): number {
  if (crcTable === null) {
    crcTable = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      crcTable[n] = c >>> 0;
    }
  }
  const t = crcTable;
  let c = 0xffffffff;
  for (let i = 0; i < bytes.length; i++) c = t[(c ^ bytes[i]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}
