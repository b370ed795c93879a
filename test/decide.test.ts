import { beforeAll, describe, expect, it } from 'vitest';
import { dayOf } from '../core/dates';
import type { Call, Decision, DecisionIndex } from '../core/decide';
import { decide, decisionIndex } from '../core/decide';
import type { Snapshot } from '../core/validate';
import { snapshotOf } from './helpers/repo';

/*
 * The decision procedure of FORMAT.md ("Meaning"), step by step, on
 * hand-written fixtures. Every permission and deny entry is marked with a
 * `# name` comment so tests can name the line that must decide.
 */

const TOOLS = `apiVersion: mandate/v1
kind: Tool
id: shady
name: Shady scraper
type: api
vendor: Shady Ltd.
thirdParty: true
vetting: { status: rejected, reviewedAt: 2026-09-01, reviewer: bob }
actions:
  pages.read: { effect: read }
---
apiVersion: mandate/v1
kind: Tool
id: payments
name: Payments
type: internal
actions:
  charges.read: { effect: read, data: [card-data] }
  refunds.create: { effect: execute, data: [card-data] }
  customers.delete: { effect: delete, data: [customer-pii] }
  customers.export: { effect: egress, data: [customer-pii] }
---
apiVersion: mandate/v1
kind: Tool
id: notify
name: Notifications
type: internal
actions:
  sms.send: { effect: write }
  email.send: { effect: egress }
`;

const GUARDRAILS = `apiVersion: mandate/v1
kind: Guardrail
id: no-payment-deletes
description: No agent deletes anything in payments.
severity: warning
match: { tools: [payments], effects: [delete] }
require: { forbid: true }
---
apiVersion: mandate/v1
kind: Guardrail
id: egress-needs-human
description: Anything leaving the company needs a human on each call.
severity: error
match: { effects: [egress] }
require: { approval: required }
`;

/** An agent file whose lines the tests name through `# marker` comments. */
const TESTER = `apiVersion: mandate/v1
kind: Agent
id: tester
name: Decision tester
purpose: Exercises every step of the decision procedure.
owner: alice
team: support
status: active
riskTier: critical
lastReviewed: 2026-10-01
aliases: [tester-prod, asst_7x]
permissions:
  - tool: zendesk # g-queue
    actions: ["tickets.*"]
    resources: ["queue/**"]
    rateLimit: { max: 500, per: hour }
  - tool: zendesk # g-support-fast
    actions: [tickets.read]
    resources: ["queue/support/**"]
    rateLimit: { max: 10, per: minute }
  - tool: zendesk # g-support-unlimited
    actions: [tickets.comment]
    resources: ["queue/support/**"]
  - tool: zendesk # g-docs-any
    actions: [docs.read]
    rateLimit: { max: 100, per: hour }
  - tool: payments # g-charges-tie-a
    actions: [charges.read]
    resources: ["charges/*"]
    rateLimit: { max: 1, per: minute }
  - tool: payments # g-charges-tie-b
    actions: [charges.read]
    resources: ["charges/*"]
    rateLimit: { max: 60, per: hour }
  - tool: payments # g-charges-daily
    actions: [charges.read]
    resources: ["charges/**"]
    rateLimit: { max: 1000, per: day }
  - tool: payments # g-refunds-gated
    actions: [refunds.create]
    resources: ["charges/*"]
    approval: required
    rateLimit: { max: 20, per: hour }
  - tool: payments # g-refunds-gated-wide
    actions: [refunds.create]
    resources: ["**"]
    approval: required
    rateLimit: { max: 30, per: hour }
  - tool: payments # g-refunds-ungated-eu
    actions: [refunds.create]
    resources: ["charges/eu/*"]
    rateLimit: { max: 5, per: hour }
  - tool: payments # g-delete
    actions: [customers.delete]
  - tool: payments # g-export
    actions: [customers.export]
    rateLimit: { max: 2, per: hour }
  - tool: shady # g-shady
    actions: [pages.read]
  - tool: notify # g-expired-sms
    actions: [sms.send]
    resources: ["numbers/**"]
    expires: 2026-11-25
  - tool: notify # g-sms-gated
    actions: [sms.send]
    resources: ["numbers/vip/**"]
    approval: required
  - tool: notify # g-sms-today
    actions: [sms.send]
    resources: ["numbers/eu/**"]
    expires: 2026-11-26
  - tool: notify # g-email-gated
    actions: [email.send]
    resources: ["lists/**"]
    approval: required
  - tool: zendesk # g-odd
    actions: [docs.read]
    resources: ["odd/?[{!}]", "reports/2026-*.csv", "files/a.b", "single*"]
deny:
  - tool: zendesk # d-delete
    actions: [tickets.delete]
  - tool: zendesk # d-security
    actions: ["tickets.*"]
    resources: ["queue/security/**"]
  - tool: zendesk # d-private-docs
    actions: [docs.read]
    resources: ["private/**"]
  - tool: payments # d-export-all
    actions: [customers.export]
    resources: ["**"]
exceptions:
  - rule: guardrail
    guardrail: no-payment-deletes
    reason: Accepted for the test; waivers never change a decision.
    approvedBy: bob
    expires: 2027-12-31
`;

const agentFile = (id: string, status: string, extra = ''): string => `apiVersion: mandate/v1
kind: Agent
id: ${id}
name: Agent ${id}
purpose: A fixture agent.
owner: alice
status: ${status}
riskTier: medium
lastReviewed: 2026-10-01
aliases: [${id}-alias]
permissions:
  - tool: zendesk
    actions: [tickets.read]
    resources: ["queue/support/**"]
${extra}`;

const FILES = {
  'policies/tools/extra.yaml': TOOLS,
  'policies/guardrails.yaml': GUARDRAILS,
  'policies/agents/tester.yaml': TESTER,
  'policies/agents/paused.yaml': agentFile('paused', 'suspended'),
  'policies/agents/planned.yaml': agentFile('planned', 'proposed'),
  'policies/agents/gone.yaml': agentFile('gone', 'retired'),
  'policies/agents/clash.yaml': agentFile('clash', 'active', 'deny:\n  - tool: payments\n    actions: [customers.delete]\n').replace('aliases: [clash-alias]', 'aliases: [support-triage, clash-alias]'),
};

const TESTER_FILE = 'policies/agents/tester.yaml';
const GUARDRAIL_FILE = 'policies/guardrails.yaml';
const TODAY = dayOf('2026-11-26');

/** The 1-based line of the `# marker` comment in a fixture file. */
function lineOf(text: string, marker: string): number {
  const index = text.split('\n').findIndex((line) => line.endsWith(`# ${marker}`));
  if (index < 0) throw new Error(`no marker ${marker}`);
  return index + 1;
}

function lineOfText(text: string, needle: string): number {
  const index = text.split('\n').findIndex((line) => line.includes(needle));
  if (index < 0) throw new Error(`no line with ${needle}`);
  return index + 1;
}

const grantAt = (marker: string) => ({ file: TESTER_FILE, line: lineOf(TESTER, marker) });

let snapshot: Snapshot;
let index: DecisionIndex;

beforeAll(async () => {
  snapshot = await snapshotOf(FILES);
  index = decisionIndex(snapshot.model);
});

function call(agent: string, tool: string, action: string, resource?: string): Call {
  return resource === undefined ? { agent, tool, action } : { agent, tool, action, resource };
}

function run(agent: string, tool: string, action: string, resource?: string, day = TODAY): Decision {
  return decide(index, call(agent, tool, action, resource), day);
}

describe('the fixtures', () => {
  it('load with every fixture agent, tool and guardrail in the model', () => {
    const schemaProblems = snapshot.findings.filter((finding) => ['schema', 'yaml-syntax', 'unknown-action', 'unknown-reference'].includes(finding.rule));
    expect(schemaProblems).toEqual([]);
    expect([...snapshot.model.agents.keys()].sort()).toEqual(['clash', 'gone', 'paused', 'planned', 'support-triage', 'tester']);
    expect([...snapshot.model.guardrails.keys()].sort()).toEqual(['egress-needs-human', 'no-payment-deletes']);
  });
  it('compiles the index once per model', () => {
    expect(decisionIndex(snapshot.model)).toBe(index);
  });
});

describe('step 1: unknown names, inactive agents, rejected tools, non-canonical resources', () => {
  it('denies an unknown agent', () => {
    const decision = run('nobody', 'zendesk', 'tickets.read', 'queue/support/1');
    expect(decision).toEqual({ decision: 'deny', reason: "unknown agent 'nobody'" });
  });
  it('denies an unknown tool, even for a known agent', () => {
    const decision = run('tester', 'jira', 'issues.read', 'queue/support/1');
    expect(decision.decision).toBe('deny');
    expect(decision.reason).toMatch(/^unknown tool /);
    expect(decision.reason).toContain('jira');
  });
  it('denies an action the tool does not declare, even one another tool declares', () => {
    const decision = run('tester', 'zendesk', 'charges.read', 'queue/support/1');
    expect(decision.decision).toBe('deny');
    expect(decision.reason).toMatch(/^unknown action /);
    expect(run('tester', 'zendesk', 'tickets.*', 'queue/support/1').reason).toMatch(/^unknown action /);
    expect(run('tester', 'zendesk', 'constructor', 'queue/support/1').reason).toMatch(/^unknown action /);
  });
  it.each(['paused', 'planned', 'gone'])('denies every call of an inactive agent (%s), granted or not', (agent) => {
    const decision = run(agent, 'zendesk', 'tickets.read', 'queue/support/1');
    expect(decision.decision).toBe('deny');
    expect(decision.reason).toMatch(/^agent not active/);
    expect(decision).not.toHaveProperty('grant');
  });
  it('denies an inactive agent called by its alias', () => {
    expect(run('paused-alias', 'zendesk', 'tickets.read', 'queue/support/1').reason).toMatch(/^agent not active \(suspended\)/);
  });
  it('denies a tool whose vetting is rejected, even with an ungated grant on it', () => {
    const decision = run('tester', 'shady', 'pages.read', 'example.com/pricing');
    expect(decision.decision).toBe('deny');
    expect(decision.reason).toMatch(/^tool rejected/);
    expect(run('tester', 'shady', 'pages.read').reason).toMatch(/^tool rejected/);
  });
  it.each(['a//b', './a', 'a/..', '/a', 'a/', '', '.', '..', 'queue/support/../billing', 'queue/./support', '//'])(
    'denies the non-canonical resource %j before looking at any grant',
    (resource) => {
      const decision = run('tester', 'zendesk', 'docs.read', resource);
      expect(decision.decision).toBe('deny');
      expect(decision.reason).toMatch(/^non-canonical resource/);
    },
  );
  it('checks canonical form before deny entries', () => {
    expect(run('tester', 'zendesk', 'tickets.delete', 'queue//x').reason).toMatch(/^non-canonical resource/);
  });
  it('accepts dots inside segments as canonical', () => {
    expect(run('tester', 'zendesk', 'docs.read', 'a.b/c..d/.e/f.').decision).toBe('allow');
  });
  it('checks the agent before the tool, and the tool before the action', () => {
    expect(run('nobody', 'jira', 'x').reason).toMatch(/^unknown agent/);
    expect(run('tester', 'jira', 'x').reason).toMatch(/^unknown tool/);
    expect(run('paused', 'zendesk', 'nope').reason).toMatch(/^unknown action/);
  });
});

describe('step 2: deny entries', () => {
  it('lets a deny win over a grant that covers the call', () => {
    const decision = run('tester', 'zendesk', 'tickets.delete', 'queue/support/1');
    const deny = { file: TESTER_FILE, line: lineOf(TESTER, 'd-delete') };
    expect(decision).toEqual({ decision: 'deny', reason: `denied by deny entry at ${deny.file}:${deny.line}`, deny });
  });
  it('applies a deny without resources to a call without a resource', () => {
    expect(run('tester', 'zendesk', 'tickets.delete')).toMatchObject({ decision: 'deny', deny: { line: lineOf(TESTER, 'd-delete') } });
  });
  it('applies a deny with resources only inside them', () => {
    expect(run('tester', 'zendesk', 'tickets.read', 'queue/security/77')).toMatchObject({
      decision: 'deny', deny: { file: TESTER_FILE, line: lineOf(TESTER, 'd-security') },
    });
    expect(run('tester', 'zendesk', 'tickets.read', 'queue/security')).toMatchObject({ decision: 'deny' });
    expect(run('tester', 'zendesk', 'tickets.read', 'queue/securityx/1')).toMatchObject({ decision: 'allow', grant: grantAt('g-queue') });
  });
  it('does not apply a deny with resources to a call without a resource', () => {
    const decision = run('tester', 'zendesk', 'docs.read');
    expect(decision).toMatchObject({ decision: 'allow', grant: grantAt('g-docs-any') });
    expect(run('tester', 'zendesk', 'docs.read', 'private/salaries')).toMatchObject({ decision: 'deny', deny: { line: lineOf(TESTER, 'd-private-docs') } });
    expect(run('tester', 'zendesk', 'docs.read', 'public/faq')).toMatchObject({ decision: 'allow', grant: grantAt('g-docs-any') });
  });
  it('applies a deny on `**` to every resource and to a call without a resource', () => {
    const deny = { file: TESTER_FILE, line: lineOf(TESTER, 'd-export-all') };
    expect(run('tester', 'payments', 'customers.export', 'customers/c_1')).toMatchObject({ decision: 'deny', deny });
    expect(run('tester', 'payments', 'customers.export')).toMatchObject({ decision: 'deny', deny });
  });
  it('reports a deny before a forbidding guardrail', () => {
    const decision = run('clash', 'payments', 'customers.delete', 'customers/c_1');
    expect(decision.reason).toMatch(/^denied by/);
    expect(decision).toMatchObject({ deny: { file: 'policies/agents/clash.yaml' } });
    expect(decision).not.toHaveProperty('guardrail');
  });
});

describe('step 3: forbidding guardrails', () => {
  const guardrail = { id: 'no-payment-deletes', file: GUARDRAIL_FILE, line: lineOfText(GUARDRAILS, 'id: no-payment-deletes') };
  it('denies a selected call although the agent grants it ungated, whatever the severity, exception or not', () => {
    const decision = run('tester', 'payments', 'customers.delete', 'customers/c_1');
    expect(decision).toEqual({ decision: 'deny', reason: 'forbidden by guardrail no-payment-deletes', guardrail });
  });
  it('denies a selected call of an agent with no grant for it as forbidden, not as ungranted', () => {
    const decision = run('support-triage', 'payments', 'customers.delete', 'customers/c_1');
    expect(decision).toEqual({ decision: 'deny', reason: 'forbidden by guardrail no-payment-deletes', guardrail });
  });
  it('leaves calls it does not select alone', () => {
    expect(run('support-triage', 'payments', 'charges.read', 'charges/ch_1').reason).toMatch(/^no grant/);
  });
});

describe('step 4: the agent\'s own unexpired grants', () => {
  it('allows through an ungated grant and names it', () => {
    expect(run('tester', 'zendesk', 'tickets.read', 'queue/sales/9')).toEqual({
      decision: 'allow',
      reason: `granted by ${TESTER_FILE}:${lineOf(TESTER, 'g-queue')}`,
      grant: grantAt('g-queue'),
      rateLimit: { max: 500, per: 'hour' },
    });
  });
  it('asks for approval when only gated grants match', () => {
    const decision = run('tester', 'payments', 'refunds.create', 'charges/ch_1');
    expect(decision.decision).toBe('approval');
    expect(decision.reason).toMatch(/^approval gate/);
    expect(decision).not.toHaveProperty('guardrail');
  });
  it('allows when an ungated grant matches, even if gated ones match too', () => {
    expect(run('tester', 'payments', 'refunds.create', 'charges/eu/ch_9')).toMatchObject({
      decision: 'allow', grant: grantAt('g-refunds-ungated-eu'), rateLimit: { max: 5, per: 'hour' },
    });
  });
  it('denies with "no grant" outside every granted resource, naming what is granted', () => {
    const decision = run('tester', 'zendesk', 'tickets.read', 'archive/2019/1');
    expect(decision.decision).toBe('deny');
    expect(decision.reason).toMatch(/^no grant/);
    expect(decision.reason).toContain('queue/**');
    expect(decision).not.toHaveProperty('grant');
  });
  it('denies with "no grant" for an action the agent was never granted', () => {
    const decision = run('support-triage', 'zendesk', 'tickets.reply', 'queue/support/1');
    expect(decision.decision).toBe('deny');
    expect(decision.reason).toMatch(/^no grant/);
  });
  it('matches a call without a resource only against grants that cover every resource', () => {
    expect(run('tester', 'zendesk', 'tickets.read').reason).toMatch(/^no grant/);
    expect(run('tester', 'zendesk', 'docs.read')).toMatchObject({ decision: 'allow', grant: grantAt('g-docs-any') });
    expect(run('tester', 'payments', 'refunds.create')).toMatchObject({ decision: 'approval', grant: grantAt('g-refunds-gated-wide') });
  });
  it('does not widen an agent\'s decisions through delegation', async () => {
    const delegating = await snapshotOf({
      ...FILES,
      'policies/agents/triage.yaml': `${TESTER.replace(/^id: tester$/m, 'id: helper').replace(/^aliases: .*$/m, 'aliases: [helper-prod]')}`,
      'policies/agents/boss.yaml': agentFile('boss', 'active', 'delegatesTo: [helper]\n'),
    });
    const delegated = decisionIndex(delegating.model);
    expect(decide(delegated, call('helper', 'zendesk', 'docs.read', 'faq/1'), TODAY).decision).toBe('allow');
    expect(decide(delegated, call('boss', 'zendesk', 'docs.read', 'faq/1'), TODAY).reason).toMatch(/^no grant/);
  });
});

describe('expiry', () => {
  it('keeps a grant valid through its expiry day', () => {
    expect(run('tester', 'notify', 'sms.send', 'numbers/eu/1', dayOf('2026-11-26'))).toMatchObject({ decision: 'allow', grant: grantAt('g-sms-today') });
  });
  it('voids a grant the day after it expires, and says so', () => {
    const decision = run('tester', 'notify', 'sms.send', 'numbers/eu/1', dayOf('2026-11-27'));
    expect(decision.decision).toBe('deny');
    expect(decision.reason).toMatch(/^no grant/);
    expect(decision.reason).toContain('expired');
    expect(decision).not.toHaveProperty('grant');
  });
  it('falls back to an unexpired gated grant when the ungated one has expired', () => {
    expect(run('tester', 'notify', 'sms.send', 'numbers/vip/3', dayOf('2026-11-26'))).toMatchObject({
      decision: 'approval', grant: grantAt('g-sms-gated'), reason: expect.stringMatching(/^approval gate/),
    });
  });
  it('uses an expired grant on the days it was still valid', () => {
    expect(run('tester', 'notify', 'sms.send', 'numbers/vip/3', dayOf('2026-11-25'))).toMatchObject({ decision: 'allow', grant: grantAt('g-expired-sms') });
    expect(run('tester', 'notify', 'sms.send', 'numbers/us/3', dayOf('2026-11-26')).reason).toMatch(/^no grant/);
  });
});

describe('step 5: guardrails that require approval', () => {
  const guardrail = { id: 'egress-needs-human', file: GUARDRAIL_FILE, line: lineOfText(GUARDRAILS, 'id: egress-needs-human') };
  it('turns an allow into an approval and names both the grant and the guardrail', () => {
    const decision = run('tester', 'zendesk', 'tickets.reply', 'queue/sales/1');
    expect(decision).toEqual({
      decision: 'approval',
      reason: `approval required by guardrail egress-needs-human (granted by ${TESTER_FILE}:${lineOf(TESTER, 'g-queue')})`,
      grant: grantAt('g-queue'),
      guardrail,
      rateLimit: { max: 500, per: 'hour' },
    });
  });
  it('leaves an approval from a gated grant as the grant\'s approval gate', () => {
    const decision = run('tester', 'notify', 'email.send', 'lists/customers');
    expect(decision).toMatchObject({ decision: 'approval', grant: grantAt('g-email-gated') });
    expect(decision.reason).toMatch(/^approval gate/);
  });
  it('does not turn a deny into anything', () => {
    expect(run('support-triage', 'zendesk', 'tickets.reply', 'queue/support/1').decision).toBe('deny');
    expect(run('tester', 'notify', 'email.send', 'people/ceo').decision).toBe('deny');
  });
  it('does not gate actions it does not select', () => {
    expect(run('tester', 'zendesk', 'tickets.comment', 'queue/sales/1').decision).toBe('allow');
  });
});

describe('rate limits and the deciding grant', () => {
  it('reports the highest per-hour limit among the winning grants', () => {
    // g-queue: 500/hour, g-support-fast: 10/minute = 600/hour.
    expect(run('tester', 'zendesk', 'tickets.read', 'queue/support/1')).toMatchObject({
      decision: 'allow', grant: grantAt('g-support-fast'), rateLimit: { max: 10, per: 'minute' },
    });
  });
  it('lets no limit beat any limit', () => {
    const decision = run('tester', 'zendesk', 'tickets.comment', 'queue/support/1');
    expect(decision).toMatchObject({ decision: 'allow', grant: grantAt('g-support-unlimited') });
    expect(decision).not.toHaveProperty('rateLimit');
  });
  it('breaks ties in per-hour rate by line', () => {
    // 1/minute and 60/hour are both 60 an hour; 1000/day is about 42 an hour.
    expect(run('tester', 'payments', 'charges.read', 'charges/ch_1')).toMatchObject({
      decision: 'allow', grant: grantAt('g-charges-tie-a'), rateLimit: { max: 1, per: 'minute' },
    });
    expect(run('tester', 'payments', 'charges.read', 'charges/eu/ch_1')).toMatchObject({
      decision: 'allow', grant: grantAt('g-charges-daily'), rateLimit: { max: 1000, per: 'day' },
    });
  });
  it('takes the limit from the gated grants when approval wins', () => {
    expect(run('tester', 'payments', 'refunds.create', 'charges/ch_1')).toMatchObject({
      decision: 'approval', grant: grantAt('g-refunds-gated-wide'), rateLimit: { max: 30, per: 'hour' },
    });
  });
  it('ignores the limits of gated grants when an ungated grant wins', () => {
    expect(run('tester', 'payments', 'refunds.create', 'charges/eu/ch_1')).toMatchObject({ rateLimit: { max: 5, per: 'hour' } });
  });
});

describe('resource globs', () => {
  it.each([
    ['queue/support', true],
    ['queue/support/1', true],
    ['queue/support/a/b/c', true],
    ['queue/supportx', false],
    ['queue/supportx/1', false],
    ['Queue/support/1', false],
  ])('queue/support/** against %s', (resource, matches) => {
    // Only g-support-unlimited (queue/support/**) carries no rate limit.
    const decision = run('tester', 'zendesk', 'tickets.comment', resource);
    if (matches) expect(decision).toMatchObject({ grant: grantAt('g-support-unlimited') });
    else expect(decision).not.toMatchObject({ grant: grantAt('g-support-unlimited') });
  });
  it('lets `queue/**` match `queue` itself but not a longer first segment', () => {
    expect(run('tester', 'zendesk', 'tickets.read', 'queue').decision).toBe('allow');
    expect(run('tester', 'zendesk', 'tickets.read', 'queues/1').reason).toMatch(/^no grant/);
  });
  it.each([
    ['charges/ch_1', true],
    ['charges/ch_1/x', false],
    ['charges', false],
  ])('`*` stays inside one segment: charges/* against %s', (resource, matches) => {
    const decision = run('tester', 'payments', 'charges.read', resource);
    if (matches) expect(decision).toMatchObject({ grant: grantAt('g-charges-tie-a') });
    else expect(decision).not.toMatchObject({ grant: grantAt('g-charges-tie-a') });
  });
  it.each([
    ['odd/?[{!}]', true],
    ['odd/x[{!}]', false],
    ['odd/?', false],
    ['reports/2026-11.csv', true],
    ['reports/2026-.csv', true],
    ['reports/2026-11/x.csv', false],
    ['reports/2026-11xcsv', false],
    ['files/a.b', true],
    ['files/axb', false],
    ['single', true],
    ['singleton', true],
    ['single/x', false],
  ])('treats ?[{! and regex characters literally: %s', (resource, matches) => {
    const decision = run('tester', 'zendesk', 'docs.read', resource);
    expect(decision.decision).toBe('allow');
    if (matches) expect(decision).toMatchObject({ grant: grantAt('g-odd') });
    else expect(decision).toMatchObject({ grant: grantAt('g-docs-any') });
  });
  it('reads `*` in a call resource literally', () => {
    expect(run('tester', 'zendesk', 'tickets.comment', 'queue/support/*')).toMatchObject({ grant: grantAt('g-support-unlimited') });
    expect(run('tester', 'zendesk', 'tickets.comment', 'queue/*')).toMatchObject({ grant: grantAt('g-queue') });
    expect(run('tester', 'zendesk', 'tickets.read', 'qu*')).toMatchObject({ decision: 'deny' });
    expect(run('tester', 'zendesk', 'tickets.read', '**').reason).toMatch(/^no grant/);
  });
  it('lets `**` alone match every resource and a call without one', () => {
    expect(run('tester', 'payments', 'refunds.create', 'anything/at/all')).toMatchObject({ grant: grantAt('g-refunds-gated-wide') });
    expect(run('tester', 'payments', 'refunds.create')).toMatchObject({ grant: grantAt('g-refunds-gated-wide') });
  });
});

describe('aliases', () => {
  it('resolves an alias to its agent', () => {
    expect(run('tester-prod', 'zendesk', 'tickets.read', 'queue/sales/9')).toMatchObject({ decision: 'allow', grant: grantAt('g-queue') });
    expect(run('asst_7x', 'zendesk', 'tickets.delete', 'queue/sales/9').reason).toMatch(/^denied by/);
  });
  it('prefers an agent id over another agent\'s alias of the same name', () => {
    // clash lists `support-triage` as an alias; the id wins.
    expect(run('support-triage', 'zendesk', 'tickets.comment', 'queue/support/1')).toMatchObject({
      decision: 'allow', grant: { file: 'policies/agents/triage.yaml' },
    });
  });
  it('is case-sensitive and exact', () => {
    expect(run('Tester-prod', 'zendesk', 'tickets.read', 'queue/support/1').reason).toMatch(/^unknown agent/);
    expect(run('tester-pro', 'zendesk', 'tickets.read', 'queue/support/1').reason).toMatch(/^unknown agent/);
  });
});

describe('reasons', () => {
  it('start with the fixed phrases of FORMAT.md', () => {
    const phrases = ['unknown agent', 'unknown tool', 'unknown action', 'agent not active', 'tool rejected', 'non-canonical resource',
      'denied by', 'forbidden by guardrail', 'no grant', 'granted by', 'approval gate', 'approval required by guardrail'];
    const reasons = [
      run('nobody', 'zendesk', 'tickets.read'),
      run('tester', 'nothing', 'tickets.read'),
      run('tester', 'zendesk', 'nothing'),
      run('paused', 'zendesk', 'tickets.read'),
      run('tester', 'shady', 'pages.read'),
      run('tester', 'zendesk', 'docs.read', '/x'),
      run('tester', 'zendesk', 'tickets.delete', 'queue/x'),
      run('tester', 'payments', 'customers.delete'),
      run('tester', 'zendesk', 'tickets.read', 'nowhere'),
      run('tester', 'zendesk', 'docs.read', 'x'),
      run('tester', 'payments', 'refunds.create', 'charges/ch_1'),
      run('tester', 'zendesk', 'tickets.reply', 'queue/sales/1'),
    ].map((decision) => decision.reason);
    reasons.forEach((reason, position) => expect(reason.startsWith(phrases[position]!), `${reason} starts with ${phrases[position]}`).toBe(true));
  });
});
