/**
 * The work of `mandate simulate` after its flags are checked: load both
 * sides, replay the calls (or compare exhaustive access), check --strict,
 * narrow for --suggest and write --out. It returns plain data (the report
 * and the lines for stderr), so it can run on a worker thread.
 *
 * It does for long replays (see runSimulateJob): on 2 cores the main thread's
 * young generation alone, grown to V8's default by loading the repository,
 * put a 1,000,000-call replay at 200 to 209 MB peak; a worker with a
 * 12 MB young generation holds the same work at 182 to 188 MB, as fast.
 * A worker that fails to start or dies is never fatal: the job runs again
 * on this thread.
 */
import { randomBytes } from 'node:crypto';
import { readFile, rename, unlink, writeFile } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
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
import { runWorkerTask, WorkerFailure } from './worker-task';

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
  /** The calls file: absolute path, the name as given (for messages), whether it is a regular file (not a pipe), and its size. */
  calls?: { path: string; given: string; regularFile: boolean; size: number };
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

/** What a job tells as it goes: how far it read the calls file, and lines for stderr (warnings), in order. */
export interface SimulateEvents {
  onProgress?: (progress: ReadProgress) => void;
  onWarning?: (line: string) => void;
}

/** Runs a job on this thread. Throws UsageError for what the user can mend (after the warnings that came before). */
export async function executeSimulateJob(job: SimulateJob, events: SimulateEvents = {}): Promise<SimulateReport> {
  const warn = (line: string): void => events.onWarning?.(line);
  const now = new Date(job.now);
  const revisions = await replaySides(job, now);
  if (revisions.headErrors > 0) {
    warn(`mandate: warning: the head has ${plural(revisions.headErrors, 'loading error')} (see mandate validate); documents with shape errors are left out of every decision\n`);
  }
  const sides = { base: revisions.base.sha, mergeBase: revisions.mergeBase.sha, head: revisions.head.sha };
  if (job.calls === undefined) {
    return { ...sides, result: simulateExhaustive(revisions.mergeBase.model, revisions.head.model, { now, limit: job.limit }) };
  }
  const calls = job.calls;
  const { usage, ...result } = await replayCallLog(calls.path, revisions.mergeBase.model, revisions.head.model, {
    now, limit: job.limit, onWorker: onWorkers(job),
    ...(events.onProgress ? { onProgress: events.onProgress } : {}),
    onWorkerFailure: (failure) => warn(`mandate: warning: the calls reader's worker failed (${failure.message}); reading the calls on this thread\n`),
  }).catch((error: unknown) => {
    const code = (error as NodeJS.ErrnoException).code;
    // File errors (ENOENT, EACCES, EISDIR, ...) are the user's to mend; anything else is ours.
    throw typeof code === 'string' && /^E[A-Z0-9]+$/.test(code) ? new UsageError(`--calls ${calls.given}: cannot read (${code})`) : error;
  });
  if (job.strict && result.malformedLines > 0) {
    const first = result.malformed[0]!;
    throw new UsageError(`${calls.given}:${first.line}: malformed line: ${first.message} (--strict; ${plural(result.malformedLines, 'malformed line')})`);
  }
  for (const line of malformedWarnings(calls.given, result)) warn(line);
  const report: SimulateReport = { ...sides, calls: calls.given, result };
  if (job.suggest) {
    report.suggestion = await suggest(job.root, revisions, usage, now);
    if (job.out !== undefined) report.out = await writeAtomically(job.out, report.suggestion.patch);
  }
  return report;
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
  | { type: 'warning'; line: string }
  | { type: 'done'; report: SimulateReport }
  | { type: 'failed'; usage: boolean; message: string; stack?: string };

/** The job worker's young generation (see the module comment). */
const JOB_YOUNG_MB = 12;
const JOB_WORKER = new URL('./simulate-worker.js', import.meta.url);

/**
 * Calls files from this size on use the workers. Each costs about 0.1 s to
 * start and its own memory (the example repository's replay went from 0.47
 * to 0.69 s and 85 to 110 MB); reading on a worker saves about 2.5 µs a
 * call, an estimated break-even of about 80,000 calls (12 MB), and the job's
 * worker only matters for the peak of a long replay. 8 MiB sits a little
 * below that estimate, so every replay long enough to matter gets the
 * workers, at a cost of at most about 0.1 s just under the break-even.
 * Without calls (exhaustive mode) nothing is streamed: it runs here.
 */
export const WORKERS_FROM_BYTES = 8 * 1024 * 1024;

/** Whether a job runs on workers: a regular calls file (a pipe cannot be read twice) of WORKERS_FROM_BYTES or more. */
function onWorkers(job: SimulateJob): boolean {
  return job.calls !== undefined && job.calls.regularFile && job.calls.size >= WORKERS_FROM_BYTES;
}

/**
 * Runs a job: on a worker thread started from `workerUrl` (default: the
 * CLI's, beside the bundle) when onWorkers says so, else on this thread,
 * and on this thread too when the worker fails (saying so in a warning; the
 * warnings the worker already gave are not repeated).
 */
export async function runSimulateJob(job: SimulateJob, events: SimulateEvents = {}, workerUrl: URL = JOB_WORKER): Promise<SimulateReport> {
  if (!onWorkers(job)) return executeSimulateJob(job, events);
  let given = 0;
  const counted: SimulateEvents = {
    ...events,
    onWarning: (line) => {
      given++;
      events.onWarning?.(line);
    },
  };
  return simulateJobOnWorker(job, workerUrl, counted).catch((error: unknown) => {
    if (!(error instanceof WorkerFailure)) throw error;
    events.onWarning?.(`mandate: warning: the simulate worker failed (${error.message}); running on this thread\n`);
    let repeated = given;
    return executeSimulateJob(job, {
      ...events,
      onWarning: (line) => {
        if (repeated > 0) repeated--;
        else events.onWarning?.(line);
      },
    });
  });
}

/** Runs a job on a worker thread started from `workerUrl`; rejects with a WorkerFailure when the worker fails. */
export function simulateJobOnWorker(job: SimulateJob, workerUrl: URL, events: SimulateEvents = {}): Promise<SimulateReport> {
  return runWorkerTask<SimulateReport, SimulateWorkerMessage>(workerUrl, { workerData: job, resourceLimits: { maxYoungGenerationSizeMb: JOB_YOUNG_MB } }, (message, task) => {
    switch (message.type) {
      case 'progress':
        events.onProgress?.(message.progress);
        break;
      case 'warning':
        events.onWarning?.(message.line);
        break;
      case 'done':
        task.resolve(message.report);
        break;
      case 'failed':
        task.reject(message.usage ? new UsageError(message.message) : Object.assign(new Error(message.message), message.stack === undefined ? {} : { stack: message.stack }));
        break;
    }
  });
}
