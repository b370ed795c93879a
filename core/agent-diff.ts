/**
 * Changes to one Agent document: lifecycle, ownership, declared tier,
 * exposure, details, delegation, grants, denies and exceptions (CLI.md,
 * `mandate diff`). An added or removed agent is compared with an empty
 * one, so its grants, denies, delegations and exceptions are listed too
 * (approval rules on those kinds and on tools must see them).
 */
import { deepEqual, sameValue } from './canonical';
import type { DraftChange } from './change-draft';
import { riskOf } from './change-draft';
import { dayOf, formatDay } from './dates';
import type { AgentDoc, AgentStatus } from './documents';
import { tierRank } from './documents';
import type { SourcePosition } from './finding';
import { compareStrings } from './finding';
import type { ActionUniverse, ResourceComparer, TripleTable } from './grant-diff';
import { denyTriples, diffDenies, diffGrants } from './grant-diff';
import type { Located } from './model';
import type { PathSegment } from './yaml-safe';

/** Shared, cached machinery for comparing agents. */
export interface AgentDiffContext {
  universe: ActionUniverse;
  resources: ResourceComparer;
}

/** Compares one agent at base and head (either may be absent). */
export function diffAgent(base: Located<AgentDoc> | undefined, head: Located<AgentDoc> | undefined, context: AgentDiffContext): DraftChange[] {
  // Fast path only: a reordered document also yields no change below, just more slowly.
  if (base && head && (base.doc === head.doc || deepEqual(base.doc, head.doc))) return [];
  const located = (head ?? base)!;
  const subject = located.subject;
  const changes: DraftChange[] = [];
  const at = (side: Located<AgentDoc>, path: PathSegment[], part?: 'key' | 'value'): SourcePosition => side.source.position(path, part);
  const push = (kind: DraftChange['kind'], risk: DraftChange['risk'], summary: string, position: SourcePosition): void => {
    changes.push({ kind, risk, subject, summary, at: position });
  };
  if (!base) {
    const { doc } = head!;
    push('agent-added', 'raises', `agent added (${doc.status}, declared tier ${doc.riskTier})`, at(head!, []));
  } else if (!head) {
    const { doc } = base;
    push('agent-removed', 'lowers', `agent removed (was ${doc.status}, declared tier ${doc.riskTier})`, at(base, []));
  } else {
    compareFields(base, head, push);
  }
  compareDelegation(base, head, push);
  const grantsOf = (side: Located<AgentDoc> | undefined): TripleTable | undefined => side && context.universe.grantsOf(side);
  const deniesOf = (side: Located<AgentDoc> | undefined): TripleTable | undefined => side && denyTriples(side, context.universe);
  const grants = diffGrants(subject, grantsOf(base), grantsOf(head), context.resources);
  const denies = diffDenies(subject, deniesOf(base), deniesOf(head), context.resources);
  changes.push(...grants.changes, ...denies.changes);
  const exceptions = compareExceptions(base, head, push);
  if (base && head) {
    const details = detailFields(base.doc, head.doc);
    if (grants.notesChanged) details.push('justification');
    if (denies.notesChanged) details.push('deny reason');
    if (exceptions.reasonsChanged) details.push('exception reason');
    if (details.length > 0) {
      const field = DETAIL_PATHS[details[0]!];
      push('agent-details-changed', 'neutral', `details changed: ${details.join(', ')}`, at(head, field ? [field] : [], field ? 'key' : 'value'));
    }
  }
  return changes;
}

type Push = (kind: DraftChange['kind'], risk: DraftChange['risk'], summary: string, position: SourcePosition) => void;

/** Moving to `active` raises (the agent can act), moving away lowers, anything else is neutral. */
function statusRisk(before: AgentStatus, after: AgentStatus): DraftChange['risk'] {
  if (after === 'active') return 'raises';
  if (before === 'active') return 'lowers';
  return 'neutral';
}

function compareFields(base: Located<AgentDoc>, head: Located<AgentDoc>, push: Push): void {
  const was = base.doc;
  const now = head.doc;
  const at = (path: PathSegment[]): SourcePosition => head.source.position(path);
  if (was.status !== now.status) push('agent-status-changed', statusRisk(was.status, now.status), `status ${was.status} -> ${now.status}`, at(['status']));
  if (was.owner !== now.owner) push('owner-changed', 'neutral', `owner ${was.owner} -> ${now.owner}`, at(['owner']));
  if (was.team !== now.team) {
    push('agent-team-changed', 'neutral', `team ${was.team ?? '(none)'} -> ${now.team ?? '(none)'}`, at(now.team === undefined ? [] : ['team']));
  }
  const tier = tierRank(now.riskTier) - tierRank(was.riskTier);
  if (tier !== 0) {
    push(tier > 0 ? 'risk-tier-raised' : 'risk-tier-lowered', riskOf(tier), `declared risk tier ${was.riskTier} -> ${now.riskTier}`, at(['riskTier']));
  }
  const exposedBefore = was.exposure?.untrustedInput === true;
  const exposedAfter = now.exposure?.untrustedInput === true;
  if (exposedBefore !== exposedAfter) {
    push('exposure-changed', exposedAfter ? 'raises' : 'lowers', `untrusted input ${exposedBefore ? 'yes' : 'no'} -> ${exposedAfter ? 'yes' : 'no'}`,
      at(['exposure', 'untrustedInput']));
  }
}

/** The fields `agent-details-changed` covers, with the key to point at. */
const DETAIL_PATHS: Readonly<Record<string, string | undefined>> = {
  name: 'name', purpose: 'purpose', model: 'model', lastReviewed: 'lastReviewed', aliases: 'aliases', labels: 'labels',
  justification: 'permissions', 'deny reason': 'deny', 'exception reason': 'exceptions',
};

function detailFields(was: AgentDoc, now: AgentDoc): string[] {
  const fields: string[] = [];
  const before = was as unknown as Record<string, unknown>;
  const after = now as unknown as Record<string, unknown>;
  for (const field of ['name', 'purpose', 'model', 'lastReviewed', 'aliases', 'labels']) {
    if (!sameValue(before[field], after[field])) fields.push(field);
  }
  return fields;
}

function compareDelegation(base: Located<AgentDoc> | undefined, head: Located<AgentDoc> | undefined, push: Push): void {
  const before = new Set(base?.doc.delegatesTo ?? []);
  const after = head?.doc.delegatesTo ?? [];
  after.forEach((delegate, index) => {
    if (!before.has(delegate)) push('delegation-added', 'raises', `delegates to ${delegate}`, head!.source.position(['delegatesTo', index]));
  });
  const kept = new Set(after);
  base?.doc.delegatesTo?.forEach((delegate, index) => {
    if (!kept.has(delegate)) push('delegation-removed', 'lowers', `no longer delegates to ${delegate}`, base.source.position(['delegatesTo', index]));
  });
}

/** Exceptions of one agent, keyed by what they accept and who approved it; the latest expiry counts. */
interface ExceptionState {
  label: string;
  approvedBy: string;
  expires: number;
  reasons: string;
  index: number;
}

function exceptionsOf(located: Located<AgentDoc> | undefined): Map<string, ExceptionState> {
  const states = new Map<string, ExceptionState>();
  located?.doc.exceptions?.forEach((exception, index) => {
    const key = `${exception.rule}\u0000${exception.guardrail ?? ''}\u0000${exception.approvedBy}`;
    const expires = dayOf(exception.expires);
    const held = states.get(key);
    if (!held) {
      const label = exception.rule === 'guardrail' ? `guardrail ${exception.guardrail ?? '?'}` : exception.rule;
      states.set(key, { label, approvedBy: exception.approvedBy, expires, reasons: exception.reason, index });
      return;
    }
    held.reasons = [...new Set([...held.reasons.split('\u0000'), exception.reason])].sort(compareStrings).join('\u0000');
    if (expires > held.expires) {
      held.expires = expires;
      held.index = index;
    }
  });
  return states;
}

/**
 * Exceptions are identified by rule, guardrail and approver: a new one (or
 * one approved by someone else) is exception-added, a later expiry too
 * ("extended"); a lost one or an earlier expiry is exception-removed.
 */
function compareExceptions(base: Located<AgentDoc> | undefined, head: Located<AgentDoc> | undefined, push: Push): { reasonsChanged: boolean } {
  const before = exceptionsOf(base);
  const after = exceptionsOf(head);
  let reasonsChanged = false;
  for (const [key, now] of after) {
    const position = head!.source.position(['exceptions', now.index]);
    const was = before.get(key);
    const what = `exception to ${now.label} approved by ${now.approvedBy}`;
    if (!was) {
      push('exception-added', 'raises', `${what}, expires ${formatDay(now.expires)}`, position);
      continue;
    }
    if (was.reasons !== now.reasons) reasonsChanged = true;
    if (now.expires !== was.expires) {
      const later = now.expires > was.expires;
      push(later ? 'exception-added' : 'exception-removed', later ? 'raises' : 'lowers',
        `${what}: expires ${formatDay(was.expires)} -> ${formatDay(now.expires)}`, position);
    }
  }
  for (const [key, was] of before) {
    if (after.has(key)) continue;
    push('exception-removed', 'lowers', `exception to ${was.label} approved by ${was.approvedBy} withdrawn (was through ${formatDay(was.expires)})`,
      base!.source.position(['exceptions', was.index]));
  }
  return { reasonsChanged };
}
