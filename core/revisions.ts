import { AgentMemo } from './agent-memo';
import { fileSystemTree } from './fs-tree';
import type { Repository } from './git';
import { defaultBaseRef, mergeBase, openRepository, resolveRef } from './git';
import { commitTree } from './git-tree';
import type { FileLoader, LoadedFile, Snapshot } from './validate';
import { loadSnapshot } from './validate';

/** Which two sides of the repository a command compares (CLI.md, `mandate diff`). */
export interface RevisionOptions {
  /** A revision; default: the default branch. */
  base?: string;
  /** A revision; default: the working tree. */
  head?: string;
  now?: Date;
  /** How files are parsed (see LoadOptions). */
  loader?: FileLoader;
  /** false: models only, no capabilities or rule findings (see LoadOptions). */
  rules?: boolean;
}

/** One loaded side. */
export interface Revision {
  /** The revision as given or chosen (`working tree` for uncommitted files). */
  ref: string;
  /** The commit, or null for the working tree. */
  sha: string | null;
  snapshot: Snapshot;
}

/** The three snapshots a pull request is judged on. */
export interface Revisions {
  repo: Repository;
  /** `--base` itself: approval rules, teams, people and config come from here (FORMAT.md, Approvals). */
  base: Revision & { sha: string };
  /** The merge base of base and head: changes are measured from here, like GitHub's three-dot diff. */
  mergeBase: Revision & { sha: string };
  head: Revision;
}

/**
 * Loads head, merge base and base through one repository handle and one parse
 * cache: the head first, then the commits, which read only the blobs that differ
 * and recompute per-agent results only for agents whose documents differ.
 * Throws the typed errors of core/git.ts (unknown ref, shallow clone, not a repository).
 */
export async function loadRevisions(dir: string, options: RevisionOptions = {}): Promise<Revisions> {
  const repo = await openRepository(dir);
  const cache = new Map<string, LoadedFile>();
  const memo = new AgentMemo();
  const load = (tree: Parameters<typeof loadSnapshot>[0]) => loadSnapshot(tree, { now: options.now, cache, memo, loader: options.loader, rules: options.rules });
  let head: Revision;
  let headCommit: string;
  if (options.head === undefined) {
    head = { ref: 'working tree', sha: null, snapshot: await load(fileSystemTree(dir)) };
    headCommit = await resolveRef(repo, 'HEAD');
  } else {
    headCommit = await resolveRef(repo, options.head);
    head = { ref: options.head, sha: headCommit, snapshot: await load(commitTree(repo, headCommit)) };
  }
  const baseRef = options.base ?? (await defaultBaseRef(repo, head.snapshot.config.defaultBranch)).ref;
  const baseSha = await resolveRef(repo, baseRef);
  const mergeBaseSha = await mergeBase(repo, baseSha, headCommit, { names: [baseRef, options.head ?? 'HEAD'] });
  const mergeBaseSnapshot = await load(commitTree(repo, mergeBaseSha));
  const baseSnapshot = baseSha === mergeBaseSha ? mergeBaseSnapshot : await load(commitTree(repo, baseSha));
  return {
    repo,
    base: { ref: baseRef, sha: baseSha, snapshot: baseSnapshot },
    mergeBase: { ref: mergeBaseSha, sha: mergeBaseSha, snapshot: mergeBaseSnapshot },
    head,
  };
}
