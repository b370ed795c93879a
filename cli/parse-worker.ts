/**
 * The worker side of the parse pool (see parse-pool.ts): parses and
 * shape-checks the batches of governance files it is sent and answers with
 * the loaded files, which cross back as structured clones.
 */
import { parentPort } from 'node:worker_threads';
import type { LoadedFile } from '../core/validate';
import { loadFile } from '../core/validate';
import type { ParseBatch, ParsedBatch } from './parse-pool';

parentPort?.on('message', (batch: ParseBatch) => {
  const files: LoadedFile[] = batch.files.map(({ path, bytes }) => loadFile(path, bytes, 'roots', batch.limits));
  const answer: ParsedBatch = { id: batch.id, files };
  parentPort?.postMessage(answer);
});
