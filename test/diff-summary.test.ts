import fc from 'fast-check';
import pc from 'picocolors';
import { describe, expect, it } from 'vitest';
import type { ApprovalRequirement } from '../core/approvals';
import type { CapabilityEntry } from '../core/capability';
import type { CapabilityDelta, Change, ChangeKind, ChangeRisk, SemanticDiff } from '../core/change';
import type { Finding } from '../core/finding';
import type { DiffReport } from '../core/diff-report';
import { escapeMarkdown } from '../cli/render/markdown-escape';
import { requiredApprovals } from '../core/approvals';
import { semanticDiff } from '../core/semantic-diff';
import { BASE_FILES, snapshotOf } from './helpers/repo';
import { buildDiffReport, buildVerdict } from '../core/diff-report';
import { diffJson, diffMarkdown, diffText, MARKDOWN_LIMIT } from '../cli/render/diff-summary';

function change(kind: ChangeKind, subject: string, risk: ChangeRisk, summary: string, extra: Partial<Change> = {}): Change {
  return { kind, subject, risk, summary, file: 'policies/agents/triage.yaml', line: 17, controls: ['A.9.2'], owasp: ['ASI02'], ...extra };
}

function entry(tool: string, action: string, effect: CapabilityEntry['effect'], data: string[] = [], gated = false): CapabilityEntry {
  return { tool, action, effect, data, gated, via: [] };
}

function diffOf(parts: Partial<SemanticDiff>): SemanticDiff {
  return { changes: [], trifectas: [], findings: { introduced: [], fixed: [] }, capabilities: [], ...parts };
}

function requirement(parts: Partial<ApprovalRequirement> = {}): ApprovalRequirement {
  return {
    rule: 'default', subjects: ['agent:support-triage'], count: 1, from: ['owner', 'team'],
    eligible: [{ person: 'alice', github: 'alice-ex' }], satisfiable: true, owners: ['alice'], teams: ['support'],
    changeKinds: ['grant-widened'], ...parts,
  };
}

function finding(parts: Partial<Finding> = {}): Finding {
  return {
    rule: 'wildcard-write', severity: 'warning', message: 'zendesk tickets.comment is a write on every resource',
    file: 'policies/agents/triage.yaml', line: 14, column: 5, subject: 'agent:support-triage', controls: [], owasp: [], ...parts,
  };
}

function report(diff: SemanticDiff, required: ApprovalRequirement[] = [requirement()]): DiffReport {
  return buildDiffReport({ base: 'b'.repeat(40), mergeBase: 'm'.repeat(40), head: 'h'.repeat(40), diff, required });
}

const WIDENED = change('grant-widened', 'agent:support-triage', 'raises', 'zendesk tickets.comment: resources queue/support/** -> **', { tool: 'zendesk', action: 'tickets.comment' });

describe('buildVerdict headline', () => {
  it('says "No semantic change" when nothing changed', () => {
    expect(buildVerdict(diffOf({}), [])).toEqual({ risk: 'none', trifectas: [], headline: 'No semantic change' });
  });

  it('names the access an agent gains and who must approve', () => {
    const diff = diffOf({
      changes: [change('grant-added', 'agent:support-triage', 'raises', 'zendesk tickets.reply')],
      capabilities: [{ agent: 'support-triage', before: [entry('zendesk', 'tickets.read', 'read', ['customer-pii'])], after: [entry('zendesk', 'tickets.read', 'read', ['customer-pii']), entry('zendesk', 'tickets.reply', 'egress', ['customer-pii'])] }],
    });
    expect(buildVerdict(diff, [requirement()]).headline).toBe(
      'Raises risk: support-triage gains ungated egress access to customer-pii (zendesk tickets.reply); needs 1 approval from owner or team support',
    );
  });

  it('counts agents and sums up several requirements', () => {
    const gain = (agent: string): CapabilityDelta => ({ agent, before: [], after: [entry('crm', 'notes.write', 'write', ['customer-pii'], true), entry('crm', 'notes.read', 'read', ['customer-pii'])] });
    const diff = diffOf({
      changes: [change('capability-gained', 'agent:a', 'raises', 'crm notes.write'), change('capability-gained', 'agent:b', 'raises', 'crm notes.write')],
      capabilities: [gain('a'), gain('b')],
    });
    const required = [requirement({ count: 2, from: ['owner', 'team:security'], teams: [] }), requirement({ rule: 'governance', from: ['team:security'] }), requirement({ rule: 'x', from: ['person:carol'] })];
    expect(buildVerdict(diff, required).headline).toBe(
      'Raises risk: 2 agents gain write access to customer-pii; needs 2 approvals from owner or team security and 1 approval from carol (+1 more)',
    );
  });

  it('quotes the one raising change when no capability moved', () => {
    const verdict = buildVerdict(diffOf({ changes: [WIDENED, change('agent-details-changed', 'agent:support-triage', 'neutral', 'purpose changed')] }), [requirement()]);
    expect(verdict).toEqual({
      risk: 'raises', trifectas: [],
      headline: 'Raises risk: support-triage: zendesk tickets.comment: resources queue/support/** -> **; needs 1 approval from owner or team support',
    });
  });

  it('puts a new lethal trifecta first', () => {
    const verdict = buildVerdict(diffOf({ changes: [WIDENED], trifectas: ['support-triage'] }), [requirement()]);
    expect(verdict.trifectas).toEqual(['support-triage']);
    expect(verdict.headline).toBe('Raises risk: support-triage enters a lethal trifecta; needs 1 approval from owner or team support');
  });

  it('names what an agent loses when risk is lowered', () => {
    const diff = diffOf({
      changes: [change('grant-removed', 'agent:support-triage', 'lowers', 'zendesk tickets.delete')],
      capabilities: [{ agent: 'support-triage', before: [entry('zendesk', 'tickets.delete', 'delete')], after: [] }],
    });
    expect(buildVerdict(diff, [requirement()]).headline).toBe('Lowers risk: support-triage loses delete access (zendesk tickets.delete); needs 1 approval from owner or team support');
  });

  it('summarises neutral changes by kind and says when a requirement cannot be met', () => {
    const diff = diffOf({
      changes: [
        change('agent-details-changed', 'agent:a', 'neutral', 'name changed'),
        change('agent-details-changed', 'agent:b', 'neutral', 'purpose changed'),
        change('tool-changed', 'tool:zendesk', 'neutral', 'vendor changed'),
      ],
    });
    const required = [requirement({ rule: 'exception', from: ['person:carol'], eligible: [], satisfiable: false })];
    expect(buildVerdict(diff, required)).toEqual({
      risk: 'neutral', trifectas: [],
      headline: 'No change in risk: 3 changes to 3 subjects (2 agent-details-changed, tool-changed); needs 1 approval from carol; it cannot be met by anyone eligible',
    });
  });
});

// ---------------------------------------------------------------------------

const PAYLOADS = [
  '<img src=x onerror=alert(1)>',
  '[click](javascript:alert(1))',
  'pipe | breaks | tables',
  'tick ` and ``` fences',
  'ping @alice now',
  '</details><details open>',
  'new\n# heading\n| fake | row |',
  'back\\|slash',
  '\u001b[31mred\u202e',
];
const HOSTILE = PAYLOADS.join(' ');

/** Every policy-derived field carries every payload. */
function hostileReport(): DiffReport {
  const evil = (suffix: string) => `${HOSTILE} ${suffix}`;
  const changes = [
    change('grant-added', `agent:${evil('a')}`, 'raises', evil('summary'), { file: evil('file'), controls: [evil('control')], owasp: [evil('owasp')] }),
    change('tool-changed', `tool:${evil('t')}`, 'neutral', evil('tool summary'), { file: evil('file2') }),
  ];
  const diff = diffOf({
    changes,
    trifectas: [evil('trifecta')],
    findings: {
      introduced: [finding({ message: evil('message'), file: evil('finding-file'), subject: evil('subject') })],
      fixed: [finding({ message: evil('fixed message'), severity: 'error' })],
    },
    capabilities: [{
      agent: evil('agent'),
      before: [entry(evil('tool'), evil('old-action'), 'read', [evil('data')])],
      after: [entry(evil('tool'), evil('action'), 'egress', [evil('data')])],
      tierBefore: 'low', tierAfter: 'critical',
    }],
  });
  const required = [requirement({
    rule: evil('rule'), subjects: [evil('s1'), evil('s2')], from: ['owner', `person:${evil('p')}`], teams: [evil('team')],
    eligible: [{ person: evil('person'), github: '`@mal|lory<b>' }],
  })];
  return buildDiffReport({ base: evil('base'), mergeBase: evil('mb'), head: evil('head'), diff, required });
}

/** The markdown with inline code spans removed (inside them nothing is interpreted). */
function outsideCode(markdown: string): string {
  return markdown.replace(/```mermaid[\s\S]*?```/g, '').replace(/(?<!\\)`[^`\n]*`/g, '');
}

/** Cells of a table row: split on pipes that are not escaped. */
function cells(row: string): number {
  return row.split(/(?<!\\)\|/).length - 2;
}

/** Every table in the markdown keeps the column count of its delimiter row. */
function expectWellFormedTables(markdown: string): void {
  const lines = markdown.split('\n');
  let columns = 0;
  for (let index = 0; index < lines.length; index += 1) {
    const line = lines[index]!;
    if (!line.startsWith('|')) {
      columns = 0;
      continue;
    }
    if (columns === 0) {
      columns = cells(lines[index + 1] ?? '');
      expect(lines[index + 1]).toMatch(/^\|( --- \|)+$/);
      expect(cells(line)).toBe(columns);
      continue;
    }
    expect(cells(line), line).toBe(columns);
  }
}

function expectBalanced(markdown: string): void {
  expect((markdown.match(/^```/gm)?.length ?? 0) % 2).toBe(0);
  const text = outsideCode(markdown);
  expect(text.match(/<details>/g)?.length ?? 0).toBe(text.match(/<\/details>/g)?.length ?? 0);
}

describe('diffMarkdown escaping', () => {
  const markdown = diffMarkdown(hostileReport());

  it('lets no raw HTML, link, heading or fence through', () => {
    const text = outsideCode(markdown);
    expect(text).toContain('\\<img src=x onerror=alert(1)\\>');
    expect(text).not.toMatch(/(?<!\\)<img/);
    expect(text).not.toMatch(/(?<!\\)\]\(javascript:/);
    expect(text).not.toMatch(/(?<!\\)<details open/);
    expect(markdown).not.toMatch(/^#+ heading/m);
    expect(markdown).not.toMatch(/^\| fake/m);
    expect(markdown.match(/^```.*$/gm)).toEqual(['```mermaid', '```']);
  });

  it('never pings anyone', () => {
    expect(markdown).not.toMatch(/@(?!\u200b)/);
    expect(markdown).toContain('@\u200balice');
  });

  it('keeps every table row at its column count', () => {
    expectWellFormedTables(markdown);
    expect(markdown).toContain('| Subject | Change | What | Risk |');
    expect(markdown).toContain('| Rule | Subjects | Needs | Who may approve |');
  });

  it('keeps <details> blocks and fences balanced, and the <summary> line entity-escaped', () => {
    expectBalanced(markdown);
    for (const summary of markdown.match(/<summary>.*<\/summary>/g) ?? []) {
      expect(summary.slice('<summary>'.length, -'</summary>'.length)).not.toMatch(/[<>]/);
    }
  });

  it('lets no terminal control or bidi character through', () => {
    expect(markdown).not.toContain('\u001b');
    expect(markdown).not.toContain('\u202e');
  });

  it('keeps Mermaid ids to [A-Za-z0-9_] and labels to entity codes', () => {
    const graph = /```mermaid\n([\s\S]*?)```/.exec(markdown)![1]!;
    for (const line of graph.split('\n').slice(1, -1)) {
      const id = line.trim().split(/[[\s]/)[0]!;
      expect(id).toMatch(/^([A-Za-z0-9_]+|linkStyle)$/);
      for (const label of line.match(/"[^"]*"/g) ?? []) expect(label).toMatch(/^"[A-Za-z0-9 _.+/~#;-]*"$/);
    }
  });

  it('keeps github logins in code spans', () => {
    expect(markdown).toContain('| `ˋ@\u200bmal\\|lory<b>` (');
  });
});

describe('diffMarkdown content', () => {
  const diff = diffOf({
    changes: [
      WIDENED,
      change('grant-added', 'agent:support-triage', 'raises', 'zendesk tickets.reply', { tool: 'zendesk', action: 'tickets.reply', line: 20 }),
      change('tool-changed', 'tool:zendesk', 'neutral', 'vendor: Zendesk -> Zendesk Inc.', { file: 'policies/tools/zendesk.yaml', line: 5 }),
    ],
    trifectas: ['support-triage'],
    findings: { introduced: [finding()], fixed: [finding({ rule: 'review-overdue', message: 'not reviewed for 200 days' })] },
    capabilities: [{
      agent: 'support-triage',
      before: [entry('zendesk', 'tickets.read', 'read', ['customer-pii']), entry('zendesk', 'tickets.comment', 'write', ['customer-pii'], true), entry('zendesk', 'docs.read', 'read')],
      after: [entry('zendesk', 'tickets.read', 'read', ['customer-pii']), entry('zendesk', 'tickets.comment', 'write', ['customer-pii']), entry('zendesk', 'tickets.reply', 'egress', ['customer-pii'])],
      tierBefore: 'medium', tierAfter: 'critical',
    }],
  });
  const required = [
    requirement(),
    requirement({ rule: 'governance', subjects: ['tool:zendesk'], from: ['anyone'], owners: [], teams: [], eligible: [{ person: 'bob', github: 'bob-ex' }] }),
    requirement({ rule: 'exception', from: ['person:carol'], eligible: [], satisfiable: false }),
  ];
  const markdown = diffMarkdown(report(diff, required));

  it('starts with the verdict line, then the trifecta warning', () => {
    const lines = markdown.split('\n');
    expect(lines[0]).toBe(`### 🔴 ${escapeMarkdown(buildVerdict(diff, required).headline)}`);
    expect(lines[0]).toContain('Raises risk: support');
    expect(lines[2]).toBe('> [!CAUTION]');
    expect(lines[3]).toContain('**Lethal trifecta:** `support-triage`');
  });

  it('has the change table, the before/after capability table, findings and approvals', () => {
    expect(markdown).toContain(`| \`support-triage\` | \`grant-widened\` | ${escapeMarkdown(WIDENED.summary)} | 🔺 raises |`);
    expect(markdown).toContain('| `tool zendesk` | `tool-changed` |');
    expect(markdown).toContain('**`support-triage`** · computed tier medium → critical');
    expect(markdown).toContain('| ➕ added | `zendesk` | `tickets.reply` | egress | `customer-pii` | no |');
    expect(markdown).toContain('| ➖ removed | `zendesk` | `docs.read` | read | — | no |');
    expect(markdown).toContain('| ✏️ changed | `zendesk` | `tickets.comment` | write | `customer-pii` | yes → no |');
    expect(markdown).toContain('<summary>1 unchanged capability</summary>');
    expect(markdown).toContain('#### New findings (1)');
    expect(markdown).toContain('#### Fixed findings (1)');
    expect(markdown).toContain('| `default` | `support-triage` | 1 from owner or team support | `alice-ex` (alice) |');
    expect(markdown).toContain('| `governance` | `tool zendesk` | 1 from anyone | `bob-ex` (bob) |');
    expect(markdown).toContain('⚠️ **cannot be met**: 0 of 1 needed are eligible');
    expect(markdown).toContain('(`policies/agents/triage.yaml:17`; controls `A.9.2`; OWASP `ASI02`)');
    expect(markdown).toContain('<summary>support-triage · 2 changes</summary>');
    expect(markdown).not.toContain('truncated');
    expectWellFormedTables(markdown);
    expectBalanced(markdown);
  });

  it('draws changed agent-tool edges as a Mermaid flowchart', () => {
    expect(markdown).toContain('```mermaid\nflowchart LR\n  a0_support_triage["support-triage"]\n  t0_zendesk[("zendesk")]\n');
    expect(markdown).toContain('a0_support_triage -->|"+tickets.reply #8722;docs.read ~tickets.comment"| t0_zendesk');
  });

  it('shows the Mermaid block only for 1 to 30 changed edges', () => {
    const graphWith = (edges: number): boolean => {
      const capabilities = Array.from({ length: edges }, (_, index) => ({ agent: 'a', before: [], after: [entry(`tool-${index}`, 'x.read', 'read')] }));
      return diffMarkdown(report(diffOf({ changes: [WIDENED], capabilities }))).includes('```mermaid');
    };
    expect(graphWith(0)).toBe(false);
    expect(graphWith(1)).toBe(true);
    expect(graphWith(30)).toBe(true);
    expect(graphWith(31)).toBe(false);
    const unchanged = diffOf({ changes: [WIDENED], capabilities: [{ agent: 'a', before: [entry('t', 'x', 'read')], after: [entry('t', 'x', 'read')] }] });
    expect(diffMarkdown(report(unchanged))).not.toContain('```mermaid');
  });

  it('renders "No semantic change" alone', () => {
    const markdown = diffMarkdown(report(diffOf({}), []));
    expect(markdown.split('\n')[0]).toBe('### ✅ No semantic change');
    expect(markdown).not.toContain('####');
  });
});

describe('diffMarkdown size cap', () => {
  function hugeReport(count: number): DiffReport {
    const kinds: ChangeKind[] = ['grant-added', 'grant-widened', 'rate-limit-raised', 'agent-details-changed'];
    const changes = Array.from({ length: count }, (_, index) => change(
      kinds[index % kinds.length]!, `agent:agent-${String(Math.floor(index / 5)).padStart(5, '0')}`, index % 3 === 0 ? 'neutral' : 'raises',
      `tool-${index % 40} action-${index}: resources queue/${index}/** -> ** | @owner <b>`, { line: index + 1 },
    ));
    const capabilities = Array.from({ length: count / 5 }, (_, index) => ({
      agent: `agent-${String(index).padStart(5, '0')}`,
      before: [entry('tool-a', 'read', 'read', ['pii'])],
      after: [entry('tool-a', 'read', 'read', ['pii']), entry(`tool-${index}`, 'write', 'write', ['pii'])],
    }));
    const findings = Array.from({ length: count / 2 }, (_, index) => finding({ line: index + 1 }));
    const required = [requirement({ subjects: [...new Set(changes.map((item) => item.subject))] })];
    return report(diffOf({ changes, capabilities, findings: { introduced: findings, fixed: findings.slice(0, 100) } }), required);
  }

  it('keeps a 10,000-change summary under the cap, whole, and says what it left out', () => {
    const big = hugeReport(10_000);
    const started = performance.now();
    const markdown = diffMarkdown(big);
    const elapsed = performance.now() - started;
    expect(elapsed).toBeLessThan(1000);
    expect(markdown.length).toBeLessThanOrEqual(MARKDOWN_LIMIT);
    expect(markdown.length).toBeGreaterThan(MARKDOWN_LIMIT * 0.8);
    const lastLine = markdown.trimEnd().split('\n').pop()!;
    const shown = markdown.split('\n').filter((line) => /^\| `agent-\d+` \|/.test(line)).length;
    expect(lastLine).toBe(`… truncated, ${10_000 - shown} more changes not shown`);
    expect(shown).toBeGreaterThan(50);
    expectBalanced(markdown);
    expectWellFormedTables(markdown);
    expect(markdown).toContain('#### Required approvals');
    expect(markdown).toContain('#### New findings (5000)');
    expect(markdown).toContain('<summary>agent-00000 · 5 changes</summary>');
    expect(markdown).not.toMatch(/@(?!\u200b)/);
  });

  it('honours a smaller limit the same way', () => {
    const markdown = diffMarkdown(hugeReport(200), 5_000);
    expect(markdown.length).toBeLessThanOrEqual(5_000);
    expect(markdown.trimEnd()).toMatch(/… truncated, \d+ more changes not shown$/);
    expectBalanced(markdown);
    expectWellFormedTables(markdown);
  });
});

describe('diffMarkdown on arbitrary policy text', () => {
  const nasty = fc.array(
    fc.constantFrom('<', '>', '|', '`', '\\', '@', '\n', '[', ']', '(', ')', 'a', ' ', '<details>', '</details>', '```', '*', '_', '#', '&', '"', '-', '1.', 'é', '😀'),
    { maxLength: 24 },
  ).map((parts) => parts.join(''));

  it('stays under any limit, keeps tables and blocks whole, and never pings', () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ subject: nasty, summary: nasty, file: nasty, tool: nasty, action: nasty }), { maxLength: 300 }),
        fc.integer({ min: 2_500, max: 30_000 }),
        (items, limit) => {
          const changes = items.map((item, index) => change('grant-added', `agent:${item.subject}`, index % 2 ? 'raises' : 'lowers', item.summary, { file: item.file, line: index }));
          const capabilities = items.slice(0, 40).map((item) => ({ agent: item.subject, before: [], after: [entry(item.tool, item.action, 'write' as const, [item.summary])] }));
          const required = [requirement({ subjects: changes.slice(0, 30).map((item) => item.subject), eligible: items.slice(0, 5).map((item) => ({ person: item.subject, github: item.file })) })];
          const introduced = items.slice(0, 50).map((item) => finding({ message: item.summary, file: item.file }));
          const markdown = diffMarkdown(report(diffOf({ changes, capabilities, findings: { introduced, fixed: [] } }), required), limit);
          expect(markdown.length).toBeLessThanOrEqual(limit);
          expectBalanced(markdown);
          expectWellFormedTables(markdown);
          expect(markdown).not.toMatch(/@(?!\u200b)/);
          if (markdown.includes('… truncated')) expect(markdown.trimEnd()).toMatch(/\n… truncated, \d+ more changes not shown$/);
        },
      ),
      { numRuns: 60 },
    );
  });
});

describe('diffText and diffJson', () => {
  const diff = diffOf({
    changes: [WIDENED, change('grant-removed', 'agent:support-triage', 'lowers', 'zendesk tickets.delete'), change('agent-details-changed', 'agent:x', 'neutral', 'name \u001b[2Jchanged\u202e')],
    capabilities: [{ agent: 'support-triage', before: [entry('zendesk', 'tickets.delete', 'delete')], after: [entry('zendesk', 'tickets.reply', 'egress', ['customer-pii'])], tierBefore: 'high', tierAfter: 'critical' }],
    findings: { introduced: [finding()], fixed: [] },
  });
  const full = report(diff, [requirement(), requirement({ rule: 'exception', subjects: ['agent:x'], from: ['person:carol'], eligible: [], satisfiable: false })]);

  it('groups by subject, colours raises red, lowers green and neutral dim', () => {
    const text = diffText(full, pc.createColors(true));
    expect(text).toContain(pc.red('▲ grant-widened        '));
    expect(text).toContain(pc.green('▼ grant-removed        '));
    expect(text).toContain(pc.dim('· agent-details-changed'));
    const plain = diffText(full, pc.createColors(false));
    expect(plain.split('\n')).toEqual(expect.arrayContaining([
      'agent:support-triage',
      '  capability  computed tier high → critical',
      '    + zendesk tickets.reply  egress  customer-pii  ungated',
      '    - zendesk tickets.delete  delete  ungated',
      '  default  1 from owner or team support  for support-triage',
      '    may approve: alice (alice-ex)',
      '    ✖ cannot be met: 0 of 1 needed eligible',
    ]));
    expect(plain.indexOf('agent:support-triage')).toBeLessThan(plain.indexOf('agent:x'));
  });

  it('lets no control or bidi character from policy files reach the terminal', () => {
    const plain = diffText(full, pc.createColors(false));
    expect(plain).not.toContain('\u001b');
    expect(plain).not.toContain('\u202e');
    expect(plain).toContain('name \ufffd[2Jchanged\ufffd');
  });

  it('prints the CLI.md document', () => {
    const json = JSON.parse(diffJson(full)) as DiffReport;
    expect(Object.keys(json)).toEqual(['apiVersion', 'base', 'mergeBase', 'head', 'verdict', 'changes', 'findings', 'approvals', 'capabilities']);
    expect(json.apiVersion).toBe('mandate/v1');
    expect(json.verdict.risk).toBe('raises');
    expect(json.changes.map((item) => item.subject)).toEqual(['agent:support-triage', 'agent:support-triage', 'agent:x']);
    expect(json.approvals.required[0]).toMatchObject({ rule: 'default', subjects: ['agent:support-triage'], count: 1, from: ['owner', 'team'], eligible: [{ person: 'alice', github: 'alice-ex' }] });
  });
});

describe('end to end with semanticDiff and requiredApprovals', () => {
  it('reports a pull request that widens an agent and lowers the bar of the rule that governs it', async () => {
    const rule = `apiVersion: mandate/v1
kind: ApprovalRule
id: high-risk-scope
when: { changes: [grant-added, grant-widened], riskTiers: [high, critical] }
require: { count: 2, from: [owner, team:security] }
`;
    const base = await snapshotOf({ 'policies/rules.yaml': rule });
    const head = await snapshotOf({
      'policies/rules.yaml': rule.replace('count: 2', 'count: 1'),
      'policies/agents/triage.yaml': BASE_FILES['policies/agents/triage.yaml']!
        .replace('"queue/support/**"', '"**"')
        .replace('tickets.comment]', 'tickets.comment, tickets.reply]')
        .concat('exposure: { untrustedInput: true }\nexceptions:\n  - rule: review-overdue\n    reason: audited by @bob <b>\n    approvedBy: bob\n    expires: 2027-01-15\n'),
    });
    const diff = semanticDiff(base, head);
    const required = requiredApprovals(diff.changes, base, head, { author: 'alice-ex' });
    const full = buildDiffReport({ base: 'b'.repeat(40), mergeBase: 'b'.repeat(40), head: null, diff, required });
    expect(full.verdict).toMatchObject({ risk: 'raises', trifectas: ['support-triage'] });
    expect(full.verdict.headline).toMatch(/^Raises risk: support-triage enters a lethal trifecta; needs 2 approvals from owner or team security/);
    const byRule = new Map(required.map((item) => [item.rule, item]));
    expect(byRule.get('high-risk-scope')).toMatchObject({ count: 2, subjects: ['agent:support-triage'], satisfiable: false, eligible: [{ person: 'bob', github: 'bob-ex' }] });
    expect(byRule.get('exception')).toMatchObject({ from: ['person:bob'], eligible: [{ person: 'bob', github: 'bob-ex' }] });
    expect(byRule.get('governance')?.subjects).toEqual(['approvalrule:high-risk-scope']);
    const markdown = diffMarkdown(full);
    expectWellFormedTables(markdown);
    expectBalanced(markdown);
    expect(markdown).toContain('```mermaid');
    expect(markdown).not.toMatch(/@(?!\u200b)/);
  });
});
