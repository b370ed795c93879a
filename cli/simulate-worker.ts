/**
 * The worker side of `mandate simulate` (see simulate-job.ts): runs the job
 * in workerData and posts its progress, then its outcome or why it failed.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { UsageError } from './output';
import type { SimulateJob, SimulateWorkerMessage } from './simulate-job';
import { executeSimulateJob } from './simulate-job';

const port = parentPort!;
const post = (message: SimulateWorkerMessage): void => port.postMessage(message);

try {
  const outcome = await executeSimulateJob(workerData as SimulateJob, (progress) => post({ type: 'progress', progress }));
  post({ type: 'done', outcome });
} catch (error) {
  post({
    type: 'failed',
    usage: error instanceof UsageError,
    message: error instanceof Error ? error.message : String(error),
    ...(error instanceof Error && error.stack !== undefined ? { stack: error.stack } : {}),
  });
}
