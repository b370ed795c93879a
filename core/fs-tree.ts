import { createHash } from 'node:crypto';
import { closeSync, constants, fstatSync, lstatSync, openSync, readdirSync, readSync } from 'node:fs';
import { join } from 'node:path';
import { compareStrings } from './finding';
import type { FileContent, SourceTree, TreeEntry } from './source-tree';
import { isYamlName } from './source-tree';

/**
 * A SourceTree over a directory on disk; symlinks are reported, never followed.
 * It reads synchronously: for thousands of small files a blocking read is
 * several times faster than a promise round trip per file, and nothing else
 * runs while a command loads its repository.
 */
export function fileSystemTree(root: string): SourceTree {
  return {
    async listGovernanceFiles(roots) {
      const entries: TreeEntry[] = [];
      const missingRoots: string[] = [];
      for (const governanceRoot of roots) {
        const stats = lstatQuietly(join(root, governanceRoot));
        if (!stats?.isDirectory()) {
          missingRoots.push(governanceRoot);
          continue;
        }
        walk(root, governanceRoot.replace(/\/+$/, ''), entries);
      }
      entries.sort((a, b) => compareStrings(a.path, b.path));
      return { entries, missingRoots };
    },
    async readFile(path, maxBytes) {
      return readBounded(join(root, path), maxBytes);
    },
  };
}

function lstatQuietly(path: string) {
  try {
    return lstatSync(path);
  } catch {
    return undefined;
  }
}

function walk(root: string, start: string, entries: TreeEntry[]): void {
  const pending = [start];
  for (let directory = pending.pop(); directory !== undefined; directory = pending.pop()) {
    let children;
    try {
      children = readdirSync(join(root, directory), { withFileTypes: true });
    } catch {
      continue;
    }
    for (const child of children) {
      const path = `${directory}/${child.name}`;
      if (child.isSymbolicLink()) {
        if (isYamlName(child.name)) entries.push({ path, type: 'symlink' });
      } else if (child.isDirectory() && !isYamlName(child.name)) {
        if (child.name !== '.git' && child.name !== 'node_modules') pending.push(path);
      } else if (isYamlName(child.name)) {
        entries.push({ path, type: child.isFile() ? 'file' : 'other' });
      }
    }
  }
}

/**
 * Reads a regular file of at most `maxBytes`. The open itself refuses to
 * follow a symlink (O_NOFOLLOW) and cannot block on a FIFO (O_NONBLOCK); the
 * type and size come from the open descriptor, so nothing can be swapped in
 * between the check and the read.
 */
function readBounded(path: string, maxBytes: number): FileContent {
  let descriptor: number;
  try {
    descriptor = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return { status: 'missing' };
    if (code === 'ELOOP') return { status: 'unreadable', reason: 'it is a symlink (never followed)' };
    return { status: 'unreadable', reason: code ?? 'cannot open' };
  }
  try {
    const stats = fstatSync(descriptor);
    if (!stats.isFile()) return { status: 'unreadable', reason: 'it is not a regular file' };
    if (stats.size > maxBytes) return { status: 'too-large', size: stats.size };
    const buffer = Buffer.allocUnsafe(stats.size + 1);
    let length = 0;
    for (let read = -1; read !== 0 && length <= maxBytes; length += read) {
      if (length === buffer.length) return { status: 'too-large', size: length };
      read = readSync(descriptor, buffer, length, buffer.length - length, null);
    }
    if (length > maxBytes) return { status: 'too-large', size: length };
    const bytes = buffer.subarray(0, length);
    return { status: 'ok', bytes, id: gitBlobId(bytes) };
  } catch (error) {
    return { status: 'unreadable', reason: (error as NodeJS.ErrnoException).code ?? 'read failed' };
  } finally {
    closeSync(descriptor);
  }
}

/** The id git gives these bytes as a blob, so working-tree files share parse caches with commits. */
export function gitBlobId(bytes: Uint8Array): string {
  return createHash('sha1').update(`blob ${bytes.length}\0`).update(bytes).digest('hex');
}
