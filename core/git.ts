/**
 * Reading a git repository in-process (isomorphic-git, no `git` binary):
 * opening it, resolving revisions, finding merge bases, and the object
 * access the commit SourceTree (git-tree.ts) is built on.
 *
 * Every isomorphic-git call gets the repository's one shared `cache`, and
 * commits and trees are remembered by id, so base and head share what
 * they have in common. Failures a user can act on are GitError values
 * with a one-line message; the CLI turns them into exit 2.
 */
import { closeSync, openSync, readSync } from 'node:fs';
import { lstat, readdir, readFile, readlink, stat } from 'node:fs/promises';
import { basename, dirname, join, relative, resolve, sep } from 'node:path';
import { constants as zlibConstants, inflateSync } from 'node:zlib';
import type { PromiseFsClient } from 'isomorphic-git';
import git from 'isomorphic-git';

/** A problem with the repository or a revision the user named: one clear line, exit 2. */
export class GitError extends Error {
  override name = 'GitError';
}

/** The directory is not inside a git work tree. */
export class NotARepositoryError extends GitError {
  override name = 'NotARepositoryError';
  constructor(readonly dir: string) {
    super(`not a git repository: ${dir}`);
  }
}

/** A revision that does not name a commit: unknown, ambiguous, malformed, or not a commit. */
export class GitRefError extends GitError {
  override name = 'GitRefError';
  constructor(
    readonly ref: string,
    message: string,
  ) {
    super(message);
  }
}

/** History the command needs lies beyond the boundary of a shallow clone. */
export class ShallowCloneError extends GitError {
  override name = 'ShallowCloneError';
  constructor(
    message: string,
    /** A `git fetch --deepen=N` that should bring the missing history in. */
    readonly suggestedDeepen: number,
  ) {
    super(message);
  }
}

/** Two commits with no common history. */
export class NoMergeBaseError extends GitError {
  override name = 'NoMergeBaseError';
}

/** An object the repository should hold cannot be read (missing from a partial clone, or corrupt). */
export class GitObjectError extends GitError {
  override name = 'GitObjectError';
}

/** One entry of a git tree. */
export interface GitTreeEntry {
  name: string;
  /** Six octal digits: 100644, 100755, 120000 (symlink), 040000 (tree), 160000 (submodule). */
  mode: string;
  oid: string;
  type: 'blob' | 'tree' | 'commit';
}

/** What a commit says about itself, as far as mandate needs. */
export interface CommitInfo {
  oid: string;
  tree: string;
  parents: string[];
  /** Committer time, seconds since the epoch. */
  time: number;
}

/** An opened repository. Create it once per command and pass it to every call. */
export interface Repository {
  /** The file system isomorphic-git reads through: node:fs, read-only (see gitFileSystem). */
  readonly fs: GitFileSystem;
  /** The top of the work tree (what isomorphic-git calls `dir`). */
  readonly dir: string;
  /** The git directory holding objects and refs (for a linked worktree, the main repository's). */
  readonly gitdir: string;
  /** The git directory holding this work tree's HEAD (differs from `gitdir` only in linked worktrees). */
  readonly worktreeGitdir: string;
  /** The directory openRepository was given, relative to `dir` ('' at the top, else 'a/b'); commit trees are read from there. */
  readonly prefix: string;
  /** isomorphic-git's cache, shared by every call on this repository. */
  readonly cache: object;
  /** Commits and trees already read, by id. */
  readonly memo: RepositoryMemo;
}

/** Objects remembered for the lifetime of a Repository (internal to core/git*.ts). */
export interface RepositoryMemo {
  commits: Map<string, Promise<CommitInfo>>;
  trees: Map<string, Promise<Map<string, GitTreeEntry>>>;
  shallow?: Promise<Set<string>>;
  packs?: Promise<PackIndex[]>;
}

interface PackIndex {
  idx: Buffer;
  pack: string;
}

/**
 * Opens the repository whose work tree holds `dir` (looking upwards like git does).
 * Throws NotARepositoryError when there is none.
 */
export async function openRepository(dir: string): Promise<Repository> {
  const start = resolve(dir);
  const stats = await stat(start).catch(() => undefined);
  if (!stats?.isDirectory()) throw new NotARepositoryError(dir);
  for (let current = start; ; current = dirname(current)) {
    const found = await gitDirectoriesAt(current);
    if (found) {
      const prefix = relative(current, start).split(sep).filter(Boolean).join('/');
      return {
        fs: gitFileSystem(join(found.common, 'objects')),
        dir: current,
        gitdir: found.common,
        worktreeGitdir: found.own,
        prefix,
        cache: {},
        memo: { commits: new Map(), trees: new Map() },
      };
    }
    if (dirname(current) === current) throw new NotARepositoryError(dir);
  }
}

async function gitDirectoriesAt(directory: string): Promise<{ own: string; common: string } | undefined> {
  const dotgit = join(directory, '.git');
  const stats = await stat(dotgit).catch(() => undefined);
  let own: string;
  if (stats?.isDirectory()) {
    own = dotgit;
  } else if (stats?.isFile()) {
    const text = await readFile(dotgit, 'utf8').catch(() => '');
    const match = /^gitdir: (.+)$/m.exec(text);
    if (!match) return undefined;
    own = resolve(directory, match[1]!.trim());
  } else {
    return undefined;
  }
  const commondir = await readFile(join(own, 'commondir'), 'utf8').catch(() => undefined);
  const common = commondir === undefined ? own : resolve(own, commondir.trim());
  const head = await stat(join(own, 'HEAD')).catch(() => undefined);
  const objects = await stat(join(common, 'objects')).catch(() => undefined);
  if (!head?.isFile() || !objects?.isDirectory()) return undefined;
  return { own, common };
}

/**
 * node:fs for isomorphic-git, read-only (every write is refused, so reading
 * can never change the repository), remembering the listings of
 * `objects/pack` and `objects/XX`. isomorphic-git probes for a loose object
 * and lists the pack directory on every read: against a packed clone those
 * failing calls, not inflating, were most of the time spent per blob.
 * `forget()` drops the listings (objects written since are then found).
 */
export interface GitFileSystem extends PromiseFsClient {
  /** Whether a loose object's file exists (from the remembered listing). */
  hasLooseObject(oid: string): Promise<boolean>;
  forget(): void;
}

export function gitFileSystem(objectsDirectory: string): GitFileSystem {
  const listings = new Map<string, Promise<Set<string> | undefined>>();
  const packDirectory = join(objectsDirectory, 'pack');
  const isListed = (directory: string): boolean =>
    directory === packDirectory || (dirname(directory) === objectsDirectory && /^[0-9a-f]{2}$/.test(basename(directory)));
  const listing = (directory: string): Promise<Set<string> | undefined> => {
    let names = listings.get(directory);
    if (!names) {
      const read = (): Promise<Set<string> | undefined> =>
        readdir(directory).then(
          (found) => new Set(found),
          () => undefined,
        );
      // A fan-out directory is listed only when the objects directory has it (most do not, in a packed clone).
      names =
        directory === objectsDirectory || directory === packDirectory
          ? read()
          : listing(objectsDirectory).then((fanouts) => (fanouts?.has(basename(directory)) ? read() : undefined));
      listings.set(directory, names);
    }
    return names;
  };
  const notFound = (path: string): Error => Object.assign(new Error(`ENOENT: no such file or directory, '${path}'`), { code: 'ENOENT' });
  const readOnly = async (path?: unknown): Promise<never> => {
    throw Object.assign(new Error(`EROFS: mandate never writes to a repository ('${String(path)}')`), { code: 'EROFS' });
  };
  return {
    promises: {
      async readFile(path: string, options?: unknown) {
        const directory = dirname(path);
        if (isListed(directory) && directory !== packDirectory && !(await listing(directory))?.has(basename(path))) throw notFound(path);
        return readFile(path, options as Parameters<typeof readFile>[1]);
      },
      async readdir(path: string, options?: unknown) {
        if (!isListed(path) || options !== undefined) return readdir(path, options as Parameters<typeof readdir>[1]);
        const names = await listing(path);
        if (!names) throw notFound(path);
        return [...names];
      },
      stat: (path: string, options?: unknown) => stat(path, options as Parameters<typeof stat>[1]),
      lstat: (path: string, options?: unknown) => lstat(path, options as Parameters<typeof lstat>[1]),
      readlink: (path: string, options?: unknown) => readlink(path, options as Parameters<typeof readlink>[1]),
      writeFile: readOnly,
      unlink: readOnly,
      mkdir: readOnly,
      rmdir: readOnly,
      symlink: readOnly,
      chmod: readOnly,
    },
    hasLooseObject: async (oid) => (await listing(join(objectsDirectory, oid.slice(0, 2))))?.has(oid.slice(2)) ?? false,
    forget: () => listings.clear(),
  };
}

// ---------------------------------------------------------------- objects

function isNotFound(error: unknown): boolean {
  return (error as { code?: unknown } | null)?.code === 'NotFoundError';
}

function short(oid: string): string {
  return oid.slice(0, 12);
}

/** Runs a read; when it finds nothing, forgets the object listings and tries once more. */
async function withFreshListings<T>(repo: Repository, read: () => Promise<T>): Promise<T> {
  try {
    return await read();
  } catch (error) {
    if (!isNotFound(error)) throw error;
    repo.fs.forget();
    return read();
  }
}

/** An object's type and raw content (reads the whole object: commits and tags only). */
async function readRaw(repo: Repository, oid: string): Promise<{ type: string; object: Uint8Array }> {
  const result = await withFreshListings(repo, () => git.readObject({ fs: repo.fs, gitdir: repo.gitdir, oid, format: 'content', cache: repo.cache }));
  return { type: result.type, object: result.object as Uint8Array };
}

/** The header lines of a commit or tag object (continuation lines dropped). */
function headers(object: Uint8Array): Map<string, string[]> {
  const text = Buffer.from(object).toString('utf8');
  const end = text.indexOf('\n\n');
  const result = new Map<string, string[]>();
  for (const line of (end === -1 ? text : text.slice(0, end)).split('\n')) {
    if (line.startsWith(' ') || line === '') continue;
    const space = line.indexOf(' ');
    const key = space === -1 ? line : line.slice(0, space);
    const values = result.get(key) ?? [];
    values.push(space === -1 ? '' : line.slice(space + 1));
    result.set(key, values);
  }
  return result;
}

/** A commit's tree, parents and time (remembered). Throws GitObjectError when it cannot be read. */
export function readCommitInfo(repo: Repository, oid: string): Promise<CommitInfo> {
  let pending = repo.memo.commits.get(oid);
  if (!pending) {
    pending = (async () => {
      let raw;
      try {
        raw = await readRaw(repo, oid);
      } catch (error) {
        throw new GitObjectError(isNotFound(error) ? `commit ${short(oid)} is not in this clone` : `cannot read commit ${short(oid)}: ${(error as Error).message}`);
      }
      if (raw.type !== 'commit') throw new GitObjectError(`object ${short(oid)} is a ${raw.type}, not a commit`);
      const fields = headers(raw.object);
      const tree = fields.get('tree')?.[0];
      if (!tree) throw new GitObjectError(`commit ${short(oid)} has no tree`);
      const committer = fields.get('committer')?.[0] ?? '';
      const time = Number(/> (-?\d+) [+-]\d{4}$/.exec(committer)?.[1] ?? 0);
      return { oid, tree, parents: fields.get('parent') ?? [], time };
    })();
    repo.memo.commits.set(oid, pending);
    pending.catch(() => repo.memo.commits.delete(oid));
  }
  return pending;
}

/** A tree's entries by name, in tree order (remembered). Throws GitObjectError when it cannot be read. */
export function readTreeEntries(repo: Repository, oid: string): Promise<Map<string, GitTreeEntry>> {
  let pending = repo.memo.trees.get(oid);
  if (!pending) {
    pending = (async () => {
      let result;
      try {
        result = await withFreshListings(repo, () => git.readTree({ fs: repo.fs, gitdir: repo.gitdir, oid, cache: repo.cache }));
      } catch (error) {
        throw new GitObjectError(isNotFound(error) ? `tree ${short(oid)} is not in this clone` : `cannot read tree ${short(oid)}: ${(error as Error).message}`);
      }
      const entries = new Map<string, GitTreeEntry>();
      for (const entry of result.tree) entries.set(entry.path, { name: entry.path, mode: entry.mode, oid: entry.oid, type: entry.type });
      return entries;
    })();
    repo.memo.trees.set(oid, pending);
    pending.catch(() => repo.memo.trees.delete(oid));
  }
  return pending;
}

/** The bytes of a blob. */
export async function readBlobBytes(repo: Repository, oid: string): Promise<Uint8Array> {
  const { blob } = await withFreshListings(repo, () => git.readBlob({ fs: repo.fs, gitdir: repo.gitdir, oid, cache: repo.cache }));
  return blob;
}

/** The commits a shallow clone holds without their parents (empty for a full clone). */
export function shallowCommits(repo: Repository): Promise<Set<string>> {
  repo.memo.shallow ??= readFile(join(repo.gitdir, 'shallow'), 'utf8').then(
    (text) => new Set(text.split('\n').map((line) => line.trim()).filter((line) => /^[0-9a-f]{40}$/.test(line))),
    () => new Set<string>(),
  );
  return repo.memo.shallow;
}

const OBJECT_TYPES = ['', 'commit', 'tree', 'blob', 'tag'];

/**
 * An object's type and size from its header, without inflating its content
 * (loose objects and version-2 pack indexes); undefined when that cannot be
 * told cheaply, and the caller reads the object instead.
 */
export async function objectHeader(repo: Repository, oid: string): Promise<{ type: string; size: number } | undefined> {
  try {
    const loose = (await repo.fs.hasLooseObject(oid)) ? readPrefix(join(repo.gitdir, 'objects', oid.slice(0, 2), oid.slice(2)), 0, 1024) : undefined;
    if (loose) {
      const text = inflatePrefix(loose);
      const nul = text.indexOf(0);
      const match = nul === -1 ? null : /^(commit|tree|blob|tag) (\d+)$/.exec(text.subarray(0, nul).toString('latin1'));
      return match ? { type: match[1]!, size: Number(match[2]) } : undefined;
    }
    for (const pack of await packIndexes(repo)) {
      const offset = findInPackIndex(pack.idx, oid);
      if (offset !== undefined) return packedHeader(pack.pack, offset);
    }
  } catch {
    return undefined;
  }
  return undefined;
}

/**
 * Up to `length` bytes of a file from `position`. Synchronous on purpose:
 * three tiny system calls, where a round trip through libuv's thread pool
 * per call would cost more than the reading (measured: 5,000 headers,
 * ~1 s asynchronous against ~50 ms).
 */
function readPrefix(path: string, position: number, length: number): Buffer | undefined {
  let descriptor: number;
  try {
    descriptor = openSync(path, 'r');
  } catch {
    return undefined;
  }
  try {
    const buffer = Buffer.allocUnsafe(length);
    const bytesRead = readSync(descriptor, buffer, 0, length, position);
    return buffer.subarray(0, bytesRead);
  } finally {
    closeSync(descriptor);
  }
}

/** Inflates as much of a truncated zlib stream as it holds. */
function inflatePrefix(deflated: Uint8Array): Buffer {
  return inflateSync(deflated, { finishFlush: zlibConstants.Z_SYNC_FLUSH });
}

function packIndexes(repo: Repository): Promise<PackIndex[]> {
  repo.memo.packs ??= (async () => {
    const directory = join(repo.gitdir, 'objects', 'pack');
    const names = await readdir(directory).catch(() => [] as string[]);
    const packs: PackIndex[] = [];
    for (const name of names.filter((file) => file.endsWith('.idx')).sort()) {
      const idx = await readFile(join(directory, name)).catch(() => undefined);
      // Version 2 only: magic \377tOc, version 2, 256 fan-out entries.
      if (idx && idx.length >= 8 + 1024 && idx.readUInt32BE(0) === 0xff744f63 && idx.readUInt32BE(4) === 2) {
        packs.push({ idx, pack: join(directory, `${name.slice(0, -4)}.pack`) });
      }
    }
    return packs;
  })();
  return repo.memo.packs;
}

function findInPackIndex(idx: Buffer, oid: string): number | undefined {
  const wanted = Buffer.from(oid, 'hex');
  if (wanted.length !== 20) return undefined;
  const first = wanted[0]!;
  const fanout = 8;
  const count = idx.readUInt32BE(fanout + 255 * 4);
  let low = first === 0 ? 0 : idx.readUInt32BE(fanout + (first - 1) * 4);
  let high = idx.readUInt32BE(fanout + first * 4);
  const names = fanout + 1024;
  while (low < high) {
    const middle = (low + high) >>> 1;
    const comparison = idx.compare(wanted, 0, 20, names + middle * 20, names + middle * 20 + 20);
    if (comparison === 0) {
      const offsets = names + count * 20 + count * 4;
      const offset = idx.readUInt32BE(offsets + middle * 4);
      if (offset & 0x80000000) {
        const large = offsets + count * 4 + (offset & 0x7fffffff) * 8;
        return Number(idx.readBigUInt64BE(large));
      }
      return offset;
    }
    if (comparison > 0) high = middle;
    else low = middle + 1;
  }
  return undefined;
}

function packedHeader(pack: string, offset: number): { type: string; size: number } | undefined {
  // 32 bytes hold the header of a whole object; a delta needs the start of its zlib data too.
  let bytes = readPrefix(pack, offset, 32);
  if (!bytes || bytes.length === 0) return undefined;
  if (((bytes[0]! >> 4) & 7) >= 6) bytes = readPrefix(pack, offset, 1024) ?? bytes;
  let position = 0;
  let byte = bytes[position++]!;
  const typeCode = (byte >> 4) & 7;
  let size = byte & 15;
  let shift = 4;
  while (byte & 0x80) {
    byte = bytes[position++]!;
    size += (byte & 0x7f) * 2 ** shift;
    shift += 7;
  }
  const type = OBJECT_TYPES[typeCode];
  if (type) return { type, size };
  if (typeCode === 6) {
    while (bytes[position++]! & 0x80);
  } else if (typeCode === 7) {
    position += 20;
  } else {
    return undefined;
  }
  // A delta: its data starts with the base size and the result size (the object's), as varints.
  const delta = inflatePrefix(bytes.subarray(position));
  let cursor = 0;
  const varint = (): number | undefined => {
    let value = 0;
    let bits = 0;
    for (;;) {
      if (cursor >= delta.length) return undefined;
      const next = delta[cursor++]!;
      value += (next & 0x7f) * 2 ** bits;
      bits += 7;
      if (!(next & 0x80)) return value;
    }
  };
  if (varint() === undefined) return undefined;
  const resultSize = varint();
  // The result has the base's type, which the header of a delta does not say.
  return resultSize === undefined ? undefined : { type: 'unknown', size: resultSize };
}

// ---------------------------------------------------------------- revisions

const FULL_OID = /^[0-9a-f]{40}$/;

/**
 * The commit a revision names: branch (local or remote-tracking, e.g.
 * `origin/main`), tag (annotated tags peeled), full or unique short SHA
 * (at least 4 hex digits), `HEAD` / `@`, pseudo-refs such as `FETCH_HEAD`,
 * followed by any of `~`, `~N`, `^`, `^N`, `^{}`, `^{commit}`.
 * Throws GitRefError (unknown, ambiguous, not a commit) or ShallowCloneError.
 */
export async function resolveRef(repo: Repository, revision: string): Promise<string> {
  const cut = revision.search(/[~^]/);
  const name = cut === -1 ? revision : revision.slice(0, cut);
  const steps = parseSuffix(revision, cut === -1 ? '' : revision.slice(cut));
  let oid = await peelToCommit(repo, await resolveName(repo, name, revision), revision);
  for (const step of steps) {
    if (step.kind === '^') {
      if (step.count > 0) oid = await parentOf(repo, oid, step.count - 1, revision, 1);
      continue;
    }
    for (let taken = 0; taken < step.count; taken++) oid = await parentOf(repo, oid, 0, revision, step.count - taken);
  }
  return oid;
}

interface Step {
  kind: '~' | '^';
  count: number;
}

function parseSuffix(revision: string, suffix: string): Step[] {
  const steps: Step[] = [];
  const pattern = /~(\d*)|\^\{(?:commit)?\}|\^(\d*)/y;
  let position = 0;
  while (position < suffix.length) {
    pattern.lastIndex = position;
    const match = pattern.exec(suffix);
    if (!match) throw new GitRefError(revision, `unsupported revision '${revision}' (use a branch, tag or SHA, optionally followed by ~N or ^N)`);
    position = pattern.lastIndex;
    if (match[0].startsWith('^{')) continue;
    if (match[0].startsWith('~')) steps.push({ kind: '~', count: match[1] === '' ? 1 : Number(match[1]) });
    else steps.push({ kind: '^', count: match[2] === '' ? 1 : Number(match[2]) });
  }
  return steps;
}

async function parentOf(repo: Repository, oid: string, index: number, revision: string, remaining: number): Promise<string> {
  const commit = await readCommitInfo(repo, oid);
  if ((await shallowCommits(repo)).has(oid) && commit.parents.length > 0) {
    throw new ShallowCloneError(
      `'${revision}' goes back past the history of this shallow clone; fetch more history, e.g. git fetch --deepen=${remaining} or --unshallow`,
      remaining,
    );
  }
  const parent = commit.parents[index];
  if (parent === undefined) {
    const which = index === 0 ? 'no parent' : `no parent ${index + 1}`;
    throw new GitRefError(revision, `unknown git ref '${revision}': commit ${short(oid)} has ${which}`);
  }
  return parent;
}

/** Whether a name passes git's check-ref-format rules (one-level names allowed). */
function isValidRefName(name: string): boolean {
  if (name === '' || name === '@' || name.startsWith('-') || name.startsWith('/') || name.endsWith('/') || name.endsWith('.')) return false;
  // eslint-disable-next-line no-control-regex
  if (/[\x00-\x20\x7f~^:?*[\\]|\.\.|\/\/|@\{/.test(name)) return false;
  return name.split('/').every((part) => !part.startsWith('.') && !part.endsWith('.lock'));
}

async function resolveName(repo: Repository, name: string, revision: string): Promise<string> {
  const unknown = async (): Promise<GitRefError> => {
    const hint = (await shallowCommits(repo)).size > 0 ? ' (this is a shallow clone: it may need fetching)' : '';
    return new GitRefError(revision, `unknown git ref '${revision}'${hint}`);
  };
  if (name === 'HEAD' || name === '@') return readHead(repo, revision);
  const lower = name.toLowerCase();
  if (FULL_OID.test(lower)) return lower;
  if (!isValidRefName(name)) throw await unknown();
  if (/^[A-Z][A-Z_]*HEAD$/.test(name)) {
    const pseudo = await readPseudoRef(repo, name, revision);
    if (pseudo) return pseudo;
  }
  try {
    return await git.resolveRef({ fs: repo.fs, gitdir: repo.gitdir, ref: name });
  } catch (error) {
    if (!isNotFound(error)) throw new GitRefError(revision, `cannot resolve '${revision}': ${(error as Error).message}`);
  }
  if (/^[0-9a-f]{4,39}$/.test(lower)) return expandShort(repo, lower, revision, unknown);
  throw await unknown();
}

async function expandShort(repo: Repository, prefix: string, revision: string, unknown: () => Promise<GitRefError>): Promise<string> {
  try {
    return await withFreshListings(repo, () => git.expandOid({ fs: repo.fs, gitdir: repo.gitdir, oid: prefix, cache: repo.cache }));
  } catch (error) {
    const code = (error as { code?: string }).code;
    if (code !== 'AmbiguousError') throw isNotFound(error) ? await unknown() : new GitRefError(revision, `cannot resolve '${revision}': ${(error as Error).message}`);
    // Like git, prefer the one candidate that can name a commit.
    const matches = ((error as { data?: { matches?: string[] } }).data?.matches ?? []).slice().sort();
    const commitish: string[] = [];
    for (const match of matches) {
      const header = await objectHeader(repo, match);
      const type = header && header.type !== 'unknown' ? header.type : (await readRaw(repo, match).catch(() => undefined))?.type;
      if (type === 'commit' || type === 'tag') commitish.push(match);
    }
    if (commitish.length === 1) return commitish[0]!;
    const listed = (commitish.length > 1 ? commitish : matches).map(short).join(', ');
    throw new GitRefError(revision, `short SHA '${prefix}' is ambiguous (${listed}); give more digits`);
  }
}

async function readHead(repo: Repository, revision: string): Promise<string> {
  const text = (await readFile(join(repo.worktreeGitdir, 'HEAD'), 'utf8').catch(() => '')).trim();
  if (FULL_OID.test(text)) return text;
  const target = /^ref: (.+)$/.exec(text)?.[1]?.trim();
  if (!target) throw new GitRefError(revision, `cannot read HEAD in ${repo.worktreeGitdir}`);
  try {
    return await git.resolveRef({ fs: repo.fs, gitdir: repo.gitdir, ref: target });
  } catch {
    throw new GitRefError(revision, `HEAD points at '${target.replace(/^refs\/heads\//, '')}', which has no commits yet`);
  }
}

/** FETCH_HEAD, ORIG_HEAD, MERGE_HEAD and friends live in the work tree's git directory. */
async function readPseudoRef(repo: Repository, name: string, revision: string): Promise<string | undefined> {
  for (const directory of new Set([repo.worktreeGitdir, repo.gitdir])) {
    const text = await readFile(join(directory, name), 'utf8').catch(() => undefined);
    if (text === undefined) continue;
    const oid = /^([0-9a-f]{40})/.exec(text)?.[1];
    if (oid) return oid;
    const target = /^ref: (.+)$/m.exec(text)?.[1]?.trim();
    if (target) {
      try {
        return await git.resolveRef({ fs: repo.fs, gitdir: repo.gitdir, ref: target });
      } catch {
        throw new GitRefError(revision, `unknown git ref '${revision}': it points at '${target}', which does not exist`);
      }
    }
  }
  return undefined;
}

async function peelToCommit(repo: Repository, start: string, revision: string): Promise<string> {
  let oid = start;
  for (let depth = 0; depth < 32; depth++) {
    let raw;
    try {
      raw = await readRaw(repo, oid);
    } catch (error) {
      if (!isNotFound(error)) throw new GitRefError(revision, `cannot read '${revision}' (${short(oid)}): ${(error as Error).message}`);
      const hint = (await shallowCommits(repo)).size > 0 ? ' (this is a shallow clone: it may need fetching)' : '';
      throw new GitRefError(revision, `unknown git ref '${revision}': commit ${short(oid)} is not in this repository${hint}`);
    }
    if (raw.type === 'commit') return oid;
    if (raw.type !== 'tag') throw new GitRefError(revision, `'${revision}' names a ${raw.type}, not a commit`);
    const target = headers(raw.object).get('object')?.[0];
    if (!target || !FULL_OID.test(target)) throw new GitRefError(revision, `tag '${revision}' is malformed`);
    oid = target;
  }
  throw new GitRefError(revision, `tag '${revision}' nests too deeply`);
}

/** The branch `mandate diff` compares with when no --base is given, and its commit. */
export interface BaseRef {
  /** The revision that resolved, e.g. 'main', 'origin/main'. */
  ref: string;
  sha: string;
}

/**
 * The default base (CLI.md, mandate diff): Config `defaultBranch`, else what
 * `origin/HEAD` points at, else `main`, else `master`; a branch name also
 * matches its `origin/` remote-tracking branch (CI checkouts have no local
 * branches). Throws GitRefError asking for --base when none exists.
 */
export async function defaultBaseRef(repo: Repository, configuredDefaultBranch?: string): Promise<BaseRef> {
  const attempt = async (ref: string): Promise<BaseRef | undefined> => {
    try {
      return { ref, sha: await resolveRef(repo, ref) };
    } catch (error) {
      if (error instanceof GitRefError) return undefined;
      throw error;
    }
  };
  const withRemote = (branch: string): string[] => (branch.startsWith('origin/') ? [branch] : [branch, `origin/${branch}`]);
  if (configuredDefaultBranch) {
    for (const ref of withRemote(configuredDefaultBranch)) {
      const found = await attempt(ref);
      if (found) return found;
    }
    throw new GitRefError(
      configuredDefaultBranch,
      `the default branch '${configuredDefaultBranch}' (defaultBranch in mandate.yaml) is not in this clone; fetch it or pass --base`,
    );
  }
  const originHead = await git
    .resolveRef({ fs: repo.fs, gitdir: repo.gitdir, ref: 'refs/remotes/origin/HEAD', depth: 2 })
    .catch(() => undefined);
  if (originHead?.startsWith('refs/remotes/')) {
    const found = await attempt(originHead.slice('refs/remotes/'.length));
    if (found) return found;
  }
  for (const branch of ['main', 'master']) {
    for (const ref of withRemote(branch)) {
      const found = await attempt(ref);
      if (found) return found;
    }
  }
  throw new GitRefError('', 'no default branch to compare with (no defaultBranch in mandate.yaml, origin/HEAD, main or master); pass --base');
}

// ---------------------------------------------------------------- merge base

const FROM_A = 1;
const FROM_B = 2;
const STALE = 4;
const BOTH = FROM_A | FROM_B;

/** Names to use for the two commits in messages (default: their short SHAs). */
export interface MergeBaseOptions {
  names?: [string, string];
}

/**
 * The merge base of `a` and `b` (git's merge-base, one answer). When `a` is
 * `b` or an ancestor of it, the answer is `a`, found without walking past
 * it, so a depth-2 CI clone whose head's parent is the base suffices.
 * Throws ShallowCloneError when the answer lies beyond a shallow clone's
 * boundary, NoMergeBaseError for unrelated histories.
 */
export async function mergeBase(repo: Repository, a: string, b: string, options: MergeBaseOptions = {}): Promise<string> {
  if (a === b) return a;
  const [nameA, nameB] = options.names ?? [short(a), short(b)];
  const shallow = await shallowCommits(repo);
  const flags = new Map<string, number>();
  const depth = new Map<string, number>();
  const queue = new CommitQueue();
  const results: CommitInfo[] = [];
  let cutDepth = -1;
  const enqueue = async (oid: string, flag: number, at: number): Promise<void> => {
    flags.set(oid, (flags.get(oid) ?? 0) | flag);
    if (!depth.has(oid)) depth.set(oid, at);
    queue.push(await readCommitInfo(repo, oid));
  };
  await enqueue(a, FROM_A, 0);
  await enqueue(b, FROM_B, 0);
  while (queue.hasNonStale(flags)) {
    const commit = queue.pop()!;
    let flag = flags.get(commit.oid)! & (BOTH | STALE);
    if ((flag & BOTH) === BOTH) {
      if (!(flag & STALE)) results.push(commit);
      flag |= STALE;
      flags.set(commit.oid, flags.get(commit.oid)! | STALE);
    }
    if (shallow.has(commit.oid) && commit.parents.length > 0) {
      if (!(flag & STALE)) cutDepth = Math.max(cutDepth, depth.get(commit.oid)!);
      continue;
    }
    for (const parent of commit.parents) {
      const had = flags.get(parent) ?? 0;
      if ((had & flag) === flag) continue;
      // One tip reached the other: it is the merge base, whatever lies further back.
      if (parent === a && flag & FROM_B) return a;
      if (parent === b && flag & FROM_A) return b;
      await enqueue(parent, flag, depth.get(commit.oid)! + 1);
    }
  }
  if (results.length === 0) {
    if (cutDepth >= 0) {
      const deepen = Math.max(50, Math.ceil((2 * (cutDepth + 1)) / 50) * 50);
      throw new ShallowCloneError(
        `the merge base of ${nameA} and ${nameB} is not in this shallow clone; fetch more history, e.g. git fetch --deepen=${deepen} or --unshallow`,
        deepen,
      );
    }
    throw new NoMergeBaseError(`${nameA} and ${nameB} have no common history (no merge base)`);
  }
  if (results.length === 1) return results[0]!.oid;
  // Several candidates: drop those that are ancestors of others (criss-cross
  // merges keep more than one), then take the newest, like `git merge-base`.
  let best = results;
  try {
    const independent = new Set(await git.findMergeBase({ fs: repo.fs, gitdir: repo.gitdir, oids: [a, b], cache: repo.cache }));
    const kept = results.filter((commit) => independent.has(commit.oid));
    if (kept.length > 0) best = kept;
  } catch {
    // Keep every candidate; the newest is still a common ancestor.
  }
  return best.slice().sort((x, y) => y.time - x.time || (x.oid < y.oid ? -1 : 1))[0]!.oid;
}

/** Commits by committer time, newest first (git's date-ordered walk). */
class CommitQueue {
  private readonly heap: { commit: CommitInfo; order: number }[] = [];
  private counter = 0;

  push(commit: CommitInfo): void {
    this.heap.push({ commit, order: this.counter++ });
    let index = this.heap.length - 1;
    while (index > 0) {
      const parent = (index - 1) >> 1;
      if (!this.before(index, parent)) break;
      this.swap(index, parent);
      index = parent;
    }
  }

  pop(): CommitInfo | undefined {
    const top = this.heap[0];
    const last = this.heap.pop();
    if (this.heap.length > 0 && last) {
      this.heap[0] = last;
      let index = 0;
      for (;;) {
        const left = 2 * index + 1;
        const right = left + 1;
        let best = index;
        if (left < this.heap.length && this.before(left, best)) best = left;
        if (right < this.heap.length && this.before(right, best)) best = right;
        if (best === index) break;
        this.swap(index, best);
        index = best;
      }
    }
    return top?.commit;
  }

  hasNonStale(flags: Map<string, number>): boolean {
    return this.heap.some((item) => !((flags.get(item.commit.oid) ?? 0) & STALE));
  }

  private before(i: number, j: number): boolean {
    const x = this.heap[i]!;
    const y = this.heap[j]!;
    return x.commit.time > y.commit.time || (x.commit.time === y.commit.time && x.order < y.order);
  }

  private swap(i: number, j: number): void {
    [this.heap[i], this.heap[j]] = [this.heap[j]!, this.heap[i]!];
  }
}
