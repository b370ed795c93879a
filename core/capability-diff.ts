/**
 * `capability-gained` / `capability-lost`, the per-agent capability deltas
 * and the new lethal trifectas (FORMAT.md, Effective capability; CLI.md,
 * `mandate diff`).
 */
import type { Capability, CapabilityEntry } from './capability';
import { computedTier, hasLethalTrifecta, trifectaLegs } from './capability';
import type { CapabilityDelta } from './change';
import { sortedEntries } from './change';
import type { DraftChange } from './change-draft';
import type { Effect } from './documents';
import { sensitivityRank } from './documents';
import type { SourcePosition } from './finding';
import { compareStrings } from './finding';
import type { Located, Model } from './model';
import type { Snapshot } from './validate';

const EFFECT_RANK: Readonly<Record<Effect, number>> = { read: 0, write: 1, delete: 2, execute: 2, egress: 2 };

/** Effects order `read < write < delete = execute = egress` (CLI.md): > 0 when `after` is the stronger. */
export function effectOrder(before: Effect, after: Effect): number {
  return EFFECT_RANK[after] - EFFECT_RANK[before];
}

/** The highest sensitivity rank among data classes (-1 when none is known). */
export function highestSensitivity(model: Model, data: readonly string[]): number {
  let highest = -1;
  for (const dataClass of data) {
    const sensitivity = model.dataClasses.get(dataClass)?.doc.sensitivity;
    if (sensitivity !== undefined) highest = Math.max(highest, sensitivityRank(sensitivity));
  }
  return highest;
}

/**
 * Whether `after` touches more (> 0) or less (< 0) data than `before`:
 * first by the highest sensitivity (each side's own DataClasses), then, at
 * equal sensitivity, by a strict superset or subset of data classes.
 */
export function dataOrder(baseModel: Model, before: readonly string[], headModel: Model, after: readonly string[]): number {
  const sensitivity = highestSensitivity(headModel, after) - highestSensitivity(baseModel, before);
  if (sensitivity !== 0) return sensitivity;
  const was = new Set(before);
  const now = new Set(after);
  const added = [...now].some((dataClass) => !was.has(dataClass));
  const removed = [...was].some((dataClass) => !now.has(dataClass));
  return added && !removed ? 1 : removed && !added ? -1 : 0;
}

/** `customer-pii, card-data` or `none`. */
export function describeData(data: readonly string[]): string {
  return data.length === 0 ? 'none' : [...data].sort(compareStrings).join(', ');
}

const SENSITIVITY_NAMES = ['public', 'internal', 'confidential', 'restricted'];

function sensitivityOf(model: Model, dataClass: string): number {
  const sensitivity = model.dataClasses.get(dataClass)?.doc.sensitivity;
  return sensitivity === undefined ? -1 : sensitivityRank(sensitivity);
}

/**
 * How the data a pair touches moved, class by class: a class touched only
 * at head, or more sensitive at head, is gained; the inverse is lost.
 */
function dataMoves(baseModel: Model, before: readonly string[], headModel: Model, after: readonly string[]): { gained: string[]; lost: string[] } {
  const gained: string[] = [];
  const lost: string[] = [];
  const was = new Set(before);
  const now = new Set(after);
  const name = (rank: number): string => SENSITIVITY_NAMES[rank] ?? 'unclassified';
  for (const dataClass of [...new Set([...before, ...after])].sort(compareStrings)) {
    if (!was.has(dataClass)) gained.push(`data +${dataClass}`);
    else if (!now.has(dataClass)) lost.push(`data -${dataClass}`);
    else {
      const from = sensitivityOf(baseModel, dataClass);
      const to = sensitivityOf(headModel, dataClass);
      if (to !== from) (to > from ? gained : lost).push(`data ${dataClass} ${name(from)} -> ${name(to)}`);
    }
  }
  return { gained, lost };
}

/** What the agents' own grant and deny changes already explain, so capability-* does not repeat it. */
export interface OwnExplanations {
  /** `agent\0tool\0action\0raises|lowers` for own grant-added / approval-gate-removed / expiry-extended / deny-removed and their inverses. */
  keys: Set<string>;
}

/** The kinds that explain a capability appearing (or getting ungated) on their own triple, and their inverses. */
export const EXPLAINING_KINDS: ReadonlySet<string> = new Set([
  'grant-added', 'approval-gate-removed', 'expiry-extended', 'deny-removed',
  'grant-removed', 'approval-gate-added', 'expiry-shortened', 'deny-added',
]);

/** The key under which an own change explains a capability change. */
export function explanationKey(agent: string, tool: string, action: string, risk: 'raises' | 'lowers'): string {
  return `${agent}\u0000${tool}\u0000${action}\u0000${risk}`;
}

/** Inputs of the capability comparison. */
export interface CapabilityDiffInput {
  base: Snapshot;
  head: Snapshot;
  explained: OwnExplanations;
  /** Where to point a capability change of an agent about a (tool, action). */
  positionOf(agent: string, tool: string, action: string): SourcePosition;
}

/** What the capability comparison produces. */
export interface CapabilityDiff {
  changes: DraftChange[];
  deltas: CapabilityDelta[];
  trifectas: string[];
}

/** Whether two lists of data classes hold the same classes (usually in the same order, checked first). */
function sameData(a: readonly string[], b: readonly string[]): boolean {
  if (a.length === b.length && a.every((dataClass, index) => dataClass === b[index])) return true;
  return describeData(a) === describeData(b);
}

function entryDiffers(baseModel: Model, before: CapabilityEntry, headModel: Model, after: CapabilityEntry): boolean {
  return (
    before.effect !== after.effect ||
    before.gated !== after.gated ||
    !sameData(before.data, after.data) ||
    before.data.some((dataClass) => sensitivityOf(baseModel, dataClass) !== sensitivityOf(headModel, dataClass))
  );
}

function sameDocuments(base: Map<string, Located<unknown>>, head: Map<string, Located<unknown>>): boolean {
  if (base.size !== head.size) return false;
  for (const [id, located] of base) if (head.get(id)?.doc !== located.doc) return false;
  return true;
}

function capabilityDiffers(baseModel: Model, before: Capability | undefined, headModel: Model, after: Capability | undefined): boolean {
  if (!before || !after) {
    const only = before ?? after;
    return only !== undefined && (only.entries.size > 0 || only.untrustedExposure);
  }
  if (before.untrustedExposure !== after.untrustedExposure || before.entries.size !== after.entries.size) return true;
  for (const [key, entry] of after.entries) {
    const was = before.entries.get(key);
    if (!was || entryDiffers(baseModel, was, headModel, entry)) return true;
  }
  return false;
}

/**
 * Compares every agent's effective capability pair by pair. A pair that
 * appears, loses its gate, gets a stronger effect or touches more data is
 * capability-gained; the inverse capability-lost; one change per pair and
 * direction, its summary naming every cause. An appearance (or a lost gate)
 * the agent's own grant or deny change on that triple explains is left to
 * that change, provided the agent's own grants reach the pair.
 */
export function diffCapabilities(input: CapabilityDiffInput): CapabilityDiff {
  const { base, head, explained } = input;
  const changes: DraftChange[] = [];
  const deltas: CapabilityDelta[] = [];
  const trifectas: string[] = [];
  const agents = new Set([...base.capabilities.keys(), ...head.capabilities.keys()]);
  // One capability object on both sides (shared through the agent memo) can only differ through data-class sensitivity.
  const sameDataClasses = sameDocuments(base.model.dataClasses, head.model.dataClasses);
  for (const agent of [...agents].sort(compareStrings)) {
    const before = base.capabilities.get(agent);
    const after = head.capabilities.get(agent);
    if (before === after && sameDataClasses) continue;
    if (!capabilityDiffers(base.model, before, head.model, after)) continue;
    deltas.push({
      agent,
      before: sortedEntries(before),
      after: sortedEntries(after),
      ...(before ? { tierBefore: computedTier(base.model, before).tier } : {}),
      ...(after ? { tierAfter: computedTier(head.model, after).tier } : {}),
    });
    const trifectaAfter = after !== undefined && hasLethalTrifecta(trifectaLegs(head.model, after));
    const trifectaBefore = before !== undefined && hasLethalTrifecta(trifectaLegs(base.model, before));
    if (trifectaAfter && !trifectaBefore) trifectas.push(agent);
    const keys = [...(after?.entries.keys() ?? [])];
    for (const key of before?.entries.keys() ?? []) if (!after?.entries.has(key)) keys.push(key);
    for (const key of keys) {
      const was = before?.entries.get(key);
      const now = after?.entries.get(key);
      if (was && now && !entryDiffers(base.model, was, head.model, now)) continue;
      const pair = (now ?? was)!;
      const gained: string[] = [];
      const lost: string[] = [];
      const own = (risk: 'raises' | 'lowers'): boolean => explained.keys.has(explanationKey(agent, pair.tool, pair.action, risk));
      if (!was && now) {
        if (!(now.via.includes(agent) && own('raises'))) gained.push(reachCause(agent, now, base.model, 'now reachable'));
      } else if (was && !now) {
        if (!(was.via.includes(agent) && own('lowers'))) lost.push(reachCause(agent, was, head.model, 'no longer reachable'));
      } else if (was && now) {
        if (was.gated && !now.gated && !own('raises')) gained.push('no longer approval-gated');
        if (!was.gated && now.gated && !own('lowers')) lost.push('now approval-gated');
        if (was.effect !== now.effect) {
          // Between effects of one rank (delete, execute, egress) the agent gains the new effect and loses the old one.
          const effect = effectOrder(was.effect, now.effect);
          const reason = `reclassified ${was.effect} -> ${now.effect}`;
          if (effect >= 0) gained.push(reason);
          if (effect <= 0) lost.push(reason);
        }
        const data = dataMoves(base.model, was.data, head.model, now.data);
        gained.push(...data.gained);
        lost.push(...data.lost);
      }
      const at = (): SourcePosition => input.positionOf(agent, pair.tool, pair.action);
      const subject = `agent:${agent}`;
      const name = `${pair.tool} ${pair.action}`;
      if (gained.length > 0) {
        changes.push({ kind: 'capability-gained', risk: 'raises', subject, summary: `${name}: ${gained.join('; ')}`, at: at(), tool: pair.tool, action: pair.action });
      }
      if (lost.length > 0) {
        changes.push({ kind: 'capability-lost', risk: 'lowers', subject, summary: `${name}: ${lost.join('; ')}`, at: at(), tool: pair.tool, action: pair.action });
      }
    }
  }
  return { changes, deltas, trifectas };
}

/**
 * Why a pair appeared (or, with the sides swapped, went away): through a
 * delegate, a tool action declared (or removed), a tool no longer (or now)
 * rejected, else just that it is (no longer) reachable. `other` is the
 * side where the pair is missing.
 */
function reachCause(agent: string, entry: CapabilityEntry, other: Model, phrase: string): string {
  const delegates = entry.via.filter((via) => via !== agent).sort(compareStrings);
  if (!entry.via.includes(agent)) return `${phrase} via delegate ${delegates.join(', ')}`;
  const tool = other.tools.get(entry.tool)?.doc;
  const appearing = phrase === 'now reachable';
  if (!tool) return `${phrase}: tool ${appearing ? 'added' : 'removed'}`;
  if (tool.actions[entry.action] === undefined) return `${phrase}: action ${appearing ? 'added to' : 'removed from'} the tool`;
  if (tool.vetting?.status === 'rejected') return `${phrase}: tool vetting ${appearing ? 'no longer' : 'now'} rejected`;
  return phrase;
}
