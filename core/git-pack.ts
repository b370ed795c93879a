/**
 * Pack files read natively: a version-2 `.idx` held in memory and searched
 * through its fan-out table, and the `.pack` opened once and read with
 * `readSync` at the offsets the index gives (never loaded whole). Entries
 * are inflated with node:zlib. Internal to core/git*.ts; the object store
 * (git-objects.ts) resolves deltas on top of this.
 */
import { closeSync, fstatSync, openSync, readFileSync, readSync } from 'node:fs';
import { constants as zlibConstants, inflateSync } from 'node:zlib';

/** An object that exists but cannot be read: truncated, malformed, or not what its header says. */
export class CorruptObjectError extends Error {
  override name = 'CorruptObjectError';
}

/** A pack listed earlier is no longer there (a concurrent `git gc` replaced it): list the packs again. */
export class PackGoneError extends Error {
  override name = 'PackGoneError';
}

export const OBJ_OFS_DELTA = 6;
export const OBJ_REF_DELTA = 7;
/** Pack type codes 1-4, as git names them. */
export const OBJECT_TYPES = ['', 'commit', 'tree', 'blob', 'tag'] as const;

const IDX_MAGIC = 0xff744f63;
const FANOUT = 8;
const NAMES = FANOUT + 256 * 4;

/**
 * How much of a pack one read takes at an entry: its header and, for most
 * objects, all of their zlib data. Under 4 KiB, so Buffer.allocUnsafe
 * takes it from Node's pool instead of allocating memory per read.
 */
export const ENTRY_CHUNK = 4000;

/** One entry of a pack: its header, and the bytes read from its offset (the start of its zlib data included). */
export interface PackEntry {
  offset: number;
  /** 1-4: commit, tree, blob, tag; 6: OFS_DELTA; 7: REF_DELTA. */
  typeCode: number;
  /** Inflated size: of the object, or of the delta for a delta. */
  size: number;
  /** Bytes read from `offset`; the zlib data starts at `dataStart` within them. */
  chunk: Buffer;
  dataStart: number;
  /** OFS_DELTA: the offset of the base in this pack. */
  baseOffset?: number;
  /** REF_DELTA: the id of the base. */
  baseOid?: string;
}

/** One pack and its index. */
export class Pack {
  private descriptor: number | undefined;
  private packSize = 0;

  private constructor(
    /** Unique within the owning store (the delta-base cache's key). */
    readonly id: number,
    readonly packPath: string,
    private readonly idx: Buffer,
    readonly count: number,
    /** Descriptors to close when the owning store goes away (see git-objects.ts). */
    private readonly descriptors: Set<number>,
  ) {}

  /** The pack whose index is at `idxPath`; undefined when the index is not a well-formed version-2 index. */
  static load(idxPath: string, id: number, descriptors: Set<number>): Pack | undefined {
    let idx: Buffer;
    try {
      idx = readFileSync(idxPath);
    } catch {
      return undefined;
    }
    if (idx.length < NAMES + 40 || idx.readUInt32BE(0) !== IDX_MAGIC || idx.readUInt32BE(4) !== 2) return undefined;
    const count = idx.readUInt32BE(FANOUT + 255 * 4);
    // Names, CRCs and 4-byte offsets, then the 8-byte offsets, then two checksums.
    if (idx.length < NAMES + count * 28 + 40) return undefined;
    return new Pack(id, `${idxPath.slice(0, -4)}.pack`, idx, count, descriptors);
  }

  /** The offset of an object in the pack (binary search within its fan-out bucket). */
  find(oid: Buffer): number | undefined {
    const first = oid[0]!;
    let low = first === 0 ? 0 : this.idx.readUInt32BE(FANOUT + (first - 1) * 4);
    let high = this.idx.readUInt32BE(FANOUT + first * 4);
    while (low < high) {
      const middle = (low + high) >>> 1;
      const at = NAMES + middle * 20;
      const comparison = this.idx.compare(oid, 0, 20, at, at + 20);
      if (comparison === 0) return this.offsetAt(middle);
      if (comparison > 0) high = middle;
      else low = middle + 1;
    }
    return undefined;
  }

  /** The ids in this pack starting with a hex prefix (of at least two digits). */
  withPrefix(prefix: string): string[] {
    const lowest = Buffer.from(prefix.padEnd(40, '0'), 'hex');
    const first = lowest[0]!;
    let low = first === 0 ? 0 : this.idx.readUInt32BE(FANOUT + (first - 1) * 4);
    let high = this.idx.readUInt32BE(FANOUT + first * 4);
    const end = high;
    while (low < high) {
      const middle = (low + high) >>> 1;
      const at = NAMES + middle * 20;
      if (this.idx.compare(lowest, 0, 20, at, at + 20) < 0) low = middle + 1;
      else high = middle;
    }
    const found: string[] = [];
    for (let index = low; index < end; index++) {
      const name = this.idx.toString('hex', NAMES + index * 20, NAMES + index * 20 + 20);
      if (!name.startsWith(prefix)) break;
      found.push(name);
    }
    return found;
  }

  private offsetAt(index: number): number {
    const offsets = NAMES + this.count * 24;
    const offset = this.idx.readUInt32BE(offsets + index * 4);
    if (!(offset & 0x80000000)) return offset;
    const large = offsets + this.count * 4 + (offset & 0x7fffffff) * 8;
    if (large + 8 > this.idx.length - 40) throw new CorruptObjectError(`pack index ${this.packPath} is truncated`);
    return Number(this.idx.readBigUInt64BE(large));
  }

  private open(): number {
    if (this.descriptor !== undefined) return this.descriptor;
    let descriptor: number;
    try {
      descriptor = openSync(this.packPath, 'r');
    } catch (error) {
      if ((error as { code?: unknown }).code === 'ENOENT') throw new PackGoneError(this.packPath);
      throw error;
    }
    this.descriptors.add(descriptor);
    const header = Buffer.alloc(12);
    const valid = (() => {
      this.packSize = fstatSync(descriptor).size;
      if (readSync(descriptor, header, 0, 12, 0) !== 12) return false;
      const version = header.readUInt32BE(4);
      return header.toString('latin1', 0, 4) === 'PACK' && (version === 2 || version === 3) && header.readUInt32BE(8) === this.count;
    })();
    if (!valid) {
      this.descriptors.delete(descriptor);
      closeSync(descriptor);
      throw new CorruptObjectError(`${this.packPath} is not the pack its index describes`);
    }
    this.descriptor = descriptor;
    return descriptor;
  }

  /** Up to `length` bytes from `position` (fewer at the end of the file). */
  read(position: number, length: number): Buffer {
    const descriptor = this.open();
    const wanted = Math.max(0, Math.min(length, this.packSize - position));
    const buffer = Buffer.allocUnsafe(wanted);
    let filled = 0;
    while (filled < wanted) {
      const bytesRead = readSync(descriptor, buffer, filled, wanted - filled, position + filled);
      if (bytesRead === 0) break;
      filled += bytesRead;
    }
    return filled === wanted ? buffer : buffer.subarray(0, filled);
  }

  /** The header of the entry at `offset`, with `chunk` bytes read from there. */
  entry(offset: number, chunk = ENTRY_CHUNK): PackEntry {
    const bytes = this.read(offset, chunk);
    const corrupt = (): CorruptObjectError => new CorruptObjectError(`bad pack entry at offset ${offset} of ${this.packPath}`);
    let position = 0;
    const next = (): number => {
      if (position >= bytes.length) throw corrupt();
      return bytes[position++]!;
    };
    let byte = next();
    const typeCode = (byte >> 4) & 7;
    let size = byte & 15;
    let shift = 4;
    while (byte & 0x80) {
      byte = next();
      size += (byte & 0x7f) * 2 ** shift;
      shift += 7;
      if (shift > 53) throw corrupt();
    }
    const entry: PackEntry = { offset, typeCode, size, chunk: bytes, dataStart: 0 };
    if (typeCode === OBJ_OFS_DELTA) {
      byte = next();
      let distance = byte & 0x7f;
      while (byte & 0x80) {
        byte = next();
        distance = (distance + 1) * 128 + (byte & 0x7f);
        if (distance > offset) throw corrupt();
      }
      // A base always lies before its delta, which also rules out cycles.
      if (distance === 0 || distance > offset - 12) throw corrupt();
      entry.baseOffset = offset - distance;
    } else if (typeCode === OBJ_REF_DELTA) {
      if (position + 20 > bytes.length) throw corrupt();
      entry.baseOid = bytes.toString('hex', position, position + 20);
      position += 20;
    } else if (typeCode < 1 || typeCode > 4) {
      throw corrupt();
    }
    entry.dataStart = position;
    return entry;
  }

  /** An entry's inflated data (the object, or the delta), exactly `entry.size` bytes. */
  inflate(entry: PackEntry): Buffer {
    const start = entry.offset + entry.dataStart;
    // Most entries' zlib data lies within the chunk already read.
    if (entry.chunk.length > entry.dataStart) {
      const inflated = inflateExactly(entry.chunk.subarray(entry.dataStart), entry.size, this.packPath, start);
      if (inflated) return inflated;
      if (entry.chunk.length < ENTRY_CHUNK) throw new CorruptObjectError(`truncated pack entry at offset ${entry.offset} of ${this.packPath}`);
    }
    // zlib never grows data by more than a few bytes per 16 KiB block; double the read if another encoder did.
    for (let length = entry.size + (entry.size >>> 10) + 64; ; length *= 2) {
      const input = this.read(start, length);
      const inflated = inflateExactly(input, entry.size, this.packPath, start);
      if (inflated) return inflated;
      if (input.length < length) throw new CorruptObjectError(`truncated pack entry at offset ${entry.offset} of ${this.packPath}`);
    }
  }

  /** The first bytes of an entry's inflated data (for a delta, the sizes it starts with). */
  inflatePrefix(entry: PackEntry): Buffer {
    return inflateSync(entry.chunk.subarray(entry.dataStart, entry.dataStart + 1024), { finishFlush: zlibConstants.Z_SYNC_FLUSH });
  }

  close(): void {
    if (this.descriptor === undefined) return;
    this.descriptors.delete(this.descriptor);
    closeSync(this.descriptor);
    this.descriptor = undefined;
  }
}

/**
 * Inflates one zlib stream (bytes after its end are ignored) that must
 * produce exactly `size` bytes; undefined when the input ends before the
 * stream does (read more), CorruptObjectError when the data is bad.
 */
export function inflateExactly(input: Buffer, size: number, where: string, offset: number): Buffer | undefined {
  let output: Buffer;
  try {
    // One output buffer of the expected size (from Node's pool when small), not 16 KiB chunks.
    output = inflateSync(input, { maxOutputLength: Math.max(1, size), chunkSize: Math.max(64, size) });
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    if (code === 'Z_BUF_ERROR') return undefined;
    const reason = code === 'ERR_BUFFER_TOO_LARGE' ? `inflates to more than the ${size} bytes its header says` : (error as Error).message;
    throw new CorruptObjectError(`bad zlib data at offset ${offset} of ${where}: ${reason}`);
  }
  if (output.length !== size) {
    throw new CorruptObjectError(`bad zlib data at offset ${offset} of ${where}: ${output.length} bytes where its header says ${size}`);
  }
  return output;
}

/** A delta's base size and result size (the two varints it starts with), and where its instructions begin. */
export function deltaSizes(delta: Uint8Array): { baseSize: number; resultSize: number; position: number } | undefined {
  let position = 0;
  const varint = (): number | undefined => {
    let value = 0;
    let shift = 0;
    for (;;) {
      if (position >= delta.length || shift > 49) return undefined;
      const byte = delta[position++]!;
      value += (byte & 0x7f) * 2 ** shift;
      shift += 7;
      if (!(byte & 0x80)) return value;
    }
  };
  const baseSize = varint();
  const resultSize = varint();
  return baseSize === undefined || resultSize === undefined ? undefined : { baseSize, resultSize, position };
}

/** Applies a git delta (copy and insert instructions) to its base. Throws CorruptObjectError when they do not fit. */
export function applyDelta(base: Buffer, delta: Buffer): Buffer {
  const sizes = deltaSizes(delta);
  if (!sizes) throw new CorruptObjectError('truncated delta');
  if (sizes.baseSize !== base.length) throw new CorruptObjectError(`delta expects a base of ${sizes.baseSize} bytes, the base has ${base.length}`);
  const result = Buffer.allocUnsafe(sizes.resultSize);
  const end = delta.length;
  let position = sizes.position;
  let written = 0;
  while (position < end) {
    const op = delta[position++]!;
    if (op & 0x80) {
      // Copy from the base: up to four offset bytes and three size bytes, as the low bits say.
      let offset = 0;
      let size = 0;
      if (op & 0x01) offset = delta[position++]!;
      if (op & 0x02) offset |= delta[position++]! << 8;
      if (op & 0x04) offset |= delta[position++]! << 16;
      if (op & 0x08) offset += delta[position++]! * 0x1000000;
      if (op & 0x10) size = delta[position++]!;
      if (op & 0x20) size |= delta[position++]! << 8;
      if (op & 0x40) size |= delta[position++]! << 16;
      if (size === 0) size = 0x10000;
      if (position > end || offset + size > base.length || written + size > result.length) throw new CorruptObjectError('delta copies outside its base or result');
      written = copyBytes(base, offset, size, result, written);
    } else if (op !== 0) {
      // Insert the next `op` bytes of the delta.
      if (position + op > end || written + op > result.length) throw new CorruptObjectError('delta inserts past its end');
      written = copyBytes(delta, position, op, result, written);
      position += op;
    } else {
      throw new CorruptObjectError('delta has a reserved instruction');
    }
  }
  if (written !== result.length) throw new CorruptObjectError(`delta produced ${written} of ${result.length} bytes`);
  return result;
}

/** Copies `length` bytes and returns the new write position; short runs byte by byte (Buffer#copy costs more to call than they take). */
function copyBytes(source: Buffer, from: number, length: number, target: Buffer, to: number): number {
  if (length < 64) {
    for (let index = 0; index < length; index++) target[to + index] = source[from + index]!;
  } else {
    source.copy(target, to, from, from + length);
  }
  return to + length;
}
