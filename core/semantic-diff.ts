/**
 * The semantic difference between two snapshots (CLI.md, `mandate diff`):
 * what a pull request changes in meaning, never in text.
 *
 * - Agents: `agent-diff.ts` (fields, delegation, exceptions) and
 *   `grant-diff.ts` (grants and denies as expanded triples, resources
 *   compared with `resource-patterns.ts`).
 * - Other documents: `document-diff.ts`.
 * - Effective capability, deltas and new trifectas: `capability-diff.ts`.
 * - Controls and OWASP risks per kind: `change-controls.ts`.
 *
 * Symmetric by construction: every comparison treats the sides alike and
 * every kind has its inverse, so `semanticDiff(head, base)` lists the
 * inverse kinds with raises and lowers swapped. Linear in the size of the
 * repositories: maps keyed by id and by `tool\0action`, unchanged agents
 * skipped by their canonical value.
 */
import { diffAgent } from './agent-diff';
import { EXPLAINING_KINDS, diffCapabilities, explanationKey } from './capability-diff';
import type { ChangeKind, ChangeRisk, SemanticDiff } from './change';
import { CHANGE_KINDS } from './change';
import type { DraftChange } from './change-draft';
import { finalizeChanges } from './change-draft';
import { diffDocuments } from './document-diff';
import type { Finding, SourcePosition } from './finding';
import { compareFindings, compareStrings } from './finding';
import { ActionUniverse, ResourceComparer } from './grant-diff';
import type { Snapshot } from './validate';
import { pairKey } from './pair-key';

export { patternCovers, setCovers } from './resource-patterns';

/** Everything that changed in meaning from `base` to `head` (pure; neither snapshot is modified). */
export function semanticDiff(base: Snapshot, head: Snapshot): SemanticDiff {
  const universe = new ActionUniverse(base.model, head.model);
  const context = { universe, resources: new ResourceComparer() };
  const drafts: DraftChange[] = [];
  const agentIds = new Set([...base.model.agents.keys(), ...head.model.agents.keys()]);
  for (const id of agentIds) drafts.push(...diffAgent(base.model.agents.get(id), head.model.agents.get(id), context));
  drafts.push(...diffDocuments(base, head));

  const explained = new Set<string>();
  for (const draft of drafts) {
    if (draft.tool === undefined || draft.action === undefined || !EXPLAINING_KINDS.has(draft.kind) || !draft.subject.startsWith('agent:')) continue;
    if (draft.risk === 'neutral') continue;
    explained.add(explanationKey(draft.subject.slice('agent:'.length), draft.tool, draft.action, draft.risk));
  }

  const positionOf = (agent: string, tool: string, action: string): SourcePosition => {
    const located = head.model.agents.get(agent) ?? base.model.agents.get(agent)!;
    const triple = universe.grantsOf(located).get(pairKey(tool, action));
    if (triple) return triple.entries[0]!.position;
    return located.source.position(located.doc.delegatesTo ? ['delegatesTo'] : [], 'key');
  };
  const capability = diffCapabilities({ base, head, explained: { keys: explained }, positionOf });

  return {
    changes: finalizeChanges([...drafts, ...capability.changes]),
    trifectas: capability.trifectas.sort(compareStrings),
    findings: compareFindingSets(base.findings, head.findings),
    capabilities: capability.deltas,
  };
}

/**
 * Introduced: head findings with no base finding of the same rule, subject
 * and message (CLI.md); fixed: the inverse. Both sorted.
 *
 * Most findings of a pull request sit unchanged at the same place on both
 * sides, so a merge walk over the two sorted lists pairs those off first;
 * only the rest are looked up, by subject, in the other side.
 */
export function compareFindingSets(base: readonly Finding[], head: readonly Finding[]): { introduced: Finding[]; fixed: Finding[] } {
  const sortedBase = isSorted(base) ? base : [...base].sort(compareFindings);
  const sortedHead = isSorted(head) ? head : [...head].sort(compareFindings);
  const baseRest: Finding[] = [];
  const headRest: Finding[] = [];
  let b = 0;
  let h = 0;
  while (b < sortedBase.length && h < sortedHead.length) {
    const was = sortedBase[b]!;
    const now = sortedHead[h]!;
    const order = compareFindings(was, now);
    if (order === 0 && was.subject === now.subject) {
      b += 1;
      h += 1;
    } else if (order <= 0) {
      baseRest.push(was);
      b += 1;
    } else {
      headRest.push(now);
      h += 1;
    }
  }
  baseRest.push(...sortedBase.slice(b));
  headRest.push(...sortedHead.slice(h));
  return {
    introduced: withoutCounterpart(headRest, sortedBase),
    fixed: withoutCounterpart(baseRest, sortedHead),
  };
}

function isSorted(findings: readonly Finding[]): boolean {
  for (let index = 1; index < findings.length; index++) if (compareFindings(findings[index - 1]!, findings[index]!) > 0) return false;
  return true;
}

/** The findings (in order) that no finding of `other` matches by rule, subject and message. */
function withoutCounterpart(findings: readonly Finding[], other: readonly Finding[]): Finding[] {
  if (findings.length === 0) return [];
  const bySubject = new Map<string, Finding[]>();
  for (const finding of other) {
    const list = bySubject.get(finding.subject);
    if (list) list.push(finding);
    else bySubject.set(finding.subject, [finding]);
  }
  return findings.filter(
    (finding) => !bySubject.get(finding.subject)?.some((candidate) => candidate.rule === finding.rule && candidate.message === finding.message),
  );
}

/** The kind `semanticDiff(head, base)` reports for a change of `kind` in `semanticDiff(base, head)` (CLI.md: symmetry). */
export const INVERSE_KIND: Readonly<Record<ChangeKind, ChangeKind>> = (() => {
  const pairs: [ChangeKind, ChangeKind][] = [
    ['agent-added', 'agent-removed'], ['risk-tier-raised', 'risk-tier-lowered'], ['grant-added', 'grant-removed'],
    ['grant-widened', 'grant-narrowed'], ['approval-gate-added', 'approval-gate-removed'], ['rate-limit-raised', 'rate-limit-lowered'],
    ['expiry-extended', 'expiry-shortened'], ['delegation-added', 'delegation-removed'], ['deny-added', 'deny-removed'],
    ['exception-added', 'exception-removed'], ['tool-added', 'tool-removed'], ['tool-action-added', 'tool-action-removed'],
    ['capability-gained', 'capability-lost'],
  ];
  const inverse = Object.fromEntries(CHANGE_KINDS.map((kind) => [kind, kind])) as Record<ChangeKind, ChangeKind>;
  for (const [a, b] of pairs) {
    inverse[a] = b;
    inverse[b] = a;
  }
  return inverse;
})();

/** Raises and lowers swapped, neutral kept. */
export function inverseRisk(risk: ChangeRisk): ChangeRisk {
  return risk === 'raises' ? 'lowers' : risk === 'lowers' ? 'raises' : 'neutral';
}
