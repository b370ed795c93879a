/**
 * The worker side of `mandate simulate`'s call reading (see call-reader.ts):
 * reads the log named in workerData, packs the calls into batches and posts
 * them. Reading pauses while `inFlight` batches are unanswered, so the log
 * never piles up ahead of the replay (the lines already read when it pauses,
 * and what the end of the input flushes, still go out).
 */
import { parentPort, workerData } from 'node:worker_threads';
import { readCallBatches } from '../core/call-batch';
import type { CallReadRequest, CallReaderMessage } from './call-reader';

const port = parentPort!;
const request = workerData as CallReadRequest;
let unanswered = 0;
let release: (() => void) | undefined;
let waiting: Promise<void> | undefined;

const post = (message: CallReaderMessage, transfer: ArrayBuffer[] = []): void => port.postMessage(message, transfer);

port.on('message', () => {
  unanswered--;
  if (release && unanswered < request.inFlight) {
    const done = release;
    release = undefined;
    waiting = undefined;
    done();
  }
});

try {
  const { lines } = await readCallBatches(request.path, request.options, (batch) => {
    unanswered++;
    post({ type: 'batch', batch }, [batch.triples.buffer, batch.times.buffer, batch.lines.buffer, batch.ordinals.buffer] as ArrayBuffer[]);
  }, {
    batchCalls: request.batchCalls,
    knownAgents: request.knownAgents,
    hold: () => (unanswered < request.inFlight ? undefined : (waiting ??= new Promise<void>((resolve) => (release = resolve)))),
  });
  post({ type: 'done', lines });
} catch (error) {
  const code = (error as NodeJS.ErrnoException).code;
  post({ type: 'error', message: error instanceof Error ? error.message : String(error), ...(typeof code === 'string' ? { code } : {}) });
}
