/**
 * The work of `mandate simulate` after its flags are checked: load both
 * sides, replay the calls (or compare exhaustive access), check --strict,
 * narrow for --suggest and write --out. It returns plain data (the report
 * and the lines for stderr), so it can run on a worker thread.
 *
 * It does, by default (see runSimulateJob): on 2 cores the main thread's
 * young generation alone, grown to V8's default by loading the repository,
 * put a 1,000,000-call replay at 200 to 209 MB peak; a worker with a
 * 12 MB young generation holds the same work at 172 to 181 MB, as fast.
 * A worker that fails to start or dies is never fatal: the job runs again
 * on this thread.
 */
import { randomBytes } from 'node:crypto';
import { readFile, rename, unlink, writeFile } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { Worker } from 'node:worker_threads';
import type { ReadProgress } from '../core/call-log';
import { dayOfInstant } from '../core/dates';
import { plural, safeLine } from '../core/diff-wording';
import { GitError } from '../core/git';
import { commitTree } from '../core/git-tree';
import type { RemovedPermission, UsageTracker } from '../core/least-privilege';
import { narrowFiles, NarrowingError, unifiedPatch } from '../core/least-privilege';
import type { Model } from '../core/model';
import type { Revisions } from '../core/revisions';
import { loadRevisions } from '../core/revisions';
import type { CallSimulation, ExhaustiveSimulation } from '../core/simulate';
import { simulateExhaustive } from '../core/simulate';
import { replayCallLog } from './call-reader';
import { fileLoader } from './context';
import { UsageError } from './output';

/** What `mandate simulate` was asked, its flags checked. */
export interface SimulateJob {
  root: string;
  /** "Now", ms since the epoch. */
  now: number;
  base?: string;
  head?: string;
  limit: number;
  strict: boolean;
  suggest: boolean;
  out?: string;
  /** The calls file: absolute path, the name as given (for messages), and whether it is a regular file (not a pipe). */
  calls?: { path: string; given: string; regularFile: boolean };
}

/** What `--suggest` adds. */
export interface Suggestion {
  patch: string;
  removed: RemovedPermission[];
}

/** Everything the renderers need. */
export interface SimulateReport {
  base: string;
  mergeBase: string;
  head: string | null;
  /** The calls file as given, or undefined in exhaustive mode. */
  calls?: string;
  result: Omit<CallSimulation, 'usage'> | ExhaustiveSimulation;
  suggestion?: Suggestion;
  /** Where --out wrote the patch. */
  out?: string;
}

/** A job's outcome: the report, and what to print on stderr before it. */
export interface SimulateOutcome {
  report: SimulateReport;
  warnings: string[];
}

/** Runs a job on this thread; `onProgress` follows the calls file. Throws UsageError for what the user can mend. */
export async function executeSimulateJob(job: SimulateJob, onProgress?: (progress: ReadProgress) => void): Promise<SimulateOutcome> {
  const now = new Date(job.now);
  const revisions = await replaySides(job, now);
  const warnings = loadingWarnings(revisions.headErrors);
  const sides = { base: revisions.base.sha, mergeBase: revisions.mergeBase.sha, head: revisions.head.sha };
  if (job.calls === undefined) {
    return { report: { ...sides, result: simulateExhaustive(revisions.mergeBase.model, revisions.head.model, { now, limit: job.limit }) }, warnings };
  }
  const calls = job.calls;
  const { usage, ...result } = await replayCallLog(calls.path, revisions.mergeBase.model, revisions.head.model, {
    now, limit: job.limit, regularFile: calls.regularFile, ...(onProgress ? { onProgress } : {}),
  }).catch((error: unknown) => {
    const code = (error as NodeJS.ErrnoException).code;
    throw code === undefined ? error : new UsageError(`--calls ${calls.given}: cannot read (${code})`);
  });
  if (job.strict && result.malformedLines > 0) {
    const first = result.malformed[0]!;
    throw new UsageError(`${calls.given}:${first.line}: malformed line: ${first.message} (--strict; ${plural(result.malformedLines, 'malformed line')})`);
  }
  warnings.push(...malformedWarnings(calls.given, result));
  const report: SimulateReport = { ...sides, calls: calls.given, result };
  if (job.suggest) {
    report.suggestion = await suggest(job.root, revisions, usage, now);
    if (job.out !== undefined) report.out = await writeAtomically(job.out, report.suggestion.patch);
  }
  return { report, warnings };
}

/** What a replay keeps of the loaded revisions: models and names, not findings or capabilities (memory for the replay). */
interface ReplaySides {
  repo: Revisions['repo'];
  base: { sha: string };
  mergeBase: { sha: string; model: Model };
  head: { ref: string; sha: string | null; model: Model };
  /** Unwaived errors at head (loaded without rules: the load, shape and reference errors, which keep documents out). */
  headErrors: number;
}

/** Loads the sides as models only (decisions need no rule findings or capabilities) and keeps only what the replay and --suggest use. */
async function replaySides(job: SimulateJob, now: Date): Promise<ReplaySides> {
  const revisions = await loadRevisions(job.root, { base: job.base, head: job.head, now, loader: fileLoader(), rules: false }).catch((error: unknown) => {
    throw error instanceof GitError ? new UsageError(error.message) : error;
  });
  return {
    repo: revisions.repo,
    base: { sha: revisions.base.sha },
    mergeBase: { sha: revisions.mergeBase.sha, model: revisions.mergeBase.snapshot.model },
    head: { ref: revisions.head.ref, sha: revisions.head.sha, model: revisions.head.snapshot.model },
    headErrors: revisions.head.snapshot.findings.filter((finding) => finding.severity === 'error' && !finding.waived).length,
  };
}

function loadingWarnings(errors: number): string[] {
  if (errors === 0) return [];
  return [`mandate: warning: the head has ${plural(errors, 'loading error')} (see mandate validate); documents with shape errors are left out of every decision\n`];
}

/** Each malformed line (the first MALFORMED_DETAIL_LIMIT), then how many more. */
function malformedWarnings(file: string, result: Omit<CallSimulation, 'usage'>): string[] {
  const lines = result.malformed.map((problem) => `mandate: ${safeLine(file, 300)}:${problem.line}: malformed line, counted unevaluable: ${safeLine(problem.message, 300)}\n`);
  const more = result.malformedLines - result.malformed.length;
  if (more > 0) lines.push(`mandate: ${safeLine(file, 300)}: and ${plural(more, 'more malformed line')}\n`);
  return lines;
}

/** Narrows the head's agent files to what the calls used and renders the patch. */
async function suggest(root: string, revisions: ReplaySides, usage: UsageTracker, now: Date): Promise<Suggestion> {
  const { agents, removed } = usage.narrowing(dayOfInstant(now));
  const head = revisions.head;
  const tree = head.sha === null ? undefined : commitTree(revisions.repo, head.sha);
  const read = async (file: string): Promise<string> => {
    if (!tree) return readFile(join(root, file), 'utf8');
    const content = await tree.readFile(file, Number.MAX_SAFE_INTEGER);
    if (content.status !== 'ok') throw new UsageError(`cannot read ${file} at ${head.ref} to narrow it (${content.status})`);
    return new TextDecoder().decode(content.bytes);
  };
  const files = await narrowFiles(agents, read).catch((error: unknown) => {
    throw error instanceof NarrowingError ? new UsageError(`--suggest: ${error.message}`) : error;
  });
  return { patch: unifiedPatch(files, revisions.repo.prefix), removed };
}

/** Writes through a temporary file in the same directory and a rename, so FILE is never half written. */
async function writeAtomically(path: string, text: string): Promise<string> {
  const full = resolve(path);
  const temporary = join(dirname(full), `.${basename(full)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  try {
    await writeFile(temporary, text, { flag: 'wx' });
    await rename(temporary, full);
  } catch (error) {
    await unlink(temporary).catch(() => undefined);
    throw new UsageError(`--out ${path}: cannot write (${(error as NodeJS.ErrnoException).code ?? String(error)})`);
  }
  return path;
}

// ---------------------------------------------------------------------------
// On a worker

/** What the job worker posts. */
export type SimulateWorkerMessage =
  | { type: 'progress'; progress: ReadProgress }
  | { type: 'done'; outcome: SimulateOutcome }
  | { type: 'failed'; usage: boolean; message: string; stack?: string };

/** The job stopped without an answer (the worker could not start, or died): it may run again on this thread. */
export class JobWorkerFailure extends Error {}

/** The job worker's young generation (see the module comment). */
const JOB_YOUNG_MB = 12;
const JOB_WORKER = new URL('./simulate-worker.js', import.meta.url);

/**
 * Runs a job on a worker thread started from `workerUrl` (default: the
 * CLI's, beside the bundle), or on this thread when the worker fails; a
 * job reading a pipe runs here, since a pipe cannot be read twice.
 */
export async function runSimulateJob(
  job: SimulateJob,
  onProgress?: (progress: ReadProgress) => void,
  workerUrl: URL = JOB_WORKER,
): Promise<SimulateOutcome> {
  if (job.calls !== undefined && !job.calls.regularFile) return executeSimulateJob(job, onProgress);
  return simulateJobOnWorker(job, workerUrl, onProgress).catch((error: unknown) => {
    if (!(error instanceof JobWorkerFailure)) throw error;
    return executeSimulateJob(job, onProgress);
  });
}

/** Runs a job on a worker thread started from `workerUrl`; rejects with a JobWorkerFailure when the worker fails. */
export function simulateJobOnWorker(job: SimulateJob, workerUrl: URL, onProgress?: (progress: ReadProgress) => void): Promise<SimulateOutcome> {
  return new Promise((resolve, reject) => {
    let settled = false;
    const worker = new Worker(workerUrl, { workerData: job, resourceLimits: { maxYoungGenerationSizeMb: JOB_YOUNG_MB } });
    const settle = (outcome: () => void): void => {
      if (settled) return;
      settled = true;
      void worker.terminate();
      outcome();
    };
    worker.on('message', (message: SimulateWorkerMessage) => {
      switch (message.type) {
        case 'progress':
          onProgress?.(message.progress);
          break;
        case 'done':
          settle(() => resolve(message.outcome));
          break;
        case 'failed':
          settle(() => reject(message.usage ? new UsageError(message.message) : Object.assign(new Error(message.message), message.stack === undefined ? {} : { stack: message.stack })));
          break;
      }
    });
    worker.on('error', (error) => settle(() => reject(new JobWorkerFailure(error.message))));
    worker.on('exit', (code) => settle(() => reject(new JobWorkerFailure(`the simulate worker stopped (exit code ${code})`))));
  });
}
