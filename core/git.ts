/**
 * Reading a git repository in-process (never the `git` binary): opening
 * it, resolving revisions, finding merge bases, and the object access the
 * commit SourceTree (git-tree.ts) is built on.
 *
 * Refs and the criss-cross case of the merge base go through
 * isomorphic-git, every call with the repository's one shared `cache`.
 * Objects are read natively (git-objects.ts: node:zlib instead of
 * isomorphic-git's pure-JS inflate, the profiled bottleneck of `mandate
 * diff`). Commits and trees are remembered by id, so base and head share
 * what they have in common. Failures a user can act on are GitError
 * values with a one-line message; the CLI turns them into exit 2.
 */
import { lstat, readdir, readFile, readlink, stat } from 'node:fs/promises';
import { basename, dirname, join, relative, resolve, sep } from 'node:path';
import type { PromiseFsClient } from 'isomorphic-git';
import git from 'isomorphic-git';
import type { ObjectType } from './git-objects';
import { ObjectStore } from './git-objects';

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
  /** The native object reader (git-objects.ts), opened on first use. */
  objects?: ObjectStore;
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
 * `objects/pack` and `objects/XX`: isomorphic-git probes for a loose object
 * and lists the pack directory on every object it reads (now only in
 * findMergeBase; mandate's own object reads are native).
 */
export type GitFileSystem = PromiseFsClient;

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
  };
}

// ---------------------------------------------------------------- objects
//
// Objects (commits, trees, blobs, tags) are read natively by git-objects.ts:
// node:zlib inflates several times faster than isomorphic-git's pure-JS
// pako, and deltas are applied with native buffer copies. isomorphic-git
// stays for what it does cheaply and well: refs (loose and packed) and the
// criss-cross case of the merge base.

function isNotFound(error: unknown): boolean {
  return (error as { code?: unknown } | null)?.code === 'NotFoundError';
}

function short(oid: string): string {
  return oid.slice(0, 12);
}

/** The repository's object store, opened on first use. */
function objects(repo: Repository): ObjectStore {
  repo.memo.objects ??= new ObjectStore(join(repo.gitdir, 'objects'));
  return repo.memo.objects;
}

/** An object's type and content; undefined when the clone does not have it. Throws CorruptObjectError (or a file system error). */
function readRaw(repo: Repository, oid: string): { type: ObjectType; object: Buffer } | undefined {
  const found = objects(repo).read(oid);
  return found && { type: found.type, object: found.content };
}

/** The header lines of a commit or tag object (continuation lines dropped). */
function headers(object: Uint8Array): Map<string, string[]> {
  const text = Buffer.from(object.buffer, object.byteOffset, object.byteLength).toString('utf8');
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

/** Reads an object that must be of `type`, as a GitObjectError when it is missing, corrupt or of another type. */
function readTyped(repo: Repository, oid: string, type: ObjectType): Buffer {
  let raw;
  try {
    raw = readRaw(repo, oid);
  } catch (error) {
    throw new GitObjectError(`cannot read ${type} ${short(oid)}: ${(error as Error).message}`);
  }
  if (!raw) throw new GitObjectError(`${type} ${short(oid)} is not in this clone`);
  if (raw.type !== type) throw new GitObjectError(`object ${short(oid)} is a ${raw.type}, not a ${type}`);
  return raw.object;
}

/** A commit's tree, parents and time (remembered). Throws GitObjectError when it cannot be read. */
export function readCommitInfo(repo: Repository, oid: string): Promise<CommitInfo> {
  let pending = repo.memo.commits.get(oid);
  if (!pending) {
    pending = (async () => {
      const fields = headers(readTyped(repo, oid, 'commit'));
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

/** A tree's entries by name, in the order the tree stores them (remembered). Throws GitObjectError when it cannot be read. */
export function readTreeEntries(repo: Repository, oid: string): Promise<Map<string, GitTreeEntry>> {
  let pending = repo.memo.trees.get(oid);
  if (!pending) {
    pending = (async () => {
      const content = readTyped(repo, oid, 'tree');
      try {
        return parseTree(content);
      } catch (error) {
        throw new GitObjectError(`cannot read tree ${short(oid)}: ${(error as Error).message}`);
      }
    })();
    repo.memo.trees.set(oid, pending);
    pending.catch(() => repo.memo.trees.delete(oid));
  }
  return pending;
}

/**
 * The entries of a tree object: `MODE NAME\0` and 20 bytes of id each.
 * Modes are git's canonical ones (a tree's `40000` is written 040000; an
 * old 100664 is a 100644 file). Like isomorphic-git (and git's
 * verify_path), a tree holding a name that could escape or alias a
 * directory ('..', '.git' in any disguise, a slash) is refused.
 */
function parseTree(content: Buffer): Map<string, GitTreeEntry> {
  const entries = new Map<string, GitTreeEntry>();
  let cursor = 0;
  while (cursor < content.length) {
    const space = content.indexOf(32, cursor);
    const nul = space === -1 ? -1 : content.indexOf(0, space);
    if (nul === -1 || nul + 21 > content.length) throw new Error(`malformed entry at byte ${cursor}`);
    let bits = 0;
    for (let index = cursor; index < space; index++) {
      const digit = content[index]! - 48;
      if (digit < 0 || digit > 7 || space - cursor > 6) throw new Error(`bad mode at byte ${cursor}`);
      bits = bits * 8 + digit;
    }
    const name = content.toString('utf8', space + 1, nul);
    if (isUnsafeTreeName(name)) throw new Error(`unsafe entry name '${name}'`);
    const oid = content.toString('hex', nul + 1, nul + 21);
    cursor = nul + 21;
    let mode: string;
    let type: GitTreeEntry['type'];
    switch (bits & 0o170000) {
      case 0o040000:
        [mode, type] = ['040000', 'tree'];
        break;
      case 0o100000:
        [mode, type] = [bits & 0o100 ? '100755' : '100644', 'blob'];
        break;
      case 0o120000:
        [mode, type] = ['120000', 'blob'];
        break;
      case 0o160000:
        [mode, type] = ['160000', 'commit'];
        break;
      default:
        throw new Error(`unexpected mode ${bits.toString(8)} of '${name}'`);
    }
    entries.set(name, { name, mode, oid, type });
  }
  return entries;
}

/** Names git's verify_path (and isomorphic-git) refuse in a tree, NTFS and HFS+ aliases of '.git' included. */
function isUnsafeTreeName(name: string): boolean {
  if (name === '' || name.includes('/') || name.includes('\\')) return true;
  // Every refused name starts with '.' or 'g' once ignorable characters (never ASCII) are dropped.
  if (!/^[.gG]/.test(name) && !/[^\x20-\x7e]/.test(name)) return false;
  const hfsClean = name.replace(/[\u200C-\u200F\u202A-\u202E\u206A-\u206F\uFEFF]/g, '');
  const normalized = hfsClean.split(':')[0]!.toLowerCase().replace(/[. ]+$/, '');
  return hfsClean === '.' || hfsClean === '..' || normalized === '.git' || /^\.?git~[1-9]$/.test(normalized);
}

/** The bytes of a blob. Throws GitObjectError when it is missing (e.g. from a partial clone), corrupt, or not a blob. */
export async function readBlobBytes(repo: Repository, oid: string): Promise<Uint8Array> {
  return readTyped(repo, oid, 'blob');
}

/**
 * A blob's bytes when it has at most `maxBytes`, else its size (known from
 * its header, so a large blob is never inflated whole). Throws
 * GitObjectError when it is missing, corrupt, or not a blob.
 */
export async function readBlobWithin(repo: Repository, oid: string, maxBytes: number): Promise<{ bytes: Uint8Array; size: number } | { size: number }> {
  let found;
  try {
    found = objects(repo).readWithin(oid, maxBytes);
  } catch (error) {
    throw new GitObjectError(`cannot read blob ${short(oid)}: ${(error as Error).message}`);
  }
  if (!found) throw new GitObjectError(`blob ${short(oid)} is not in this clone`);
  // Over the limit, a delta's type is not known without resolving it: its tree entry said blob.
  if (found.type !== 'blob' && found.type !== 'unknown') throw new GitObjectError(`object ${short(oid)} is a ${found.type}, not a blob`);
  return found.content ? { bytes: found.content, size: found.size } : { size: found.size };
}

/** The commits a shallow clone holds without their parents (empty for a full clone). */
export function shallowCommits(repo: Repository): Promise<Set<string>> {
  repo.memo.shallow ??= readFile(join(repo.gitdir, 'shallow'), 'utf8').then(
    (text) => new Set(text.split('\n').map((line) => line.trim()).filter((line) => /^[0-9a-f]{40}$/.test(line))),
    () => new Set<string>(),
  );
  return repo.memo.shallow;
}

/**
 * An object's type and size from its header, without inflating its content
 * (a packed delta inflates only the start of its delta, and its type is
 * 'unknown'); undefined when it is missing or cannot be told.
 */
export async function objectHeader(repo: Repository, oid: string): Promise<{ type: string; size: number } | undefined> {
  try {
    return objects(repo).header(oid);
  } catch {
    return undefined;
  }
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
  let matches: string[];
  try {
    matches = objects(repo).expand(prefix);
  } catch (error) {
    throw new GitRefError(revision, `cannot resolve '${revision}': ${(error as Error).message}`);
  }
  if (matches.length === 0) throw await unknown();
  if (matches.length === 1) return matches[0]!;
  // Like git, prefer the one candidate that can name a commit.
  const commitish: string[] = [];
  for (const match of matches) {
    const header = await objectHeader(repo, match);
    let type = header?.type;
    if (type === undefined || type === 'unknown') {
      try {
        type = readRaw(repo, match)?.type;
      } catch {
        type = undefined;
      }
    }
    if (type === 'commit' || type === 'tag') commitish.push(match);
  }
  if (commitish.length === 1) return commitish[0]!;
  const listed = (commitish.length > 1 ? commitish : matches).map(short).join(', ');
  throw new GitRefError(revision, `short SHA '${prefix}' is ambiguous (${listed}); give more digits`);
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
      raw = readRaw(repo, oid);
    } catch (error) {
      throw new GitRefError(revision, `cannot read '${revision}' (${short(oid)}): ${(error as Error).message}`);
    }
    if (!raw) {
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
