// `mandate diff` for a terminal: the verdict, then every change grouped by
// subject (with the agent's capability before/after), findings and approvals.
// Raises are red, lowers green, neutral dim. Policy text goes through
// safeLine, so no control or bidi character reaches the terminal.

import type { ApprovalRequirement } from '../../core/approvals';
import type { CapabilityEntry } from '../../core/capability';
import type { Change, ChangeRisk, CapabilityDelta } from '../../core/change';
import { compareStrings } from '../../core/finding';
import type { Finding } from '../../core/finding';
import type { Palette } from '../output';
import type { DiffReport } from '../../core/diff-report';
import { entryChange, fromPhrase, plural, safeLine, shortSubject } from '../../core/diff-wording';

const MAX = 500;

/** The report for a terminal. */
export function diffText(report: DiffReport, colors: Palette): string {
  const paint = (risk: ChangeRisk | 'none', text: string): string =>
    risk === 'raises' ? colors.red(text) : risk === 'lowers' ? colors.green(text) : colors.dim(text);
  const mark: Readonly<Record<ChangeRisk, string>> = { raises: '▲', lowers: '▼', neutral: '·' };
  const lines: string[] = [];
  const { verdict } = report;
  const symbol = verdict.risk === 'none' ? '✔' : verdict.risk === 'neutral' ? '·' : mark[verdict.risk];
  lines.push(colors.bold(paint(verdict.risk, `${symbol} ${safeLine(verdict.headline, 1000)}`)));
  const head = report.head === null ? 'working tree' : safeLine(report.head, 80);
  lines.push(colors.dim(`  base ${safeLine(report.base, 80)}  merge base ${safeLine(report.mergeBase, 80)}  head ${head}`));
  if (verdict.trifectas.length > 0) {
    lines.push(colors.red(`  ⚠ lethal trifecta: ${verdict.trifectas.map((agent) => safeLine(agent, 100)).join(', ')}`));
  }

  const groups = new Map<string, { changes: Change[]; delta?: CapabilityDelta }>();
  for (const change of report.changes) {
    const group = groups.get(change.subject) ?? { changes: [] };
    group.changes.push(change);
    groups.set(change.subject, group);
  }
  for (const delta of report.capabilities) {
    const subject = `agent:${delta.agent}`;
    const group = groups.get(subject) ?? { changes: [] };
    group.delta = delta;
    groups.set(subject, group);
  }
  const kindWidth = Math.max(0, ...report.changes.map((change) => change.kind.length));
  for (const [subject, { changes, delta }] of [...groups].sort((a, b) => compareStrings(a[0], b[0]))) {
    lines.push('', colors.underline(safeLine(subject, 200)));
    for (const change of changes) {
      const where = colors.dim(`${safeLine(change.file, 300)}:${change.line}`);
      lines.push(`  ${paint(change.risk, `${mark[change.risk]} ${change.kind.padEnd(kindWidth)}`)}  ${safeLine(change.summary, MAX)}  ${where}`);
    }
    if (delta) lines.push(...capabilityLines(delta, colors));
  }

  lines.push(...findingLines('New findings', report.findings.introduced, colors));
  lines.push(...findingLines('Fixed findings', report.findings.fixed, colors));
  lines.push(...approvalLines(report.approvals.required, colors));

  const counts = { raises: 0, lowers: 0, neutral: 0 };
  for (const change of report.changes) counts[change.risk] += 1;
  lines.push('', `${plural(report.changes.length, 'change')}: ${colors.red(`${counts.raises} raise`)}, ${colors.green(`${counts.lowers} lower`)}, ${colors.dim(`${counts.neutral} neutral`)}`);
  return lines.join('\n');
}

function entryText(entry: CapabilityEntry): string {
  const data = entry.data.length > 0 ? `  ${entry.data.map((dataClass) => safeLine(dataClass, 80)).join(', ')}` : '';
  return `${safeLine(entry.tool, 100)} ${safeLine(entry.action, 150)}  ${entry.effect}${data}  ${entry.gated ? 'gated' : 'ungated'}`;
}

function capabilityLines(delta: CapabilityDelta, colors: Palette): string[] {
  const change = entryChange(delta.before, delta.after);
  const tier = delta.tierBefore === delta.tierAfter
    ? delta.tierAfter === undefined ? '' : `  computed tier ${safeLine(delta.tierAfter, 20)}`
    : `  computed tier ${safeLine(delta.tierBefore ?? 'none', 20)} → ${safeLine(delta.tierAfter ?? 'none', 20)}`;
  const moved = change.added.length + change.removed.length + change.changed.length;
  if (moved === 0 && tier === '') return [];
  const lines = [`  ${colors.bold('capability')}${tier}${change.unchanged.length > 0 ? colors.dim(`  (${change.unchanged.length} unchanged)`) : ''}`];
  for (const entry of change.added) lines.push(colors.red(`    + ${entryText(entry)}`));
  for (const entry of change.removed) lines.push(colors.green(`    - ${entryText(entry)}`));
  for (const { before, after } of change.changed) {
    const parts: string[] = [];
    if (before.effect !== after.effect) parts.push(`effect ${before.effect} → ${after.effect}`);
    if (before.gated !== after.gated) parts.push(before.gated ? 'gate removed' : 'gate added');
    const data = (entry: CapabilityEntry): string => [...entry.data].sort().map((dataClass) => safeLine(dataClass, 80)).join(', ') || 'none';
    if (data(before) !== data(after)) parts.push(`data ${data(before)} → ${data(after)}`);
    lines.push(colors.yellow(`    ~ ${safeLine(after.tool, 100)} ${safeLine(after.action, 150)}  ${parts.join(', ')}`));
  }
  return lines;
}

function findingLines(title: string, findings: readonly Finding[], colors: Palette): string[] {
  if (findings.length === 0) return [];
  const lines = ['', colors.bold(`${title} (${findings.length})`)];
  for (const finding of findings) {
    const severity = finding.waived ? colors.dim('waived ') : finding.severity === 'error' ? colors.red('error  ') : colors.yellow('warning');
    const where = colors.dim(`${safeLine(finding.file, 300)}:${finding.line}:${finding.column}`);
    lines.push(`  ${severity}  ${where}  ${safeLine(finding.message, MAX)}  ${colors.dim(finding.rule)}`);
  }
  return lines;
}

function approvalLines(required: readonly ApprovalRequirement[], colors: Palette): string[] {
  if (required.length === 0) return [];
  const lines = ['', colors.bold('Required approvals')];
  for (const requirement of required) {
    const subjects = requirement.subjects.map((subject) => safeLine(shortSubject(subject), 140));
    const shown = subjects.length > 10 ? `${subjects.slice(0, 10).join(', ')} and ${subjects.length - 10} more` : subjects.join(', ');
    lines.push(`  ${colors.bold(safeLine(requirement.rule, 80))}  ${requirement.count} from ${safeLine(fromPhrase(requirement), 300)}  ${colors.dim(`for ${shown}`)}`);
    const people = requirement.eligible.map((approver) => `${safeLine(approver.person, 80)} (${safeLine(approver.github, 80)})`).join(', ');
    if (!requirement.satisfiable) {
      lines.push(colors.red(`    ✖ cannot be met: ${requirement.eligible.length} of ${requirement.count} needed eligible${people ? `: ${people}` : ''}`));
    } else {
      lines.push(`    may approve: ${people}`);
    }
  }
  return lines;
}
