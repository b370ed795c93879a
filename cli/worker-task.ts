/**
 * One task on a worker thread, for the CLI's workers that run to an answer
 * (the call reader, the simulate job): however the worker fails (it cannot
 * be created, cannot load, throws, exits early, or sends a message that
 * cannot be read), the task rejects with a WorkerFailure, which callers
 * answer by doing the work on this thread. The worker is stopped once the
 * task settles, and later messages are ignored.
 */
import type { ResourceLimits } from 'node:worker_threads';
import { Worker } from 'node:worker_threads';

/** The worker, not the work, failed: the work may be done again on this thread. */
export class WorkerFailure extends Error {}

/** What a message handler may do with its task. */
export interface WorkerTask<T> {
  resolve(value: T): void;
  reject(error: unknown): void;
  /** Sends the worker a message. */
  post(message: unknown): void;
}

/** Starts `url` with `workerData` and hands each message it posts to `onMessage` until the task settles. */
export function runWorkerTask<T, M>(
  url: URL,
  options: { workerData: unknown; resourceLimits?: ResourceLimits },
  onMessage: (message: M, task: WorkerTask<T>) => void,
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    let worker: Worker;
    try {
      worker = new Worker(url, options);
    } catch (error) {
      reject(new WorkerFailure(`cannot start the worker: ${error instanceof Error ? error.message : String(error)}`));
      return;
    }
    let settled = false;
    const settle = (outcome: () => void): void => {
      if (settled) return;
      settled = true;
      void worker.terminate();
      outcome();
    };
    const task: WorkerTask<T> = {
      resolve: (value) => settle(() => resolve(value)),
      reject: (error) => settle(() => reject(error)),
      post: (message) => worker.postMessage(message),
    };
    worker.on('message', (message: M) => {
      if (settled) return;
      try {
        onMessage(message, task);
      } catch (error) {
        task.reject(error);
      }
    });
    worker.on('messageerror', (error) => task.reject(new WorkerFailure(`a message from the worker could not be read: ${error.message}`)));
    worker.on('error', (error) => task.reject(new WorkerFailure(`the worker failed: ${error.message}`)));
    worker.on('exit', (code) => task.reject(new WorkerFailure(`the worker stopped before answering (exit code ${code})`)));
  });
}
