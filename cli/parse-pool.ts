/**
 * Parsing governance files on worker threads.
 *
 * YAML parsing is most of the time `validate` takes on a large repository,
 * and files parse independently, so the CLI shares them between this thread
 * and worker threads (one fewer than the cores, at most 3). Files are queued
 * in batches; each worker keeps two batches in flight, and whenever this
 * thread is otherwise idle it parses a batch from the back of the queue
 * itself, so no core waits while work remains.
 *
 * The first 8 MiB of a load are parsed here directly and workers start only
 * past that. Measured on 2 cores: at 1,000 generated agents (5 MB) a worker
 * saves nothing (3.2 s either way: start-up, a cold JIT and copying the
 * results eat the gain) and adds 55 MB of peak memory; at 10,000 (51 MB)
 * validate takes 19 s instead of 28 s. A worker has a heap of its own, so
 * it is stopped once it has been idle for 100 ms: the heaps of parse
 * workers are not kept through the replay `mandate simulate` runs after
 * its load.
 *
 * A worker that fails (it cannot start, or dies) is never fatal: its
 * unanswered batches go back to the queue and no more workers start.
 */
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import type { FileLoader, LoadedFile } from '../core/validate';
import { loadFile } from '../core/validate';
import type { ParseLimits } from '../core/yaml-safe';
import { ParsedDocument } from '../core/yaml-safe';

/** A batch of files sent to a worker. */
export interface ParseBatch {
  id: number;
  limits: ParseLimits;
  files: { path: string; bytes: Uint8Array }[];
}

/** A worker's answer: the loaded files of one batch, in order. */
export interface ParsedBatch {
  id: number;
  files: LoadedFile[];
}

/** How a pool shares the work; the defaults suit the CLI, tests shrink them. */
export interface ParsePoolOptions {
  /** Worker threads (default: cores - 1, at most 3; 0 parses everything here). */
  workers?: number;
  /** Bytes parsed in this thread before workers start (default 8 MiB). */
  inThreadBytes?: number;
  /** A batch is queued once it holds this many bytes, or when the loader pauses (default 64 KiB). */
  batchBytes?: number;
}
/** Batches a worker holds at once: one to parse, one waiting, so it never idles on a round trip. */
const IN_FLIGHT = 2;

interface PendingBatch {
  id: number;
  limits: ParseLimits;
  files: { path: string; bytes: Uint8Array; resolve: (loaded: LoadedFile) => void }[];
}

interface PoolWorker {
  worker: Worker;
  inFlight: Map<number, PendingBatch>;
  /** Set while the worker has nothing to do: it is stopped when this fires, so its heap is not kept. */
  idle?: NodeJS.Timeout;
}

/** How long an idle worker is kept for a next load (loadRevisions loads sides back to back). */
const IDLE_MS = 100;

/** A FileLoader that shares parsing between this thread and workers once a load is large enough. */
export class ParsePool {
  private readonly workers: PoolWorker[] = [];
  private readonly queue: PendingBatch[] = [];
  private open: PendingBatch | undefined;
  private openBytes = 0;
  private bytesSeen = 0;
  private nextId = 0;
  private stealScheduled = false;
  /** Set when a worker failed: no more are started. */
  private broken = false;

  /** Files parsed in this thread and on workers so far. */
  readonly parsed = { here: 0, onWorkers: 0 };
  private readonly size: number;
  private readonly inThreadBytes: number;
  private readonly batchBytes: number;

  /** `workerUrl` is the built parse-worker.js. */
  constructor(private readonly workerUrl: URL, options: ParsePoolOptions = {}) {
    this.size = options.workers ?? Math.min(3, availableParallelism() - 1);
    this.inThreadBytes = options.inThreadBytes ?? 8 * 1024 * 1024;
    this.batchBytes = options.batchBytes ?? 64 * 1024;
  }

  /** Workers running now (idle ones stop after IDLE_MS). */
  get runningWorkers(): number {
    return this.workers.length;
  }

  /** The loader to pass in LoadOptions. */
  readonly load: FileLoader = (file, bytes, limits) => {
    this.bytesSeen += bytes.length;
    if (this.size < 1 || this.bytesSeen <= this.inThreadBytes) {
      this.parsed.here += 1;
      return Promise.resolve(loadFile(file, bytes, 'roots', limits));
    }
    return new Promise<LoadedFile>((resolve) => {
      if (this.open && this.open.limits !== limits) this.closeBatch();
      this.open ??= { id: this.nextId++, limits, files: [] };
      this.open.files.push({ path: file, bytes, resolve });
      this.openBytes += bytes.length;
      if (this.openBytes >= this.batchBytes) this.closeBatch();
      this.scheduleSteal();
    });
  };

  private closeBatch(): void {
    if (!this.open) return;
    this.queue.push(this.open);
    this.open = undefined;
    this.openBytes = 0;
    this.dispatch();
  }

  /** Sends queued batches (from the front) to workers with room, starting workers only while work is left over. */
  private dispatch(): void {
    for (const pool of this.workers) this.fill(pool);
    while (this.queue.length > 0 && !this.broken && this.workers.length < this.size) {
      const started = this.startWorker();
      if (!started) break;
      this.workers.push(started);
      this.fill(started);
    }
  }

  private fill(pool: PoolWorker): void {
    while (pool.inFlight.size < IN_FLIGHT && this.queue.length > 0) {
      const batch = this.queue.shift()!;
      clearTimeout(pool.idle);
      if (pool.inFlight.size === 0) pool.worker.ref();
      pool.inFlight.set(batch.id, batch);
      const message: ParseBatch = { id: batch.id, limits: batch.limits, files: batch.files.map(({ path, bytes }) => ({ path, bytes })) };
      pool.worker.postMessage(message);
    }
  }

  /**
   * A macrotask runs only when the loader has stopped reading (it awaits its
   * results): then the open batch is queued and this thread parses batches
   * from the back of the queue, one per turn, so worker answers interleave.
   */
  private scheduleSteal(): void {
    if (this.stealScheduled) return;
    this.stealScheduled = true;
    setImmediate(() => {
      this.stealScheduled = false;
      this.closeBatch();
      const batch = this.queue.pop();
      if (!batch) return;
      this.parsed.here += batch.files.length;
      for (const { path, bytes, resolve } of batch.files) resolve(loadFile(path, bytes, 'roots', batch.limits));
      if (this.queue.length > 0) this.scheduleSteal();
    });
  }

  private startWorker(): PoolWorker | undefined {
    let worker: Worker;
    try {
      worker = new Worker(this.workerUrl);
    } catch {
      this.broken = true;
      return undefined;
    }
    const pool: PoolWorker = { worker, inFlight: new Map() };
    worker.unref();
    worker.on('message', (answer: ParsedBatch) => {
      const batch = pool.inFlight.get(answer.id);
      if (!batch) return;
      pool.inFlight.delete(answer.id);
      if (pool.inFlight.size === 0) worker.unref();
      this.parsed.onWorkers += answer.files.length;
      answer.files.forEach((loaded, index) => {
        for (const document of loaded.accepted) ParsedDocument.revive(document);
        batch.files[index]!.resolve(loaded);
      });
      this.dispatch();
      if (pool.inFlight.size === 0) pool.idle = setTimeout(() => this.retire(pool), IDLE_MS).unref();
    });
    const fail = (): void => {
      this.broken = true;
      clearTimeout(pool.idle);
      const index = this.workers.indexOf(pool);
      if (index >= 0) this.workers.splice(index, 1);
      this.queue.push(...pool.inFlight.values());
      pool.inFlight.clear();
      this.scheduleSteal();
    };
    worker.on('error', fail);
    worker.on('exit', fail);
    return pool;
  }

  /** Stops an idle worker (a later load starts a new one). */
  private retire(pool: PoolWorker): void {
    const index = this.workers.indexOf(pool);
    if (pool.inFlight.size > 0 || index < 0) return;
    this.workers.splice(index, 1);
    pool.worker.removeAllListeners('exit');
    pool.worker.removeAllListeners('error');
    pool.worker.on('error', () => undefined);
    void pool.worker.terminate();
  }
}
