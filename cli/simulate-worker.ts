/**
 * The worker side of `mandate simulate` (see simulate-job.ts): runs the job
 * in workerData and posts its progress and warnings, then its report or why
 * it failed.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { UsageError } from './output';
import type { SimulateJob, SimulateWorkerMessage } from './simulate-job';
import { executeSimulateJob } from './simulate-job';

const port = parentPort!;
const post = (message: SimulateWorkerMessage): void => port.postMessage(message);

try {
  const report = await executeSimulateJob(workerData as SimulateJob, {
    onProgress: (progress) => post({ type: 'progress', progress }),
    onWarning: (line) => post({ type: 'warning', line }),
  });
  post({ type: 'done', report });
} catch (error) {
  post({
    type: 'failed',
    usage: error instanceof UsageError,
    message: error instanceof Error ? error.message : String(error),
    ...(error instanceof Error && error.stack !== undefined ? { stack: error.stack } : {}),
  });
}
