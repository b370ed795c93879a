import { createHash } from 'node:crypto';
import { lstat, open, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { FileContent, SourceTree, TreeEntry } from './source-tree';
import { isYamlName } from './source-tree';
import { compareStrings } from './finding';

/** A SourceTree over a directory on disk; symlinks are reported, never followed. */
export function fileSystemTree(root: string): SourceTree {
  return {
    async listGovernanceFiles(roots) {
      const entries: TreeEntry[] = [];
      const missingRoots: string[] = [];
      for (const governanceRoot of roots) {
        const stats = await lstat(join(root, governanceRoot)).catch(() => undefined);
        if (!stats?.isDirectory()) {
          missingRoots.push(governanceRoot);
          continue;
        }
        await walk(root, governanceRoot.replace(/\/+$/, ''), entries);
      }
      entries.sort((a, b) => compareStrings(a.path, b.path));
      return { entries, missingRoots };
    },
    async readFile(path, maxBytes) {
      return readBounded(join(root, path), maxBytes);
    },
  };
}

async function walk(root: string, start: string, entries: TreeEntry[]): Promise<void> {
  const pending = [start];
  for (let directory = pending.pop(); directory !== undefined; directory = pending.pop()) {
    const children = await readdir(join(root, directory), { withFileTypes: true }).catch(() => []);
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

async function readBounded(path: string, maxBytes: number): Promise<FileContent> {
  const stats = await lstat(path).catch((error: NodeJS.ErrnoException) => error);
  if (stats instanceof Error) {
    return stats.code === 'ENOENT' ? { status: 'missing' } : { status: 'unreadable', reason: stats.code ?? stats.message };
  }
  if (stats.isSymbolicLink()) return { status: 'unreadable', reason: 'it is a symlink (never followed)' };
  if (!stats.isFile()) return { status: 'unreadable', reason: 'it is not a regular file' };
  if (stats.size > maxBytes) return { status: 'too-large', size: stats.size };
  try {
    const handle = await open(path, 'r');
    try {
      const buffer = Buffer.alloc(Math.min(stats.size, maxBytes) + 1);
      let length = 0;
      for (;;) {
        const { bytesRead } = await handle.read(buffer, length, buffer.length - length, length);
        if (bytesRead === 0) break;
        length += bytesRead;
        if (length > maxBytes) return { status: 'too-large', size: length };
      }
      const bytes = buffer.subarray(0, length);
      return { status: 'ok', bytes, id: gitBlobId(bytes) };
    } finally {
      await handle.close();
    }
  } catch (error) {
    return { status: 'unreadable', reason: (error as NodeJS.ErrnoException).code ?? 'read failed' };
  }
}

/** The id git gives these bytes as a blob, so working-tree files share parse caches with commits. */
export function gitBlobId(bytes: Uint8Array): string {
  return createHash('sha1').update(`blob ${bytes.length}\0`).update(bytes).digest('hex');
}
