import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { replayCallLog, workerCallSource } from '../cli/call-reader';
import { UsageError } from '../cli/output';
import type { SimulateJob } from '../cli/simulate-job';
import { runSimulateJob, simulateJobOnWorker, WORKERS_FROM_BYTES } from '../cli/simulate-job';
import { WorkerFailure } from '../cli/worker-task';
import { readCallLog } from '../core/call-log';
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
      expect(shown(await replayCallLog(large, model, model, { now: FIXTURE_NOW, onWorker: true, workerUrl }))).toEqual(expected);
    }
  });

  it('pauses reading while hold is pending, after at most the chunk already read', async () => {
    let seen = 0;
    let heldAt: number | undefined;
    let release: (() => void) | undefined;
    const reading = readCallLog(large, { call: () => seen++, malformed: () => undefined }, {
      now: 0,
      hold: () => {
        if (heldAt !== undefined || seen < 100) return undefined;
        heldAt = seen;
        return new Promise<void>((resolve) => {
          release = resolve;
        });
      },
    });
    await new Promise((resolve) => setTimeout(resolve, 200));
    const duringHold = seen - heldAt!;
    // The rest of one 64 KiB chunk may still arrive (about 450 lines of ~145 bytes), not the file's 22,000 lines.
    expect(duringHold).toBeLessThan(1_000);
    release!();
    const { lines } = await reading;
    expect(lines).toBeGreaterThan(20_000);
    expect(seen).toBeGreaterThan(heldAt! + duringHold);
  });

  it('rejects with the error code of a file the worker cannot read', async () => {
    const error = await rejection(replayCallLog(work, model, model, { now: FIXTURE_NOW, onWorker: true, workerUrl: pathToFileURL(CALL_WORKER) }));
    expect((error as NodeJS.ErrnoException).code).toBe('EISDIR');
  });
});

describe('the simulate job on a worker', () => {
  let repo: string;
  let calls: string;
  const job = (fields: Partial<SimulateJob> = {}): SimulateJob => ({
    root: repo, now: FIXTURE_NOW.getTime(), limit: 1_000, strict: false, suggest: true, base: 'HEAD', head: 'HEAD',
    // Sized as a large log, so the job and its replay take the workers.
    calls: { path: calls, given: 'calls.jsonl', regularFile: true, size: WORKERS_FROM_BYTES }, ...fields,
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

  it('gives the same report on the worker, and on this thread when the worker dies, warning once each', async () => {
    let reports = 0;
    const warnings: string[] = [];
    const onWorker = await simulateJobOnWorker(job(), pathToFileURL(SIMULATE_WORKER), { onProgress: () => reports++, onWarning: (line) => warnings.push(line) });
    expect(reports).toBeGreaterThan(0);
    expect(onWorker.calls).toBe('calls.jsonl');
    expect(onWorker.suggestion?.patch).toMatch(/^diff --git a\/policies\/agents\/triage.yaml/);
    expect(warnings).toEqual([expect.stringMatching(/^mandate: calls\.jsonl:321: malformed line, counted unevaluable: not JSON/)]);
    const dying = join(repo, 'dying.mjs');
    writeFileSync(dying, 'process.exit(3);\n');
    expect(await rejection(simulateJobOnWorker(job(), pathToFileURL(dying)))).toBeInstanceOf(WorkerFailure);
    const fallbackWarnings: string[] = [];
    expect(await runSimulateJob(job(), { onWarning: (line) => fallbackWarnings.push(line) }, pathToFileURL(dying))).toEqual(onWorker);
    // On this thread, under the test runner, the calls reader's worker is not beside the module either: it falls back too, and says so.
    expect(fallbackWarnings).toEqual([
      expect.stringMatching(/^mandate: warning: the simulate worker failed \(the worker stopped before answering \(exit code 3\)\); running on this thread\n$/),
      expect.stringMatching(/^mandate: warning: the calls reader's worker failed \(the worker failed: Cannot find module .*call-worker\.js'\); reading the calls on this thread\n$/),
      warnings[0],
    ]);
  });

  it('runs a small log on this thread, never starting a worker', async () => {
    const dying = join(repo, 'dying.mjs');
    writeFileSync(dying, 'process.exit(3);\n');
    const warnings: string[] = [];
    const small = job({ calls: { path: calls, given: 'calls.jsonl', regularFile: true, size: WORKERS_FROM_BYTES - 1 } });
    const report = await runSimulateJob(small, { onWarning: (line) => warnings.push(line) }, pathToFileURL(dying));
    expect(report.result.mode).toBe('calls');
    expect(warnings).toEqual([expect.stringMatching(/malformed line/)]);
  });

  it('gives the warnings that came before a usage error', async () => {
    const warnings: string[] = [];
    const error = await rejection(runSimulateJob(job({ strict: false, out: join(repo, 'no-such-dir', 'patch.diff') }), { onWarning: (line) => warnings.push(line) }, pathToFileURL(SIMULATE_WORKER)));
    expect(error).toBeInstanceOf(UsageError);
    expect(error.message).toMatch(/^--out .*: cannot write \(ENOENT\)$/);
    expect(warnings).toHaveLength(1);
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
