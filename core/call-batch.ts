/**
 * Call batches: recorded calls packed for a fast hand-over from the thread
 * that reads the log to the thread that decides the calls.
 *
 * Reading a log (splitting lines, JSON.parse, checking fields, parsing
 * times) and looking up each call's (agent, tool, action) by its freshly
 * parsed strings is over half the cost of a replay. A `CallBatchWriter`
 * does that work where the log is read and numbers each distinct triple
 * once, so the replay finds a call's context by an array index instead of
 * three string-keyed look-ups. Batches are typed arrays plus the
 * resources and the few calls that do not pack, so they cross threads
 * cheaply (the arrays are transferred, not copied).
 */
import type { CallLogSink, LoggedCall, MalformedLine, ReadProgress } from './call-log';
import { readCallLog } from './call-log';
import type { CallLogOptions } from './call-log';

/** One batch of calls and malformed lines, in the order the parser gave them. */
export interface CallBatch {
  /** Calls in the batch (packed and others). */
  count: number;
  /** Per call: its triple id, OTHER for a call carried whole in `others`, or STRANGER. */
  triples: Int32Array;
  /** Per call: its resource (absent: none). */
  resources: Array<string | undefined>;
  /** Per call: ms since the epoch, input line, order in the input. */
  times: Float64Array;
  lines: Float64Array;
  ordinals: Float64Array;
  /** Names (agents, tools, actions) first used in this batch, numbered on from `firstNewName`. */
  firstNewName: number;
  newNames: string[];
  /** The triples first used in this batch, numbered on from `firstNewTriple`: three name ids each (agent, tool, action). */
  firstNewTriple: number;
  newTriples: number[];
  /** Calls that do not pack (no agent or tool, alternative names, a problem, or past the triple bound), in order. */
  others: LoggedCall[];
  malformed: MalformedLine[];
  /** Where the reading stands after this batch. */
  progress: ReadProgress;
}

/** The triple id of a call carried whole in `others`. */
export const OTHER = -1;
/**
 * The triple id of a call with a tool and no problem whose agent names
 * (the name and any alternatives) are none that either side knows, when the
 * writer is told the known ones: such a call is denied alike at both sides
 * whatever else it names, so only its time, line and order are kept. Logs
 * full of unregistered or per-session agent ids cost nothing per name.
 */
export const STRANGER = -2;

/** Calls per batch by default: large enough that hand-over costs little, small enough to stay in cache. */
export const DEFAULT_BATCH_CALLS = 8_192;
/** Distinct triples numbered by default; calls of later ones travel whole (memory stays bounded whatever the log holds). */
export const DEFAULT_TRIPLE_LIMIT = 100_000;

/** How a CallBatchWriter packs: calls per batch, how many distinct triples it numbers, and the agent names either side knows (ids and aliases). */
export interface CallBatchWriterOptions {
  batchCalls?: number;
  tripleLimit?: number;
  knownAgents?: readonly string[];
}

/** A CallLogSink that packs what it is given into CallBatches and hands each full one to `emit`. */
export class CallBatchWriter implements CallLogSink {
  private readonly ids = new Map<string, Map<string, Map<string, number>>>();
  private nextTriple = 0;
  /** Name -> id, for the names of numbered triples only (so at most three per triple). */
  private readonly names = new Map<string, number>();
  private readonly batchCalls: number;
  private readonly tripleLimit: number;
  private readonly knownAgents: ReadonlySet<string> | undefined;
  private batch: CallBatch;
  /** Updated by the reader; stamped on each batch. */
  progress: ReadProgress = { bytesRead: 0, lines: 0 };

  constructor(
    private readonly emit: (batch: CallBatch) => void,
    options: CallBatchWriterOptions = {},
  ) {
    this.batchCalls = Math.max(1, options.batchCalls ?? DEFAULT_BATCH_CALLS);
    this.tripleLimit = Math.max(0, options.tripleLimit ?? DEFAULT_TRIPLE_LIMIT);
    this.knownAgents = options.knownAgents && new Set(options.knownAgents);
    this.batch = this.emptyBatch();
  }

  call(call: LoggedCall): void {
    const batch = this.batch;
    const at = batch.count++;
    const id = call.agent === undefined || call.tool === undefined || call.problem !== undefined ? OTHER
      : this.stranger(call.agent, call.alternatives) ? STRANGER
      : call.alternatives !== undefined ? OTHER
      : this.tripleId(call.agent, call.tool, call.action);
    batch.triples[at] = id;
    if (id === OTHER) batch.others.push(call);
    batch.resources[at] = id === STRANGER ? undefined : call.resource;
    batch.times[at] = call.time;
    batch.lines[at] = call.line;
    batch.ordinals[at] = call.ordinal;
    if (batch.count === this.batchCalls) this.flush();
  }

  malformed(problem: MalformedLine): void {
    this.batch.malformed.push(problem);
    if (this.batch.malformed.length >= this.batchCalls) this.flush();
  }

  /** Hands over the batch being filled, if it holds anything. */
  flush(): void {
    const batch = this.batch;
    if (batch.count === 0 && batch.malformed.length === 0) return;
    this.batch = this.emptyBatch();
    batch.progress = { ...this.progress };
    if (batch.count < this.batchCalls) {
      batch.triples = batch.triples.slice(0, batch.count);
      batch.times = batch.times.slice(0, batch.count);
      batch.lines = batch.lines.slice(0, batch.count);
      batch.ordinals = batch.ordinals.slice(0, batch.count);
    }
    this.emit(batch);
  }

  /** Whether none of a call's agent names is one either side knows (never, when the writer was not told the known ones). */
  private stranger(agent: string, alternatives: readonly string[] | undefined): boolean {
    const known = this.knownAgents;
    return known !== undefined && !known.has(agent) && !(alternatives ?? []).some((name) => known.has(name));
  }

  private tripleId(agent: string, tool: string, action: string): number {
    let byTool = this.ids.get(agent);
    let byAction = byTool?.get(tool);
    const known = byAction?.get(action);
    if (known !== undefined) return known;
    if (this.nextTriple >= this.tripleLimit) return OTHER;
    if (!byTool) this.ids.set(agent, (byTool = new Map()));
    if (!byAction) byTool.set(tool, (byAction = new Map()));
    const id = this.nextTriple++;
    byAction.set(action, id);
    this.batch.newTriples.push(this.nameId(agent), this.nameId(tool), this.nameId(action));
    return id;
  }

  private nameId(name: string): number {
    let id = this.names.get(name);
    if (id === undefined) {
      this.names.set(name, (id = this.names.size));
      this.batch.newNames.push(name);
    }
    return id;
  }

  private emptyBatch(): CallBatch {
    const size = this.batchCalls;
    return {
      count: 0,
      triples: new Int32Array(size),
      resources: [],
      times: new Float64Array(size),
      lines: new Float64Array(size),
      ordinals: new Float64Array(size),
      firstNewName: this.names.size,
      newNames: [],
      firstNewTriple: this.nextTriple,
      newTriples: [],
      others: [],
      malformed: [],
      progress: this.progress,
    };
  }
}

/** Reads call batches from a log, packed as told; `mandate simulate` may read on another thread (the CLI passes one that does). */
export type CallBatchSource = (
  path: string,
  options: CallLogOptions,
  onBatch: (batch: CallBatch) => void,
  packing: { knownAgents: readonly string[] },
) => Promise<{ lines: number }>;

/** How readCallBatches packs and paces: as a CallBatchWriter packs, and `hold` as readCallLog takes it (reading pauses while it is pending). */
export interface ReadBatchOptions extends Omit<CallBatchWriterOptions, 'tripleLimit'> {
  hold?: () => Promise<void> | undefined;
}

/**
 * The CallBatchSource of this thread: streams the file through a
 * CallLogParser into a CallBatchWriter; the last batch carries the final
 * progress. Rejects when the file cannot be read.
 */
export const readCallBatches = async (
  path: string,
  options: CallLogOptions,
  onBatch: (batch: CallBatch) => void,
  pacing: ReadBatchOptions = {},
): Promise<{ lines: number }> => {
  const { hold, ...packing } = pacing;
  const writer = new CallBatchWriter(onBatch, packing);
  const result = await readCallLog(path, writer, {
    ...options,
    onProgress: (progress) => {
      writer.progress = progress;
    },
    ...(hold ? { hold } : {}),
  });
  writer.progress = { bytesRead: writer.progress.bytesRead, lines: result.lines };
  writer.flush();
  return result;
};
