/**
 * Where governance files come from: the working tree on disk or a git
 * commit. The loader only sees this interface, so validate and diff read
 * both sides the same way.
 */

/** What kind of thing sits at a path that looks like a governance file. */
export type TreeEntryType = 'file' | 'symlink' | 'other';

/** A `*.yaml` / `*.yml` path under a root (repository-relative, `/`-separated). */
export interface TreeEntry {
  path: string;
  type: TreeEntryType;
  /** Content id (git blob id) when the tree knows it without reading the file. */
  id?: string;
}

/** The bytes of one file, or why there are none. */
export type FileContent =
  | { status: 'ok'; bytes: Uint8Array; id?: string }
  | { status: 'too-large'; size: number }
  | { status: 'missing' }
  | { status: 'unreadable'; reason: string };

/** A readable snapshot of a repository. */
export interface SourceTree {
  /** Governance-file entries under the roots, sorted by path, and the roots that do not exist. */
  listGovernanceFiles(roots: readonly string[]): Promise<{ entries: TreeEntry[]; missingRoots: string[] }>;
  /** One file's bytes, refusing files larger than `maxBytes` without reading them. */
  readFile(path: string, maxBytes: number): Promise<FileContent>;
}

/** Whether a file name is a governance file name. */
export function isYamlName(name: string): boolean {
  return name.endsWith('.yaml') || name.endsWith('.yml');
}
