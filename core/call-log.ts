/**
 * Recorded agent calls for `mandate simulate` (CLI.md): JSONL, one
 * `{"agent","tool","action","resource","time"}` per line, or OpenTelemetry
 * traces in OTLP/JSON, one export request (`{"resourceSpans": [...]}`) per
 * line as the Collector's file exporter writes them. The format is detected
 * per line, so one file may mix both.
 *
 * The parser is push-based (`CallLogParser.line`, then `end`) and emits calls
 * as soon as they are known, so a file of any size streams through in
 * bounded memory (`readCallLog` drives it from a file).
 *
 * OTLP spans of one trace may arrive on several lines, parents after
 * children. A tool span that names no agent waits for its nearest
 * `invoke_agent` / `create_agent` ancestor. Memory bound: the parser keeps,
 * per trace, one small link (span id -> parent id, plus the agent names of
 * agent spans) per span and the `gen_ai.tool.call.id`s it has seen, for at
 * most `maxBufferedSpans` spans over all traces (default 100,000, a few tens
 * of MB). Past that, the least recently active trace is dropped: its
 * waiting tool spans are emitted without an agent (unevaluable), and a
 * later span of it starts afresh (a single trace over the bound is dropped
 * too, so the bound holds whatever the input). At the end of the input every span still
 * waiting is emitted without an agent.
 */
import { createReadStream } from 'node:fs';

/** One call as recorded, before it is decided. */
export interface LoggedCall {
  /**
   * The agent's name: the JSONL `agent`; for OTLP the span's `mandate.agent`,
   * else its `gen_ai.agent.id` or `gen_ai.agent.name`, else those of its
   * nearest agent ancestor. Absent: none found.
   */
  agent?: string;
  /** OTLP: the other name to try (`gen_ai.agent.name` after `gen_ai.agent.id`) when `agent` is not one the repository knows. */
  alternatives?: string[];
  /** The tool; absent for an OTLP span without `mandate.tool` (inferred from the action). */
  tool?: string;
  action: string;
  resource?: string;
  /** Milliseconds since the epoch. */
  time: number;
  /** 1-based line of the input it came from. */
  line: number;
  /** Order of the call in the input (line, then position in the line): changed calls are listed in this order. */
  ordinal: number;
  /** Why the call cannot be evaluated whatever the policy says (e.g. an OTLP tool span without a tool name). */
  problem?: string;
}

/** A line that is neither a call nor an OTLP export request. */
export interface MalformedLine {
  line: number;
  message: string;
}

/** Where the parser sends what it reads. */
export interface CallLogSink {
  call(call: LoggedCall): void;
  malformed(problem: MalformedLine): void;
}

export interface CallLogOptions {
  /** The time of a call that gives none (FORMAT.md, Now), ms since the epoch. */
  now: number;
  /** The OTLP span buffer bound (see the module comment). */
  maxBufferedSpans?: number;
}

/** The default OTLP span buffer bound. */
export const DEFAULT_MAX_BUFFERED_SPANS = 100_000;

/** ISO 8601 as calls write it: a date, or a date-time with optional seconds, fraction and zone. */
const ISO_TIME = /^\d{4}-\d{2}-\d{2}(?:[Tt ]\d{2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?(?:[Zz]|[+-]\d{2}(?::?\d{2})?)?)?$/;
const ISO_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,3})?Z$/;
const HAS_ZONE = /(?:[Zz]|[+-]\d{2}(?::?\d{2})?)$/;

/** Whether text starts with a real calendar date `YYYY-MM-DD` (Date.parse would roll 02-30 over into March). */
function realDate(text: string): boolean {
  const digit = (at: number): number => text.charCodeAt(at) - 48;
  const year = digit(0) * 1000 + digit(1) * 100 + digit(2) * 10 + digit(3);
  const month = digit(5) * 10 + digit(6);
  const day = digit(8) * 10 + digit(9);
  if (!(month >= 1 && month <= 12 && day >= 1)) return false;
  const leap = year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
  return day <= [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1]!;
}

/** Milliseconds since the epoch of an ISO 8601 time (a date is its UTC midnight; no zone is UTC), or undefined. */
export function parseCallTime(text: string): number | undefined {
  if (!realDate(text)) return undefined;
  if (ISO_UTC.test(text)) {
    // The common case, as loggers write it: Date.parse reads it exactly.
    const ms = Date.parse(text);
    return Number.isNaN(ms) ? undefined : ms;
  }
  if (!ISO_TIME.test(text)) return undefined;
  let normalized = text.replace(',', '.');
  if (normalized.length === 10) normalized += 'T00:00:00Z';
  else if (!HAS_ZONE.test(normalized.slice(10))) normalized += 'Z';
  else if (/[+-]\d{2}$/.test(normalized)) normalized += ':00';
  const ms = Date.parse(normalized.replace(' ', 'T'));
  return Number.isNaN(ms) ? undefined : ms;
}

// ---------------------------------------------------------------------------
// OTLP/JSON

/** Per trace: span links for ancestor walks, tool spans waiting for an ancestor, tool call ids seen. */
interface TraceState {
  /** span id -> parent span id ('' for a root) and, for agent spans, the agent names. */
  spans: Map<string, SpanLink>;
  /** span id not yet seen -> tool spans whose ancestor walk stopped there. */
  waiting: Map<string, LoggedCall[]>;
  toolCallIds: Set<string>;
  /** Entries this trace holds toward the bound (links, waiting calls and ids). */
  size: number;
}

interface SpanLink {
  parent: string;
  /** Agent names of an `invoke_agent` / `create_agent` span that names one. */
  agents?: string[];
}

interface OtlpAttributeValue {
  stringValue?: unknown;
  intValue?: unknown;
  doubleValue?: unknown;
  boolValue?: unknown;
}

const AGENT_OPERATIONS = new Set(['invoke_agent', 'create_agent']);

function attributeMap(attributes: unknown): Map<string, string> {
  const out = new Map<string, string>();
  if (!Array.isArray(attributes)) return out;
  for (const attribute of attributes as unknown[]) {
    if (attribute === null || typeof attribute !== 'object') continue;
    const { key, value } = attribute as { key?: unknown; value?: OtlpAttributeValue };
    if (typeof key !== 'string' || value === null || typeof value !== 'object') continue;
    const scalar = value.stringValue ?? value.intValue ?? value.doubleValue ?? value.boolValue;
    if (typeof scalar === 'string' || typeof scalar === 'number' || typeof scalar === 'boolean') out.set(key, String(scalar));
  }
  return out;
}

/** `mandate.agent`, else `gen_ai.agent.id` then `gen_ai.agent.name` (those present and non-empty). */
function agentNames(attributes: Map<string, string>): string[] {
  const explicit = attributes.get('mandate.agent');
  if (explicit) return [explicit];
  const names: string[] = [];
  for (const key of ['gen_ai.agent.id', 'gen_ai.agent.name']) {
    const value = attributes.get(key);
    if (value && !names.includes(value)) names.push(value);
  }
  return names;
}

/** `agent` and `alternatives` of a call from the names found, in order. */
function namesOf(names: readonly string[]): Pick<LoggedCall, 'agent' | 'alternatives'> {
  if (names.length === 0) return {};
  return names.length === 1 ? { agent: names[0]! } : { agent: names[0]!, alternatives: names.slice(1) };
}

/** Span start in ms: `startTimeUnixNano` is a uint64, written as a string or a number. */
function spanStart(value: unknown): number | undefined {
  let ms: number | undefined;
  if (typeof value === 'number' && Number.isFinite(value) && value > 0) ms = Math.floor(value / 1e6);
  else if (typeof value === 'string' && /^\d{1,20}$/.test(value) && !/^0+$/.test(value)) ms = Number(BigInt(value) / 1_000_000n);
  // Beyond what a Date can hold: treat as absent.
  return ms !== undefined && ms <= MAX_DATE_MS ? ms : undefined;
}

const MAX_DATE_MS = 8.64e15;

function idOf(value: unknown): string {
  return typeof value === 'string' ? value : '';
}

/** Parses call logs line by line; see the module comment. */
export class CallLogParser {
  private readonly traces = new Map<string, TraceState>();
  private buffered = 0;
  private ordinal = 0;
  private readonly maxBufferedSpans: number;

  constructor(
    private readonly sink: CallLogSink,
    private readonly options: CallLogOptions,
  ) {
    this.maxBufferedSpans = Math.max(1, options.maxBufferedSpans ?? DEFAULT_MAX_BUFFERED_SPANS);
  }

  /** Reads one line (1-based number). Blank lines are skipped. */
  line(text: string, line: number): void {
    let start = 0;
    while (start < text.length && (text.charCodeAt(start) <= 32 || text.charCodeAt(start) === 0xfeff)) start++;
    if (start === text.length) return;
    let value: unknown;
    try {
      value = JSON.parse(text.charCodeAt(0) === 0xfeff ? text.slice(1) : text);
    } catch (error) {
      this.sink.malformed({ line, message: `not JSON (${error instanceof Error ? error.message : String(error)})` });
      return;
    }
    if (value === null || typeof value !== 'object' || Array.isArray(value)) {
      this.sink.malformed({ line, message: 'not a JSON object' });
      return;
    }
    if (Object.hasOwn(value, 'resourceSpans')) this.otlpLine(value as { resourceSpans: unknown }, line);
    else this.jsonlLine(value as Record<string, unknown>, line);
  }

  /** Ends the input: every tool span still waiting for an ancestor is emitted without an agent. */
  end(): void {
    for (const trace of this.traces.values()) this.flushTrace(trace, 'no agent: neither the span nor any ancestor names one');
    this.traces.clear();
    this.buffered = 0;
  }

  private jsonlLine(value: Record<string, unknown>, line: number): void {
    const { agent, tool, action, resource, time } = value;
    if (typeof agent !== 'string' || agent === '') return this.bad(line, '"agent" must be a non-empty string');
    if (typeof tool !== 'string' || tool === '') return this.bad(line, '"tool" must be a non-empty string');
    if (typeof action !== 'string' || action === '') return this.bad(line, '"action" must be a non-empty string');
    if (resource !== undefined && resource !== null && (typeof resource !== 'string' || resource === '')) {
      return this.bad(line, '"resource" must be a non-empty string when given');
    }
    let ms = this.options.now;
    if (time !== undefined && time !== null) {
      if (typeof time !== 'string') return this.bad(line, '"time" must be an ISO 8601 string when given');
      const parsed = parseCallTime(time);
      if (parsed === undefined) return this.bad(line, `"time" ${JSON.stringify(time)} is not an ISO 8601 date or date-time`);
      ms = parsed;
    }
    // One shape for every JSONL call (resource present or not), so the code reading them stays monomorphic.
    this.sink.call({ agent, tool, action, resource: typeof resource === 'string' ? resource : undefined, time: ms, line, ordinal: this.ordinal++ });
  }

  private bad(line: number, message: string): void {
    this.sink.malformed({ line, message });
  }

  private otlpLine(value: { resourceSpans: unknown }, line: number): void {
    if (!Array.isArray(value.resourceSpans)) {
      this.sink.malformed({ line, message: '"resourceSpans" must be an array' });
      return;
    }
    for (const resourceSpans of value.resourceSpans as unknown[]) {
      if (resourceSpans === null || typeof resourceSpans !== 'object') continue;
      const scopes = (resourceSpans as { scopeSpans?: unknown; instrumentationLibrarySpans?: unknown }).scopeSpans
        ?? (resourceSpans as { instrumentationLibrarySpans?: unknown }).instrumentationLibrarySpans;
      if (!Array.isArray(scopes)) continue;
      for (const scope of scopes as unknown[]) {
        const spans = scope !== null && typeof scope === 'object' ? (scope as { spans?: unknown }).spans : undefined;
        if (!Array.isArray(spans)) continue;
        for (const span of spans as unknown[]) {
          if (span !== null && typeof span === 'object') this.span(span as Record<string, unknown>, line);
        }
      }
    }
  }

  private span(span: Record<string, unknown>, line: number): void {
    const traceId = idOf(span.traceId);
    const spanId = idOf(span.spanId);
    const parent = idOf(span.parentSpanId);
    const attributes = attributeMap(span.attributes);
    const operation = attributes.get('gen_ai.operation.name');
    const names = agentNames(attributes);
    const trace = this.trace(traceId);
    if (spanId !== '' && !trace.spans.has(spanId)) {
      trace.spans.set(spanId, AGENT_OPERATIONS.has(operation ?? '') && names.length > 0 ? { parent, agents: names } : { parent });
      this.grow(trace, 1);
    }
    if (operation === 'execute_tool') this.toolSpan(trace, span, attributes, names, parent, line);
    // Tool spans waiting for this span continue their walk from it.
    const waiting = spanId === '' ? undefined : trace.waiting.get(spanId);
    if (waiting) {
      trace.waiting.delete(spanId);
      this.grow(trace, -waiting.length);
      for (const call of waiting) this.walk(trace, call, spanId);
    }
    this.evict();
  }

  private toolSpan(trace: TraceState, span: Record<string, unknown>, attributes: Map<string, string>, names: string[], parent: string, line: number): void {
    const callId = attributes.get('gen_ai.tool.call.id');
    if (callId) {
      if (trace.toolCallIds.has(callId)) return;
      trace.toolCallIds.add(callId);
      this.grow(trace, 1);
    }
    const action = attributes.get('gen_ai.tool.name') ?? '';
    const call: LoggedCall = {
      ...namesOf(names),
      action,
      time: spanStart(span.startTimeUnixNano) ?? this.options.now,
      line,
      ordinal: this.ordinal++,
    };
    const tool = attributes.get('mandate.tool');
    if (tool) call.tool = tool;
    const resource = attributes.get('mandate.resource');
    if (resource) call.resource = resource;
    if (action === '') call.problem = 'no tool name: the execute_tool span has no gen_ai.tool.name';
    if (names.length > 0 || parent === '') {
      this.sink.call(names.length > 0 ? call : { ...call, problem: call.problem ?? 'no agent: neither the span nor any ancestor names one' });
      return;
    }
    this.walk(trace, call, parent);
  }

  /** Walks up from span `from` to the nearest agent span: emits the call, or parks it on the first missing ancestor. */
  private walk(trace: TraceState, call: LoggedCall, from: string): void {
    let id = from;
    for (let steps = 0; steps <= trace.spans.size; steps++) {
      if (id === '') break;
      const link = trace.spans.get(id);
      if (!link) {
        const list = trace.waiting.get(id);
        if (list) list.push(call);
        else trace.waiting.set(id, [call]);
        this.grow(trace, 1);
        return;
      }
      if (link.agents) {
        this.sink.call({ ...call, ...namesOf(link.agents) });
        return;
      }
      id = link.parent;
    }
    this.sink.call({ ...call, problem: call.problem ?? 'no agent: neither the span nor any ancestor names one' });
  }

  private trace(traceId: string): TraceState {
    let trace = this.traces.get(traceId);
    if (trace) {
      // Most recently active last: eviction takes the first.
      this.traces.delete(traceId);
    } else {
      trace = { spans: new Map(), waiting: new Map(), toolCallIds: new Set(), size: 0 };
    }
    this.traces.set(traceId, trace);
    return trace;
  }

  private grow(trace: TraceState, by: number): void {
    trace.size += by;
    this.buffered += by;
  }

  private evict(): void {
    while (this.buffered > this.maxBufferedSpans && this.traces.size > 0) {
      const [traceId, trace] = this.traces.entries().next().value as [string, TraceState];
      this.traces.delete(traceId);
      this.buffered -= trace.size;
      this.flushTrace(trace, `no agent: the trace was dropped from the span buffer (over ${this.maxBufferedSpans} spans) before an agent span arrived`);
    }
  }

  private flushTrace(trace: TraceState, problem: string): void {
    const pending = [...trace.waiting.values()].flat().sort((a, b) => a.ordinal - b.ordinal);
    trace.waiting.clear();
    for (const call of pending) this.sink.call({ ...call, problem: call.problem ?? problem });
  }
}

/** Progress of a file being read. */
export interface ReadProgress {
  bytesRead: number;
  lines: number;
}

/** Lines longer than this (in UTF-16 units, about 16 MB of text) are never held or parsed, and are counted malformed. */
export const MAX_LINE_LENGTH = 16 * 1024 * 1024;

/**
 * Streams a call log file through a CallLogParser, line by line in constant
 * memory (for JSONL; see the module comment for OTLP): a line ends at `\n`,
 * with a `\r` before it dropped (a lone `\r` does not end a line), and a
 * line over MAX_LINE_LENGTH is never held whole (a single line of a gigabyte would not fit in a string). While
 * the promise `hold` returns is pending, reading pauses. Rejects when the
 * file cannot be opened or read.
 */
export async function readCallLog(
  path: string,
  sink: CallLogSink,
  options: CallLogOptions & {
    onProgress?: (progress: ReadProgress) => void;
    /** Asked after each line; while the promise it returns is pending, reading pauses. */
    hold?: () => Promise<void> | undefined;
  },
): Promise<{ lines: number }> {
  const stream = createReadStream(path, { encoding: 'utf8', highWaterMark: 64 * 1024 });
  const parser = new CallLogParser(sink, options);
  let lines = 0;
  /** The start of a line the chunks so far did not finish; undefined while skipping an over-long line. */
  let pending: string | undefined = '';
  const finish = (whole: string | undefined): void => {
    lines++;
    const text = whole?.endsWith('\r') ? whole.slice(0, -1) : whole;
    if (text === undefined || text.length > MAX_LINE_LENGTH) sink.malformed({ line: lines, message: `longer than ${MAX_LINE_LENGTH.toLocaleString('en-US')} characters; not parsed` });
    else parser.line(text, lines);
  };
  try {
    for await (const chunk of stream as AsyncIterable<string>) {
      let start = 0;
      for (let end = chunk.indexOf('\n'); end >= 0; end = chunk.indexOf('\n', start)) {
        const piece = chunk.slice(start, end);
        finish(pending === undefined ? undefined : pending === '' ? piece : pending + piece);
        pending = '';
        start = end + 1;
        const held = options.hold?.();
        if (held) await held;
      }
      if (pending !== undefined && start < chunk.length) {
        pending += chunk.slice(start);
        if (pending.length > MAX_LINE_LENGTH) pending = undefined;
      }
      options.onProgress?.({ bytesRead: stream.bytesRead, lines });
    }
    if (pending !== '') finish(pending);
  } finally {
    stream.destroy();
  }
  parser.end();
  return { lines };
}
