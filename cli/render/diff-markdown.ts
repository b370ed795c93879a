// The pull-request impact summary (`mandate diff --format markdown`).
//
// Everything that comes from policy files goes through one of four escapes:
// `cell` (markdown text), `code` (inline code, table-safe), `html` (inside the
// raw-HTML <summary> line) and `mermaidLabel` (inside the diagram). The output
// is capped at MARKDOWN_LIMIT characters: sections are made of whole rows and
// whole blocks, and a section that does not fit stops before the first row
// that would cross its share, so no table row, <details> block or fence is cut.

import type { ApprovalRequirement } from '../../core/approvals';
import type { CapabilityEntry } from '../../core/capability';
import type { Change, ChangeRisk, CapabilityDelta } from '../../core/change';
import type { Finding } from '../../core/finding';
import { escapeMarkdown } from './markdown-escape';
import type { DiffReport } from '../../core/diff-report';
import { entryChange, fromPhrase, plural, safeLine, shortSubject } from '../../core/diff-wording';

/** GitHub comments hold 65,536 characters; the summary stays under this. */
export const MARKDOWN_LIMIT = 60_000;

/** Longest policy-derived text in one cell before it is cut with "…". */
const CELL_MAX = 300;
/** At most this many changed agent-tool edges get a diagram. */
const GRAPH_MAX_EDGES = 30;

const VERDICT_EMOJI: Readonly<Record<DiffReport['verdict']['risk'], string>> = {
  raises: '🔴', lowers: '🟢', neutral: '⚪', none: '✅',
};
const RISK_LABEL: Readonly<Record<ChangeRisk, string>> = { raises: '🔺 raises', lowers: '🔻 lowers', neutral: 'neutral' };

// ---------------------------------------------------------------------------
// Escapes

/** Policy text as markdown text (no HTML, links, emphasis, table breaks or mentions). */
function cell(text: string, max = CELL_MAX): string {
  return escapeMarkdown(safeLine(text, max));
}

/**
 * Policy text as an inline code span that is safe inside a table cell: no backtick can
 * close it, a backslash cannot un-escape the pipe after it (it becomes U+29F5), every
 * pipe is escaped for the table, and an @ gets a zero-width space (a code span never
 * pings, but the text may be copied out of it).
 */
function code(text: string, max = CELL_MAX): string {
  const clean = safeLine(text, max).replace(/`/g, 'ˋ').replace(/\\/g, '⧵').replace(/\|/g, '\\|').replace(/@/g, '@\u200b');
  return `\`${clean}\``;
}

/**
 * Policy text inside raw HTML (the <summary> line of a <details> block, where markdown is
 * not parsed): every ASCII character but letters, digits, space and -.,:/ becomes a numeric
 * entity (so neither HTML nor markdown can form), and an @ gets a zero-width space.
 */
function html(text: string, max = CELL_MAX): string {
  let out = '';
  for (const char of safeLine(text, max)) {
    if (char === '@') out += '@\u200b';
    else if (char.charCodeAt(0) < 0x80 && !/^[A-Za-z0-9 .,:/-]$/.test(char)) out += `&#${char.charCodeAt(0)};`;
    else out += char;
  }
  return out;
}

/** Policy text inside a quoted Mermaid label: anything but [A-Za-z0-9 _.+/~-] becomes an entity code. */
function mermaidLabel(text: string, max = 60): string {
  let out = '';
  for (const char of safeLine(text, max)) {
    out += /^[A-Za-z0-9 _.+/~-]$/.test(char) ? char : `#${char.codePointAt(0)};`;
  }
  return out;
}

/** A Mermaid node id: [A-Za-z0-9_] only, unique by its index. */
function mermaidId(prefix: string, index: number, id: string): string {
  return `${prefix}${index}_${id.replace(/[^A-Za-z0-9_]/g, '_').slice(0, 40)}`;
}

// ---------------------------------------------------------------------------
// Sections made of whole pieces

/** A run of items with an opening and a closing that are always emitted together. */
interface Group {
  open: string;
  items: string[];
  close: string;
}

/** A section: plain pieces and groups, in order; `units` counts what it lists (for the truncation note). */
class Section {
  readonly pieces: (string | Group)[] = [];
  size = 0;
  /** Materialising stopped early: the section is larger than any budget it can get. */
  overflow = false;

  constructor(readonly units: number, private readonly cap: number) {}

  get full(): boolean {
    return this.size > this.cap;
  }

  add(text: string): void {
    if (this.full) {
      this.overflow = true;
      return;
    }
    this.pieces.push(text);
    this.size += text.length;
  }

  /** A group of `count` items made by `item` (only as many as could ever be shown are made). */
  group(open: string, close: string, count: number, item: (index: number) => string): void {
    if (count === 0) return;
    if (this.full) {
      this.overflow = true;
      return;
    }
    const group: Group = { open, items: [], close };
    this.pieces.push(group);
    this.size += open.length + close.length;
    for (let index = 0; index < count; index += 1) {
      if (this.full) {
        this.overflow = true;
        break;
      }
      const text = item(index);
      group.items.push(text);
      this.size += text.length;
    }
  }

  /** The size it needs to be shown whole. */
  get need(): number {
    return this.overflow ? Number.POSITIVE_INFINITY : this.size;
  }
}

/** The part of a section that fits a budget: whole pieces, whole items, every group closed. */
interface Fitted {
  text: string;
  /** Group items shown (rows, list entries). */
  items: number;
  complete: boolean;
}

function fit(section: Section, budget: number): Fitted {
  let text = '';
  let items = 0;
  for (const piece of section.pieces) {
    if (typeof piece === 'string') {
      if (text.length + piece.length > budget) return { text, items, complete: false };
      text += piece;
      continue;
    }
    const first = piece.items[0] ?? '';
    if (text.length + piece.open.length + first.length + piece.close.length > budget) return { text, items, complete: false };
    text += piece.open;
    let room = budget - text.length - piece.close.length;
    let shown = 0;
    for (const item of piece.items) {
      if (item.length > room) break;
      text += item;
      room -= item.length;
      shown += 1;
    }
    text += piece.close;
    items += shown;
    if (shown < piece.items.length) return { text, items, complete: false };
  }
  return { text, items, complete: !section.overflow };
}

/** Shares a budget among sections by weight; a section that needs less than its share gives the rest back. */
function allocate(needs: readonly number[], weights: readonly number[], budget: number): number[] {
  const result = needs.map(() => 0);
  let active = needs.map((_, index) => index);
  let remaining = budget;
  while (active.length > 0) {
    const total = active.reduce((sum, index) => sum + weights[index]!, 0);
    const settled = active.filter((index) => needs[index]! <= (remaining * weights[index]!) / total);
    if (settled.length === 0) {
      for (const index of active) result[index] = Math.floor((remaining * weights[index]!) / total);
      break;
    }
    for (const index of settled) {
      result[index] = needs[index]!;
      remaining -= needs[index]!;
    }
    active = active.filter((index) => !settled.includes(index));
  }
  return result;
}

// ---------------------------------------------------------------------------
// The summary

/** The pull-request impact summary, at most `limit` characters (default MARKDOWN_LIMIT). */
export function diffMarkdown(report: DiffReport, limit = MARKDOWN_LIMIT): string {
  const top = topSection(report);
  const graph = graphSection(report.capabilities);
  const cap = limit;
  const flexible = [
    { name: 'changes', section: changesSection(report.changes, cap), weight: 3 },
    { name: 'capabilities', section: capabilitiesSection(report.capabilities, cap), weight: 2 },
    { name: 'introduced', section: findingsSection('New findings', report.findings.introduced, cap), weight: 2 },
    { name: 'fixed', section: findingsSection('Fixed findings', report.findings.fixed, cap), weight: 1 },
    { name: 'approvals', section: approvalsSection(report.approvals.required, cap), weight: 4 },
    { name: 'details', section: detailsSection(report.changes, cap), weight: 1 },
  ] as const;
  // Room for the separators between sections and the two closing lines of a truncated summary.
  const reserve = 12 + 400;
  let budget = limit - reserve - top.length;
  const withGraph = graph.length > 0 && graph.length <= budget / 4;
  if (withGraph) budget -= graph.length;
  const shares = allocate(flexible.map((entry) => entry.section.need), flexible.map((entry) => entry.weight), Math.max(0, budget));
  // Sections end in one newline: joined by '\n', they are one blank line apart (trimming only shortens them).
  const fitted = flexible.map((entry, index) => {
    const result = fit(entry.section, shares[index]!);
    return { ...result, text: result.text.replace(/\n+$/, '\n') };
  });
  const byName = (name: (typeof flexible)[number]['name']): Fitted => fitted[flexible.findIndex((entry) => entry.name === name)]!;

  const parts = [top, byName('changes').text, byName('capabilities').text, byName('introduced').text, byName('fixed').text, byName('approvals').text];
  if (withGraph) parts.push(graph);
  parts.push(byName('details').text);
  let text = parts.filter((part) => part.length > 0).join('\n');

  const omitted: string[] = [];
  const missing = (name: (typeof flexible)[number]['name']): number => {
    const index = flexible.findIndex((entry) => entry.name === name);
    return fitted[index]!.complete ? 0 : Math.max(0, flexible[index]!.section.units - fitted[index]!.items);
  };
  const notInTable = missing('changes');
  if (missing('capabilities') > 0) omitted.push(plural(missing('capabilities'), 'capability row'));
  if (missing('introduced') > 0) omitted.push(plural(missing('introduced'), 'new finding'));
  if (missing('fixed') > 0) omitted.push(plural(missing('fixed'), 'fixed finding'));
  if (missing('approvals') > 0) omitted.push(plural(missing('approvals'), 'approval requirement'));
  if (missing('details') > 0) omitted.push(`the details of ${plural(missing('details'), 'change')}`);
  if (graph.length > 0 && !withGraph) omitted.push('the access graph');
  if (notInTable > 0 || omitted.length > 0) {
    const also = omitted.length > 0 ? `Also left out to stay under ${limit} characters: ${omitted.join(', ')}. ` : '';
    // The last line has a fixed wording ("N more changes" even for 1) so tools can find it.
    text += `\n_${also}\`mandate diff --format json\` lists everything._\n\n… truncated, ${notInTable} more changes not shown\n`;
  }
  return text;
}

function topSection(report: DiffReport): string {
  const { verdict } = report;
  const lines = [`### ${VERDICT_EMOJI[verdict.risk]} ${cell(verdict.headline, 600)}`, ''];
  if (verdict.trifectas.length > 0) {
    const names = verdict.trifectas.slice(0, 20).map((agent) => code(agent, 80));
    const more = verdict.trifectas.length > 20 ? ` and ${verdict.trifectas.length - 20} more` : '';
    const one = verdict.trifectas.length === 1;
    lines.push(
      '> [!CAUTION]',
      `> **Lethal trifecta:** ${names.join(', ')}${more} ${one ? 'reads' : 'read'} confidential data, ${one ? 'is' : 'are'} exposed to untrusted content and can send data out of the organisation without a human approval.`,
      '',
    );
  }
  const counts = { raises: 0, lowers: 0, neutral: 0 };
  for (const change of report.changes) counts[change.risk] += 1;
  const findings = `${plural(report.findings.introduced.length, 'new finding')}, ${report.findings.fixed.length} fixed`;
  const head = report.head === null ? 'working tree' : code(report.head.slice(0, 12), 40);
  lines.push(
    `**${plural(report.changes.length, 'change')}** (${counts.raises} raise, ${counts.lowers} lower, ${counts.neutral} neutral) · ${findings} · ` +
      `base ${code(report.base.slice(0, 12), 40)} · merge base ${code(report.mergeBase.slice(0, 12), 40)} · head ${head}`,
    '',
  );
  return lines.join('\n');
}

function changesSection(changes: readonly Change[], cap: number): Section {
  const section = new Section(changes.length, cap);
  const open = '#### Changes\n\n| Subject | Change | What | Risk |\n| --- | --- | --- | --- |\n';
  section.group(open, '', changes.length, (index) => {
    const change = changes[index]!;
    return `| ${code(shortSubject(change.subject), 140)} | ${code(change.kind, 60)} | ${cell(change.summary)} | ${RISK_LABEL[change.risk]} |\n`;
  });
  return section;
}

const CAPABILITY_HEAD = '| | Tool | Action | Effect | Data | Gated |\n| --- | --- | --- | --- | --- | --- |\n';
const UNCHANGED_HEAD = '| Tool | Action | Effect | Data | Gated |\n| --- | --- | --- | --- | --- |\n';

function capabilitiesSection(deltas: readonly CapabilityDelta[], cap: number): Section {
  const rows = deltas.map((delta) => ({ delta, change: entryChange(delta.before, delta.after) }));
  const shown = rows.filter(({ delta, change }) =>
    change.added.length + change.removed.length + change.changed.length > 0 || delta.tierBefore !== delta.tierAfter,
  );
  const units = shown.reduce((sum, { change }) => sum + change.added.length + change.removed.length + change.changed.length + change.unchanged.length, 0);
  const section = new Section(units, cap);
  let title = '#### Capabilities\n\n';
  for (const { delta, change } of shown) {
    const tier = delta.tierBefore !== undefined || delta.tierAfter !== undefined
      ? ` · computed tier ${delta.tierBefore === delta.tierAfter ? cell(delta.tierAfter ?? '') : `${cell(delta.tierBefore ?? 'none')} → ${cell(delta.tierAfter ?? 'none')}`}`
      : '';
    const heading = `${title}**${code(delta.agent, 80)}**${tier}\n\n`;
    title = '';
    const { added, removed, changed } = change;
    const moved = added.length + removed.length + changed.length;
    if (moved === 0) {
      section.add(`${heading}No (tool, action) pair changed.\n\n`);
    } else {
      section.group(`${heading}${CAPABILITY_HEAD}`, '\n', moved, (index) => {
        if (index < added.length) return capabilityRow('➕ added', added[index]!);
        if (index < added.length + removed.length) return capabilityRow('➖ removed', removed[index - added.length]!);
        const { before, after } = changed[index - added.length - removed.length]!;
        return changedRow(before, after);
      });
    }
    const same = change.unchanged;
    section.group(
      `<details>\n<summary>${plural(same.length, 'unchanged capability', 'unchanged capabilities')}</summary>\n\n${UNCHANGED_HEAD}`,
      '\n</details>\n\n',
      same.length,
      (index) => capabilityRow(undefined, same[index]!),
    );
  }
  return section;
}

function dataCell(data: readonly string[]): string {
  return data.length === 0 ? '—' : data.slice(0, 8).map((dataClass) => code(dataClass, 80)).join(', ') + (data.length > 8 ? ` +${data.length - 8}` : '');
}

function capabilityRow(mark: string | undefined, entry: CapabilityEntry): string {
  const cells = [code(entry.tool, 80), code(entry.action, 120), cell(entry.effect), dataCell(entry.data), entry.gated ? 'yes' : 'no'];
  return `| ${mark === undefined ? '' : `${mark} | `}${cells.join(' | ')} |\n`;
}

function changedRow(before: CapabilityEntry, after: CapabilityEntry): string {
  const effect = before.effect === after.effect ? cell(after.effect) : `${cell(before.effect)} → ${cell(after.effect)}`;
  const sameData = [...before.data].sort().join('\n') === [...after.data].sort().join('\n');
  const data = sameData ? dataCell(after.data) : `${dataCell(before.data)} → ${dataCell(after.data)}`;
  const gated = before.gated === after.gated ? (after.gated ? 'yes' : 'no') : `${before.gated ? 'yes' : 'no'} → ${after.gated ? 'yes' : 'no'}`;
  return `| ✏️ changed | ${code(after.tool, 80)} | ${code(after.action, 120)} | ${effect} | ${data} | ${gated} |\n`;
}

function findingsSection(title: string, findings: readonly Finding[], cap: number): Section {
  const section = new Section(findings.length, cap);
  const open = `#### ${title} (${findings.length})\n\n| Severity | Location | Rule | Message |\n| --- | --- | --- | --- |\n`;
  section.group(open, '', findings.length, (index) => {
    const finding = findings[index]!;
    const severity = finding.waived ? 'waived' : finding.severity === 'error' ? '❌ error' : '⚠️ warning';
    return `| ${severity} | ${code(`${finding.file}:${finding.line}:${finding.column}`)} | ${code(finding.rule, 60)} | ${cell(finding.message, 500)} |\n`;
  });
  return section;
}

function approvalsSection(required: readonly ApprovalRequirement[], cap: number): Section {
  const section = new Section(required.length, cap);
  const open = '#### Required approvals\n\n| Rule | Subjects | Needs | Who may approve |\n| --- | --- | --- | --- |\n';
  const close = '\nAn approval counts only on the head commit it was given on; the author, committers and co-authors never count.\n';
  section.group(open, close, required.length, (index) => approvalRow(required[index]!));
  return section;
}

function approvalRow(requirement: ApprovalRequirement): string {
  const subjects = requirement.subjects.slice(0, 10).map((subject) => code(shortSubject(subject), 140)).join(', ') +
    (requirement.subjects.length > 10 ? ` and ${requirement.subjects.length - 10} more` : '');
  const needs = `${requirement.count} from ${cell(fromPhrase(requirement), 400)}`;
  const people = requirement.eligible.slice(0, 20).map((approver) => `${code(approver.github, 80)} (${cell(approver.person, 80)})`).join(', ') +
    (requirement.eligible.length > 20 ? ` and ${requirement.eligible.length - 20} more` : '');
  const who = requirement.satisfiable
    ? people
    : `⚠️ **cannot be met**: ${requirement.eligible.length} of ${requirement.count} needed ${requirement.eligible.length === 1 ? 'is' : 'are'} eligible${people ? ` (${people})` : ''}`;
  return `| ${code(requirement.rule, 80)} | ${subjects} | ${needs} | ${who} |\n`;
}

function detailsSection(changes: readonly Change[], cap: number): Section {
  const section = new Section(changes.length, cap);
  let title = '#### Details\n\n';
  let start = 0;
  while (start < changes.length) {
    const subject = changes[start]!.subject;
    let end = start + 1;
    while (end < changes.length && changes[end]!.subject === subject) end += 1;
    const from = start;
    const open = `${title}<details>\n<summary>${html(shortSubject(subject), 140)} · ${plural(end - start, 'change')}</summary>\n\n`;
    title = '';
    section.group(open, '\n</details>\n\n', end - start, (index) => detailItem(changes[from + index]!));
    start = end;
  }
  return section;
}

function detailItem(change: Change): string {
  const controls = change.controls.length > 0 ? `; controls ${change.controls.slice(0, 12).map((control) => code(control, 40)).join(', ')}` : '';
  const owasp = change.owasp.length > 0 ? `; OWASP ${change.owasp.slice(0, 12).map((id) => code(id, 40)).join(', ')}` : '';
  return `- ${RISK_LABEL[change.risk]} ${code(change.kind, 60)} ${cell(change.summary, 500)} (${code(`${change.file}:${change.line}`)}${controls}${owasp})\n`;
}

/** The agent-tool edges whose access changed, as a Mermaid flowchart; '' when there are none or too many. */
function graphSection(deltas: readonly CapabilityDelta[]): string {
  interface Edge { agent: string; tool: string; status: 'added' | 'removed' | 'changed'; label: string }
  const edges: Edge[] = [];
  for (const delta of deltas) {
    const change = entryChange(delta.before, delta.after);
    const tools = new Set([...delta.before, ...delta.after].map((entry) => entry.tool));
    for (const tool of [...tools].sort()) {
      const had = delta.before.some((entry) => entry.tool === tool);
      const has = delta.after.some((entry) => entry.tool === tool);
      const added = change.added.filter((entry) => entry.tool === tool).map((entry) => `+${entry.action}`);
      const removed = change.removed.filter((entry) => entry.tool === tool).map((entry) => `−${entry.action}`);
      const changed = change.changed.filter(({ after }) => after.tool === tool).map(({ after }) => `~${after.action}`);
      const marks = [...added, ...removed, ...changed];
      if (marks.length === 0) continue;
      const status = !had ? 'added' : !has ? 'removed' : 'changed';
      const label = marks.length > 3 ? `${marks.slice(0, 3).join(' ')} +${marks.length - 3} more` : marks.join(' ');
      edges.push({ agent: delta.agent, tool, status, label });
      if (edges.length > GRAPH_MAX_EDGES) return '';
    }
  }
  if (edges.length === 0) return '';
  const agents = [...new Set(edges.map((edge) => edge.agent))];
  const tools = [...new Set(edges.map((edge) => edge.tool))];
  const agentId = new Map(agents.map((agent, index) => [agent, mermaidId('a', index, agent)]));
  const toolId = new Map(tools.map((tool, index) => [tool, mermaidId('t', index, tool)]));
  const lines = ['#### Access graph', '', '```mermaid', 'flowchart LR'];
  for (const agent of agents) lines.push(`  ${agentId.get(agent)}["${mermaidLabel(agent)}"]`);
  for (const tool of tools) lines.push(`  ${toolId.get(tool)}[("${mermaidLabel(tool)}")]`);
  const colour = { added: '#cf222e', removed: '#1a7f37', changed: '#bf8700' } as const;
  edges.forEach((edge) => {
    const arrow = edge.status === 'removed' ? '-.->' : '-->';
    lines.push(`  ${agentId.get(edge.agent)} ${arrow}|"${mermaidLabel(edge.label, 120)}"| ${toolId.get(edge.tool)}`);
  });
  edges.forEach((edge, index) => lines.push(`  linkStyle ${index} stroke:${colour[edge.status]}`));
  lines.push('```', '', 'Edge labels: + action added, − action removed, ~ gate, effect or data changed; a dashed edge is access the agent loses.', '');
  return `${lines.join('\n')}`;
}
