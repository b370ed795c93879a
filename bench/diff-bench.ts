// The diff benchmark (BENCH.md): a generated repository of 5,000 agents with
// 2,000 commits on main and a branch `pr` that changes one agent file.
// Figures, each the minimum of interleaved runs in child processes:
//   - `mandate diff` (merge base + head loaded through one parse cache, the
//     semantic diff and the required approvals) against one `validate` of the
//     head on the same checkout: target <= 1.3x;
//   - the same 1-file diff on a 50-file repository, to show the diff does not
//     grow with the repository beyond loading it: diff(5,000) <= 2 x diff(50)
//     + the model load, i.e. loading the diff's own head (the `pr` commit,
//     read from git, parsed, modelled and checked, nothing compared). The
//     working-tree validate of the first figure reads files, not git objects,
//     so it is not the diff's model load;
//   - reading git: the changed paths walked by core/git-tree.ts against native
//     `git diff --name-only`, printed side by side.

import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { requiredApprovals } from '../core/approvals';
import { openRepository, resolveRef } from '../core/git';
import { changedPaths, commitTree } from '../core/git-tree';
import { loadRevisions } from '../core/revisions';
import { semanticDiff } from '../core/semantic-diff';
import { loadSnapshot, validateRepository } from '../core/validate';
import { generateHistory } from './git-history';
import type { GeneratedHistory } from './git-history';
import { formatCount, formatMs, minOf, printTable, reportFromChild, runChild } from './measure';
import type { Figure } from './measure';
import { fileLoader } from '../cli/context';

const MARKER = '.bench-history.json';
const HISTORY_VERSION = 2;

/** Options of the diff benchmark. */
export interface DiffBenchOptions {
  workDir: string;
  now: Date;
  seed: number;
  runs: number;
  quick: boolean;
}

/** The child side: `diff DIR`, `load DIR`, `validate DIR`, `changed DIR` (one measured run each). */
export async function diffBenchChild(mode: string, dir: string, now: Date): Promise<void> {
  if (mode === 'diff') {
    await reportFromChild(async () => {
      const revisions = await loadRevisions(dir, { base: 'main', head: 'pr', now, loader: fileLoader() });
      const diff = semanticDiff(revisions.mergeBase.snapshot, revisions.head.snapshot);
      const required = requiredApprovals(diff.changes, revisions.base.snapshot, revisions.head.snapshot);
      return { changes: diff.changes.length, approvals: required.length };
    });
  } else if (mode === 'load') {
    // The model load of the diff's head: the same commit, read from git, parsed and checked, nothing compared.
    await reportFromChild(async () => {
      const repo = await openRepository(dir);
      const snapshot = await loadSnapshot(commitTree(repo, await resolveRef(repo, 'pr')), { now, loader: fileLoader() });
      return { findings: snapshot.findings.length };
    });
  } else if (mode === 'validate') {
    await reportFromChild(async () => ({ findings: (await validateRepository(dir, { now, loader: fileLoader() })).findings.length }));
  } else if (mode === 'changed') {
    await reportFromChild(async () => {
      const repo = await openRepository(dir);
      const [main, pr] = await Promise.all([resolveRef(repo, 'main'), resolveRef(repo, 'pr')]);
      const paths = await changedPaths(repo, main, pr, ['mandate.yaml', 'policies', 'controls']);
      return { changed: paths.added.length + paths.removed.length + paths.modified.length };
    });
  } else {
    throw new Error(`unknown diff bench child mode ${mode}`);
  }
}

function ensureHistory(workDir: string, name: string, options: { agents?: number; files?: number; commits: number; seed: number }): GeneratedHistory {
  const dir = join(workDir, name);
  const marker = join(dir, MARKER);
  const want = JSON.stringify({ version: HISTORY_VERSION, ...options });
  if (existsSync(marker)) {
    const have = JSON.parse(readFileSync(marker, 'utf8')) as { key: string; history: GeneratedHistory };
    if (have.key === want) {
      console.error(`reusing ${dir}`);
      return have.history;
    }
  }
  const start = performance.now();
  const history = generateHistory(dir, options);
  execFileSync('git', ['checkout', '-q', 'main'], { cwd: dir });
  writeFileSync(marker, JSON.stringify({ key: want, history }));
  console.error(`generated ${formatCount(history.files)} files with ${formatCount(history.commits)} commits in ${dir}: ${formatMs(performance.now() - start)}`);
  return history;
}

/** Native git's answer to the same question, timed in this process (spawn included, as a user runs it). */
function nativeGitDiff(dir: string): number {
  const start = performance.now();
  execFileSync('git', ['diff', '--name-only', 'main', 'pr'], { cwd: dir });
  return performance.now() - start;
}

/** Runs the diff benchmark and prints its table; returns how many targets failed. */
export async function runDiffBench(options: DiffBenchOptions): Promise<{ failed: number }> {
  const large = ensureHistory(options.workDir, 'history-5000', options.quick
    ? { agents: 500, commits: 200, seed: options.seed }
    : { agents: 5_000, commits: 2_000, seed: options.seed });
  const small = ensureHistory(options.workDir, 'history-50', { files: 50, commits: 50, seed: options.seed });
  console.error(`diff: ${options.runs} interleaved runs of validate and diff on ${formatCount(large.files)} and ${formatCount(small.files)} files ...`);
  const big = await minOf(options.runs, {
    validate: runChild(['--child-diff', 'validate', large.dir]),
    load: runChild(['--child-diff', 'load', large.dir]),
    diff: runChild(['--child-diff', 'diff', large.dir]),
    changed: runChild(['--child-diff', 'changed', large.dir]),
  });
  const little = await minOf(options.runs, { diff: runChild(['--child-diff', 'diff', small.dir]) });
  const native = Math.min(...Array.from({ length: options.runs }, () => nativeGitDiff(large.dir)));
  const bound = 2 * little.diff.ms + big.load.ms;
  const figures: Figure[] = [
    {
      figure: `diff, 1 changed file of ${formatCount(large.files)}`,
      subject: { label: 'diff', value: big.diff.ms, unit: 'ms' },
      baseline: { label: 'validate head', value: big.validate.ms, unit: 'ms' },
      target: 1.3,
    },
    {
      figure: '  peak RSS',
      subject: { label: 'diff', value: big.diff.maxRssKb, unit: 'kb' },
      baseline: { label: 'validate head', value: big.validate.maxRssKb, unit: 'kb' },
    },
    {
      figure: `diff ${formatCount(large.files)} files vs 2 x diff ${formatCount(small.files)} files + head model load`,
      subject: { label: `diff ${formatCount(large.files)}`, value: big.diff.ms, unit: 'ms' },
      baseline: { label: `2 x ${formatMs(little.diff.ms)} + ${formatMs(big.load.ms)}`, value: bound, unit: 'ms' },
      target: 1,
    },
    {
      figure: 'reading git: changed paths',
      subject: { label: 'mandate tree walk', value: big.changed.ms, unit: 'ms' },
      baseline: { label: 'git diff --name-only', value: native, unit: 'ms' },
    },
  ];
  const { failed } = printTable(`diff (minimum of ${options.runs} interleaved runs, child processes; ${formatCount(large.commits)} commits)`, figures);
  console.log(`diff found ${String(big.diff.info.changes)} changes and ${String(big.diff.info.approvals)} approval requirements; git walk found ${String(big.changed.info.changed)} changed paths`);
  return { failed };
}
