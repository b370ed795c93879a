/**
 * Reading a call log on a worker thread while this thread replays it.
 *
 * A replay is a pipeline of two halves of about equal cost: reading the
 * log (lines, JSON, fields, times, numbering each call's triple; see
 * core/call-batch.ts) and deciding the calls. On a worker the first half
 * runs beside the second: on 2 cores a replay of 1,000,000 calls takes
 * about half the time (measured: 5.8 s down to 3.3 s). The worker pauses
 * its reading while IN_FLIGHT batches are unanswered, so memory stays
 * bounded.
 *
 * A worker that fails (cli/worker-task.ts) is never fatal: the replay
 * starts again on this thread. Which logs go to a worker is the simulate
 * job's choice (cli/simulate-job.ts).
 */
import type { CallBatch, CallBatchSource } from '../core/call-batch';
import type { CallLogOptions, ReadProgress } from '../core/call-log';
import type { Model } from '../core/model';
import type { CallSimulation, SimulationOptions } from '../core/simulate';
import { simulateCallLog } from '../core/simulate';
import { runWorkerTask, WorkerFailure } from './worker-task';

/** Batches the worker posts before it waits for the replay to answer one. */
const IN_FLIGHT = 3;
/**
 * Calls per batch, and the worker's young generation. Measured on 1,000,000
 * calls: 8,192-call batches and V8's default young generation peaked 20 MB
 * higher than these (batches under construction survive the worker's
 * scavenges and fill its old space); 256 or 512 calls saved nothing more
 * and cost time in messages.
 */
const BATCH_CALLS = 1_024;
const WORKER_YOUNG_MB = 4;

/** What the worker is asked to read. */
export interface CallReadRequest {
  path: string;
  options: CallLogOptions;
  /** Batches posted before waiting for an answer. */
  inFlight: number;
  batchCalls: number;
  /** Agent names either side knows (core/call-batch.ts, STRANGER). */
  knownAgents: readonly string[];
}

/** What the worker posts. */
export type CallReaderMessage =
  | { type: 'batch'; batch: CallBatch }
  | { type: 'done'; lines: number }
  | { type: 'error'; message: string; code?: string };

/** A CallBatchSource that reads on a worker thread started from `workerUrl` (a failing worker rejects with a WorkerFailure). */
export function workerCallSource(workerUrl: URL): CallBatchSource {
  return (path, options, onBatch, packing) => runWorkerTask<{ lines: number }, CallReaderMessage>(workerUrl, {
    workerData: { path, options, inFlight: IN_FLIGHT, batchCalls: BATCH_CALLS, knownAgents: packing.knownAgents } satisfies CallReadRequest,
    resourceLimits: { maxYoungGenerationSizeMb: WORKER_YOUNG_MB },
  }, (message, task) => {
    switch (message.type) {
      case 'batch':
        onBatch(message.batch);
        task.post(0);
        break;
      case 'done':
        task.resolve({ lines: message.lines });
        break;
      case 'error':
        task.reject(Object.assign(new Error(message.message), message.code === undefined ? {} : { code: message.code }));
        break;
    }
  });
}

/** The CLI's worker (dist/call-worker.js beside the bundle). */
const CALL_WORKER = new URL('./call-worker.js', import.meta.url);

/**
 * Replays a call log as `mandate simulate` does: read on a worker (started
 * from `workerUrl`, default the CLI's) when told, else on this thread; when
 * the worker fails, `onWorkerFailure` hears why and the replay starts again
 * on this thread.
 */
export async function replayCallLog(
  path: string,
  base: Model,
  head: Model,
  options: SimulationOptions & {
    onProgress?: (progress: ReadProgress) => void;
    /** Read on a worker (else on this thread). */
    onWorker: boolean;
    workerUrl?: URL;
    onWorkerFailure?: (failure: WorkerFailure) => void;
  },
): Promise<CallSimulation> {
  const { onWorker, workerUrl = CALL_WORKER, onWorkerFailure, ...simulation } = options;
  if (!onWorker) return simulateCallLog(path, base, head, simulation);
  return simulateCallLog(path, base, head, { ...simulation, source: workerCallSource(workerUrl) }).catch((error: unknown) => {
    if (!(error instanceof WorkerFailure)) throw error;
    onWorkerFailure?.(error);
    return simulateCallLog(path, base, head, simulation);
  });
}
