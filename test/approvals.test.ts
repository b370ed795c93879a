import { beforeAll, describe, expect, it } from 'vitest';
import type { ApprovalRequirement } from '../core/approvals';
import { evaluateApprovals, requiredApprovals } from '../core/approvals';
import type { Change, ChangeKind } from '../core/change';
import type { Snapshot } from '../core/validate';
import { snapshotOf } from './helpers/repo';

/** A hand-made change (core/semantic-diff produces these in the CLI). */
function change(kind: ChangeKind, subject: string, extra: Partial<Change> = {}): Change {
  return {
    kind, subject, risk: 'raises', summary: `${kind} on ${subject}`,
    file: 'policies/agents/triage.yaml', line: 1, controls: [], owasp: [], ...extra,
  };
}

/** An agent document with fields replaced or appended. */
function agentYaml(id: string, fields: Record<string, string> = {}): string {
  const merged: Record<string, string> = {
    apiVersion: 'mandate/v1', kind: 'Agent', id, name: `Agent ${id}`, purpose: 'Test.', owner: 'alice', team: 'support',
    status: 'active', riskTier: 'medium', lastReviewed: '2026-10-01', permissions: '[]', ...fields,
  };
  return Object.entries(merged).map(([key, value]) => (value.startsWith('\n') ? `${key}:${value}` : `${key}: ${value}`)).join('\n').concat('\n');
}

function ruleYaml(id: string, when: string, require: string): string {
  return `apiVersion: mandate/v1\nkind: ApprovalRule\nid: ${id}\nwhen: ${when}\nrequire: ${require}\n`;
}

/** carol (security, with a login) and dave (no login) join the fixture's alice and bob. */
const MORE_PEOPLE = {
  'policies/more-people.yaml': `apiVersion: mandate/v1
kind: Person
id: carol
name: Carol Example
github: Carol-GH
---
apiVersion: mandate/v1
kind: Person
id: dave
name: Dave Example
`,
  'policies/teams.yaml': `apiVersion: mandate/v1
kind: Team
id: support
members: [alice, dave]
---
apiVersion: mandate/v1
kind: Team
id: security
members: [bob, carol]
---
apiVersion: mandate/v1
kind: Team
id: payments
members: [bob]
`,
};

const TRIAGE = 'agent:support-triage';
const only = (required: ApprovalRequirement[], rule: string): ApprovalRequirement[] => required.filter((item) => item.rule === rule);
const logins = (requirement: ApprovalRequirement | undefined): string[] => requirement?.eligible.map((approver) => approver.github) ?? [];

let plain: Snapshot;
beforeAll(async () => {
  plain = await snapshotOf(MORE_PEOPLE);
});

describe('default requirement', () => {
  it('applies the built-in 1 from [owner, team] to an agent change no rule matches', () => {
    const required = requiredApprovals([change('grant-widened', TRIAGE)], plain, plain);
    expect(required).toEqual([{
      rule: 'default', subjects: [TRIAGE], count: 1, from: ['owner', 'team'],
      eligible: [{ person: 'alice', github: 'alice-ex' }], satisfiable: true,
      owners: ['alice'], teams: ['support'], changeKinds: ['grant-widened'],
    }]);
  });

  it('leaves out people without a GitHub login (dave is in team support)', () => {
    const [requirement] = requiredApprovals([change('owner-changed', TRIAGE)], plain, plain);
    expect(requirement!.eligible.map((approver) => approver.person)).toEqual(['alice']);
  });

  it('uses Config defaultApproval from the base, not from the head', async () => {
    const config = (from: string, count: number) => ({
      'mandate.yaml': `apiVersion: mandate/v1\nkind: Config\ndefaultApproval: { count: ${count}, from: [${from}] }\n`,
    });
    const base = await snapshotOf({ ...MORE_PEOPLE, ...config('team:security', 2) });
    const head = await snapshotOf({ ...MORE_PEOPLE, ...config('owner', 1) });
    const [requirement] = only(requiredApprovals([change('grant-added', TRIAGE)], base, head), 'default');
    expect(requirement).toMatchObject({ count: 2, from: ['team:security'], satisfiable: true });
    expect(logins(requirement)).toEqual(['bob-ex', 'Carol-GH']);
  });

  it('drops the author (case-insensitively) and flags a requirement nobody else can meet', () => {
    const [requirement] = requiredApprovals([change('grant-added', TRIAGE)], plain, plain, { author: 'ALICE-EX' });
    expect(requirement).toMatchObject({ rule: 'default', eligible: [], satisfiable: false });
  });
});

describe('ApprovalRule matching', () => {
  it('matches on change kinds; unmatched changes of the same agent still get the default', async () => {
    const base = await snapshotOf({ ...MORE_PEOPLE, 'policies/rules.yaml': ruleYaml('scope', '{ changes: [grant-added, grant-widened] }', '{ count: 1, from: [team:security] }') });
    const required = requiredApprovals([change('grant-widened', TRIAGE), change('agent-details-changed', TRIAGE, { risk: 'neutral' })], base, base);
    expect(required.map((item) => [item.rule, item.changeKinds])).toEqual([
      ['default', ['agent-details-changed']],
      ['scope', ['grant-widened']],
    ]);
    expect(logins(only(required, 'scope')[0])).toEqual(['bob-ex', 'Carol-GH']);
  });

  it('requires every given field and treats a list as any of its items', async () => {
    const base = await snapshotOf({
      ...MORE_PEOPLE,
      'policies/rules.yaml': ruleYaml('both', '{ changes: [grant-added], agents: [support-triage, other] }', '{ count: 1, from: [person:bob] }'),
    });
    expect(only(requiredApprovals([change('grant-added', TRIAGE)], base, base), 'both')).toHaveLength(1);
    expect(only(requiredApprovals([change('grant-removed', TRIAGE)], base, base), 'both')).toHaveLength(0);
    expect(only(requiredApprovals([change('grant-added', 'agent:else')], base, base), 'both')).toHaveLength(0);
  });

  describe('riskTiers: declared or computed, at base or at head', () => {
    const rules = { 'policies/rules.yaml': ruleYaml('high-risk', '{ riskTiers: [high, critical] }', '{ count: 2, from: [owner, team:security] }') };

    it('matches a tier raised at head', async () => {
      const base = await snapshotOf({ ...MORE_PEOPLE, ...rules });
      const head = await snapshotOf({ ...MORE_PEOPLE, ...rules, 'policies/agents/triage.yaml': agentYaml('support-triage', { riskTier: 'high' }) });
      const [requirement] = requiredApprovals([change('risk-tier-raised', TRIAGE)], base, head);
      expect(requirement).toMatchObject({ rule: 'high-risk', count: 2 });
      expect(logins(requirement)).toEqual(['alice-ex', 'bob-ex', 'Carol-GH']);
    });

    it('still matches when the pull request lowers the declared tier (base counts)', async () => {
      const base = await snapshotOf({ ...MORE_PEOPLE, ...rules, 'policies/agents/triage.yaml': agentYaml('support-triage', { riskTier: 'critical' }) });
      const head = await snapshotOf({ ...MORE_PEOPLE, ...rules, 'policies/agents/triage.yaml': agentYaml('support-triage', { riskTier: 'low' }) });
      const required = requiredApprovals([change('risk-tier-lowered', TRIAGE, { risk: 'lowers' })], base, head);
      expect(required.map((item) => item.rule)).toEqual(['high-risk']);
    });

    it('matches the computed tier even when the declared one is understated', async () => {
      const base = await snapshotOf({ ...MORE_PEOPLE, ...rules });
      const head = await snapshotOf({
        ...MORE_PEOPLE, ...rules,
        'policies/agents/triage.yaml': agentYaml('support-triage', {
          riskTier: 'low', permissions: '\n  - tool: zendesk\n    actions: [tickets.delete]\n',
        }),
      });
      expect(required(base, head)).toEqual(['high-risk']);
      // Without the ungated delete, nothing is high: the default applies.
      expect(required(base, base)).toEqual(['default']);
      function required(from: Snapshot, to: Snapshot): string[] {
        return requiredApprovals([change('grant-added', TRIAGE, { tool: 'zendesk' })], from, to).map((item) => item.rule);
      }
    });

    it('never matches a non-agent subject', async () => {
      const base = await snapshotOf({ ...MORE_PEOPLE, ...rules });
      expect(only(requiredApprovals([change('tool-changed', 'tool:zendesk')], base, base), 'high-risk')).toEqual([]);
    });
  });

  it('teams matches the agent team at base or at head', async () => {
    const rules = { 'policies/rules.yaml': ruleYaml('payments', '{ teams: [payments] }', '{ count: 1, from: [team:payments] }') };
    const base = await snapshotOf({ ...MORE_PEOPLE, ...rules, 'policies/agents/triage.yaml': agentYaml('support-triage', { team: 'payments' }) });
    const head = await snapshotOf({ ...MORE_PEOPLE, ...rules });
    expect(requiredApprovals([change('agent-team-changed', TRIAGE)], base, head).map((item) => item.rule)).toEqual(['payments']);
    expect(requiredApprovals([change('agent-team-changed', TRIAGE)], head, base).map((item) => item.rule)).toEqual(['payments']);
    expect(requiredApprovals([change('agent-team-changed', TRIAGE)], head, head).map((item) => item.rule)).toEqual(['default']);
  });

  it('tools matches changes to those tools and to grants on them', async () => {
    const base = await snapshotOf({ ...MORE_PEOPLE, 'policies/rules.yaml': ruleYaml('zendesk', '{ tools: [zendesk] }', '{ count: 1, from: [team:security] }') });
    const rulesOf = (item: Change): string[] => requiredApprovals([item], base, base).map((requirement) => requirement.rule);
    expect(rulesOf(change('grant-added', TRIAGE, { tool: 'zendesk', action: 'tickets.reply' }))).toEqual(['zendesk']);
    expect(rulesOf(change('capability-gained', TRIAGE, { tool: 'zendesk' }))).toEqual(['zendesk']);
    expect(rulesOf(change('tool-action-added', 'tool:zendesk'))).toEqual(['governance', 'zendesk']);
    expect(rulesOf(change('grant-added', TRIAGE, { tool: 'slack' }))).toEqual(['default']);
    expect(rulesOf(change('owner-changed', TRIAGE))).toEqual(['default']);
  });
});

describe('owner and team', () => {
  const rules = { 'policies/rules.yaml': ruleYaml('owners', '{ changes: [agent-added, owner-changed, grant-added] }', '{ count: 1, from: [owner] }') };

  it('are the owner and team at base, so a pull request cannot hand its agent to its author', async () => {
    const base = await snapshotOf({ ...MORE_PEOPLE, ...rules });
    const head = await snapshotOf({ ...MORE_PEOPLE, ...rules, 'policies/agents/triage.yaml': agentYaml('support-triage', { owner: 'bob', team: 'security' }) });
    const required = requiredApprovals([change('owner-changed', TRIAGE), change('agent-team-changed', TRIAGE)], base, head);
    expect(required.map((item) => [item.rule, item.owners, item.teams, logins(item)])).toEqual([
      ['default', ['alice'], ['support'], ['alice-ex']],
      ['owners', ['alice'], [], ['alice-ex']],
    ]);
  });

  it('are taken at head for an added agent, with team members at base', async () => {
    const base = await snapshotOf({ ...MORE_PEOPLE, ...rules });
    const head = await snapshotOf({ ...MORE_PEOPLE, ...rules, 'policies/agents/new.yaml': agentYaml('fresh', { owner: 'carol', team: 'security' }) });
    const required = requiredApprovals([change('agent-added', 'agent:fresh'), change('exposure-changed', 'agent:fresh')], base, head);
    expect(required.map((item) => [item.rule, logins(item)])).toEqual([
      ['default', ['bob-ex', 'Carol-GH']],
      ['owners', ['Carol-GH']],
    ]);
  });

  it('name nobody for a non-agent subject: the requirement is reported as unsatisfiable', async () => {
    const base = await snapshotOf({ ...MORE_PEOPLE, 'policies/rules.yaml': ruleYaml('tools', '{ changes: [tool-added] }', '{ count: 1, from: [owner, team] }') });
    const [requirement] = only(requiredApprovals([change('tool-added', 'tool:slack')], base, base), 'tools');
    expect(requirement).toMatchObject({ eligible: [], satisfiable: false, owners: [], teams: [] });
  });
});

describe('governance requirement', () => {
  it('is 1 from any known person other than the author without Config admins', () => {
    const required = requiredApprovals([change('tool-changed', 'tool:zendesk'), change('config-changed', 'config')], plain, plain, { author: 'bob-ex' });
    expect(required).toEqual([{
      rule: 'governance', subjects: ['config', 'tool:zendesk'], count: 1, from: ['anyone'],
      eligible: [{ person: 'alice', github: 'alice-ex' }, { person: 'carol', github: 'Carol-GH' }],
      satisfiable: true, owners: [], teams: [], changeKinds: ['config-changed', 'tool-changed'],
    }]);
  });

  it('is 1 from Config admins at base', async () => {
    const base = await snapshotOf({ ...MORE_PEOPLE, 'mandate.yaml': 'apiVersion: mandate/v1\nkind: Config\nadmins: [team:security, person:dave]\n' });
    const head = await snapshotOf({ ...MORE_PEOPLE, 'mandate.yaml': 'apiVersion: mandate/v1\nkind: Config\nadmins: [person:alice]\n' });
    const [requirement] = requiredApprovals([change('config-changed', 'config')], base, head, { author: 'alice-ex' });
    expect(requirement).toMatchObject({ rule: 'governance', from: ['team:security', 'person:dave'], satisfiable: true });
    expect(logins(requirement)).toEqual(['bob-ex', 'Carol-GH']);
  });

  it('applies to every non-agent kind, on top of any rule that matches it', async () => {
    const base = await snapshotOf({ ...MORE_PEOPLE, 'policies/rules.yaml': ruleYaml('people', '{ changes: [person-changed] }', '{ count: 2, from: [team:security] }') });
    const subjects = ['dataclass:customer-pii', 'person:alice', 'team:support', 'guardrail:g', 'approvalrule:r', 'controlcatalog:c', 'applicability:soa'];
    const required = requiredApprovals(subjects.map((subject) => change(subject.startsWith('person') ? 'person-changed' : 'controls-changed', subject)), base, base);
    expect(required.map((item) => [item.rule, item.subjects])).toEqual([
      ['governance', [...subjects].sort()],
      ['people', ['person:alice']],
    ]);
  });
});

describe('exception requirement', () => {
  const exceptionAgent = (approver: string, expires = '2027-01-15') => agentYaml('support-triage', {
    exceptions: `\n  - rule: review-overdue\n    reason: Reviewed in the quarterly audit.\n    approvedBy: ${approver}\n    expires: ${expires}\n`,
  });

  it("requires the approvedBy person of the exception the change's line points at", async () => {
    const head = await snapshotOf({ ...MORE_PEOPLE, 'policies/agents/triage.yaml': exceptionAgent('carol') });
    const line = head.model.agents.get('support-triage')!.source.position(['exceptions', 0, 'approvedBy']).line;
    const required = requiredApprovals([change('exception-added', TRIAGE, { line })], plain, head);
    expect(required.map((item) => [item.rule, item.from, logins(item)])).toEqual([
      ['default', ['owner', 'team'], ['alice-ex']],
      ['exception', ['person:carol'], ['Carol-GH']],
    ]);
  });

  it('finds the new exception when the line does not point at one, and flags an approver without a login', async () => {
    const head = await snapshotOf({ ...MORE_PEOPLE, 'policies/agents/triage.yaml': exceptionAgent('dave') });
    const [requirement] = only(requiredApprovals([change('exception-added', TRIAGE, { line: 1 })], plain, head), 'exception');
    expect(requirement).toMatchObject({ from: ['person:dave'], eligible: [], satisfiable: false });
  });

  it('cannot be met by the approver when they are the author', async () => {
    const head = await snapshotOf({ ...MORE_PEOPLE, 'policies/agents/triage.yaml': exceptionAgent('carol') });
    const [requirement] = only(requiredApprovals([change('exception-added', TRIAGE)], plain, head, { author: 'carol-gh' }), 'exception');
    expect(requirement).toMatchObject({ satisfiable: false, eligible: [] });
  });
});

describe('merging', () => {
  it('merges requirements with the same rule, count and eligible people, listing every subject', async () => {
    const head = await snapshotOf({
      ...MORE_PEOPLE,
      'policies/agents/a.yaml': agentYaml('agent-a'),
      'policies/agents/b.yaml': agentYaml('agent-b'),
      'policies/agents/c.yaml': agentYaml('agent-c', { owner: 'bob', team: 'security' }),
    });
    const required = requiredApprovals(
      [change('grant-added', 'agent:agent-b'), change('grant-added', 'agent:agent-a'), change('grant-removed', 'agent:agent-a'), change('grant-added', 'agent:agent-c')],
      head, head,
    );
    expect(required.map((item) => [item.rule, item.subjects, logins(item)])).toEqual([
      ['default', ['agent:agent-a', 'agent:agent-b'], ['alice-ex']],
      ['default', ['agent:agent-c'], ['bob-ex', 'Carol-GH']],
    ]);
    expect(required[0]!.changeKinds).toEqual(['grant-added', 'grant-removed']);
  });

  it('keeps the eligible people sorted by person id', async () => {
    const base = await snapshotOf({ ...MORE_PEOPLE, 'policies/rules.yaml': ruleYaml('all', '{ changes: [grant-added] }', '{ count: 3, from: [person:carol, team:security, owner] }') });
    const [requirement] = requiredApprovals([change('grant-added', TRIAGE)], base, base);
    expect(requirement!.eligible.map((approver) => approver.person)).toEqual(['alice', 'bob', 'carol']);
    expect(requirement!.satisfiable).toBe(true);
  });

  it('flags a count larger than the eligible people', async () => {
    const base = await snapshotOf({ ...MORE_PEOPLE, 'policies/rules.yaml': ruleYaml('two-owners', '{ changes: [grant-added] }', '{ count: 2, from: [owner] }') });
    const [requirement] = requiredApprovals([change('grant-added', TRIAGE)], base, base);
    expect(requirement).toMatchObject({ rule: 'two-owners', count: 2, satisfiable: false });
    expect(requirement!.eligible).toHaveLength(1);
  });
});

describe('a pull request cannot lower its own bar', () => {
  const strict = ruleYaml('high-risk', '{ changes: [grant-added, approval-rule-changed] }', '{ count: 2, from: [team:security] }');

  it('keeps the base rule when the head lowers its count, and needs governance for the rule edit', async () => {
    const base = await snapshotOf({ ...MORE_PEOPLE, 'policies/rules.yaml': strict });
    const head = await snapshotOf({ ...MORE_PEOPLE, 'policies/rules.yaml': ruleYaml('high-risk', '{ changes: [grant-added] }', '{ count: 1, from: [owner] }') });
    const required = requiredApprovals([change('grant-added', TRIAGE), change('approval-rule-changed', 'approvalrule:high-risk')], base, head, { author: 'alice-ex' });
    expect(required.map((item) => [item.rule, item.subjects, item.count, logins(item)])).toEqual([
      ['governance', ['approvalrule:high-risk'], 1, ['bob-ex', 'Carol-GH']],
      ['high-risk', ['agent:support-triage', 'approvalrule:high-risk'], 2, ['bob-ex', 'Carol-GH']],
    ]);
  });

  it('keeps the base rule when the head deletes it, and ignores a rule the head adds', async () => {
    const base = await snapshotOf({ ...MORE_PEOPLE, 'policies/rules.yaml': strict });
    const head = await snapshotOf({ ...MORE_PEOPLE, 'policies/rules.yaml': null, 'policies/lax.yaml': ruleYaml('lax', '{}', '{ count: 1, from: [owner] }') });
    const rules = requiredApprovals([change('grant-added', TRIAGE)], base, head).map((item) => item.rule);
    expect(rules).toEqual(['high-risk']);
  });

  it('does not let a person or team member added at head approve', async () => {
    const base = await snapshotOf({ ...MORE_PEOPLE, 'policies/rules.yaml': strict });
    const head = await snapshotOf({
      ...MORE_PEOPLE,
      'policies/rules.yaml': strict,
      'policies/teams.yaml': `${MORE_PEOPLE['policies/teams.yaml']}`.replace('members: [bob, carol]', 'members: [bob, carol, erin]'),
      'policies/erin.yaml': 'apiVersion: mandate/v1\nkind: Person\nid: erin\nname: Erin\ngithub: erin-gh\n',
    });
    const [requirement] = only(requiredApprovals([change('grant-added', TRIAGE)], base, head), 'high-risk');
    expect(logins(requirement)).toEqual(['bob-ex', 'Carol-GH']);
  });
});

describe('evaluateApprovals', () => {
  const requirement = (rule: string, count: number, github: string[]): ApprovalRequirement => ({
    rule, subjects: [`agent:${rule}`], count, from: ['owner'], satisfiable: github.length >= count,
    eligible: github.map((login) => ({ person: login.replace(/-gh$/, ''), github: login })), owners: [], teams: [], changeKinds: ['grant-added'],
  });
  const HEAD = 'h'.repeat(40);

  it('counts one approval toward every requirement it is eligible for', () => {
    const result = evaluateApprovals([requirement('a', 1, ['bob-gh']), requirement('b', 1, ['bob-gh', 'carol-gh'])], [{ github: 'bob-gh', commit: HEAD }], HEAD, []);
    expect(result.satisfied).toBe(true);
    expect(result.requirements.map((item) => [item.satisfied, item.approvedBy.map((approver) => approver.github)])).toEqual([
      [true, ['bob-gh']], [true, ['bob-gh']],
    ]);
  });

  it('counts an approval only for the head commit it was given on', () => {
    const result = evaluateApprovals([requirement('a', 1, ['bob-gh'])], [{ github: 'bob-gh', commit: 'o'.repeat(40) }], HEAD, []);
    expect(result).toMatchObject({ satisfied: false, requirements: [{ satisfied: false, missing: 1, approvedBy: [] }] });
  });

  it('never counts authors, committers or co-authors, whatever the case of the login', () => {
    const result = evaluateApprovals([requirement('a', 1, ['bob-gh'])], [{ github: 'Bob-GH', commit: HEAD }], HEAD, ['BOB-gh']);
    expect(result.satisfied).toBe(false);
    const counted = evaluateApprovals([requirement('a', 1, ['bob-gh'])], [{ github: 'Bob-GH', commit: HEAD }], HEAD, ['alice-gh']);
    expect(counted.satisfied).toBe(true);
  });

  it('needs count distinct eligible people; repeats and strangers do not add up', () => {
    const approvals = [{ github: 'bob-gh', commit: HEAD }, { github: 'bob-gh', commit: HEAD }, { github: 'mallory', commit: HEAD }];
    const result = evaluateApprovals([requirement('a', 2, ['bob-gh', 'carol-gh'])], approvals, HEAD, []);
    expect(result.requirements[0]).toMatchObject({ satisfied: false, missing: 1 });
    const both = evaluateApprovals([requirement('a', 2, ['bob-gh', 'carol-gh'])], [...approvals, { github: 'carol-gh', commit: HEAD }], HEAD, []);
    expect(both.satisfied).toBe(true);
  });

  it('is satisfied with no requirement at all', () => {
    expect(evaluateApprovals([], [], HEAD, [])).toEqual({ satisfied: true, requirements: [] });
  });
});
