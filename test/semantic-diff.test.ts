import { afterAll, describe, expect, it } from 'vitest';
import type { Change, ChangeKind, SemanticDiff } from '../core/change';
import { CHANGE_KINDS } from '../core/change';
import { CHANGE_MAPPING } from '../core/change-controls';
import { compareChanges } from '../core/change-draft';
import { INVERSE_KIND, inverseRisk, semanticDiff } from '../core/semantic-diff';
import { BASE_FILES, snapshotOf } from './helpers/repo';

const TRIAGE = 'policies/agents/triage.yaml';
const BILLING = 'policies/agents/billing.yaml';
const ZENDESK = 'policies/tools/zendesk.yaml';
const BASE_TRIAGE = BASE_FILES[TRIAGE]!;
const BASE_ZENDESK = BASE_FILES[ZENDESK]!;

/** The base triage agent with text replaced (each `from` must occur) and lines appended. */
function triage(replacements: [from: string, to: string][] = [], append = ''): string {
  return edit(BASE_TRIAGE, replacements) + append;
}

function zendesk(replacements: [from: string, to: string][] = [], append = ''): string {
  return edit(BASE_ZENDESK, replacements) + append;
}

function edit(text: string, replacements: [string, string][]): string {
  let result = text;
  for (const [from, to] of replacements) {
    if (!result.includes(from)) throw new Error(`fixture edit: ${from} not found`);
    result = result.replace(from, to);
  }
  return result;
}

/** A second agent: ungated egress on the billing queue. */
function billing(append = '', status = 'active'): string {
  return `apiVersion: mandate/v1
kind: Agent
id: billing-lookup
name: Billing lookup
purpose: Answers billing questions.
owner: bob
team: security
status: ${status}
riskTier: high
lastReviewed: 2026-10-01
permissions:
  - tool: zendesk
    actions: [tickets.reply]
    resources: ["queue/billing/**"]
${append}`;
}

const seenKinds = new Set<ChangeKind>();

type Files = Record<string, string | null>;

/**
 * Diffs the fixture with `baseFiles` applied against it with `headFiles`
 * applied, checks the reverse diff is the exact inverse (CLI.md: symmetry)
 * and the order, and returns the forward diff.
 */
async function diffOf(baseFiles: Files, headFiles: Files): Promise<SemanticDiff> {
  const base = await snapshotOf(baseFiles);
  const head = await snapshotOf(headFiles);
  const forward = semanticDiff(base, head);
  const reverse = semanticDiff(head, base);
  const signature = (changes: Change[], invert: boolean): string[] =>
    changes
      .map((change) => [invert ? INVERSE_KIND[change.kind] : change.kind, invert ? inverseRisk(change.risk) : change.risk, change.subject, change.tool, change.action].join('|'))
      .sort();
  expect(signature(reverse.changes, true)).toEqual(signature(forward.changes, false));
  expect([...forward.changes].sort(compareChanges)).toEqual(forward.changes);
  expect(reverse.findings).toEqual({ introduced: forward.findings.fixed, fixed: forward.findings.introduced });
  for (const change of forward.changes) {
    seenKinds.add(change.kind);
    expect(change.controls).toEqual(CHANGE_MAPPING[change.kind].controls);
    expect(change.owasp).toEqual(CHANGE_MAPPING[change.kind].owasp);
    expect(change.line).toBeGreaterThan(0);
  }
  for (const change of reverse.changes) seenKinds.add(change.kind);
  return forward;
}

/** The changes of a diff without controls, for compact expectations. */
function brief(diff: SemanticDiff): Partial<Change>[] {
  return diff.changes.map(({ kind, risk, subject, summary, file, line, tool, action }) => {
    const short: Partial<Change> = { kind, risk, subject, summary, file, line };
    if (tool !== undefined) short.tool = tool;
    if (action !== undefined) short.action = action;
    return short;
  });
}

function kindsOf(diff: SemanticDiff): string[] {
  return diff.changes.map((change) => `${change.kind} ${change.subject}${change.action ? ` ${change.tool} ${change.action}` : ''}`);
}

afterAll(() => {
  // Every kind CLI.md names is produced by at least one pair in this file.
  expect(CHANGE_KINDS.filter((kind) => !seenKinds.has(kind))).toEqual([]);
});

describe('no change', () => {
  it('is empty for a snapshot against itself', async () => {
    const diff = await diffOf({}, {});
    expect(diff).toEqual({ changes: [], trifectas: [], findings: { introduced: [], fixed: [] }, capabilities: [] });
  });
});

describe('no-op refactors yield zero changes', () => {
  const empty = { changes: [], trifectas: [], findings: { introduced: [], fixed: [] }, capabilities: [] };

  it('moving a document to another file', async () => {
    expect(await diffOf({}, { [TRIAGE]: null, 'policies/teams/support/triage-agent.yml': BASE_TRIAGE })).toEqual(empty);
  });

  it('merging documents into one file and splitting a multi-document file', async () => {
    const people = BASE_FILES['policies/people.yaml']!;
    const teams = BASE_FILES['policies/teams.yaml']!;
    const [pii, docs, card] = BASE_FILES['policies/data.yaml']!.split('---\n');
    const head = {
      'policies/people.yaml': null,
      'policies/teams.yaml': null,
      'policies/org.yaml': `${people}---\n${teams}`,
      'policies/data.yaml': null,
      'policies/data/pii.yaml': pii!,
      'policies/data/docs.yaml': docs!,
      'policies/data/card.yaml': card!,
    };
    expect(await diffOf({}, head)).toEqual(empty);
  });

  it('reordering keys and list items', async () => {
    const reordered = `permissions:
  - justification: Reads and annotates tickets in its own queue.
    resources: ["queue/support/**"]
    actions: [tickets.comment, tickets.read]
    tool: zendesk
lastReviewed: 2026-10-01
riskTier: medium
status: active
team: support
owner: alice
purpose: Classify inbound tickets.
name: Support triage
id: support-triage
kind: Agent
apiVersion: mandate/v1
`;
    const tool = `apiVersion: mandate/v1
kind: Tool
id: zendesk
actions:
  docs.read: { data: [public-docs], effect: read }
  tickets.delete: { effect: delete }
  tickets.reply: { data: [customer-pii], effect: egress }
  tickets.comment: { effect: write, data: [customer-pii] }
  tickets.read: { effect: read, data: [customer-pii] }
vetting: { reviewer: bob, status: approved, reviewedAt: 2026-08-12 }
thirdParty: true
vendor: Zendesk Inc.
type: api
name: Zendesk
`;
    const teams = BASE_FILES['policies/teams.yaml']!.split('---\n').reverse().join('---\n');
    expect(await diffOf({}, { [TRIAGE]: reordered, [ZENDESK]: tool, 'policies/teams.yaml': teams })).toEqual(empty);
  });

  it('reordering permissions, delegations and aliases, and splitting one permission into two equal ones', async () => {
    const base = {
      [TRIAGE]: triage([['lastReviewed: 2026-10-01', 'lastReviewed: 2026-10-01\naliases: [a1, a2]\ndelegatesTo: [billing-lookup]']]),
      [BILLING]: billing(),
    };
    const head = {
      [TRIAGE]: triage([
        ['lastReviewed: 2026-10-01', 'lastReviewed: 2026-10-01\naliases: [a2, a1]\ndelegatesTo: [billing-lookup]'],
        ['    actions: [tickets.read, tickets.comment]\n    resources: ["queue/support/**"]\n',
          '    actions: [tickets.comment]\n    resources: ["queue/support/**"]\n    justification: Reads and annotates tickets in its own queue.\n  - tool: zendesk\n    actions: [tickets.read]\n    resources: ["queue/support/**"]\n'],
      ]),
      [BILLING]: billing(),
    };
    expect(await diffOf(base, head)).toEqual(empty);
  });

  it('comments and formatting', async () => {
    const reformatted = `# Support triage, owned by alice.
apiVersion: "mandate/v1"
kind: 'Agent'
id: support-triage   # stable id
name: >-
  Support triage
purpose: "Classify inbound tickets."
owner: alice
team: support
status: active
riskTier: medium
lastReviewed: 2026-10-01
permissions:
  # the only grant
  - { tool: zendesk, actions: [ tickets.read,
        tickets.comment ], resources: [ 'queue/support/**' ],
      justification: Reads and annotates tickets in its own queue. }
`;
    expect(await diffOf({}, { [TRIAGE]: reformatted })).toEqual(empty);
  });

  it('writing a default explicitly in mandate.yaml', async () => {
    expect(await diffOf({}, { 'mandate.yaml': 'apiVersion: mandate/v1\nkind: Config\nreviewIntervalDays: 180\ndefaultApproval: { from: [team, owner], count: 1 }\n' })).toEqual(empty);
  });
});

describe('agent changes', () => {
  it('agent-added / agent-removed, with the new agent\'s grants but no repeated capability', async () => {
    const diff = await diffOf({}, { [BILLING]: billing() });
    expect(brief(diff)).toEqual([
      { kind: 'agent-added', risk: 'raises', subject: 'agent:billing-lookup', summary: 'agent added (active, declared tier high)', file: BILLING, line: 1 },
      {
        kind: 'grant-added', risk: 'raises', subject: 'agent:billing-lookup', summary: 'zendesk tickets.reply: granted on queue/billing/**',
        file: BILLING, line: 12, tool: 'zendesk', action: 'tickets.reply',
      },
    ]);
    expect(diff.capabilities).toMatchObject([{ agent: 'billing-lookup', before: [], tierAfter: 'high' }]);
    expect(diff.capabilities[0]!.tierBefore).toBeUndefined();
    const removed = await diffOf({ [BILLING]: billing() }, {});
    expect(kindsOf(removed)).toEqual(['agent-removed agent:billing-lookup', 'grant-removed agent:billing-lookup zendesk tickets.reply']);
    expect(removed.changes[0]).toMatchObject({ file: BILLING, line: 1, risk: 'lowers' });
  });

  it('agent-status-changed: to active raises, from active lowers, otherwise neutral', async () => {
    const suspended = await diffOf({}, { [TRIAGE]: triage([['status: active', 'status: suspended']]) });
    expect(brief(suspended)).toEqual([
      { kind: 'agent-status-changed', risk: 'lowers', subject: 'agent:support-triage', summary: 'status active -> suspended', file: TRIAGE, line: 8 },
    ]);
    const proposed = { [TRIAGE]: triage([['status: active', 'status: proposed']]) };
    const retired = { [TRIAGE]: triage([['status: active', 'status: retired']]) };
    expect((await diffOf(proposed, {})).changes[0]).toMatchObject({ risk: 'raises', summary: 'status proposed -> active' });
    expect((await diffOf(proposed, retired)).changes.find((change) => change.kind === 'agent-status-changed')).toMatchObject({ risk: 'neutral' });
  });

  it('owner-changed and agent-team-changed are neutral', async () => {
    const diff = await diffOf({}, { [TRIAGE]: triage([['owner: alice', 'owner: bob'], ['team: support', 'team: security']]) });
    expect(brief(diff)).toEqual([
      { kind: 'agent-team-changed', risk: 'neutral', subject: 'agent:support-triage', summary: 'team support -> security', file: TRIAGE, line: 7 },
      { kind: 'owner-changed', risk: 'neutral', subject: 'agent:support-triage', summary: 'owner alice -> bob', file: TRIAGE, line: 6 },
    ]);
  });

  it('risk-tier-raised / risk-tier-lowered concern the declared tier', async () => {
    const diff = await diffOf({}, { [TRIAGE]: triage([['riskTier: medium', 'riskTier: critical']]) });
    expect(brief(diff)).toEqual([
      { kind: 'risk-tier-raised', risk: 'raises', subject: 'agent:support-triage', summary: 'declared risk tier medium -> critical', file: TRIAGE, line: 9 },
    ]);
    const lowered = await diffOf({}, { [TRIAGE]: triage([['riskTier: medium', 'riskTier: low']]) });
    expect(kindsOf(lowered)).toEqual(['risk-tier-lowered agent:support-triage']);
    expect(lowered.findings.introduced.map((finding) => finding.rule)).toEqual(['risk-tier-understated']);
  });

  it('agent-details-changed: name, purpose, model, review date, aliases, justifications', async () => {
    const diff = await diffOf({}, {
      [TRIAGE]: triage([
        ['name: Support triage', 'name: Support triage bot'],
        ['purpose: Classify inbound tickets.', 'purpose: Classify and route inbound tickets.\nmodel: { provider: anthropic, name: claude }\naliases: [asst_1]'],
        ['lastReviewed: 2026-10-01', 'lastReviewed: 2026-11-01'],
        ['justification: Reads and annotates tickets in its own queue.', 'justification: Works its own queue.'],
      ]),
    });
    expect(brief(diff)).toEqual([
      {
        kind: 'agent-details-changed', risk: 'neutral', subject: 'agent:support-triage',
        summary: 'details changed: name, purpose, model, lastReviewed, aliases, justification', file: TRIAGE, line: 4,
      },
    ]);
  });

  it('exposure-changed: untrusted input raises', async () => {
    const diff = await diffOf({}, { [TRIAGE]: triage([], 'exposure:\n  untrustedInput: true\n') });
    expect(brief(diff)).toEqual([
      { kind: 'exposure-changed', risk: 'raises', subject: 'agent:support-triage', summary: 'untrusted input no -> yes', file: TRIAGE, line: 17 },
    ]);
    expect(diff.capabilities).toMatchObject([{ agent: 'support-triage', tierBefore: 'medium', tierAfter: 'medium' }]);
  });
});

describe('delegation', () => {
  it('delegation-added brings capability-gained via the delegate, and no grant-*', async () => {
    const diff = await diffOf({ [BILLING]: billing() }, { [BILLING]: billing(), [TRIAGE]: triage([], 'delegatesTo: [billing-lookup]\n') });
    expect(brief(diff)).toEqual([
      {
        kind: 'capability-gained', risk: 'raises', subject: 'agent:support-triage', summary: 'zendesk tickets.reply: now reachable via delegate billing-lookup',
        file: TRIAGE, line: 16, tool: 'zendesk', action: 'tickets.reply',
      },
      { kind: 'delegation-added', risk: 'raises', subject: 'agent:support-triage', summary: 'delegates to billing-lookup', file: TRIAGE, line: 16 },
    ]);
    expect(diff.capabilities).toMatchObject([{ agent: 'support-triage', tierBefore: 'medium', tierAfter: 'high' }]);
  });

  it('a delegate gaining a grant: grant-added on the delegate, capability-gained on the delegating agent', async () => {
    const delegating = triage([], 'delegatesTo: [billing-lookup]\n');
    const diff = await diffOf(
      { [BILLING]: billing(), [TRIAGE]: delegating },
      { [BILLING]: billing('  - tool: zendesk\n    actions: [tickets.delete]\n    approval: required\n'), [TRIAGE]: delegating },
    );
    expect(kindsOf(diff)).toEqual([
      'grant-added agent:billing-lookup zendesk tickets.delete',
      'capability-gained agent:support-triage zendesk tickets.delete',
    ]);
    expect(diff.changes[1]!.summary).toBe('zendesk tickets.delete: now reachable via delegate billing-lookup');
  });

  it('a delegate suspended: capability-lost on the delegating agent', async () => {
    const delegating = triage([], 'delegatesTo: [billing-lookup]\n');
    const diff = await diffOf({ [BILLING]: billing(), [TRIAGE]: delegating }, { [BILLING]: billing('', 'suspended'), [TRIAGE]: delegating });
    expect(kindsOf(diff)).toEqual([
      'agent-status-changed agent:billing-lookup',
      'capability-lost agent:support-triage zendesk tickets.reply',
    ]);
    expect(diff.changes[1]).toMatchObject({ risk: 'lowers', summary: 'zendesk tickets.reply: no longer reachable via delegate billing-lookup' });
  });
});

describe('grants as expanded triples', () => {
  it('grant-added and grant-removed per (tool, action)', async () => {
    const diff = await diffOf({}, {
      [TRIAGE]: triage([], '  - tool: zendesk\n    actions: [tickets.reply]\n    approval: required\n    rateLimit: { max: 10, per: hour }\n    expires: 2027-01-31\n'),
    });
    expect(brief(diff)).toEqual([
      {
        kind: 'grant-added', risk: 'raises', subject: 'agent:support-triage',
        summary: 'zendesk tickets.reply: granted on **, approval required, 10/hour, expires 2027-01-31',
        file: TRIAGE, line: 16, tool: 'zendesk', action: 'tickets.reply',
      },
    ]);
    const removed = await diffOf({}, { [TRIAGE]: triage([['actions: [tickets.read, tickets.comment]', 'actions: [tickets.read]']]) });
    expect(brief(removed)).toEqual([
      {
        kind: 'grant-removed', risk: 'lowers', subject: 'agent:support-triage',
        summary: 'zendesk tickets.comment: no longer granted (was on queue/support/**)',
        file: TRIAGE, line: 12, tool: 'zendesk', action: 'tickets.comment',
      },
    ]);
  });

  it('grant-widened when head covers a resource base did not', async () => {
    const diff = await diffOf({}, { [TRIAGE]: triage([['resources: ["queue/support/**"]', 'resources: ["**"]']]) });
    expect(brief(diff)).toEqual([
      {
        kind: 'grant-widened', risk: 'raises', subject: 'agent:support-triage', summary: 'zendesk tickets.comment: resources queue/support/** -> **',
        file: TRIAGE, line: 12, tool: 'zendesk', action: 'tickets.comment',
      },
      {
        kind: 'grant-widened', risk: 'raises', subject: 'agent:support-triage', summary: 'zendesk tickets.read: resources queue/support/** -> **',
        file: TRIAGE, line: 12, tool: 'zendesk', action: 'tickets.read',
      },
    ]);
    expect(diff.findings.introduced.map((finding) => finding.rule)).toEqual(['wildcard-write']);
  });

  it('grant-narrowed, and both kinds when resources move both ways', async () => {
    const narrowed = await diffOf({}, { [TRIAGE]: triage([['resources: ["queue/support/**"]', 'resources: ["queue/support/urgent/*"]']]) });
    expect(kindsOf(narrowed)).toEqual([
      'grant-narrowed agent:support-triage zendesk tickets.comment',
      'grant-narrowed agent:support-triage zendesk tickets.read',
    ]);
    expect(narrowed.changes[0]!.summary).toBe('zendesk tickets.comment: resources queue/support/** -> queue/support/urgent/*');
    const moved = await diffOf({}, { [TRIAGE]: triage([['actions: [tickets.read, tickets.comment]', 'actions: [tickets.read]'], ['"queue/support/**"', '"queue/sales/**"']]) });
    expect(kindsOf(moved)).toEqual([
      'grant-narrowed agent:support-triage zendesk tickets.read',
      'grant-removed agent:support-triage zendesk tickets.comment',
      'grant-widened agent:support-triage zendesk tickets.read',
    ]);
  });

  it('decides resources on meaning: an equivalent or covered pattern is no change', async () => {
    const diff = await diffOf({}, { [TRIAGE]: triage([['resources: ["queue/support/**"]', 'resources: ["queue/support/**", "queue/support/a/*"]']]) });
    expect(diff.changes).toEqual([]);
  });

  it('approval-gate-added when every grant reaching the triple is gated', async () => {
    const diff = await diffOf({}, { [TRIAGE]: triage([['    justification:', '    approval: required\n    justification:']]) });
    expect(kindsOf(diff)).toEqual([
      'approval-gate-added agent:support-triage zendesk tickets.comment',
      'approval-gate-added agent:support-triage zendesk tickets.read',
    ]);
    expect(diff.changes[0]).toMatchObject({ risk: 'lowers', summary: 'zendesk tickets.comment: approval gate added' });
    // the own gate change explains the capability change: no capability-lost repeats it
    expect(diff.capabilities).toHaveLength(1);
  });

  it('approval-gate-removed when an ungated grant joins a gated one', async () => {
    const gated = triage([['    justification:', '    approval: required\n    justification:']]);
    const diff = await diffOf({ [TRIAGE]: gated }, { [TRIAGE]: `${gated}  - tool: zendesk\n    actions: [tickets.comment]\n    resources: ["queue/support/**"]\n` });
    expect(brief(diff)).toEqual([
      {
        kind: 'approval-gate-removed', risk: 'raises', subject: 'agent:support-triage', summary: 'zendesk tickets.comment: approval gate removed',
        file: TRIAGE, line: 17, tool: 'zendesk', action: 'tickets.comment',
      },
    ]);
  });

  it('rate-limit-lowered when a limit is added, rate-limit-raised when it grows', async () => {
    const hundred = triage([['    justification:', '    rateLimit: { max: 100, per: hour }\n    justification:']]);
    const added = await diffOf({}, { [TRIAGE]: hundred });
    expect(added.changes.map((change) => [change.kind, change.risk, change.summary])).toEqual([
      ['rate-limit-lowered', 'lowers', 'zendesk tickets.comment: rate no limit -> 100/hour'],
      ['rate-limit-lowered', 'lowers', 'zendesk tickets.read: rate no limit -> 100/hour'],
    ]);
    const raised = await diffOf({ [TRIAGE]: hundred }, { [TRIAGE]: hundred.replace('{ max: 100, per: hour }', '{ max: 10, per: minute }') });
    expect(raised.changes.map((change) => [change.kind, change.risk, change.summary])).toEqual([
      ['rate-limit-raised', 'raises', 'zendesk tickets.comment: rate 100/hour -> 10/minute'],
      ['rate-limit-raised', 'raises', 'zendesk tickets.read: rate 100/hour -> 10/minute'],
    ]);
    const same = await diffOf({ [TRIAGE]: hundred }, { [TRIAGE]: hundred.replace('{ max: 100, per: hour }', '{ max: 2400, per: day }') });
    expect(same.changes).toEqual([]);
  });

  it('expiry-shortened when an expiry is added, expiry-extended when it moves later', async () => {
    const expiring = triage([['    justification:', '    expires: 2027-01-31\n    justification:']]);
    const added = await diffOf({}, { [TRIAGE]: expiring });
    expect(added.changes.map((change) => [change.kind, change.risk, change.summary])).toEqual([
      ['expiry-shortened', 'lowers', 'zendesk tickets.comment: expires never -> 2027-01-31'],
      ['expiry-shortened', 'lowers', 'zendesk tickets.read: expires never -> 2027-01-31'],
    ]);
    const extended = await diffOf({ [TRIAGE]: expiring }, { [TRIAGE]: expiring.replace('2027-01-31', '2027-06-30') });
    expect(extended.changes.map((change) => change.kind)).toEqual(['expiry-extended', 'expiry-extended']);
  });

  it('an expiry moved into the past loses the capability through expiry-shortened alone', async () => {
    const diff = await diffOf({}, { [TRIAGE]: triage([['    justification:', '    expires: 2026-01-31\n    justification:']]) });
    expect(kindsOf(diff)).toEqual([
      'expiry-shortened agent:support-triage zendesk tickets.comment',
      'expiry-shortened agent:support-triage zendesk tickets.read',
    ]);
    expect(diff.capabilities).toMatchObject([{ agent: 'support-triage', after: [] }]);
  });
});

describe('denies and exceptions', () => {
  it('deny-added (also widened) lowers; deny-removed (also narrowed) raises', async () => {
    const narrow = triage([], 'deny:\n  - tool: zendesk\n    actions: [tickets.comment]\n    resources: ["queue/support/vip/**"]\n');
    const added = await diffOf({}, { [TRIAGE]: narrow });
    expect(brief(added)).toEqual([
      {
        kind: 'deny-added', risk: 'lowers', subject: 'agent:support-triage', summary: 'zendesk tickets.comment: denied on queue/support/vip/**',
        file: TRIAGE, line: 17, tool: 'zendesk', action: 'tickets.comment',
      },
    ]);
    const everywhere = narrow.replace('    resources: ["queue/support/vip/**"]\n', '');
    const widened = await diffOf({ [TRIAGE]: narrow }, { [TRIAGE]: everywhere });
    // the deny now removes the pair; the own deny change explains it, so no capability-lost repeats it
    expect(brief(widened)).toEqual([
      {
        kind: 'deny-added', risk: 'lowers', subject: 'agent:support-triage', summary: 'zendesk tickets.comment: denied resources queue/support/vip/** -> **',
        file: TRIAGE, line: 17, tool: 'zendesk', action: 'tickets.comment',
      },
    ]);
    expect(widened.capabilities).toHaveLength(1);
    const removed = await diffOf({ [TRIAGE]: narrow }, {});
    expect(removed.changes).toMatchObject([{ kind: 'deny-removed', risk: 'raises', summary: 'zendesk tickets.comment: no longer denied (was on queue/support/vip/**)' }]);
  });

  it('exception-added (also extended) raises; exception-removed (also shortened) lowers', async () => {
    const exception = (expires: string, approvedBy = 'bob'): string =>
      triage([], `exceptions:\n  - rule: wildcard-write\n    reason: Triage needs every queue.\n    approvedBy: ${approvedBy}\n    expires: ${expires}\n`);
    const added = await diffOf({}, { [TRIAGE]: exception('2027-01-15') });
    expect(brief(added)).toEqual([
      {
        kind: 'exception-added', risk: 'raises', subject: 'agent:support-triage', summary: 'exception to wildcard-write approved by bob, expires 2027-01-15',
        file: TRIAGE, line: 17,
      },
    ]);
    const extended = await diffOf({ [TRIAGE]: exception('2027-01-15') }, { [TRIAGE]: exception('2027-03-01') });
    expect(extended.changes).toMatchObject([{ kind: 'exception-added', risk: 'raises', summary: 'exception to wildcard-write approved by bob: expires 2027-01-15 -> 2027-03-01' }]);
    const shortened = await diffOf({ [TRIAGE]: exception('2027-03-01') }, { [TRIAGE]: exception('2027-01-15') });
    expect(shortened.changes).toMatchObject([{ kind: 'exception-removed', risk: 'lowers' }]);
    const reapproved = await diffOf({ [TRIAGE]: exception('2027-01-15') }, { [TRIAGE]: exception('2027-01-15', 'alice') });
    expect(kindsOf(reapproved)).toEqual(['exception-added agent:support-triage', 'exception-removed agent:support-triage']);
  });
});

describe('tools', () => {
  const slack = `apiVersion: mandate/v1
kind: Tool
id: slack
name: Slack
type: api
actions:
  messages.post: { effect: egress }
`;

  it('tool-added / tool-removed', async () => {
    const diff = await diffOf({}, { 'policies/tools/slack.yaml': slack });
    expect(brief(diff)).toEqual([
      { kind: 'tool-added', risk: 'raises', subject: 'tool:slack', summary: 'tool added (api tool with 1 action)', file: 'policies/tools/slack.yaml', line: 1, tool: 'slack' },
    ]);
  });

  it('tool-action-added reaches a glob grant as capability-gained, not grant-added', async () => {
    const globbing = triage([['actions: [tickets.read, tickets.comment]', 'actions: ["tickets.*"]']]);
    const diff = await diffOf({ [TRIAGE]: globbing }, { [TRIAGE]: globbing, [ZENDESK]: zendesk([], '  tickets.merge: { effect: write }\n') });
    expect(brief(diff)).toEqual([
      {
        kind: 'capability-gained', risk: 'raises', subject: 'agent:support-triage', summary: 'zendesk tickets.merge: now reachable: action added to the tool',
        file: TRIAGE, line: 12, tool: 'zendesk', action: 'tickets.merge',
      },
      {
        kind: 'tool-action-added', risk: 'raises', subject: 'tool:zendesk', summary: 'action tickets.merge added (write)',
        file: ZENDESK, line: 15, tool: 'zendesk', action: 'tickets.merge',
      },
    ]);
  });

  it('tool-action-removed', async () => {
    const diff = await diffOf({}, { [ZENDESK]: zendesk([['  tickets.delete: { effect: delete }\n', '']]) });
    expect(brief(diff)).toEqual([
      {
        kind: 'tool-action-removed', risk: 'lowers', subject: 'tool:zendesk', summary: 'action tickets.delete removed (was delete)',
        file: ZENDESK, line: 13, tool: 'zendesk', action: 'tickets.delete',
      },
    ]);
  });

  it('tool-action-reclassified: every agent reaching it gains, and a new trifecta is reported', async () => {
    const exposed = triage([], 'exposure: { untrustedInput: true }\n');
    const diff = await diffOf({ [TRIAGE]: exposed }, {
      [TRIAGE]: exposed,
      [ZENDESK]: zendesk([['tickets.comment: { effect: write, data: [customer-pii] }', 'tickets.comment: { effect: egress, data: [customer-pii] }']]),
    });
    expect(brief(diff)).toEqual([
      {
        kind: 'capability-gained', risk: 'raises', subject: 'agent:support-triage', summary: 'zendesk tickets.comment: reclassified write -> egress',
        file: TRIAGE, line: 12, tool: 'zendesk', action: 'tickets.comment',
      },
      {
        kind: 'tool-action-reclassified', risk: 'raises', subject: 'tool:zendesk', summary: 'tickets.comment reclassified write -> egress',
        file: ZENDESK, line: 11, tool: 'zendesk', action: 'tickets.comment',
      },
    ]);
    expect(diff.trifectas).toEqual(['support-triage']);
    expect(diff.capabilities).toMatchObject([{ agent: 'support-triage', tierBefore: 'medium', tierAfter: 'critical' }]);
    expect(diff.findings.introduced.map((finding) => finding.rule).sort()).toEqual(['lethal-trifecta', 'risk-tier-understated']);
  });

  it('tool-action-reclassified between equal effects, or with effect and data moving apart, is neutral', async () => {
    const deleting = triage([], '  - tool: zendesk\n    actions: [tickets.delete]\n    approval: required\n');
    const sideways = await diffOf({ [TRIAGE]: deleting }, {
      [TRIAGE]: deleting,
      [ZENDESK]: zendesk([['tickets.delete: { effect: delete }', 'tickets.delete: { effect: execute }']]),
    });
    // the tool change has no direction; an agent reaching the action gains execute and loses delete
    expect(sideways.changes.map((change) => [change.kind, change.risk, change.summary])).toEqual([
      ['capability-gained', 'raises', 'zendesk tickets.delete: reclassified delete -> execute'],
      ['capability-lost', 'lowers', 'zendesk tickets.delete: reclassified delete -> execute'],
      ['tool-action-reclassified', 'neutral', 'tickets.delete reclassified delete -> execute'],
    ]);
    const mixed = await diffOf({}, { [ZENDESK]: zendesk([['tickets.read: { effect: read, data: [customer-pii] }', 'tickets.read: { effect: write, data: [public-docs] }']]) });
    expect(mixed.changes.find((change) => change.kind === 'tool-action-reclassified')).toMatchObject({
      risk: 'neutral', summary: 'tickets.read reclassified read -> write, data customer-pii -> public-docs',
    });
    // the agent gets both directions, each with its causes
    expect(mixed.changes.filter((change) => change.subject === 'agent:support-triage').map((change) => [change.kind, change.summary])).toEqual([
      ['capability-gained', 'zendesk tickets.read: reclassified read -> write; data +public-docs'],
      ['capability-lost', 'zendesk tickets.read: data -customer-pii'],
    ]);
  });

  it('tool-vetting-changed: to approved raises, away from approved lowers', async () => {
    const pending = await diffOf({}, { [ZENDESK]: zendesk([['status: approved', 'status: pending']]) });
    expect(brief(pending)).toEqual([
      { kind: 'tool-vetting-changed', risk: 'lowers', subject: 'tool:zendesk', summary: 'vetting approved -> pending', file: ZENDESK, line: 8, tool: 'zendesk' },
    ]);
    const rejected = await diffOf({}, { [ZENDESK]: zendesk([['status: approved', 'status: rejected']]) });
    expect(kindsOf(rejected)).toEqual([
      'capability-lost agent:support-triage zendesk tickets.comment',
      'capability-lost agent:support-triage zendesk tickets.read',
      'tool-vetting-changed tool:zendesk',
    ]);
    expect(rejected.changes[0]!.summary).toBe('zendesk tickets.comment: no longer reachable: tool vetting now rejected');
    const review = await diffOf({}, { [ZENDESK]: zendesk([['reviewedAt: 2026-08-12', 'reviewedAt: 2026-09-01']]) });
    expect(review.changes).toMatchObject([{ kind: 'tool-vetting-changed', risk: 'neutral', summary: 'vetting review changed (still approved)' }]);
  });

  it('tool-changed: untrusted content raises, other fields are neutral', async () => {
    const diff = await diffOf({}, { [ZENDESK]: zendesk([['name: Zendesk', 'name: Zendesk Support\nuntrustedContent: true']]) });
    expect(brief(diff)).toEqual([
      { kind: 'tool-changed', risk: 'raises', subject: 'tool:zendesk', summary: 'tool changed: name, untrusted content no -> yes', file: ZENDESK, line: 4, tool: 'zendesk' },
    ]);
    expect(diff.capabilities).toMatchObject([{ agent: 'support-triage' }]);
    const renamed = await diffOf({}, { [ZENDESK]: zendesk([['name: Zendesk', 'name: Zendesk Support']]) });
    expect(renamed.changes).toMatchObject([{ kind: 'tool-changed', risk: 'neutral' }]);
  });
});

describe('other documents', () => {
  it('dataclass-changed: more sensitive raises, and every agent touching it gains', async () => {
    const data = BASE_FILES['policies/data.yaml']!;
    const diff = await diffOf({}, { 'policies/data.yaml': data.replace('sensitivity: confidential', 'sensitivity: restricted') });
    expect(brief(diff)).toEqual([
      {
        kind: 'capability-gained', risk: 'raises', subject: 'agent:support-triage', summary: 'zendesk tickets.comment: data customer-pii confidential -> restricted',
        file: TRIAGE, line: 12, tool: 'zendesk', action: 'tickets.comment',
      },
      {
        kind: 'capability-gained', risk: 'raises', subject: 'agent:support-triage', summary: 'zendesk tickets.read: data customer-pii confidential -> restricted',
        file: TRIAGE, line: 12, tool: 'zendesk', action: 'tickets.read',
      },
      { kind: 'dataclass-changed', risk: 'raises', subject: 'dataclass:customer-pii', summary: 'data class changed: sensitivity confidential -> restricted', file: 'policies/data.yaml', line: 4 },
    ]);
  });

  it('person-changed and team-changed are neutral', async () => {
    const people = `${BASE_FILES['policies/people.yaml']!.replace('github: bob-ex', 'github: bob-example')}---\napiVersion: mandate/v1\nkind: Person\nid: carol\nname: Carol\n`;
    const teams = BASE_FILES['policies/teams.yaml']!.replace('members: [bob]', 'members: [carol, bob]');
    const diff = await diffOf({}, { 'policies/people.yaml': people, 'policies/teams.yaml': teams });
    expect(brief(diff)).toEqual([
      { kind: 'person-changed', risk: 'neutral', subject: 'person:bob', summary: 'person changed: github', file: 'policies/people.yaml', line: 11 },
      { kind: 'person-changed', risk: 'neutral', subject: 'person:carol', summary: 'person added', file: 'policies/people.yaml', line: 13 },
      { kind: 'team-changed', risk: 'neutral', subject: 'team:security', summary: 'team changed: members +carol', file: 'policies/teams.yaml', line: 9 },
    ]);
  });

  const guardrail = (require: string, severity = 'warning'): string => `apiVersion: mandate/v1
kind: Guardrail
id: deletes-need-human
description: Deleting needs a human.
severity: ${severity}
match: { effects: [write] }
require: ${require}
`;
  const GUARDRAIL = 'controls/guardrails/deletes.yaml';

  it('guardrail-changed: added lowers, removed raises; a stricter or looser requirement is judged', async () => {
    const added = await diffOf({}, { [GUARDRAIL]: guardrail('{ approval: required }') });
    expect(kindsOf(added)).toEqual(['capability-lost agent:support-triage zendesk tickets.comment', 'guardrail-changed guardrail:deletes-need-human']);
    expect(added.changes[0]!.summary).toBe('zendesk tickets.comment: now approval-gated');
    expect(added.changes[1]).toMatchObject({ risk: 'lowers', summary: 'guardrail added (warning; requires approval)', file: GUARDRAIL, line: 1 });
    const tighter = await diffOf({ [GUARDRAIL]: guardrail('{ justification: true }') }, { [GUARDRAIL]: guardrail('{ justification: true, maxRate: { max: 5, per: hour } }', 'error') });
    expect(tighter.changes).toMatchObject([{ kind: 'guardrail-changed', risk: 'lowers' }]);
    const mixed = await diffOf({ [GUARDRAIL]: guardrail('{ justification: true }') }, { [GUARDRAIL]: guardrail('{ maxRate: { max: 5, per: hour } }') });
    expect(mixed.changes).toMatchObject([{ kind: 'guardrail-changed', risk: 'neutral' }]);
  });

  it('approval-rule-changed: added lowers, a higher count lowers', async () => {
    const rule = (count: number): string => `apiVersion: mandate/v1
kind: ApprovalRule
id: high-risk-scope
when: { changes: [grant-added, grant-widened], riskTiers: [high, critical] }
require: { count: ${count}, from: [owner, team:security] }
`;
    const added = await diffOf({}, { 'controls/approvals.yaml': rule(1) });
    expect(brief(added)).toEqual([
      {
        kind: 'approval-rule-changed', risk: 'lowers', subject: 'approvalrule:high-risk-scope', summary: 'approval rule added (1 from owner, team:security)',
        file: 'controls/approvals.yaml', line: 1,
      },
    ]);
    const stricter = await diffOf({ 'controls/approvals.yaml': rule(1) }, { 'controls/approvals.yaml': rule(2) });
    expect(stricter.changes).toMatchObject([{ risk: 'lowers', summary: 'approval rule changed: require 1 from owner, team:security -> 2 from owner, team:security' }]);
  });

  it('controls-changed for the Statement of Applicability', async () => {
    const soa = (status: string): string => `apiVersion: mandate/v1
kind: Applicability
id: soa
decisions:
  - control: A.6.2.8
    applicable: true
    status: ${status}
    justification: Every call is logged.
  - control: A.9.2
    applicable: true
    status: implemented
    justification: Grants are reviewed.
`;
    const diff = await diffOf({ 'controls/soa.yaml': soa('planned') }, { 'controls/soa.yaml': soa('implemented') });
    expect(brief(diff)).toEqual([
      {
        kind: 'controls-changed', risk: 'neutral', subject: 'applicability:soa', summary: 'statement of applicability changed: decisions on A.6.2.8',
        file: 'controls/soa.yaml', line: 4,
      },
    ]);
  });

  it('config-changed is neutral and points at mandate.yaml', async () => {
    const diff = await diffOf({}, { 'mandate.yaml': 'apiVersion: mandate/v1\nkind: Config\nreviewIntervalDays: 90\nrules: { wildcard-write: error }\n' });
    expect(brief(diff)).toEqual([
      { kind: 'config-changed', risk: 'neutral', subject: 'config', summary: 'configuration changed: reviewIntervalDays, rules', file: 'mandate.yaml', line: 1 },
    ]);
  });
});

describe('findings', () => {
  it('introduced and fixed are compared by rule, subject and message, not position', async () => {
    const wide = triage([['resources: ["queue/support/**"]', 'resources: ["**"]']]);
    const moved = `# moved down\n\n${wide}`;
    const diff = await diffOf({ [TRIAGE]: wide }, { [TRIAGE]: moved });
    expect(diff.findings).toEqual({ introduced: [], fixed: [] });
    const fixed = await diffOf({ [TRIAGE]: wide }, {});
    expect(fixed.findings.fixed.map((finding) => finding.rule)).toEqual(['wildcard-write']);
    expect(fixed.findings.introduced).toEqual([]);
  });
});

describe('inverse kinds', () => {
  it('pairs every kind with its inverse, and the rest with themselves', () => {
    for (const kind of CHANGE_KINDS) expect(INVERSE_KIND[INVERSE_KIND[kind]]).toBe(kind);
    expect(INVERSE_KIND['grant-widened']).toBe('grant-narrowed');
    expect(INVERSE_KIND['capability-gained']).toBe('capability-lost');
    expect(INVERSE_KIND['tool-action-reclassified']).toBe('tool-action-reclassified');
    expect(INVERSE_KIND['agent-status-changed']).toBe('agent-status-changed');
  });
});
