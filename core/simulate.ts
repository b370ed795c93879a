/**
 * `mandate simulate` (CLI.md): replays recorded calls against the policy at
 * the merge base and at head, each call decided on its own UTC day, and says
 * which calls a change would break, open up or gate; without calls, compares
 * the exhaustive effective access of the two sides.
 */
import type { CallBatch, CallBatchSource } from './call-batch';
import { OTHER, readCallBatches, STRANGER } from './call-batch';
import type { CallLogSink, LoggedCall, MalformedLine, ReadProgress } from './call-log';
import type { DayNumber } from './dates';
import { dayOfInstant } from './dates';
import type { Call, CallTarget, DecisionIndex, DecisionValue } from './decide';
import { callTarget, decide, decideAt, decisionIndex, decisionValueAt } from './decide';
import { compareStrings } from './finding';
import { coversEveryResource } from './globs';
import type { UnusedGrant, UseSlot } from './least-privilege';
import { UsageTracker } from './least-privilege';
import type { Model } from './model';
import { pairKey } from './pair-key';

/** How a call's decision moved from base to head. */
export type ChangeKind = 'gained' | 'revoked' | 'nowNeedsApproval' | 'noLongerNeedsApproval';

/** The counts of CLI.md's `summary`; they add up to `total`. */
export interface SimulationSummary {
  unchanged: number;
  gained: number;
  revoked: number;
  nowNeedsApproval: number;
  noLongerNeedsApproval: number;
  unevaluable: number;
}

/** `changed` lists at most this many entries unless told otherwise. */
export const DEFAULT_CHANGED_LIMIT = 1_000;
/** How many malformed lines are kept with their message (all are counted). */
export const MALFORMED_DETAIL_LIMIT = 1_000;

/** deny -> allow/approval gained, allow/approval -> deny revoked, allow <-> approval the gate moved. */
export function classifyChange(base: DecisionValue, head: DecisionValue): ChangeKind | 'unchanged' {
  if (base === head) return 'unchanged';
  if (base === 'deny') return 'gained';
  if (head === 'deny') return 'revoked';
  return head === 'approval' ? 'nowNeedsApproval' : 'noLongerNeedsApproval';
}

/** A call as the output shows it. */
export interface ReplayedCall {
  agent: string;
  tool: string;
  action: string;
  resource?: string;
  /** ISO 8601, UTC. */
  time: string;
}

/** A call whose decision changed. */
export interface ChangedCall {
  call: ReplayedCall;
  /** Line of the calls file it came from. */
  line: number;
  change: ChangeKind;
  base: DecisionValue;
  head: DecisionValue;
  /** Why head decided as it did. */
  reason: string;
  /** Why base decided as it did. */
  baseReason: string;
}

/** A call (or malformed line) that could not be decided. */
export interface UnevaluableCall {
  line: number;
  reason: string;
  call?: Partial<ReplayedCall>;
}

/** The earliest and latest call time (null without calls). */
export interface CallWindow {
  first: string | null;
  last: string | null;
}

/** The result of replaying a call log. */
export interface CallSimulation {
  mode: 'calls';
  total: number;
  summary: SimulationSummary;
  window: CallWindow;
  /** The first `limit` changed calls, in file order. */
  changed: ChangedCall[];
  /** The first `limit` unevaluable calls and malformed lines, in file order. */
  unevaluable: UnevaluableCall[];
  /** The first MALFORMED_DETAIL_LIMIT malformed lines. */
  malformed: MalformedLine[];
  /** Every malformed line, counted. */
  malformedLines: number;
  /** What the head grants that no call used. */
  unused: UnusedGrant[];
  /** Which head grants the calls used (for `--suggest`). */
  usage: UsageTracker;
}

export interface SimulationOptions {
  /** Longest `changed` (and `unevaluable`) list; default DEFAULT_CHANGED_LIMIT. */
  limit?: number;
  /** "Now" (FORMAT.md): the time of calls that give none, and today for `unused`. */
  now: Date;
  /** The OTLP span buffer bound (core/call-log.ts). */
  maxBufferedSpans?: number;
}

/** Where an item came from: its line and, within the line, its order. */
interface Place {
  line: number;
  ordinal: number;
}

/** Keeps the first `limit` items by place while they arrive in nearly that order. */
class FirstN<T extends Place> {
  private items: T[] = [];
  /** The last item kept by the latest trim, once `limit` are kept: later places are never kept. */
  private worst: Place | undefined;
  constructor(
    private readonly limit: number,
    private readonly before: (a: Place, b: Place) => number,
  ) {}

  /** Whether an item at this place could be kept, so a caller can skip building one that would not. */
  accepts(place: Place): boolean {
    return this.limit > 0 && (this.worst === undefined || this.before(place, this.worst) < 0);
  }

  push(item: T): void {
    if (!this.accepts(item)) return;
    this.items.push(item);
    if (this.items.length >= this.limit * 2 + 64) this.trim();
  }

  list(): T[] {
    this.trim();
    return this.items;
  }

  private trim(): void {
    this.items.sort(this.before);
    if (this.items.length >= this.limit) {
      this.items.length = this.limit;
      this.worst = this.items[this.limit - 1];
    }
  }
}

const MS_PER_DAY = 86_400_000;
const RANK: Record<DecisionValue, number> = { deny: 0, approval: 1, allow: 2 };

/** One side of the comparison. */
interface Side {
  model: Model;
  /** Agent ids and aliases to agent ids, resolved as decide's index resolves them. */
  names: Map<string, string>;
  /** The decision index, compiled on first use: when every call's agent is unchanged, head's is never needed. */
  index(): DecisionIndex;
}

function sideOf(model: Model): Side {
  let index: DecisionIndex | undefined;
  return { model, names: agentNames(model), index: () => (index ??= decisionIndex(model)) };
}

/** Whether a grant or deny of the agent scopes (tool, action) to some resources. */
function scopedIn(model: Model, agent: string | undefined, tool: string, action: string): boolean {
  if (agent === undefined) return false;
  const scopes = (entry: { tool: string; actions: string[]; resources?: string[] }): boolean =>
    entry.tool === tool && !coversEveryResource(entry.resources) && entry.actions.includes(action);
  return (model.grants.get(agent) ?? []).some(scopes) || (model.denies.get(agent) ?? []).some(scopes);
}

/** Agent ids and aliases to ids, exactly as `decisionIndex` maps them: an alias goes to the first agent claiming it, an id always to itself. */
export function agentNames(model: Model): Map<string, string> {
  const names = new Map<string, string>();
  for (const { doc } of model.agents.values()) for (const alias of doc.aliases ?? []) if (!names.has(alias)) names.set(alias, doc.id);
  for (const id of model.agents.keys()) names.set(id, id);
  return names;
}

/** Whether a document is the same at both sides (both absent included). */
function sameDocument<D>(base: Map<string, { doc: D }>, head: Map<string, { doc: D }>, id: string): boolean {
  const before = base.get(id)?.doc;
  const after = head.get(id)?.doc;
  return before === after || (before !== undefined && after !== undefined && JSON.stringify(before) === JSON.stringify(after));
}

/**
 * The documents a decision value depends on besides the agent and the tool
 * (FORMAT.md, Meaning): guardrails, and the data classes their sensitivity
 * selectors read. Positions and file names only shape reasons.
 */
function sharedText(model: Model): string {
  const docs = <D>(documents: Map<string, { doc: D }>): D[] => [...documents.values()].map(({ doc }) => doc);
  return JSON.stringify([docs(model.guardrails), docs(model.dataClasses)]);
}

/** What the calls of one (agent name, tool, action) share (see CallReplay.context). */
interface CallContext {
  /** The side where a grant or deny scopes the triple to resources (base first). */
  scopedAt: 'base' | 'head' | undefined;
  /** Both sides decide its calls alike. */
  same: boolean;
  /** The head grants reaching it. */
  usage: UseSlot | undefined;
  /** Where its calls land in base's decision index, and in head's (compiled on first need). */
  baseTarget: CallTarget;
  headTarget?: CallTarget;
}

/** How many (agent name, tool, action) contexts a replay remembers; calls past it still work, just slower. */
const CONTEXT_LIMIT = 100_000;

/** Tools declaring each action, over both sides. */
function toolsByAction(models: readonly Model[]): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const model of models) {
    for (const { doc } of model.tools.values()) {
      for (const action of Object.keys(doc.actions)) {
        const list = out.get(action);
        if (!list) out.set(action, [doc.id]);
        else if (!list.includes(doc.id)) list.push(doc.id);
      }
    }
  }
  return out;
}

function isoTime(ms: number): string {
  const date = new Date(ms);
  return Number.isNaN(date.getTime()) ? String(ms) : date.toISOString();
}

/** Decides every call it is given at base and head and keeps the counts (a CallLogSink). */
export class CallReplay implements CallLogSink {
  private readonly base: Side;
  private readonly head: Side;
  private readonly baseIndex: DecisionIndex;
  private readonly limit: number;
  private readonly toolsOf: Map<string, string[]>;
  private readonly changed: FirstN<ChangedCall & { ordinal: number }>;
  private readonly unevaluableCalls: FirstN<UnevaluableCall & { ordinal: number }>;
  private readonly malformedLines: MalformedLine[] = [];
  private malformedCount = 0;
  private total = 0;
  private readonly summary: SimulationSummary = { unchanged: 0, gained: 0, revoked: 0, nowNeedsApproval: 0, noLongerNeedsApproval: 0, unevaluable: 0 };
  private first = Number.POSITIVE_INFINITY;
  private last = Number.NEGATIVE_INFINITY;
  /** Whether guardrails and data classes are the same at both sides. */
  private readonly sharedSame: boolean;
  /** agent name -> tool -> action -> what its calls share (see context()). */
  private readonly contexts = new Map<string, Map<string, Map<string, CallContext>>>();
  /** The one context of calls both sides decide alike before any resource (see decidedAlike). */
  private alike: CallContext | undefined;
  /** Batches' name ids -> names; triple ids -> three name ids (agent, tool, action) and their context once a call needed it. */
  private readonly names: string[] = [];
  private readonly tripleNames: number[] = [];
  private readonly tripleContexts: Array<CallContext | undefined> = [];
  private remembered = 0;
  /** Agent and tool ids -> whether their document is the same at both sides. */
  private readonly sameAgent = new Map<string, boolean>();
  private readonly sameTool = new Map<string, boolean>();
  readonly usage: UsageTracker;

  constructor(
    base: Model,
    head: Model,
    private readonly options: SimulationOptions,
  ) {
    this.base = sideOf(base);
    this.head = sideOf(head);
    this.baseIndex = this.base.index();
    this.limit = options.limit ?? DEFAULT_CHANGED_LIMIT;
    this.toolsOf = toolsByAction([head, base]);
    this.sharedSame = sharedText(base) === sharedText(head);
    const order = (a: Place, b: Place): number => a.line - b.line || a.ordinal - b.ordinal;
    this.changed = new FirstN<ChangedCall & { ordinal: number }>(this.limit, order);
    this.unevaluableCalls = new FirstN<UnevaluableCall & { ordinal: number }>(this.limit, order);
    this.usage = new UsageTracker(head);
  }

  malformed(problem: MalformedLine): void {
    this.total++;
    this.summary.unevaluable++;
    this.malformedCount++;
    if (this.malformedLines.length < MALFORMED_DETAIL_LIMIT) this.malformedLines.push(problem);
    const place = { line: problem.line, ordinal: -1 };
    if (this.unevaluableCalls.accepts(place)) this.unevaluableCalls.push({ ...place, reason: `malformed line: ${problem.message}` });
  }

  call(logged: LoggedCall): void {
    const agent = logged.alternatives ? this.agentName(logged.agent!, logged.alternatives) : logged.agent;
    let reason = logged.problem;
    let tool = logged.tool;
    if (reason === undefined && agent === undefined) reason = 'no agent: neither the span nor any ancestor names one';
    if (reason === undefined && tool === undefined) {
      const tools = this.toolsOf.get(logged.action) ?? [];
      if (tools.length === 1) tool = tools[0];
      else if (tools.length === 0) reason = `no tool: no Tool declares action '${logged.action}' (set mandate.tool on the span)`;
      else reason = `ambiguous tool: action '${logged.action}' is declared by ${[...tools].sort(compareStrings).join(', ')} (set mandate.tool on the span)`;
    }
    if (reason !== undefined) {
      this.count(logged.time);
      this.unevaluable(reason, agent, tool, logged.action, logged.resource, logged.time, logged.line, logged.ordinal);
      return;
    }
    this.replay(this.namedContext(agent!, tool!, logged.action), agent!, tool!, logged.action, logged.resource, logged.time, logged.line, logged.ordinal);
  }

  /** Replays a batch (core/call-batch.ts): packed calls find their context by triple id. */
  batch(batch: CallBatch): void {
    batch.newNames.forEach((name, offset) => (this.names[batch.firstNewName + offset] = name));
    batch.newTriples.forEach((name, offset) => (this.tripleNames[batch.firstNewTriple * 3 + offset] = name));
    for (const problem of batch.malformed) this.malformed(problem);
    const { triples, resources, times, lines, ordinals, others } = batch;
    let other = 0;
    for (let at = 0; at < batch.count; at++) {
      const id = triples[at]!;
      if (id === OTHER) {
        this.call(others[other++]!);
        continue;
      }
      if (id === STRANGER) {
        // A name neither side knows: denied at both sides, as its context says (see decidedAlike).
        this.count(times[at]!);
        this.summary.unchanged++;
        continue;
      }
      const agent = this.names[this.tripleNames[id * 3]!]!;
      const tool = this.names[this.tripleNames[id * 3 + 1]!]!;
      const action = this.names[this.tripleNames[id * 3 + 2]!]!;
      const context = (this.tripleContexts[id] ??= this.context(agent, tool, action));
      this.replay(context, agent, tool, action, resources[at], times[at]!, lines[at]!, ordinals[at]!);
    }
  }

  /** Counts a call and widens the window. */
  private count(time: number): void {
    this.total++;
    if (time < this.first) this.first = time;
    if (time > this.last) this.last = time;
  }

  /** Decides one call of a known (agent name, tool, action) at both sides and counts the change. */
  private replay(context: CallContext, agent: string, tool: string, action: string, resource: string | undefined, time: number, line: number, ordinal: number): void {
    this.count(time);
    if (resource === undefined && context.scopedAt !== undefined) {
      if (context.usage) this.usage.markUnscoped(context.usage);
      const reason = `no resource: the call names none, and ${tool} ${action} is granted or denied on specific resources at ${context.scopedAt}`;
      this.unevaluable(reason, agent, tool, action, resource, time, line, ordinal);
      return;
    }
    const day: DayNumber = Math.floor(time / MS_PER_DAY);
    const before = decisionValueAt(context.baseTarget, resource, day);
    const headTarget = context.same ? undefined : (context.headTarget ??= callTarget(this.head.index(), agent, tool, action));
    const after = headTarget ? decisionValueAt(headTarget, resource, day) : before;
    if (after !== 'deny' && context.usage) this.usage.markUsed(context.usage, resource, day);
    const change = classifyChange(before, after);
    this.summary[change]++;
    if (change === 'unchanged' || !this.changed.accepts({ line, ordinal })) return;
    // Reasons only for the calls the list keeps.
    const call: Call = { agent, tool, action, resource };
    this.changed.push({
      call: { agent, tool, action, ...(resource === undefined ? {} : { resource }), time: isoTime(time) },
      line, change, base: before, head: after,
      reason: decideAt(headTarget ?? context.baseTarget, call, day).reason, baseReason: decideAt(context.baseTarget, call, day).reason, ordinal,
    });
  }

  /** Counts a call that cannot be decided; lists it when the capped list keeps it. */
  private unevaluable(reason: string, agent: string | undefined, tool: string | undefined, action: string, resource: string | undefined, time: number, line: number, ordinal: number): void {
    this.summary.unevaluable++;
    // Most logs have far more unevaluable calls than the list shows: build only the ones it keeps.
    if (!this.unevaluableCalls.accepts({ line, ordinal })) return;
    const call: Partial<ReplayedCall> = { action, time: isoTime(time) };
    if (agent !== undefined) call.agent = agent;
    if (tool !== undefined) call.tool = tool;
    if (resource !== undefined) call.resource = resource;
    this.unevaluableCalls.push({ line, reason, call, ordinal });
  }

  /** The context of a call that came whole (not by triple id): remembered by its names up to CONTEXT_LIMIT triples. */
  private namedContext(agent: string, tool: string, action: string): CallContext {
    let byTool = this.contexts.get(agent);
    let byAction = byTool?.get(tool);
    const known = byAction?.get(action);
    if (known) return known;
    const context = this.context(agent, tool, action);
    // Not remembered per name: a log may hold any number of them.
    if (context === this.alike) return context;
    if (this.remembered < CONTEXT_LIMIT) {
      this.remembered += 1;
      if (!byTool) this.contexts.set(agent, (byTool = new Map()));
      if (!byAction) byTool.set(tool, (byAction = new Map()));
      byAction.set(action, context);
    }
    return context;
  }

  /**
   * What every call of (agent name, tool, action) shares: where a grant or
   * deny scopes it to resources, the head grants reaching it (for `unused`),
   * whether both sides decide it alike, and where it lands in the decision
   * indexes. Callers remember it per triple: batches by triple id (as many
   * as the batch writer numbers, DEFAULT_TRIPLE_LIMIT by default), whole
   * calls in `contexts` (up to CONTEXT_LIMIT entries). Triples both sides
   * decide alike before any resource share one context (decidedAlike), so
   * memory stays bounded whatever the log holds.
   */
  private context(agent: string, tool: string, action: string): CallContext {
    const baseId = this.base.names.get(agent);
    const headId = this.head.names.get(agent);
    if (baseId === undefined && headId === undefined) return this.decidedAlike();
    if (headId !== undefined) this.usage.callers.add(headId);
    const context: CallContext = {
      scopedAt: scopedIn(this.base.model, baseId, tool, action) ? 'base' : scopedIn(this.head.model, headId, tool, action) ? 'head' : undefined,
      same: this.sameDecisions(baseId, headId, tool),
      usage: headId === undefined ? undefined : this.usage.slot(headId, tool, action),
      baseTarget: callTarget(this.baseIndex, agent, tool, action),
    };
    const alike = context.baseTarget.kind === 'decided' && context.same && context.scopedAt === undefined && context.usage === undefined;
    return alike ? this.decidedAlike() : context;
  }

  /**
   * The one context of the calls both sides decide alike before any
   * resource, unscoped and unused: names no side knows, actions no tool
   * declares, an agent inactive at both sides. They are denied alike, so
   * they never change and never show their reason (so this one is generic).
   * One context for all keeps memory flat however many such names a log holds.
   */
  private decidedAlike(): CallContext {
    return (this.alike ??= {
      scopedAt: undefined, same: true, usage: undefined,
      baseTarget: { kind: 'decided', decision: { decision: 'deny', reason: 'denied alike at both sides before any resource' } },
    });
  }

  /** The agent names either side knows (ids and aliases): calls naming any other are strangers (core/call-batch.ts). */
  knownAgents(): string[] {
    return [...new Set([...this.base.names.keys(), ...this.head.names.keys()])];
  }

  /**
   * Whether both sides decide every call of this agent to this tool alike:
   * the name resolves to the same agent (names neither side knows never get
   * here, see decidedAlike), and its document, the tool's and
   * the guardrails and data classes are equal at both sides. A decision value
   * is a function of exactly these and the call (FORMAT.md, Meaning), so head
   * then reuses base's: most agents are untouched by a change, and this
   * halves the work for their calls. (Reasons may differ, e.g. a file moved,
   * but only the reasons of changed calls are shown, and those are decided
   * at both sides.)
   */
  private sameDecisions(baseId: string | undefined, headId: string | undefined, tool: string): boolean {
    if (baseId === undefined || baseId !== headId || !this.sharedSame) return false;
    let agentSame = this.sameAgent.get(baseId);
    if (agentSame === undefined) this.sameAgent.set(baseId, (agentSame = sameDocument(this.base.model.agents, this.head.model.agents, baseId)));
    if (!agentSame) return false;
    // Tools neither side declares are not remembered (their calls are denied alike).
    if (!this.base.model.tools.has(tool) && !this.head.model.tools.has(tool)) return true;
    let toolSame = this.sameTool.get(tool);
    if (toolSame === undefined) this.sameTool.set(tool, (toolSame = sameDocument(this.base.model.tools, this.head.model.tools, tool)));
    return toolSame;
  }

  /** The first name either side knows (id or alias), else the first. */
  private agentName(first: string, alternatives: readonly string[]): string {
    const known = (name: string): boolean => this.head.names.has(name) || this.base.names.has(name);
    return known(first) ? first : alternatives.find(known) ?? first;
  }

  /** The result so far. */
  result(): CallSimulation {
    const strip = <T extends { ordinal: number }>({ ordinal: _ordinal, ...rest }: T): Omit<T, 'ordinal'> => rest;
    const empty = this.first > this.last;
    return {
      mode: 'calls',
      total: this.total,
      summary: { ...this.summary },
      window: { first: empty ? null : isoTime(this.first), last: empty ? null : isoTime(this.last) },
      changed: this.changed.list().map(strip),
      unevaluable: this.unevaluableCalls.list().map(strip),
      malformed: [...this.malformedLines],
      malformedLines: this.malformedCount,
      unused: this.usage.unused(dayOfInstant(this.options.now)),
      usage: this.usage,
    };
  }
}

/**
 * Replays a call log file (JSONL or OTLP/JSON, streamed) against two models.
 * `source` reads the batches (default: on this thread). Rejects when the
 * file cannot be read, or as the source rejects.
 */
export async function simulateCallLog(
  path: string,
  base: Model,
  head: Model,
  options: SimulationOptions & { onProgress?: (progress: ReadProgress) => void; source?: CallBatchSource },
): Promise<CallSimulation> {
  const replay = new CallReplay(base, head, options);
  const read = options.source ?? readCallBatches;
  const report = options.onProgress;
  await read(path, { now: options.now.getTime(), ...(options.maxBufferedSpans === undefined ? {} : { maxBufferedSpans: options.maxBufferedSpans }) }, (batch) => {
    replay.batch(batch);
    report?.(batch.progress);
  }, { knownAgents: replay.knownAgents() });
  return replay.result();
}

// ---------------------------------------------------------------------------
// Exhaustive mode

/** One (agent, tool, action) whose most permissive decision changed. */
export interface ExhaustiveChange {
  agent: string;
  tool: string;
  action: string;
  change: ChangeKind;
  base: DecisionValue;
  head: DecisionValue;
  /** The resource patterns the live grants reach on each side (`**`: every resource). */
  resources: { base: string[]; head: string[] };
}

/** The result of comparing exhaustive effective access. */
export interface ExhaustiveSimulation {
  mode: 'exhaustive';
  /** Every (agent, tool, action) a grant reaches at base or head. */
  total: number;
  summary: SimulationSummary;
  changed: ExhaustiveChange[];
}

/**
 * Resources standing for a pattern: the pattern's own text (its `*` read as
 * a literal `*`, which every `*` matches and no literal segment of a deny
 * does), and for `P/**` both `P` and `P/*`; undefined (a call without a
 * resource) for grants covering every resource.
 */
function representatives(resources: readonly string[] | undefined): Array<string | undefined> {
  if (coversEveryResource(resources)) return [undefined, '*'];
  return resources!.flatMap((pattern) => (pattern.endsWith('/**') ? [pattern.slice(0, -3), `${pattern.slice(0, -3)}/*`] : [pattern]));
}

/**
 * Without calls: every (agent, tool, action) any grant reaches at base or
 * head, with its most permissive decision over all resources (the grants'
 * patterns of both sides as representative resources) today.
 */
export function simulateExhaustive(base: Model, head: Model, options: SimulationOptions): ExhaustiveSimulation {
  const today = dayOfInstant(options.now);
  const limit = options.limit ?? DEFAULT_CHANGED_LIMIT;
  const sides = [base, head].map((model) => ({ model, index: decisionIndex(model) }));
  // agent -> tool\0action -> [base grants' resources, head grants' resources]
  const triples = new Map<string, Map<string, Array<Array<readonly string[] | undefined>>>>();
  sides.forEach(({ model }, side) => {
    for (const [agent, grants] of model.grants) {
      let slots = triples.get(agent);
      if (!slots) triples.set(agent, (slots = new Map()));
      for (const grant of grants) {
        for (const action of grant.actions) {
          const key = pairKey(grant.tool, action);
          let entry = slots.get(key);
          if (!entry) slots.set(key, (entry = [[], []]));
          // An expired grant reaches nothing today, but its triple is still compared.
          if (grant.expires === undefined || grant.expires >= today) entry[side]!.push(grant.resources);
        }
      }
    }
  });
  const summary: SimulationSummary = { unchanged: 0, gained: 0, revoked: 0, nowNeedsApproval: 0, noLongerNeedsApproval: 0, unevaluable: 0 };
  const changed: ExhaustiveChange[] = [];
  let total = 0;
  for (const agent of [...triples.keys()].sort(compareStrings)) {
    const slots = triples.get(agent)!;
    for (const key of [...slots.keys()].sort(compareStrings)) {
      const [tool, action] = key.split('\u0000') as [string, string];
      const reach = slots.get(key)!;
      const candidates = new Set<string | undefined>(reach.flat().flatMap((resources) => representatives(resources)));
      if (candidates.size === 0) candidates.add(undefined);
      const decisions = sides.map(({ index }) => {
        let best: DecisionValue = 'deny';
        for (const resource of candidates) {
          const call: Call = resource === undefined ? { agent, tool, action } : { agent, tool, action, resource };
          const { decision } = decide(index, call, today);
          if (RANK[decision] > RANK[best]) best = decision;
          if (best === 'allow') break;
        }
        return best;
      });
      total++;
      const change = classifyChange(decisions[0]!, decisions[1]!);
      summary[change]++;
      if (change === 'unchanged' || changed.length >= limit) continue;
      changed.push({
        agent, tool, action, change, base: decisions[0]!, head: decisions[1]!,
        resources: { base: reachedPatterns(reach[0]!), head: reachedPatterns(reach[1]!) },
      });
    }
  }
  return { mode: 'exhaustive', total, summary, changed };
}

/** The patterns a side's live grants reach: `["**"]` when one covers every resource, else the distinct patterns, sorted. */
function reachedPatterns(reach: ReadonlyArray<readonly string[] | undefined>): string[] {
  if (reach.some((resources) => coversEveryResource(resources))) return ['**'];
  return [...new Set(reach.flatMap((resources) => resources ?? []))].sort(compareStrings);
}
