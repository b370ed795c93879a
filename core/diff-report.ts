// The `mandate diff` result: the JSON document of CLI.md and its verdict line
// (the headline is part of the contract, so it is computed here, not in a renderer).

import type { ApprovalRequirement } from './approvals';
import type { CapabilityEntry } from './capability';
import type { Change, ChangeRisk, CapabilityDelta, SemanticDiff } from './change';
import { overallRisk } from './change';
import { compareChanges } from './change-draft';
import type { Effect } from './documents';
import type { Finding } from './finding';
import { compareFindings, compareStrings } from './finding';
import { approvalClause, entryChange, listNames, oneLine, plural, shortSubject } from './diff-wording';


/** `verdict` of CLI.md: overall risk, new lethal trifectas, and the one line a reviewer reads first. */
export interface Verdict {
  risk: ChangeRisk | 'none';
  trifectas: string[];
  headline: string;
}

/** The `mandate diff --format json` document (CLI.md), plus the capability deltas the summaries draw. */
export interface DiffReport {
  apiVersion: 'mandate/v1';
  base: string;
  mergeBase: string;
  /** Null when the head is the working tree. */
  head: string | null;
  verdict: Verdict;
  changes: Change[];
  findings: { introduced: Finding[]; fixed: Finding[] };
  approvals: { required: ApprovalRequirement[] };
  /** Extra field (CLI.md allows more): before/after effective capability of each affected agent. */
  capabilities: CapabilityDelta[];
}

/** What `mandate diff` computed, before it is shaped into a report. */
export interface DiffReportInput {
  base: string;
  mergeBase: string;
  head: string | null;
  diff: SemanticDiff;
  required: ApprovalRequirement[];
  /** Defaults to buildVerdict(diff, required). */
  verdict?: Verdict;
}

/** Assembles the CLI.md document, every list sorted. */
export function buildDiffReport(input: DiffReportInput): DiffReport {
  const { diff } = input;
  return {
    apiVersion: 'mandate/v1',
    base: input.base,
    mergeBase: input.mergeBase,
    head: input.head,
    verdict: input.verdict ?? buildVerdict(diff, input.required),
    changes: [...diff.changes].sort(compareChanges),
    findings: {
      introduced: [...diff.findings.introduced].sort(compareFindings),
      fixed: [...diff.findings.fixed].sort(compareFindings),
    },
    approvals: { required: input.required },
    capabilities: [...diff.capabilities].sort((a, b) => compareStrings(a.agent, b.agent)),
  };
}

const EFFECT_WEIGHT: Readonly<Record<Effect, number>> = { read: 0, write: 1, execute: 2, delete: 3, egress: 4 };

/**
 * The verdict and its headline: "<risk>: <what matters most>; needs <approvals>", e.g.
 * "Raises risk: support-triage gains egress access to customer-pii (zendesk tickets.reply);
 * needs 1 approval from owner or team support", or "No semantic change".
 */
export function buildVerdict(diff: SemanticDiff, required: readonly ApprovalRequirement[]): Verdict {
  const risk = overallRisk(diff.changes);
  const trifectas = [...new Set(diff.trifectas)].sort(compareStrings);
  if (risk === 'none') return { risk, trifectas, headline: 'No semantic change' };
  const lead = risk === 'raises' ? 'Raises risk' : risk === 'lowers' ? 'Lowers risk' : 'No change in risk';
  const point = mainPoint(diff, risk, trifectas);
  const approvals = approvalClause(required);
  return { risk, trifectas, headline: `${lead}: ${point}${approvals ? `; ${approvals}` : ''}` };
}

function mainPoint(diff: SemanticDiff, risk: ChangeRisk, trifectas: string[]): string {
  if (trifectas.length > 0) {
    return `${listNames(trifectas, 3)} ${trifectas.length === 1 ? 'enters' : 'enter'} a lethal trifecta`;
  }
  if (risk !== 'neutral') {
    const access = accessPoint(diff.capabilities, risk === 'raises');
    if (access) return access;
  }
  const relevant = risk === 'neutral' ? diff.changes : diff.changes.filter((change) => change.risk === risk);
  const first = relevant[0]!;
  if (relevant.length === 1) return `${shortSubject(first.subject)}: ${oneLine(first.summary, 200)}`;
  const subjects = [...new Set(relevant.map((change) => change.subject))];
  const counts = new Map<string, number>();
  for (const change of relevant) counts.set(change.kind, (counts.get(change.kind) ?? 0) + 1);
  const kinds = [...counts].sort((a, b) => b[1] - a[1] || compareStrings(a[0], b[0]));
  const shown = kinds.slice(0, 3).map(([kind, count]) => (count > 1 ? `${count} ${kind}` : kind));
  if (kinds.length > 3) shown.push('…');
  const where = subjects.length === 1 ? shortSubject(subjects[0]!) : `${subjects.length} subjects`;
  return `${plural(relevant.length, 'change')} to ${where} (${shown.join(', ')})`;
}

/** "support-triage gains egress access to customer-pii (zendesk tickets.reply)" from the capability deltas. */
function accessPoint(deltas: readonly CapabilityDelta[], gains: boolean): string | undefined {
  const moved: { agent: string; entry: CapabilityEntry }[] = [];
  for (const delta of deltas) {
    const [from, to] = gains ? [delta.before, delta.after] : [delta.after, delta.before];
    const change = entryChange(from, to);
    for (const entry of change.added) moved.push({ agent: delta.agent, entry });
    if (gains) {
      for (const { before, after } of change.changed) if (before.gated && !after.gated) moved.push({ agent: delta.agent, entry: after });
    }
  }
  if (moved.length === 0) return undefined;
  const strongest = moved.reduce((max, { entry }) => Math.max(max, EFFECT_WEIGHT[entry.effect]), 0);
  const top = moved.filter(({ entry }) => EFFECT_WEIGHT[entry.effect] === strongest);
  const effect = top[0]!.entry.effect;
  const agents = [...new Set(top.map(({ agent }) => agent))].sort(compareStrings);
  const data = [...new Set(top.flatMap(({ entry }) => entry.data))].sort(compareStrings);
  const who = agents.length === 1 ? agents[0]! : `${agents.length} agents`;
  const verb = gains ? (agents.length === 1 ? 'gains' : 'gain') : agents.length === 1 ? 'loses' : 'lose';
  const ungated = gains && effect !== 'read' && top.every(({ entry }) => !entry.gated) ? 'ungated ' : '';
  const what = data.length > 0 ? ` to ${listNames(data, 2)}` : '';
  const where = top.length === 1 ? ` (${top[0]!.entry.tool} ${top[0]!.entry.action})` : '';
  return `${who} ${verb} ${ungated}${effect} access${what}${where}`;
}
