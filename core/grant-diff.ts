/**
 * Grants and denies compared as expanded `(agent, tool, action)` triples
 * (CLI.md, `mandate diff`).
 *
 * Action patterns are expanded against the union of the actions the tool
 * declares at base and at head, not against each side's own tool: `grant-*`
 * and `deny-*` come only from the agent's own document, so a `tickets.*`
 * grant that reaches a newly declared action is no `grant-added` (the new
 * action shows as `tool-action-added` and `capability-gained`), and a
 * grant naming an action the tool only declares at head is the same triple
 * on both sides.
 */
import type { DraftChange } from './change-draft';
import type { DayNumber } from './dates';
import { dayOf, formatDay } from './dates';
import type { AgentDoc, RateLimit } from './documents';
import { perHour } from './documents';
import type { SourcePosition } from './finding';
import { compareStrings } from './finding';
import { expandActionPattern } from './globs';
import type { Located, Model } from './model';
import type { ResourceDelta, ResourceSet } from './resource-patterns';
import { describePatterns, resourceDelta } from './resource-patterns';
import type { PathSegment } from './yaml-safe';
import { pairKey } from './pair-key';

/** One permission (or deny entry) as it bears on one triple. */
export interface TripleEntry {
  /** Resource patterns; undefined for every resource. */
  resources?: string[];
  gated: boolean;
  rateLimit?: RateLimit;
  expires?: DayNumber;
  /** The permission's justification or the deny's reason. */
  note?: string;
  /** Where the permission or deny entry is (computed on demand: most entries are never reported). */
  readonly position: SourcePosition;
}

/** An entry whose position is looked up the first time it is read. */
class LazyEntry implements TripleEntry {
  private cached?: SourcePosition;

  constructor(
    readonly resources: string[] | undefined,
    readonly gated: boolean,
    readonly rateLimit: RateLimit | undefined,
    readonly expires: DayNumber | undefined,
    readonly note: string | undefined,
    private readonly agent: Located<AgentDoc>,
    private readonly path: PathSegment[],
  ) {}

  get position(): SourcePosition {
    return (this.cached ??= this.agent.source.position(this.path));
  }
}

/** The distinct actions a list of patterns reaches. */
function reached(universe: ActionUniverse, tool: string, patterns: readonly string[]): readonly string[] {
  if (patterns.length === 1) return universe.expand(tool, patterns[0]!);
  return [...new Set(patterns.flatMap((pattern) => universe.expand(tool, pattern)))];
}

/** Every permission (or deny) of one agent that reaches one (tool, action), in document order. */
export interface Triple {
  tool: string;
  action: string;
  entries: TripleEntry[];
}

/** An agent's triples by `tool\0action`. */
export type TripleTable = Map<string, Triple>;

/** The declared actions of each tool at base or head, and action-pattern expansions against them, cached. */
export class ActionUniverse {
  private readonly declared = new Map<string, string[]>();
  private readonly expanded = new Map<string, string[]>();

  private readonly grantTables = new WeakMap<Located<AgentDoc>, TripleTable>();

  constructor(private readonly base: Model, private readonly head: Model) {}

  /** `grantTriples` of an agent, computed once per snapshot's document. */
  grantsOf(located: Located<AgentDoc>): TripleTable {
    let table = this.grantTables.get(located);
    if (!table) {
      table = grantTriples(located, this);
      this.grantTables.set(located, table);
    }
    return table;
  }

  /** The actions of `tool` that `pattern` reaches at either side. */
  expand(tool: string, pattern: string): string[] {
    const key = `${tool}\u0000${pattern}`;
    let actions = this.expanded.get(key);
    if (!actions) {
      actions = expandActionPattern(pattern, this.actionsOf(tool));
      this.expanded.set(key, actions);
    }
    return actions;
  }

  private actionsOf(tool: string): string[] {
    let actions = this.declared.get(tool);
    if (!actions) {
      const names = new Set([
        ...Object.keys(this.base.tools.get(tool)?.doc.actions ?? {}),
        ...Object.keys(this.head.tools.get(tool)?.doc.actions ?? {}),
      ]);
      actions = [...names].sort(compareStrings);
      this.declared.set(tool, actions);
    }
    return actions;
  }
}

function addEntry(table: TripleTable, tool: string, action: string, entry: TripleEntry): void {
  const key = pairKey(tool, action);
  const triple = table.get(key);
  if (triple) triple.entries.push(entry);
  else table.set(key, { tool, action, entries: [entry] });
}

/** The grant triples of an agent's `permissions`. */
export function grantTriples(located: Located<AgentDoc>, universe: ActionUniverse): TripleTable {
  const table: TripleTable = new Map();
  located.doc.permissions.forEach((permission, index) => {
    const expires = permission.expires === undefined ? undefined : dayOf(permission.expires);
    const entry = new LazyEntry(
      permission.resources, permission.approval === 'required', permission.rateLimit, expires, permission.justification, located, ['permissions', index],
    );
    for (const action of reached(universe, permission.tool, permission.actions)) addEntry(table, permission.tool, action, entry);
  });
  return table;
}

/** The deny triples of an agent's `deny`. */
export function denyTriples(located: Located<AgentDoc>, universe: ActionUniverse): TripleTable {
  const table: TripleTable = new Map();
  located.doc.deny?.forEach((deny, index) => {
    const entry = new LazyEntry(deny.resources, false, undefined, undefined, deny.reason, located, ['deny', index]);
    for (const action of reached(universe, deny.tool, deny.actions)) addEntry(table, deny.tool, action, entry);
  });
  return table;
}

/** The union of the resource patterns of a triple's entries (undefined when one covers every resource). */
function unionOf(triple: Triple): ResourceSet {
  if (triple.entries.some((entry) => entry.resources === undefined)) return undefined;
  return triple.entries.flatMap((entry) => entry.resources!);
}

/** Resource comparisons, memoised by the two sets (5,000 agents share a handful of patterns). */
export class ResourceComparer {
  private readonly cache = new Map<string, ResourceDelta>();

  delta(base: ResourceSet, head: ResourceSet): ResourceDelta {
    const key = `${base === undefined ? '\u0001' : base.join('\u0000')}\u0002${head === undefined ? '\u0001' : head.join('\u0000')}`;
    let delta = this.cache.get(key);
    if (!delta) {
      delta = resourceDelta(base, head);
      this.cache.set(key, delta);
    }
    return delta;
  }
}

/** The highest rate among entries: undefined `limit` is no limit (beats any); ties go to the first entry. */
function highestRate(entries: readonly TripleEntry[]): { limit?: RateLimit; entry: TripleEntry; perHour: number } {
  let best = { limit: entries[0]!.rateLimit, entry: entries[0]!, perHour: rateOf(entries[0]!.rateLimit) };
  for (const entry of entries) {
    const rate = rateOf(entry.rateLimit);
    if (rate > best.perHour) best = { limit: entry.rateLimit, entry, perHour: rate };
  }
  return best;
}

function rateOf(limit: RateLimit | undefined): number {
  return limit === undefined ? Number.POSITIVE_INFINITY : perHour(limit);
}

/** The latest expiry among entries: undefined `expires` is never (beats any); ties go to the first entry. */
function latestExpiry(entries: readonly TripleEntry[]): { day: number; entry: TripleEntry } {
  let best = { day: expiryOf(entries[0]!.expires), entry: entries[0]! };
  for (const entry of entries) {
    const day = expiryOf(entry.expires);
    if (day > best.day) best = { day, entry };
  }
  return best;
}

function expiryOf(day: DayNumber | undefined): number {
  return day === undefined ? Number.POSITIVE_INFINITY : day;
}

/** `600/hour`, or `no limit`. */
export function formatRate(limit: RateLimit | undefined): string {
  return limit === undefined ? 'no limit' : `${limit.max}/${limit.per}`;
}

/** `2027-01-31`, or `never`. */
export function formatExpiry(day: number): string {
  return Number.isFinite(day) ? formatDay(day) : 'never';
}

function grantTerms(triple: Triple): string {
  const terms = [`on ${describePatterns(unionOf(triple))}`];
  if (triple.entries.every((entry) => entry.gated)) terms.push('approval required');
  const rate = highestRate(triple.entries);
  if (rate.limit) terms.push(formatRate(rate.limit));
  const expiry = latestExpiry(triple.entries);
  if (Number.isFinite(expiry.day)) terms.push(`expires ${formatExpiry(expiry.day)}`);
  return terms.join(', ');
}

/** The set of notes (justifications or deny reasons) a triple is granted with, for detail comparison; a grant without one adds none. */
function notesOf(triple: Triple): string {
  const notes = new Set<string>();
  for (const entry of triple.entries) if (entry.note !== undefined) notes.add(entry.note);
  return [...notes].sort(compareStrings).join('\u0000');
}

/** What comparing two triple tables found besides changes: triples in both whose notes differ. */
export interface TripleDiff {
  changes: DraftChange[];
  notesChanged: boolean;
}

/** Records a change about one triple, its summary prefixed with "tool action: ". */
function tripleRecorder(subject: string, changes: DraftChange[]) {
  return (kind: DraftChange['kind'], risk: DraftChange['risk'], triple: Triple, summary: string, at: SourcePosition): void => {
    changes.push({ kind, risk, subject, summary: `${triple.tool} ${triple.action}: ${summary}`, at, tool: triple.tool, action: triple.action });
  };
}

/**
 * Compares an agent's grant triples (either side may be absent: an added or
 * removed agent). New triple: grant-added; lost: grant-removed; in both:
 * resources (widened/narrowed), the effective gate, the highest rate and
 * the latest expiry.
 */
export function diffGrants(subject: string, base: TripleTable | undefined, head: TripleTable | undefined, resources: ResourceComparer): TripleDiff {
  const changes: DraftChange[] = [];
  let notesChanged = false;
  const push = tripleRecorder(subject, changes);
  for (const [key, after] of head ?? []) {
    const before = base?.get(key);
    const first = after.entries[0]!.position;
    if (!before) {
      push('grant-added', 'raises', after, `granted ${grantTerms(after)}`, first);
      continue;
    }
    if (notesOf(before) !== notesOf(after)) notesChanged = true;
    const was = unionOf(before);
    const now = unionOf(after);
    const delta = resources.delta(was, now);
    const movement = `resources ${describePatterns(was)} -> ${describePatterns(now)}`;
    if (delta.widened.length > 0) {
      const carrier = after.entries.find((entry) => entry.resources === undefined || entry.resources.some((pattern) => delta.widened.includes(pattern)));
      push('grant-widened', 'raises', after, movement, (carrier ?? after.entries[0]!).position);
    }
    if (delta.narrowed.length > 0) push('grant-narrowed', 'lowers', after, movement, first);
    const gatedBefore = before.entries.every((entry) => entry.gated);
    const gatedAfter = after.entries.every((entry) => entry.gated);
    if (gatedBefore && !gatedAfter) {
      push('approval-gate-removed', 'raises', after, 'approval gate removed', after.entries.find((entry) => !entry.gated)!.position);
    } else if (!gatedBefore && gatedAfter) {
      push('approval-gate-added', 'lowers', after, 'approval gate added', first);
    }
    const rateBefore = highestRate(before.entries);
    const rateAfter = highestRate(after.entries);
    if (rateBefore.perHour !== rateAfter.perHour) {
      const raised = rateAfter.perHour > rateBefore.perHour;
      push(raised ? 'rate-limit-raised' : 'rate-limit-lowered', raised ? 'raises' : 'lowers', after,
        `rate ${formatRate(rateBefore.limit)} -> ${formatRate(rateAfter.limit)}`, rateAfter.entry.position);
    }
    const expiryBefore = latestExpiry(before.entries);
    const expiryAfter = latestExpiry(after.entries);
    if (expiryBefore.day !== expiryAfter.day) {
      const later = expiryAfter.day > expiryBefore.day;
      push(later ? 'expiry-extended' : 'expiry-shortened', later ? 'raises' : 'lowers', after,
        `expires ${formatExpiry(expiryBefore.day)} -> ${formatExpiry(expiryAfter.day)}`, expiryAfter.entry.position);
    }
  }
  for (const [key, before] of base ?? []) {
    if (head?.has(key)) continue;
    push('grant-removed', 'lowers', before, `no longer granted (was ${grantTerms(before)})`, before.entries[0]!.position);
  }
  return { changes, notesChanged };
}

/**
 * Compares an agent's deny triples: a new triple or one whose resources
 * grow is deny-added (lowers), a lost one or one whose resources shrink is
 * deny-removed (raises).
 */
export function diffDenies(subject: string, base: TripleTable | undefined, head: TripleTable | undefined, resources: ResourceComparer): TripleDiff {
  const changes: DraftChange[] = [];
  let notesChanged = false;
  const push = tripleRecorder(subject, changes);
  for (const [key, after] of head ?? []) {
    const before = base?.get(key);
    if (!before) {
      push('deny-added', 'lowers', after, `denied on ${describePatterns(unionOf(after))}`, after.entries[0]!.position);
      continue;
    }
    if (notesOf(before) !== notesOf(after)) notesChanged = true;
    const was = unionOf(before);
    const now = unionOf(after);
    const delta = resources.delta(was, now);
    const movement = `denied resources ${describePatterns(was)} -> ${describePatterns(now)}`;
    if (delta.widened.length > 0) {
      const carrier = after.entries.find((entry) => entry.resources === undefined || entry.resources.some((pattern) => delta.widened.includes(pattern)));
      push('deny-added', 'lowers', after, movement, (carrier ?? after.entries[0]!).position);
    }
    if (delta.narrowed.length > 0) push('deny-removed', 'raises', after, movement, after.entries[0]!.position);
  }
  for (const [key, before] of base ?? []) {
    if (head?.has(key)) continue;
    push('deny-removed', 'raises', before, `no longer denied (was on ${describePatterns(unionOf(before))})`, before.entries[0]!.position);
  }
  return { changes, notesChanged };
}
