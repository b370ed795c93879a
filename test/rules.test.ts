import { describe, expect, it } from 'vitest';
import { RULES } from '../core/rule-catalog';
import { BASE_FILES, findingsOf, snapshotOf } from './helpers/repo';

/** An agent document: the base triage agent with fields replaced or appended. */
function agentYaml(fields: Record<string, string> = {}): string {
  const base: Record<string, string> = {
    apiVersion: 'mandate/v1',
    kind: 'Agent',
    id: 'probe',
    name: 'Probe agent',
    purpose: 'Exercise one rule.',
    owner: 'alice',
    team: 'support',
    status: 'active',
    riskTier: 'critical',
    lastReviewed: '2026-10-01',
    permissions: '[]',
  };
  const merged = { ...base, ...fields };
  return Object.entries(merged)
    .map(([key, value]) => (value.startsWith('\n') ? `${key}:${value}` : `${key}: ${value}`))
    .join('\n')
    .concat('\n');
}

const PROBE = 'policies/agents/probe.yaml';

describe('the base fixture', () => {
  it('is clean', async () => {
    const snapshot = await snapshotOf();
    expect(snapshot.findings).toEqual([]);
    expect(snapshot.files).toHaveLength(Object.keys(BASE_FILES).length);
  });
});

describe('yaml-syntax', () => {
  it('reports malformed YAML at its position', async () => {
    const [finding] = findingsOf(await snapshotOf({ 'policies/bad.yaml': 'a: [1, 2\nb: 3\n' }), 'yaml-syntax');
    expect(finding).toMatchObject({ file: 'policies/bad.yaml', severity: 'error' });
    expect(finding!.line).toBeGreaterThanOrEqual(1);
  });
  it('reports tab indentation', async () => {
    const findings = findingsOf(await snapshotOf({ 'policies/tab.yaml': 'apiVersion: mandate/v1\nkind: Person\nmeta:\n\tid: x\n' }), 'yaml-syntax');
    expect(findings.map((finding) => finding.line)).toContain(4);
  });
  it('reports bytes that are not UTF-8 at the first bad byte', async () => {
    const bytes = new Uint8Array([...new TextEncoder().encode('kind: Person\nname: caf'), 0xe9, 0x0a]);
    const [finding] = findingsOf(await snapshotOf({ 'policies/latin1.yaml': bytes }), 'yaml-syntax');
    expect(finding).toMatchObject({ line: 2, column: 10 });
    expect(finding!.message).toContain('UTF-8');
  });
  it('refuses custom tags and merge keys', async () => {
    const snapshot = await snapshotOf({
      'policies/tags.yaml': 'apiVersion: mandate/v1\nkind: Person\nid: zed\nname: !shell rm\n',
      'policies/merge.yaml': 'base: &b { a: 1 }\nother:\n  <<: *b\n',
    });
    const messages = findingsOf(snapshot, 'yaml-syntax').map((finding) => finding.message);
    expect(messages.some((message) => message.includes('!shell'))).toBe(true);
    expect(messages.some((message) => message.includes('merge keys'))).toBe(true);
    expect(snapshot.model.people.has('zed')).toBe(false);
  });
  it('does not fire on the clean base', async () => {
    expect(findingsOf(await snapshotOf(), 'yaml-syntax')).toEqual([]);
  });
});

describe('yaml-limit', () => {
  it('stops an alias bomb', async () => {
    const lines = ['a: &a ["x","x","x","x","x","x","x","x","x","x"]'];
    for (let level = 1; level < 9; level += 1) {
      const previous = String.fromCharCode(96 + level);
      const name = String.fromCharCode(97 + level);
      lines.push(`${name}: &${name} [${Array(10).fill(`*${previous}`).join(',')}]`);
    }
    const started = Date.now();
    const findings = findingsOf(await snapshotOf({ 'policies/bomb.yaml': `${lines.join('\n')}\n` }), 'yaml-limit');
    expect(Date.now() - started).toBeLessThan(5000);
    expect(findings).toHaveLength(1);
    expect(findings[0]!.message).toMatch(/alias/);
  });
  it('stops 10,000-level nesting', async () => {
    const deep = `${'['.repeat(10_000)}${']'.repeat(10_000)}\n`;
    const findings = findingsOf(await snapshotOf({ 'policies/deep.yaml': deep }), 'yaml-limit');
    expect(findings).toHaveLength(1);
    expect(findings[0]!.message).toMatch(/nesting/);
  });
  it('refuses a file over maxFileBytes without parsing it', async () => {
    const config = 'apiVersion: mandate/v1\nkind: Config\nmaxFileBytes: 2048\n';
    const big = `# ${'x'.repeat(3000)}\n`;
    const [finding] = findingsOf(await snapshotOf({ 'mandate.yaml': config, 'policies/big.yaml': big }), 'yaml-limit');
    expect(finding).toMatchObject({ file: 'policies/big.yaml', line: 1, column: 1 });
    expect(finding!.message).toContain('2048');
  });
  it('does not fire on normal aliases', async () => {
    const person = 'apiVersion: mandate/v1\nkind: Person\nid: carol\nname: &n Carol\nrole: *n\n';
    const snapshot = await snapshotOf({ 'policies/carol.yaml': person });
    expect(findingsOf(snapshot, 'yaml-limit')).toEqual([]);
    expect(snapshot.model.people.get('carol')?.doc).toMatchObject({ name: 'Carol' });
  });
});

describe('forbidden-key', () => {
  it('refuses __proto__ and keeps the document out of the model', async () => {
    const snapshot = await snapshotOf({ [PROBE]: agentYaml({ ['__proto__']: '{ polluted: true }' }) });
    const [finding] = findingsOf(snapshot, 'forbidden-key');
    expect(finding).toMatchObject({ file: PROBE, line: 12, column: 1 });
    expect(snapshot.model.agents.has('probe')).toBe(false);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
  it('allows ordinary keys', async () => {
    expect(findingsOf(await snapshotOf({ [PROBE]: agentYaml() }), 'forbidden-key')).toEqual([]);
  });
});

describe('duplicate-key', () => {
  it('reports the second key, naming the first line', async () => {
    const text = agentYaml().replace('name: Probe agent\n', 'name: Probe agent\nname: Other\n');
    const [finding] = findingsOf(await snapshotOf({ [PROBE]: text }), 'duplicate-key');
    expect(finding).toMatchObject({ line: 5, column: 1, subject: 'agent:probe' });
    expect(finding!.message).toContain('line 4');
  });
  it('finds duplicates among 40,000 keys quickly', async () => {
    const keys = Array.from({ length: 40_000 }, (_, index) => `k${index}: ${index}`);
    keys.push('k7: again');
    const started = Date.now();
    const findings = findingsOf(await snapshotOf({ 'policies/wide.yaml': `${keys.join('\n')}\n` }), 'duplicate-key');
    expect(findings).toHaveLength(1);
    expect(Date.now() - started).toBeLessThan(10_000);
  });
});

describe('schema', () => {
  it.each([
    ['no kind', 'apiVersion: mandate/v1\nid: x\n', 1, 1, 'missing required field `kind`'],
    ['unknown kind', 'apiVersion: mandate/v1\nkind: Robot\nid: x\n', 2, 7, "`kind` must be one of Agent, Tool"],
    ['wrong apiVersion', 'apiVersion: mandate/v2\nkind: Person\nid: x\nname: X\n', 1, 13, "got 'mandate/v2'"],
    ['bad id', 'apiVersion: mandate/v1\nkind: Person\nid: Not_Kebab\nname: X\n', 3, 5, '`id` must be lowercase kebab-case'],
    ['unknown field', 'apiVersion: mandate/v1\nkind: Person\nid: x\nname: X\ngithb: x\n', 5, 1, 'did you mean `github`?'],
    ['scalar document', 'just text\n', 1, 1, 'a document must be a map'],
  ])('reports %s', async (_label, text, line, column, message) => {
    const [finding] = findingsOf(await snapshotOf({ 'policies/shape.yaml': text }), 'schema');
    expect(finding).toMatchObject({ line, column });
    expect(finding!.message).toContain(message);
  });
  it('explains an enum with the allowed values and the value given', async () => {
    const text = agentYaml({ permissions: '\n  - tool: zendesk\n    actions: [tickets.read]\n    approval: yes\n' });
    const [finding] = findingsOf(await snapshotOf({ [PROBE]: text }), 'schema');
    expect(finding!.message).toBe("`approval` must be one of none, required; got 'yes'");
    expect(finding).toMatchObject({ line: 14, column: 15 });
  });
  it.each([
    ['a date that is not a date', 'expires: 2026-02-30', "`expires` must be a date written YYYY-MM-DD; got '2026-02-30'"],
    ['a negative rate limit', 'rateLimit: { max: -1, per: hour }', '`max` must be at least 1; got -1'],
    ['an infinite rate limit', 'rateLimit: { max: 1e309, per: hour }', 'is not finite'],
    ['a fractional rate limit', 'rateLimit: { max: 1.5, per: hour }', '`max` must be a whole number; got 1.5'],
    ['an empty resources list', 'resources: []', '`resources` must not be empty'],
    ['** inside a segment', 'resources: ["queue/a**"]', '`resources[0]` must be a resource pattern'],
    ['** before the last segment', 'resources: ["**/x"]', '`resources[0]` must be a resource pattern'],
  ])('reports %s', async (_label, line, message) => {
    const text = agentYaml({ permissions: `\n  - tool: zendesk\n    actions: [tickets.read]\n    ${line}\n` });
    const snapshot = await snapshotOf({ [PROBE]: text });
    const [finding] = findingsOf(snapshot, 'schema');
    expect(finding!.message).toContain(message);
    expect(finding!.line).toBe(14);
    expect(snapshot.model.agents.has('probe')).toBe(false);
  });
  it('accepts the documented resource patterns', async () => {
    const text = agentYaml({
      permissions: '\n  - tool: zendesk\n    actions: [tickets.read]\n    resources: ["queue/support/**", "**", "a/*/b", "x?[y]{z}!"]\n',
    });
    expect(findingsOf(await snapshotOf({ [PROBE]: text }), 'schema')).toEqual([]);
  });
  it('requires vendor on a third-party tool', async () => {
    const text = BASE_FILES['policies/tools/zendesk.yaml']!.replace('vendor: Zendesk Inc.\n', '');
    const [finding] = findingsOf(await snapshotOf({ 'policies/tools/zendesk.yaml': text }), 'schema');
    expect(finding!.message).toBe('missing required field `vendor`');
  });
});

describe('duplicate-id', () => {
  it('reports the second definition and points at the first', async () => {
    const text = 'apiVersion: mandate/v1\nkind: Person\nid: alice\nname: Another Alice\n';
    const [finding] = findingsOf(await snapshotOf({ 'policies/z-more-people.yaml': text }), 'duplicate-id');
    expect(finding).toMatchObject({ file: 'policies/z-more-people.yaml', line: 3, column: 5 });
    expect(finding!.message).toContain('policies/people.yaml:3');
  });
  it('allows one id in two kinds', async () => {
    const text = 'apiVersion: mandate/v1\nkind: Team\nid: alice\nmembers: [alice]\n';
    expect(findingsOf(await snapshotOf({ 'policies/team-alice.yaml': text }), 'duplicate-id')).toEqual([]);
  });
});

describe('unknown-reference', () => {
  it('names the missing person at the owner value, with a suggestion', async () => {
    const [finding] = findingsOf(await snapshotOf({ [PROBE]: agentYaml({ owner: 'alicee' }) }), 'unknown-reference');
    expect(finding).toMatchObject({ line: 6, column: 8, subject: 'agent:probe' });
    expect(finding!.message).toBe("owner 'alicee' is not a known Person; did you mean 'alice'?");
  });
  it.each([
    ['a tool', { permissions: '\n  - tool: jira\n    actions: [x]\n' }, "tool 'jira' is not a known Tool"],
    ['a team', { team: 'ghosts' }, "team 'ghosts' is not a known Team"],
    ['a delegate', { delegatesTo: '[nobody]' }, "delegatesTo 'nobody' is not a known Agent"],
  ])('reports %s', async (_label, fields, message) => {
    const findings = findingsOf(await snapshotOf({ [PROBE]: agentYaml(fields) }), 'unknown-reference');
    expect(findings.map((finding) => finding.message)).toContain(message);
  });
  it('reports a data class a tool action names', async () => {
    const text = BASE_FILES['policies/tools/zendesk.yaml']!.replace('data: [public-docs]', 'data: [secret-sauce]');
    const [finding] = findingsOf(await snapshotOf({ 'policies/tools/zendesk.yaml': text }), 'unknown-reference');
    expect(finding!.message).toContain("'secret-sauce' is not a known DataClass");
  });
  it('points at the right line under an integer-like key (JavaScript orders those first)', async () => {
    const text = BASE_FILES['policies/tools/zendesk.yaml']!.replace('  docs.read: { effect: read, data: [public-docs] }\n', '  docs.read: { effect: read, data: [public-docs] }\n  "123": { effect: read, data: [nope] }\n');
    const [finding] = findingsOf(await snapshotOf({ 'policies/tools/zendesk.yaml': text }), 'unknown-reference');
    expect(finding).toMatchObject({ line: 15, column: 33 });
  });
  it('reports a control id missing from the catalog', async () => {
    const guardrail = 'apiVersion: mandate/v1\nkind: Guardrail\nid: g\ndescription: d\nseverity: error\ncontrols: [A.9.9]\nmatch: {}\nrequire: { justification: true }\n';
    const [finding] = findingsOf(await snapshotOf({ 'policies/g.yaml': guardrail }), 'unknown-reference');
    expect(finding!.message).toContain('control `A.9.9`');
  });
  it('does not fire on the clean base', async () => {
    expect(findingsOf(await snapshotOf(), 'unknown-reference')).toEqual([]);
  });
});

describe('unknown-action', () => {
  it('reports a misspelt action with a suggestion', async () => {
    const text = agentYaml({ permissions: '\n  - tool: zendesk\n    actions: [tickets.read, tickets.delet]\n    approval: required\n' });
    const [finding] = findingsOf(await snapshotOf({ [PROBE]: text }), 'unknown-action');
    expect(finding).toMatchObject({ line: 13, column: 29 });
    expect(finding!.message).toContain('did you mean `tickets.delete`?');
  });
  it('reports a glob that matches nothing', async () => {
    const text = agentYaml({ permissions: '\n  - tool: zendesk\n    actions: ["users.*"]\n' });
    const [finding] = findingsOf(await snapshotOf({ [PROBE]: text }), 'unknown-action');
    expect(finding!.message).toContain('action glob `users.*` matches no action');
  });
  it('expands a glob across dots', async () => {
    const text = agentYaml({ permissions: '\n  - tool: zendesk\n    actions: ["tickets.*"]\n    resources: [q/x]\n    approval: required\n' });
    const snapshot = await snapshotOf({ [PROBE]: text });
    expect(findingsOf(snapshot, 'unknown-action')).toEqual([]);
    expect(snapshot.model.grants.get('probe')![0]!.actions).toEqual(['tickets.comment', 'tickets.delete', 'tickets.read', 'tickets.reply']);
  });
});

describe('delegation-cycle', () => {
  it('reports a cycle once, from its smallest agent', async () => {
    const snapshot = await snapshotOf({
      'policies/agents/a.yaml': agentYaml({ id: 'agent-a', delegatesTo: '[agent-b]' }),
      'policies/agents/b.yaml': agentYaml({ id: 'agent-b', delegatesTo: '[agent-c]' }),
      'policies/agents/c.yaml': agentYaml({ id: 'agent-c', delegatesTo: '[agent-a]' }),
    });
    const findings = findingsOf(snapshot, 'delegation-cycle');
    expect(findings).toHaveLength(1);
    expect(findings[0]).toMatchObject({ file: 'policies/agents/a.yaml', subject: 'agent:agent-a' });
    expect(findings[0]!.message).toBe('delegation cycle: agent-a -> agent-b -> agent-c -> agent-a');
  });
  it('accepts a chain', async () => {
    const snapshot = await snapshotOf({
      'policies/agents/a.yaml': agentYaml({ id: 'agent-a', delegatesTo: '[agent-b]' }),
      'policies/agents/b.yaml': agentYaml({ id: 'agent-b' }),
    });
    expect(findingsOf(snapshot, 'delegation-cycle')).toEqual([]);
  });
});

describe('secret-in-policy', () => {
  it('finds a token and never repeats it', async () => {
    const token = `ghp_${'a1B2c3D4'.repeat(4)}xyzw`;
    const text = agentYaml({ purpose: `Uses ${token} to read.` });
    const [finding] = findingsOf(await snapshotOf({ [PROBE]: text }), 'secret-in-policy');
    expect(finding).toMatchObject({ line: 5, column: 15 });
    expect(JSON.stringify(finding)).not.toContain(token);
  });
  it('leaves ordinary text alone', async () => {
    expect(findingsOf(await snapshotOf(), 'secret-in-policy')).toEqual([]);
  });
});

const TRIFECTA = {
  exposure: '{ untrustedInput: true }',
  permissions: '\n  - tool: zendesk\n    actions: [tickets.read]\n  - tool: zendesk\n    actions: [tickets.reply]\n    resources: [q/x]\n',
};

describe('lethal-trifecta', () => {
  it('fires on sensitive read + untrusted input + ungated egress, at the egress grant', async () => {
    const [finding] = findingsOf(await snapshotOf({ [PROBE]: agentYaml(TRIFECTA) }), 'lethal-trifecta');
    expect(finding).toMatchObject({ line: 14, column: 5, subject: 'agent:probe' });
    expect(finding!.message).toContain('zendesk tickets.reply');
  });
  it('is broken by gating the egress', async () => {
    const gated = { ...TRIFECTA, permissions: `${TRIFECTA.permissions}    approval: required\n` };
    expect(findingsOf(await snapshotOf({ [PROBE]: agentYaml(gated) }), 'lethal-trifecta')).toEqual([]);
  });
  it('counts a delegate\'s exposure', async () => {
    const snapshot = await snapshotOf({
      [PROBE]: agentYaml({ permissions: TRIFECTA.permissions, delegatesTo: '[reader]' }),
      'policies/agents/reader.yaml': agentYaml({ id: 'reader', exposure: '{ untrustedInput: true }' }),
    });
    expect(findingsOf(snapshot, 'lethal-trifecta').map((finding) => finding.subject)).toEqual(['agent:probe']);
  });
});

describe('risk-tier-understated', () => {
  it('explains which capability raises the tier', async () => {
    const text = agentYaml({
      riskTier: 'low',
      permissions: '\n  - tool: zendesk\n    actions: [tickets.delete]\n    resources: [q/x]\n',
    });
    const [finding] = findingsOf(await snapshotOf({ [PROBE]: text }), 'risk-tier-understated');
    expect(finding).toMatchObject({ line: 9, column: 11 });
    expect(finding!.message).toBe('declared riskTier low is below the computed tier high: zendesk tickets.delete is an ungated delete');
  });
  it('follows delegation into the computed tier', async () => {
    const snapshot = await snapshotOf({
      [PROBE]: agentYaml({ riskTier: 'low', delegatesTo: '[writer]' }),
      'policies/agents/writer.yaml': agentYaml({ id: 'writer', permissions: '\n  - tool: zendesk\n    actions: [tickets.comment]\n    resources: [q/x]\n' }),
    });
    expect(findingsOf(snapshot, 'risk-tier-understated').map((finding) => finding.subject)).toEqual(['agent:probe']);
  });
  it('ignores a suspended delegate', async () => {
    const snapshot = await snapshotOf({
      [PROBE]: agentYaml({ riskTier: 'low', delegatesTo: '[writer]' }),
      'policies/agents/writer.yaml': agentYaml({ id: 'writer', status: 'suspended', permissions: '\n  - tool: zendesk\n    actions: [tickets.comment]\n    resources: [q/x]\n' }),
    });
    expect(findingsOf(snapshot, 'risk-tier-understated')).toEqual([]);
  });
  it('accepts a tier at or above the computed one', async () => {
    expect(findingsOf(await snapshotOf(), 'risk-tier-understated')).toEqual([]);
  });
});

describe('unvetted-tool', () => {
  const pending = BASE_FILES['policies/tools/zendesk.yaml']!.replace('status: approved', 'status: pending');
  it('fires for an active agent on a pending tool', async () => {
    const [finding] = findingsOf(await snapshotOf({ 'policies/tools/zendesk.yaml': pending }), 'unvetted-tool');
    expect(finding).toMatchObject({ file: 'policies/agents/triage.yaml', line: 12, column: 11 });
    expect(finding!.message).toContain('vetting is pending');
  });
  it('fires for a third-party tool with no vetting', async () => {
    const unvetted = BASE_FILES['policies/tools/zendesk.yaml']!.replace(/vetting: .*\n/, '');
    const [finding] = findingsOf(await snapshotOf({ 'policies/tools/zendesk.yaml': unvetted }), 'unvetted-tool');
    expect(finding!.message).toContain('no vetting record');
  });
  it('does not fire for a proposed agent', async () => {
    const proposed = BASE_FILES['policies/agents/triage.yaml']!.replace('status: active', 'status: proposed');
    const snapshot = await snapshotOf({ 'policies/tools/zendesk.yaml': pending, 'policies/agents/triage.yaml': proposed });
    expect(findingsOf(snapshot, 'unvetted-tool')).toEqual([]);
  });
});

const GUARDRAIL = `apiVersion: mandate/v1
kind: Guardrail
id: writes-need-human
description: Writes to customer data need a human.
severity: warning
controls: [A.9.2]
match: { effects: [write], sensitivity: [confidential] }
require: { approval: required, maxRate: { max: 10, per: minute } }
`;

describe('guardrail', () => {
  it('reports each violating permission with the guardrail\'s severity and controls', async () => {
    const [finding] = findingsOf(await snapshotOf({ 'policies/guardrails.yaml': GUARDRAIL }), 'guardrail');
    expect(finding).toMatchObject({ file: 'policies/agents/triage.yaml', line: 12, column: 5, severity: 'warning', controls: ['A.9.2'], guardrail: 'writes-need-human' });
    expect(finding!.message).toBe('breaks guardrail `writes-need-human` (zendesk tickets.comment): needs approval: required; needs a rateLimit of at most 10 per minute');
  });
  it('passes a permission that meets every requirement', async () => {
    const triage = BASE_FILES['policies/agents/triage.yaml']!.replace('    justification:', '    approval: required\n    rateLimit: { max: 100, per: hour }\n    justification:');
    const snapshot = await snapshotOf({ 'policies/guardrails.yaml': GUARDRAIL, 'policies/agents/triage.yaml': triage });
    expect(findingsOf(snapshot, 'guardrail')).toEqual([]);
  });
  it('checks forbid, expiry and justification requirements', async () => {
    const strict = GUARDRAIL.replace('severity: warning', 'severity: error')
      .replace(/match: .*/, 'match: { tools: [zendesk] }')
      .replace(/require: .*/, 'require: { forbid: true, expiresWithinDays: 30, justification: true }');
    const triage = BASE_FILES['policies/agents/triage.yaml']!.replace(/ {4}justification: .*\n/, '');
    const [finding] = findingsOf(await snapshotOf({ 'policies/guardrails.yaml': strict, 'policies/agents/triage.yaml': triage }), 'guardrail');
    expect(finding!.severity).toBe('error');
    expect(finding!.message).toContain('this permission may not exist; needs expires within 30 days; needs a justification');
  });
});

describe('missing-owner', () => {
  it('fires when the owner of an active agent has no github login', async () => {
    const people = BASE_FILES['policies/people.yaml']!.replace('github: alice-ex\n', '');
    const [finding] = findingsOf(await snapshotOf({ 'policies/people.yaml': people }), 'missing-owner');
    expect(finding).toMatchObject({ file: 'policies/agents/triage.yaml', line: 6, column: 8 });
  });
  it('does not fire when the owner can approve', async () => {
    expect(findingsOf(await snapshotOf(), 'missing-owner')).toEqual([]);
  });
});

describe('ungated-destructive', () => {
  it('fires on an ungated delete', async () => {
    const text = agentYaml({ permissions: '\n  - tool: zendesk\n    actions: [tickets.delete]\n    resources: [q/x]\n' });
    const [finding] = findingsOf(await snapshotOf({ [PROBE]: text }), 'ungated-destructive');
    expect(finding).toMatchObject({ severity: 'warning', line: 12, column: 5 });
  });
  it('does not fire when gated', async () => {
    const text = agentYaml({ permissions: '\n  - tool: zendesk\n    actions: [tickets.delete]\n    resources: [q/x]\n    approval: required\n' });
    expect(findingsOf(await snapshotOf({ [PROBE]: text }), 'ungated-destructive')).toEqual([]);
  });
});

describe('wildcard-write', () => {
  it('fires on a write to every resource', async () => {
    const text = agentYaml({ permissions: '\n  - tool: zendesk\n    actions: [tickets.comment]\n' });
    const [finding] = findingsOf(await snapshotOf({ [PROBE]: text }), 'wildcard-write');
    expect(finding!.message).toContain('on every resource');
  });
  it('fires on a write reached through an action glob', async () => {
    const text = agentYaml({ permissions: '\n  - tool: zendesk\n    actions: ["tickets.c*"]\n    resources: [q/x]\n' });
    const [finding] = findingsOf(await snapshotOf({ [PROBE]: text }), 'wildcard-write');
    expect(finding!.message).toContain('through an action glob');
  });
  it('does not fire on a scoped, named write or an unscoped read', async () => {
    const text = agentYaml({ permissions: '\n  - tool: zendesk\n    actions: [tickets.comment]\n    resources: [q/x]\n  - tool: zendesk\n    actions: ["docs.*"]\n' });
    expect(findingsOf(await snapshotOf({ [PROBE]: text }), 'wildcard-write')).toEqual([]);
  });
});

describe('review-overdue', () => {
  it('fires past reviewIntervalDays', async () => {
    const [finding] = findingsOf(await snapshotOf({ [PROBE]: agentYaml({ lastReviewed: '2026-01-02' }) }), 'review-overdue');
    expect(finding!.message).toContain('328 days ago');
  });
  it('fires for an active agent never reviewed', async () => {
    const text = agentYaml().replace('lastReviewed: 2026-10-01\n', '');
    const [finding] = findingsOf(await snapshotOf({ [PROBE]: text }), 'review-overdue');
    expect(finding!.message).toContain('never');
  });
  it('honours a configured interval and ignores proposed agents', async () => {
    const config = 'apiVersion: mandate/v1\nkind: Config\nreviewIntervalDays: 400\n';
    const snapshot = await snapshotOf({
      'mandate.yaml': config,
      [PROBE]: agentYaml({ lastReviewed: '2026-01-02' }),
      'policies/agents/new.yaml': agentYaml({ id: 'new-agent', status: 'proposed', lastReviewed: '2020-01-01' }),
    });
    expect(findingsOf(snapshot, 'review-overdue')).toEqual([]);
  });
});

describe('grant-expired', () => {
  it('fires after the expiry day, and the grant is void', async () => {
    const text = agentYaml({ riskTier: 'low', permissions: '\n  - tool: zendesk\n    actions: [tickets.comment]\n    resources: [q/x]\n    expires: 2026-11-25\n' });
    const snapshot = await snapshotOf({ [PROBE]: text });
    expect(findingsOf(snapshot, 'grant-expired')).toHaveLength(1);
    expect(findingsOf(snapshot, 'risk-tier-understated')).toEqual([]);
  });
  it('is still valid through its expiry day', async () => {
    const text = agentYaml({ permissions: '\n  - tool: zendesk\n    actions: [tickets.read]\n    expires: 2026-11-26\n' });
    expect(findingsOf(await snapshotOf({ [PROBE]: text }), 'grant-expired')).toEqual([]);
  });
});

describe('inactive-agent-grants', () => {
  it('fires on a retired agent with permissions', async () => {
    const text = agentYaml({ status: 'retired', permissions: '\n  - tool: zendesk\n    actions: [tickets.read]\n' });
    expect(findingsOf(await snapshotOf({ [PROBE]: text }), 'inactive-agent-grants')).toHaveLength(1);
  });
  it('does not fire on a retired agent without permissions', async () => {
    expect(findingsOf(await snapshotOf({ [PROBE]: agentYaml({ status: 'retired' }) }), 'inactive-agent-grants')).toEqual([]);
  });
});

describe('exceptions', () => {
  const ungated = '\n  - tool: zendesk\n    actions: [tickets.delete]\n    resources: [q/x]\n';
  const exception = (expires: string) => `\n  - rule: ungated-destructive\n    reason: Accepted for the pilot.\n    approvedBy: bob\n    expires: ${expires}\n`;
  it('waive a finding until they expire', async () => {
    const snapshot = await snapshotOf({ [PROBE]: agentYaml({ permissions: ungated, exceptions: exception('2027-01-01') }) });
    const [finding] = findingsOf(snapshot, 'ungated-destructive');
    expect(finding!.waived).toEqual({ reason: 'Accepted for the pilot.', approvedBy: 'bob', expires: '2027-01-01' });
    expect(findingsOf(snapshot, 'exception-expired')).toEqual([]);
  });
  it('count the finding again after expiry, with exception-expired', async () => {
    const snapshot = await snapshotOf({ [PROBE]: agentYaml({ permissions: ungated, exceptions: exception('2026-11-01') }) });
    expect(findingsOf(snapshot, 'ungated-destructive')[0]!.waived).toBeUndefined();
    expect(findingsOf(snapshot, 'exception-expired')).toHaveLength(1);
  });
  it('cannot waive a rule that keeps the model sound', async () => {
    const text = agentYaml({ exceptions: '\n  - rule: unknown-reference\n    reason: x\n    approvedBy: bob\n    expires: 2027-01-01\n' });
    const [finding] = findingsOf(await snapshotOf({ [PROBE]: text }), 'schema');
    expect(finding!.message).toContain('cannot be waived');
  });
});

describe('empty-file', () => {
  it.each([['empty', ''], ['only comments', '# nothing here\n'], ['only separators', '---\n---\n']])('fires on a file that is %s', async (_label, text) => {
    const [finding] = findingsOf(await snapshotOf({ 'policies/empty.yaml': text }), 'empty-file');
    expect(finding).toMatchObject({ line: 1, column: 1, subject: 'file' });
  });
});

describe('mandate.yaml rule settings', () => {
  it('change a severity, turn a rule off, and refuse to configure the fixed rules', async () => {
    const config = 'apiVersion: mandate/v1\nkind: Config\nrules: { ungated-destructive: error, wildcard-write: off, schema: warning, guardrail: off, no-such-rule: off }\n';
    const text = agentYaml({ permissions: '\n  - tool: zendesk\n    actions: [tickets.delete]\n' });
    const snapshot = await snapshotOf({ 'mandate.yaml': config, [PROBE]: text });
    expect(findingsOf(snapshot, 'ungated-destructive')[0]!.severity).toBe('error');
    expect(findingsOf(snapshot, 'wildcard-write')).toEqual([]);
    const configFindings = snapshot.findings.filter((finding) => finding.file === 'mandate.yaml').map((finding) => finding.message);
    expect(configFindings).toEqual([
      'rule `schema` keeps the model sound and is always an error',
      'the severity of guardrail findings is set in each Guardrail, not here',
      'rule `no-such-rule` is not a built-in rule',
    ]);
  });
});

describe('the rule catalog', () => {
  it('documents every rule with controls, a rationale and OWASP ids in range', () => {
    for (const rule of RULES) {
      expect(rule.description.length).toBeGreaterThan(10);
      expect(rule.rationale.length).toBeGreaterThan(20);
      expect(rule.controls.length).toBeGreaterThan(0);
      for (const id of rule.owasp) expect(id).toMatch(/^ASI(0[1-9]|10)$/);
    }
  });
});
