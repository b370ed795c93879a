/**
 * The worker side of `mandate simulate`'s call reading (see call-reader.ts):
 * reads the log named in workerData, packs the calls into batches and posts
 * them, holding at most `inFlight` unanswered so the log never piles up in
 * memory ahead of the replay.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { CallBatchWriter } from '../core/call-batch';
import { readCallLog } from '../core/call-log';
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

const writer = new CallBatchWriter((batch) => {
  unanswered++;
  post({ type: 'batch', batch }, [batch.triples.buffer, batch.times.buffer, batch.lines.buffer, batch.ordinals.buffer] as ArrayBuffer[]);
}, { batchCalls: request.batchCalls });

try {
  const { lines } = await readCallLog(request.path, writer, {
    ...request.options,
    onProgress: (progress) => {
      writer.progress = progress;
    },
    hold: () => (unanswered < request.inFlight ? undefined : (waiting ??= new Promise<void>((resolve) => (release = resolve)))),
  });
  writer.progress = { bytesRead: writer.progress.bytesRead, lines };
  writer.flush();
  post({ type: 'done', lines });
} catch (error) {
  const code = (error as NodeJS.ErrnoException).code;
  post({ type: 'error', message: error instanceof Error ? error.message : String(error), ...(typeof code === 'string' ? { code } : {}) });
}
