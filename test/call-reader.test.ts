import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { replayCallLog, workerCallSource } from '../cli/call-reader';
import { UsageError } from '../cli/output';
import type { SimulateJob } from '../cli/simulate-job';
import { JobWorkerFailure, runSimulateJob, simulateJobOnWorker } from '../cli/simulate-job';
import { dayOfInstant } from '../core/dates';
import { fileSystemTree } from '../core/fs-tree';
import type { Model } from '../core/model';
import type { CallSimulation } from '../core/simulate';
import { simulateCallLog } from '../core/simulate';
import { loadSnapshot } from '../core/validate';
import { git, rejection } from './helpers/git';
import { BASE_FILES, CALL_WORKER, ensureBuilt, FIXTURE_NOW, removeRepo, SIMULATE_WORKER, writeRepo } from './helpers/repo';

const EXAMPLE = join(import.meta.dirname, '..');
const FIXTURES = join(import.meta.dirname, 'fixtures', 'calls');

/** What a replay shows: everything but the usage tracker's internals, plus the narrowing it suggests. */
const shown = ({ usage, ...rest }: CallSimulation): unknown => ({ ...rest, narrowing: usage.narrowing(dayOfInstant(FIXTURE_NOW)) });

describe('reading calls on a worker', () => {
  let model: Model;
  let work: string;
  let large: string;
  let dying: string;

  beforeAll(async () => {
    ensureBuilt();
    model = (await loadSnapshot(fileSystemTree(EXAMPLE), { now: FIXTURE_NOW })).model;
    work = mkdtempSync(join(tmpdir(), 'mandate-calls-'));
    // Over 20 batches of JSONL and OTLP lines, so the worker waits for the replay (it holds 3 batches at most).
    const lines = [...readFileSync(join(FIXTURES, 'example.jsonl'), 'utf8').trim().split('\n'), ...readFileSync(join(FIXTURES, 'example.otlp.jsonl'), 'utf8').trim().split('\n')];
    large = join(work, 'large.jsonl');
    writeFileSync(large, `${Array.from({ length: 70 }, () => lines.join('\n')).join('\n')}\nnot json\n`);
    dying = join(work, 'dying-worker.mjs');
    writeFileSync(dying, 'process.exit(3);\n');
  });
  afterAll(() => removeRepo(work));

  it('replays exactly as this thread does, over many batches', async () => {
    const here = await simulateCallLog(large, model, model, { now: FIXTURE_NOW });
    let reports = 0;
    const there = await simulateCallLog(large, model, model, { now: FIXTURE_NOW, source: workerCallSource(pathToFileURL(CALL_WORKER)), onProgress: () => reports++ });
    expect(there.total).toBe(here.total);
    expect(there.total).toBeGreaterThan(20_000);
    expect(shown(there)).toEqual(shown(here));
    expect(reports).toBeGreaterThan(20);
  });

  it('replays on this thread when the worker cannot start or dies', async () => {
    const expected = shown(await simulateCallLog(large, model, model, { now: FIXTURE_NOW }));
    for (const workerUrl of [pathToFileURL(join(work, 'no-such-worker.mjs')), pathToFileURL(dying)]) {
      expect(shown(await replayCallLog(large, model, model, { now: FIXTURE_NOW, regularFile: true, workerUrl }))).toEqual(expected);
    }
  });

  it('rejects with the error code of a file the worker cannot read', async () => {
    const error = await rejection(replayCallLog(work, model, model, { now: FIXTURE_NOW, regularFile: true, workerUrl: pathToFileURL(CALL_WORKER) }));
    expect((error as NodeJS.ErrnoException).code).toBe('EISDIR');
  });
});

describe('the simulate job on a worker', () => {
  let repo: string;
  let calls: string;
  const job = (fields: Partial<SimulateJob> = {}): SimulateJob => ({
    root: repo, now: FIXTURE_NOW.getTime(), limit: 1_000, strict: false, suggest: true, base: 'HEAD', head: 'HEAD',
    calls: { path: calls, given: 'calls.jsonl', regularFile: true }, ...fields,
  });

  beforeAll(() => {
    ensureBuilt();
    repo = writeRepo({
      ...BASE_FILES,
      'calls.jsonl': `${readFileSync(join(FIXTURES, 'example.jsonl'), 'utf8')}{"agent":\n`,
    });
    calls = join(repo, 'calls.jsonl');
    git(repo, 'init', '-q', '-b', 'main');
    git(repo, 'add', '-A');
    git(repo, 'commit', '-qm', 'policies');
  });
  afterAll(() => removeRepo(repo));

  it('gives the same outcome on the worker, and on this thread when the worker dies', async () => {
    let reports = 0;
    const onWorker = await simulateJobOnWorker(job(), pathToFileURL(SIMULATE_WORKER), () => reports++);
    expect(reports).toBeGreaterThan(0);
    expect(onWorker.report.calls).toBe('calls.jsonl');
    expect(onWorker.warnings).toEqual([expect.stringMatching(/^mandate: calls\.jsonl:321: malformed line, counted unevaluable: not JSON/)]);
    const dying = join(repo, 'dying.mjs');
    writeFileSync(dying, 'process.exit(3);\n');
    expect(await rejection(simulateJobOnWorker(job(), pathToFileURL(dying)))).toBeInstanceOf(JobWorkerFailure);
    expect(await runSimulateJob(job(), undefined, pathToFileURL(dying))).toEqual(onWorker);
  });

  it('hands a usage error over as one, with its message', async () => {
    const error = await rejection(simulateJobOnWorker(job({ base: 'no-such-ref' }), pathToFileURL(SIMULATE_WORKER)));
    expect(error).toBeInstanceOf(UsageError);
    expect(error.message).toMatch(/no-such-ref/);
    const strict = await rejection(simulateJobOnWorker(job({ strict: true }), pathToFileURL(SIMULATE_WORKER)));
    expect(strict).toBeInstanceOf(UsageError);
    expect(strict.message).toMatch(/^calls\.jsonl:321: malformed line/);
  });
});
