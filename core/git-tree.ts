/**
 * A SourceTree over a git commit, and the paths that differ between two
 * commits. Trees are read one directory at a time, only under the roots,
 * and remembered by id on the Repository, so the second side of a diff
 * reads only the trees that changed; blobs are read only when the loader
 * asks (it skips blobs whose id it has already parsed).
 */
import { compareStrings } from './finding';
import type { GitTreeEntry, Repository } from './git';
import { GitObjectError, readBlobWithin, readCommitInfo, readTreeEntries } from './git';
import type { FileContent, SourceTree, TreeEntry } from './source-tree';
import { isYamlName } from './source-tree';

/** A SourceTree reading one commit; `sha` is that commit. */
export interface CommitTree extends SourceTree {
  readonly sha: string;
}

/** Paths (relative to the opened directory) of governance files that differ between two commits. */
export interface ChangedPaths {
  added: string[];
  removed: string[];
  /** Same path, different content or type (e.g. a file that became a symlink). */
  modified: string[];
}

const SYMLINK = '120000';

function splitPath(path: string): string[] {
  return path.split('/').filter((part) => part !== '' && part !== '.');
}

function prefixParts(repo: Repository): string[] {
  return splitPath(repo.prefix);
}

/** The entry at a path below a tree; the tree itself for an empty path. */
async function entryAt(repo: Repository, tree: string, parts: readonly string[]): Promise<GitTreeEntry | undefined> {
  let entry: GitTreeEntry = { name: '', mode: '040000', oid: tree, type: 'tree' };
  for (const part of parts) {
    if (entry.type !== 'tree') return undefined;
    const next = (await readTreeEntries(repo, entry.oid)).get(part);
    if (!next) return undefined;
    entry = next;
  }
  return entry;
}

/** Whether the walk descends into a directory of this name (as fs-tree does). */
function isWalkedDirectory(name: string): boolean {
  return !isYamlName(name) && name !== '.git' && name !== 'node_modules';
}

/** The governance entry a tree entry named like a governance file is, if it is one. */
function governanceEntry(path: string, entry: GitTreeEntry): TreeEntry | undefined {
  if (!isYamlName(entry.name)) return undefined;
  if (entry.type === 'blob') {
    return entry.mode === SYMLINK ? { path, type: 'symlink' } : { path, type: 'file', id: entry.oid };
  }
  return { path, type: 'other' };
}

async function walk(repo: Repository, tree: string, path: string, into: Map<string, TreeEntry>): Promise<void> {
  for (const entry of (await readTreeEntries(repo, tree)).values()) {
    const child = `${path}/${entry.name}`;
    if (entry.type === 'tree' && isWalkedDirectory(entry.name)) {
      await walk(repo, entry.oid, child, into);
    } else {
      const found = governanceEntry(child, entry);
      if (found) into.set(child, found);
    }
  }
}

/**
 * The governance files of a commit, read through the repository's caches.
 * Paths are relative to the directory the repository was opened at.
 * Symlinks are reported, never followed; submodules and directories named
 * like governance files are 'other'. Trees that cannot be read throw
 * GitObjectError; a blob that cannot be read is 'unreadable'.
 */
export function commitTree(repo: Repository, sha: string): CommitTree {
  let top: Promise<string> | undefined;
  const topTree = (): Promise<string> => (top ??= readCommitInfo(repo, sha).then((commit) => commit.tree));
  const base = prefixParts(repo);
  return {
    sha,
    async listGovernanceFiles(roots) {
      const tree = await topTree();
      const entries = new Map<string, TreeEntry>();
      const missingRoots: string[] = [];
      for (const root of roots) {
        const parts = splitPath(root);
        const entry = parts.length === 0 ? undefined : await entryAt(repo, tree, [...base, ...parts]);
        if (entry?.type !== 'tree') {
          missingRoots.push(root);
          continue;
        }
        await walk(repo, entry.oid, parts.join('/'), entries);
      }
      return { entries: [...entries.values()].sort((a, b) => compareStrings(a.path, b.path)), missingRoots };
    },
    async readFile(path, maxBytes): Promise<FileContent> {
      const parts = splitPath(path);
      const entry = parts.length === 0 ? undefined : await entryAt(repo, await topTree(), [...base, ...parts]);
      if (!entry) return { status: 'missing' };
      if (entry.mode === SYMLINK) return { status: 'unreadable', reason: 'it is a symlink (never followed)' };
      if (entry.type !== 'blob') return { status: 'unreadable', reason: 'it is not a regular file' };
      let blob;
      try {
        // Over maxBytes the size comes from the object's header: a large blob is never inflated.
        blob = await readBlobWithin(repo, entry.oid, maxBytes);
      } catch (error) {
        if (error instanceof GitObjectError) return { status: 'unreadable', reason: error.message };
        throw error;
      }
      if (!('bytes' in blob)) return { status: 'too-large', size: blob.size };
      return { status: 'ok', bytes: blob.bytes, id: entry.oid };
    },
  };
}

type Side = GitTreeEntry | undefined;

/**
 * The governance files under `roots` that differ between two commits,
 * walking both trees together and skipping every subtree whose id is the
 * same on both sides. A root naming a file (e.g. 'mandate.yaml') compares
 * that file. A rename is a removal and an addition.
 */
export async function changedPaths(repo: Repository, baseSha: string, headSha: string, roots: readonly string[]): Promise<ChangedPaths> {
  const [baseCommit, headCommit] = await Promise.all([readCommitInfo(repo, baseSha), readCommitInfo(repo, headSha)]);
  const added = new Set<string>();
  const removed = new Set<string>();
  const modified = new Set<string>();
  const base = prefixParts(repo);

  const everything = async (entry: GitTreeEntry, path: string, isRoot: boolean, into: Set<string>): Promise<void> => {
    if (entry.type === 'tree' && (isRoot || isWalkedDirectory(entry.name))) {
      for (const child of (await readTreeEntries(repo, entry.oid)).values()) await everything(child, `${path}/${child.name}`, false, into);
    } else if (governanceEntry(path, entry)) {
      into.add(path);
    }
  };

  const compare = async (before: Side, after: Side, path: string, isRoot: boolean): Promise<void> => {
    if (before && after && before.oid === after.oid && before.mode === after.mode) return;
    const isDirectory = (entry: Side): entry is GitTreeEntry => entry?.type === 'tree' && (isRoot || isWalkedDirectory(entry.name));
    if (isDirectory(before) && isDirectory(after)) {
      const [left, right] = await Promise.all([readTreeEntries(repo, before.oid), readTreeEntries(repo, after.oid)]);
      for (const name of new Set([...left.keys(), ...right.keys()])) await compare(left.get(name), right.get(name), `${path}/${name}`, false);
      return;
    }
    const wasFile = before !== undefined && !isDirectory(before) && governanceEntry(path, before) !== undefined;
    const isFile = after !== undefined && !isDirectory(after) && governanceEntry(path, after) !== undefined;
    if (wasFile && isFile) {
      modified.add(path);
      return;
    }
    if (before) await everything(before, path, isRoot, removed);
    if (after) await everything(after, path, isRoot, added);
  };

  for (const root of new Set(roots.map((root) => splitPath(root).join('/')))) {
    if (root === '') continue;
    const parts = [...base, ...root.split('/')];
    const [before, after] = await Promise.all([entryAt(repo, baseCommit.tree, parts), entryAt(repo, headCommit.tree, parts)]);
    await compare(before, after, root, true);
  }
  const sorted = (paths: Set<string>): string[] => [...paths].sort(compareStrings);
  return { added: sorted(added), removed: sorted(removed), modified: sorted(modified) };
}
