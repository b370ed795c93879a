/**
 * Reading git objects natively: loose objects and pack files (git-pack.ts),
 * inflated with node:zlib, deltas applied here with a small LRU cache of
 * delta bases, across the repository's object directory and its alternates.
 *
 * Why not isomorphic-git, which mandate uses for refs and merge bases: its
 * pure-JS inflate (pako), JS delta application and a `stat` per call made
 * reading objects most of `mandate diff` (profiled on a 724-file history).
 * node:zlib inflates natively, and synchronous reads at known offsets cost
 * less than a round trip through libuv's thread pool per call. Nothing here
 * runs `git`, and nothing writes.
 *
 * Integrity is checked where it is cheap: every inflated object or delta
 * must be exactly the size its header says, and a delta must fit its base.
 * Object ids are not re-hashed. Internal to core/git*.ts.
 */
import { closeSync, openSync, readdirSync, readFileSync, readSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import { constants as zlibConstants, inflateSync } from 'node:zlib';
import type { PackEntry } from './git-pack';
import { CorruptObjectError, OBJECT_TYPES, Pack, PackGoneError, applyDelta, deltaSizes, inflateExactly } from './git-pack';

export { CorruptObjectError } from './git-pack';

export type ObjectType = 'commit' | 'tree' | 'blob' | 'tag';

/** An object's type and content. */
export interface GitObject {
  type: ObjectType;
  content: Buffer;
}

/** What a read with a size limit found: the content only within the limit ('unknown' type: a delta over the limit). */
export interface SizedObject {
  type: ObjectType | 'unknown';
  size: number;
  content?: Buffer;
}

const FULL_OID = /^[0-9a-f]{40}$/;
/** Bytes of resolved objects kept as delta bases (git's own default is 96 MiB). */
const DELTA_BASE_CACHE_BYTES = 32 * 1024 * 1024;
/** Longer chains than git ever writes (its --depth maximum is 4095) mean a corrupt pack. */
const MAX_DELTA_DEPTH = 10_000;
const MAX_ALTERNATES_DEPTH = 5;

/** Least recently used objects, by pack and offset, up to a number of bytes. */
class BaseCache {
  private readonly entries = new Map<string, GitObject>();
  private bytes = 0;

  constructor(private readonly limit: number) {}

  get(pack: Pack, offset: number): GitObject | undefined {
    const key = `${pack.id}:${offset}`;
    const found = this.entries.get(key);
    if (found) {
      this.entries.delete(key);
      this.entries.set(key, found);
    }
    return found;
  }

  /** Remembers an object; false when it is too large to keep. */
  set(pack: Pack, offset: number, object: GitObject): boolean {
    if (object.content.length > this.limit / 8) return false;
    const key = `${pack.id}:${offset}`;
    const previous = this.entries.get(key);
    if (previous) {
      this.bytes -= previous.content.length;
      this.entries.delete(key);
    }
    this.entries.set(key, object);
    this.bytes += object.content.length;
    for (const [oldest, value] of this.entries) {
      if (this.bytes <= this.limit) break;
      this.entries.delete(oldest);
      this.bytes -= value.content.length;
    }
    return true;
  }

  clear(): void {
    this.entries.clear();
    this.bytes = 0;
  }
}

interface ObjectDirectory {
  path: string;
  packs: Pack[];
  /** The .idx names `packs` was loaded from, sorted and joined (to tell whether a new listing differs). */
  listed: string;
}

/** Pack descriptors are closed when their store is garbage-collected (or closed). */
const descriptorCloser = new FinalizationRegistry<Set<number>>((descriptors) => {
  for (const descriptor of descriptors) {
    try {
      closeSync(descriptor);
    } catch {
      // Already closed.
    }
  }
});

/** The objects of one repository: create once, read many times. */
export class ObjectStore {
  private readonly directories: ObjectDirectory[];
  private readonly descriptors = new Set<number>();
  private readonly cache: BaseCache;
  private nextPackId = 0;

  /** `objectsDirectory` is `.git/objects`; its `info/alternates` are read too. */
  constructor(objectsDirectory: string, options: { deltaBaseCacheBytes?: number } = {}) {
    this.cache = new BaseCache(options.deltaBaseCacheBytes ?? DELTA_BASE_CACHE_BYTES);
    this.directories = objectDirectories(objectsDirectory).map((path) => ({ path, packs: [], listed: '' }));
    for (const directory of this.directories) this.listPacks(directory);
    descriptorCloser.register(this, this.descriptors, this);
  }

  /** An object's type and content; undefined when the repository does not have it. Throws CorruptObjectError. */
  read(oid: string): GitObject | undefined {
    const found = this.readWithin(oid, Infinity);
    return found && { type: found.type as ObjectType, content: found.content! };
  }

  /** An object's type and size, and its content when at most `maxSize` bytes; undefined when missing. */
  readWithin(oid: string, maxSize: number): SizedObject | undefined {
    return this.find(
      oid,
      (pack, offset) => this.readPacked(pack, offset, maxSize),
      (path) => readLoose(path, maxSize),
    );
  }

  /**
   * An object's type and size from its header, inflating at most a little
   * of it; a packed delta's type is 'unknown' (the base has it).
   */
  header(oid: string): { type: ObjectType | 'unknown'; size: number } | undefined {
    return this.find(
      oid,
      (pack, offset) => {
        const cached = this.cache.get(pack, offset);
        if (cached) return { type: cached.type, size: cached.content.length };
        const entry = pack.entry(offset);
        const type = OBJECT_TYPES[entry.typeCode];
        if (type) return { type, size: entry.size };
        // A delta starts with the base's size and the result's (the object's).
        const sizes = deltaSizes(pack.inflatePrefix(entry));
        if (!sizes) throw new CorruptObjectError(`bad delta at offset ${offset} of ${pack.packPath}`);
        return { type: 'unknown' as const, size: sizes.resultSize };
      },
      (path) => looseHeader(path),
    );
  }

  /** The full ids starting with a hex prefix (4 to 40 digits), sorted. */
  expand(prefix: string): string[] {
    const lower = prefix.toLowerCase();
    if (!/^[0-9a-f]{4,40}$/.test(lower)) return [];
    const collect = (): string[] => {
      const found = new Set<string>();
      for (const directory of this.directories) {
        for (const pack of directory.packs) for (const oid of pack.withPrefix(lower)) found.add(oid);
        let names: string[] = [];
        try {
          names = readdirSync(join(directory.path, lower.slice(0, 2)));
        } catch {
          // No loose objects under this fan-out directory.
        }
        for (const name of names) if (name.length === 38 && name.startsWith(lower.slice(2))) found.add(lower.slice(0, 2) + name);
      }
      return [...found].sort();
    };
    const found = collect();
    return found.length > 0 || !this.relist() ? found : collect();
  }

  /** Closes the pack files (reading again reopens them). */
  close(): void {
    for (const directory of this.directories) for (const pack of directory.packs) pack.close();
    this.cache.clear();
  }

  /**
   * Looks an object up: packs first, then loose files (as git does). When
   * neither has it, or a pack went away, the packs are listed again (a
   * concurrent repack) and the lookup repeated once.
   */
  private find<T>(oid: string, packed: (pack: Pack, offset: number) => T, loose: (path: string) => T | undefined): T | undefined {
    if (!FULL_OID.test(oid)) return undefined;
    const id = Buffer.from(oid, 'hex');
    for (let attempt = 0; ; attempt++) {
      try {
        for (const directory of this.directories) {
          for (const pack of directory.packs) {
            const offset = pack.find(id);
            if (offset !== undefined) return packed(pack, offset);
          }
        }
        for (const directory of this.directories) {
          const found = loose(join(directory.path, oid.slice(0, 2), oid.slice(2)));
          if (found !== undefined) return found;
        }
      } catch (error) {
        if (!(error instanceof PackGoneError)) throw error;
        if (attempt > 0) throw new CorruptObjectError(`${error.message} is listed but missing`);
      }
      if (attempt > 0 || !this.relist()) return undefined;
    }
  }

  /** Lists every directory's packs again; whether any changed. */
  private relist(): boolean {
    let changed = false;
    for (const directory of this.directories) changed = this.listPacks(directory) || changed;
    return changed;
  }

  private listPacks(directory: ObjectDirectory): boolean {
    const packDirectory = join(directory.path, 'pack');
    let names: string[] = [];
    try {
      names = readdirSync(packDirectory)
        .filter((name) => name.endsWith('.idx'))
        .sort();
    } catch {
      // No pack directory: loose objects only.
    }
    const listed = names.join('\n');
    if (listed === directory.listed) return false;
    const kept = new Map(directory.packs.map((pack) => [pack.packPath, pack]));
    const packs: Pack[] = [];
    for (const name of names) {
      const path = join(packDirectory, name);
      const existing = kept.get(`${path.slice(0, -4)}.pack`);
      kept.delete(`${path.slice(0, -4)}.pack`);
      const pack = existing ?? Pack.load(path, this.nextPackId++, this.descriptors);
      if (pack) packs.push(pack);
    }
    for (const gone of kept.values()) gone.close();
    directory.packs = packs;
    directory.listed = listed;
    return true;
  }

  /** The object at `offset`, resolving deltas; `content` is the caller's own (never the cached buffer). */
  private readPacked(pack: Pack, offset: number, maxSize: number): SizedObject {
    const cached = this.cache.get(pack, offset);
    if (cached) {
      const size = cached.content.length;
      if (size > maxSize) return { type: cached.type, size };
      const content = Buffer.allocUnsafe(size);
      cached.content.copy(content);
      return { type: cached.type, size, content };
    }
    const entry = pack.entry(offset);
    const type = OBJECT_TYPES[entry.typeCode];
    if (type) return entry.size > maxSize ? { type, size: entry.size } : { type, size: entry.size, content: pack.inflate(entry) };
    if (entry.size > maxSize) {
      // A delta over the limit most likely makes an object over it: tell from its first bytes before inflating it all.
      const sizes = deltaSizes(pack.inflatePrefix(entry));
      if (sizes && sizes.resultSize > maxSize) return { type: 'unknown', size: sizes.resultSize };
    }
    const delta = pack.inflate(entry);
    const sizes = deltaSizes(delta);
    if (!sizes) throw new CorruptObjectError(`bad delta at offset ${offset} of ${pack.packPath}`);
    if (sizes.resultSize > maxSize) return { type: 'unknown', size: sizes.resultSize };
    // Like git, only the bases are cached: the object itself is the caller's own.
    const base = this.baseOf(pack, entry, 1);
    const content = applyDelta(base.content, delta);
    return { type: base.type, size: content.length, content };
  }

  /** The base a delta entry applies to, resolved (OFS_DELTA chains iteratively) and cached; never to be modified. */
  private baseOf(pack: Pack, entry: PackEntry, depth: number): GitObject {
    const chain: PackEntry[] = [];
    let current = entry;
    let base: GitObject;
    for (;;) {
      if (depth + chain.length > MAX_DELTA_DEPTH) throw new CorruptObjectError(`delta chain longer than ${MAX_DELTA_DEPTH} in ${pack.packPath}`);
      if (current.baseOid !== undefined) {
        base = this.refBase(current.baseOid, depth + chain.length);
        break;
      }
      const baseOffset = current.baseOffset!;
      const cached = this.cache.get(pack, baseOffset);
      if (cached) {
        base = cached;
        break;
      }
      const next = pack.entry(baseOffset);
      const type = OBJECT_TYPES[next.typeCode];
      if (type) {
        base = { type, content: pack.inflate(next) };
        this.cache.set(pack, baseOffset, base);
        break;
      }
      chain.push(next);
      current = next;
    }
    for (let index = chain.length - 1; index >= 0; index--) {
      const link = chain[index]!;
      base = { type: base.type, content: applyDelta(base.content, pack.inflate(link)) };
      this.cache.set(pack, link.offset, base);
    }
    return base;
  }

  /** The base of a REF_DELTA, by id, wherever it is. */
  private refBase(oid: string, depth: number): GitObject {
    const found = this.find(
      oid,
      (pack, offset): GitObject => {
        const cached = this.cache.get(pack, offset);
        if (cached) return cached;
        const entry = pack.entry(offset);
        const type = OBJECT_TYPES[entry.typeCode];
        const object = type
          ? { type, content: pack.inflate(entry) }
          : (() => {
              const base = this.baseOf(pack, entry, depth + 1);
              return { type: base.type, content: applyDelta(base.content, pack.inflate(entry)) };
            })();
        this.cache.set(pack, offset, object);
        return object;
      },
      (path) => {
        const loose = readLoose(path, Infinity);
        return loose && { type: loose.type as ObjectType, content: loose.content! };
      },
    );
    if (!found) throw new CorruptObjectError(`the base ${oid.slice(0, 12)} of a delta is missing`);
    return found;
  }
}

/** The objects directory and, through `info/alternates`, the ones it borrows from (absolute, each once). */
function objectDirectories(objectsDirectory: string): string[] {
  const found: string[] = [];
  const visit = (directory: string, depth: number): void => {
    const path = resolve(directory);
    if (found.includes(path)) return;
    found.push(path);
    if (depth >= MAX_ALTERNATES_DEPTH) return;
    let text: string;
    try {
      text = readFileSync(join(path, 'info', 'alternates'), 'utf8');
    } catch {
      return;
    }
    for (const line of text.split('\n').map((entry) => entry.trim())) {
      if (line === '' || line.startsWith('#')) continue;
      visit(isAbsolute(line) ? line : join(path, line), depth + 1);
    }
  };
  visit(objectsDirectory, 0);
  return found;
}

/** Parses a loose object's "type size\0" header. */
function looseHeaderOf(inflated: Buffer, path: string): { type: ObjectType; size: number; start: number } {
  const nul = inflated.indexOf(0);
  const match = nul === -1 || nul > 32 ? null : /^(commit|tree|blob|tag) (0|[1-9]\d*)$/.exec(inflated.toString('latin1', 0, nul));
  if (!match) throw new CorruptObjectError(`loose object ${path} has a bad header`);
  return { type: match[1] as ObjectType, size: Number(match[2]), start: nul + 1 };
}

function inflateLoosePrefix(deflated: Buffer, path: string): Buffer {
  try {
    return inflateSync(deflated, { finishFlush: zlibConstants.Z_SYNC_FLUSH });
  } catch (error) {
    throw new CorruptObjectError(`loose object ${path} is not zlib data: ${(error as Error).message}`);
  }
}

/** A loose object, its content only within `maxSize`; undefined when the file does not exist. */
function readLoose(path: string, maxSize: number): SizedObject | undefined {
  let file: Buffer;
  try {
    file = readFileSync(path);
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
    throw error;
  }
  if (maxSize === Infinity || file.length <= 1024) {
    let inflated: Buffer;
    try {
      inflated = inflateSync(file);
    } catch (error) {
      throw new CorruptObjectError(`loose object ${path} is not zlib data: ${(error as Error).message}`);
    }
    const header = looseHeaderOf(inflated, path);
    if (inflated.length - header.start !== header.size) throw new CorruptObjectError(`loose object ${path} is not the ${header.size} bytes its header says`);
    return header.size > maxSize ? { type: header.type, size: header.size } : { type: header.type, size: header.size, content: inflated.subarray(header.start) };
  }
  // The header first (from the first bytes), so an object over the limit is never inflated whole.
  const header = looseHeaderOf(inflateLoosePrefix(file.subarray(0, 512), path), path);
  if (header.size > maxSize) return { type: header.type, size: header.size };
  const inflated = inflateExactly(file, header.start + header.size, path, 0);
  if (!inflated) throw new CorruptObjectError(`loose object ${path} is truncated`);
  return { type: header.type, size: header.size, content: inflated.subarray(header.start) };
}

/** A loose object's type and size from the first kilobyte of its file; undefined when the file does not exist. */
function looseHeader(path: string): { type: ObjectType; size: number } | undefined {
  let descriptor: number;
  try {
    descriptor = openSync(path, 'r');
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
    throw error;
  }
  let prefix: Buffer;
  try {
    const buffer = Buffer.allocUnsafe(1024);
    prefix = buffer.subarray(0, readSync(descriptor, buffer, 0, 1024, 0));
  } finally {
    closeSync(descriptor);
  }
  const { type, size } = looseHeaderOf(inflateLoosePrefix(prefix, path), path);
  return { type, size };
}
