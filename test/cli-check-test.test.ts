import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BASE_FILES, ensureBuilt, expectUsageError, removeRepo, runCli, writeRepo } from './helpers/repo';

const PROJECT = join(import.meta.dirname, '..');
/** Timeout for tests that spawn the CLI several times (a loaded CI machine can take seconds per spawn). */
const SLOW = 120_000;

beforeAll(ensureBuilt);

/** A small repository with a guardrail that gates egress and an agent whose reply grant forgot the gate. */
const GATED_FILES: Record<string, string> = {
  ...BASE_FILES,
  'policies/guardrails.yaml': `apiVersion: mandate/v1
kind: Guardrail
id: egress-needs-human
description: Anything leaving the company needs a human on each call.
severity: warning
match: { effects: [egress] }
require: { approval: required }
`,
  'policies/agents/replier.yaml': `apiVersion: mandate/v1
kind: Agent
id: replier
name: Replier
purpose: Replies to customers.
owner: alice
team: support
status: active
riskTier: high
lastReviewed: 2026-10-01
aliases: [replier-prod]
permissions:
  - tool: zendesk
    actions: [tickets.reply]
    resources: ["queue/support/**"]
    rateLimit: { max: 50, per: hour }
    expires: 2026-12-31
    justification: Sends replies.
`,
};

function json(stdout: string): Record<string, unknown> {
  return JSON.parse(stdout) as Record<string, unknown>;
}

describe('mandate check on the example repository', () => {
  const check = (...args: string[]) => runCli(['check', ...args, '--format', 'json'], { cwd: PROJECT });

  it('allows a granted call: exit 0, grant and rate limit', () => {
    const { stdout, stderr, status } = check('support-triage', 'zendesk:tickets.read', 'queue/support/48121');
    expect(stderr).toBe('');
    expect(status).toBe(0);
    const result = json(stdout);
    expect(result).toMatchObject({
      apiVersion: 'mandate/v1',
      decision: 'allow',
      reason: 'granted by policies/agents/support-triage.yaml:29',
      grant: { file: 'policies/agents/support-triage.yaml', line: 29 },
      rateLimit: { max: 600, per: 'hour' },
    });
    expect(result).not.toHaveProperty('deny');
    expect(result).not.toHaveProperty('guardrail');
  });
  it('asks for approval behind a gate: exit 0', () => {
    const { stdout, status } = check('refunds-bot', 'stripe:refunds.create', 'charges/ch_1');
    expect(status).toBe(0);
    expect(json(stdout)).toMatchObject({
      decision: 'approval', reason: expect.stringMatching(/^approval gate/), grant: { file: 'policies/agents/refunds-bot.yaml', line: 33 },
      rateLimit: { max: 20, per: 'hour' },
    });
  });
  it('denies through a deny entry: exit 1, grant null, deny named', () => {
    const { stdout, status } = check('support-triage', 'zendesk:tickets.delete', 'queue/support/1');
    expect(status).toBe(1);
    const result = json(stdout);
    expect(result).toMatchObject({ decision: 'deny', grant: null, deny: { file: 'policies/agents/support-triage.yaml', line: 55 }, rateLimit: null });
    expect(result.reason).toMatch(/^denied by/);
    expect(result).not.toHaveProperty('guardrail');
  });
  it('denies through a forbidding guardrail: exit 1, guardrail named', () => {
    const { stdout, status } = check('support-triage', 'stripe:customers.delete', 'customers/cus_1');
    expect(status).toBe(1);
    expect(json(stdout)).toMatchObject({
      decision: 'deny', reason: 'forbidden by guardrail no-payment-record-deletion', grant: null,
      guardrail: { id: 'no-payment-record-deletion', file: 'policies/guardrails/human-oversight.yaml', line: 35 },
    });
  });
  it.each([
    [['nobody', 'zendesk:tickets.read'], /^unknown agent/],
    [['support-triage', 'jira:issues.read'], /^unknown tool/],
    [['support-triage', 'zendesk:tickets.export'], /^unknown action/],
    [['ops-remediator', 'runbook-runner:services.status'], /^agent not active/],
    [['support-triage', 'zendesk:tickets.read', 'queue//support'], /^non-canonical resource/],
    [['support-triage', 'zendesk:tickets.read', 'queue/legal/1'], /^denied by/],
    [['support-triage', 'zendesk:tickets.read', 'queue/sales/1'], /^no grant/],
  ])('denies %j with exit 1', (args, reason) => {
    const { stdout, status } = check(...args);
    expect(status).toBe(1);
    const result = json(stdout);
    expect(result).toMatchObject({ apiVersion: 'mandate/v1', decision: 'deny', grant: null, rateLimit: null });
    expect(result.reason).toMatch(reason);
  });
  it('resolves an alias and says which agent it is', () => {
    const { stdout, status } = check('pager-bot', 'runbook-runner:services.status');
    expect(status).toBe(1);
    expect(json(stdout)).toMatchObject({ decision: 'deny', agent: 'ops-remediator', call: { agent: 'pager-bot', tool: 'runbook-runner', action: 'services.status' } });
  });
  it('decides for --at, and for MANDATE_NOW without it', () => {
    const expired = check('billing-lookup', 'billing-api:invoices.read', 'accounts/a/invoices/1', '--at', '2027-07-01');
    expect(expired.status).toBe(1);
    expect(json(expired.stdout)).toMatchObject({ decision: 'deny', at: '2027-07-01', reason: expect.stringContaining('expired on 2027-06-30') });
    expect(check('billing-lookup', 'billing-api:invoices.read', 'accounts/a/invoices/1', '--at', '2027-06-30').status).toBe(0);
    const later = runCli(['check', 'billing-lookup', 'billing-api:invoices.read', 'accounts/a/invoices/1'], { cwd: PROJECT, env: { MANDATE_NOW: '2027-07-01T09:00:00Z' } });
    expect(later.status).toBe(1);
  }, SLOW);
  it('prints a coloured-when-TTY verdict line, the reason and the rate limit as text', () => {
    const { stdout, status } = runCli(['check', 'support-triage', 'zendesk:tickets.reply', 'queue/support/1'], { cwd: PROJECT });
    expect(status).toBe(0);
    const lines = stdout.trimEnd().split('\n');
    expect(lines[0]).toBe('● approval  support-triage zendesk:tickets.reply queue/support/1  on 2026-11-26');
    expect(lines[1]).toBe('  approval gate on policies/agents/support-triage.yaml:42');
    expect(stdout).toContain('rate limit: 120 per hour');
    const denied = runCli(['check', 'support-triage', 'stripe:customers.delete'], { cwd: PROJECT });
    expect(denied.stdout.split('\n')[0]).toMatch(/^✖ deny {2}support-triage stripe:customers\.delete/);
    expect(denied.stdout).toContain('guardrail no-payment-record-deletion at policies/guardrails/human-oversight.yaml:35');
  }, SLOW);
  it('prints a short markdown verdict', () => {
    const { stdout, status } = runCli(['check', 'kb-assistant', 'confluence:pages.read', 'spaces/eng/1', '--format', 'markdown'], { cwd: PROJECT });
    expect(status).toBe(0);
    expect(stdout.split('\n')[0]).toBe('### mandate check: allow');
    expect(stdout).toContain('`kb-assistant` → `confluence:pages.read` on `spaces/eng/1`');
  });
  it.each([
    [['check', 'support-triage', 'zendesk'], "'zendesk' is not TOOL:ACTION"],
    [['check', 'support-triage', ':tickets.read'], 'is not TOOL:ACTION'],
    [['check', 'support-triage', 'zendesk:'], 'is not TOOL:ACTION'],
    [['check', 'support-triage', 'zendesk:tickets.read', '--at', '2026-02-30'], '--at 2026-02-30: not a date'],
    [['check', 'support-triage', 'zendesk:tickets.read', '--at', 'tomorrow'], '--at tomorrow: not a date'],
    [['check', 'support-triage'], 'Not enough non-option arguments'],
    [['check', 'support-triage', 'zendesk:tickets.read', 'queue/support/1', 'extra'], 'Unknown argument'],
    [['check', 'support-triage', 'zendesk:tickets.read', '--format', 'sarif'], '--format sarif is not supported'],
    [['check', 'support-triage', 'zendesk:tickets.read', '--repo', '/nonexistent/mandate'], 'no such directory'],
  ])('exits 2 with one line for %j', (args, message) => {
    expectUsageError(runCli(args, { cwd: PROJECT }), message);
  });
});

describe('mandate check on other repositories', () => {
  let repo: string;
  beforeAll(() => {
    repo = writeRepo({ ...GATED_FILES, 'policies/agents/broken.yaml': 'apiVersion: mandate/v1\nkind: Agent\nid: broken\n' });
  });
  afterAll(() => removeRepo(repo));

  it('names both the grant and the guardrail when a guardrail requires approval', () => {
    const { stdout, status } = runCli(['check', 'replier-prod', 'zendesk:tickets.reply', 'queue/support/9', '--repo', repo, '--format', 'json']);
    expect(status).toBe(0);
    expect(json(stdout)).toMatchObject({
      decision: 'approval',
      reason: 'approval required by guardrail egress-needs-human (granted by policies/agents/replier.yaml:13)',
      grant: { file: 'policies/agents/replier.yaml', line: 13 },
      guardrail: { id: 'egress-needs-human', file: 'policies/guardrails.yaml', line: 3 },
      rateLimit: { max: 50, per: 'hour' },
      agent: 'replier',
    });
  });
  it('still decides when the repository has error findings, and says so on stderr', () => {
    const { stdout, stderr, status } = runCli(['check', 'support-triage', 'zendesk:tickets.read', 'queue/support/1', '--repo', repo, '--format', 'json']);
    expect(status).toBe(0);
    expect(json(stdout)).toMatchObject({ decision: 'allow' });
    expect(stderr).toMatch(/^mandate: warning: the repository has \d+ error findings?/);
    const broken = runCli(['check', 'broken', 'zendesk:tickets.read', '--repo', repo, '--format', 'json']);
    expect(broken.status).toBe(1);
    expect(json(broken.stdout).reason).toMatch(/^unknown agent/);
  }, SLOW);
});

describe('mandate test on the example repository', () => {
  const scenarioFiles = readdirSync(join(PROJECT, 'test', 'scenarios')).filter((name) => name.endsWith('.yaml'));
  it('passes every scenario and closes with the counts', () => {
    const { stdout, stderr, status } = runCli(['test'], { cwd: PROJECT });
    expect(stderr).toBe('');
    expect(status).toBe(0);
    expect(stdout).toMatch(/^ {2}✓ support-triage: reads a ticket in its own queue \(support-triage zendesk:tickets\.read queue\/support\/48121\) → allow$/m);
    expect(stdout).not.toContain('✗');
    expect(stdout.trimEnd().split('\n').pop()).toMatch(/^\d+ passed, 0 failed$/);
  });
  it('reports counts and no failures as JSON', () => {
    const { stdout, status } = runCli(['test', '--repo', PROJECT, '--format', 'json']);
    expect(status).toBe(0);
    const result = json(stdout);
    expect(result).toMatchObject({ apiVersion: 'mandate/v1', failed: 0, failures: [] });
    expect(result.passed).toBeGreaterThanOrEqual(60);
    expect(result.files).toEqual(scenarioFiles.map((name) => `test/scenarios/${name}`).sort());
  });
  it('covers every agent of the example repository', () => {
    const agents = readdirSync(join(PROJECT, 'policies', 'agents')).map((name) => name.replace(/\.yaml$/, ''));
    for (const agent of agents) expect(scenarioFiles).toContain(`${agent}.yaml`);
  });
  it('writes well-formed JUnit with a testsuite per scenario file', () => {
    const { stdout, status } = runCli(['test', '--format', 'junit'], { cwd: PROJECT });
    expect(status).toBe(0);
    expect(XMLValidator.validate(stdout)).toBe(true);
    const parsed = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '', isArray: (name) => ['testsuite', 'testcase'].includes(name) }).parse(stdout);
    const suites = parsed.testsuites.testsuite as { name: string; tests: string; failures: string; testcase: unknown[] }[];
    expect(suites.map((suite) => suite.name)).toEqual(scenarioFiles.map((name) => `test/scenarios/${name}`).sort());
    for (const suite of suites) {
      expect(suite.failures).toBe('0');
      expect(suite.testcase).toHaveLength(Number(suite.tests));
    }
  });
  it('runs one file given as PATH', () => {
    const { stdout, status } = runCli(['test', 'test/scenarios/refunds-bot.yaml', '--format', 'json'], { cwd: PROJECT });
    expect(status).toBe(0);
    expect(json(stdout)).toMatchObject({ files: ['test/scenarios/refunds-bot.yaml'], failed: 0 });
  });
});

describe('mandate test with failing and malformed scenarios', () => {
  let repo: string;
  const FAILING = `apiVersion: mandate/v1
kind: Scenario
id: replier
at: 2026-11-26
cases:
  - name: a reply goes out after approval
    call: { agent: replier, tool: zendesk, action: tickets.reply, resource: queue/support/9 }
    expect: approval
    reason: required by guardrail
  - call: { agent: replier, tool: zendesk, action: tickets.reply, resource: "queue/support/<b>&\\"'" }
    expect: allow
  - call: { agent: replier, tool: zendesk, action: tickets.reply, resource: queue/support/9 }
    expect: approval
    reason: approval gate
  - call: { agent: replier, tool: zendesk, action: tickets.reply, resource: queue/support/9 }
    at: 2027-01-01
    expect: deny
    reason: expired
`;
  beforeAll(() => {
    repo = writeRepo({ ...GATED_FILES, 'test/scenarios/replier.yaml': FAILING });
  });
  afterAll(() => removeRepo(repo));

  it('exits 1 and lists each failure with what was expected and what happened', () => {
    const { stdout, status } = runCli(['test', '--repo', repo, '--format', 'json']);
    expect(status).toBe(1);
    const result = json(stdout);
    expect(result).toMatchObject({ apiVersion: 'mandate/v1', passed: 2, failed: 2 });
    expect(result.failures).toEqual([
      {
        scenario: 'replier',
        call: { agent: 'replier', tool: 'zendesk', action: 'tickets.reply', resource: 'queue/support/<b>&"\'' },
        expected: 'allow',
        actual: 'approval',
        reason: 'approval required by guardrail egress-needs-human (granted by policies/agents/replier.yaml:13)',
        message: 'expected allow, got approval (reason: approval required by guardrail egress-needs-human (granted by policies/agents/replier.yaml:13))',
        at: '2026-11-26',
        file: 'test/scenarios/replier.yaml',
        line: 10,
        column: 5,
      },
      expect.objectContaining({ expected: 'approval', actual: 'approval', expectedReason: 'approval gate', line: 12 }),
    ]);
  });
  it('shows ✓ and ✗ per case and explains failures in text', () => {
    const { stdout, status } = runCli(['test', '--repo', repo]);
    expect(status).toBe(1);
    expect(stdout).toContain('  ✓ replier: a reply goes out after approval (replier zendesk:tickets.reply queue/support/9) → approval');
    expect(stdout).toContain('  ✗ replier: replier zendesk:tickets.reply queue/support/<b>&"\'');
    expect(stdout).toContain('      expected allow, got approval (reason: approval required by guardrail egress-needs-human');
    expect(stdout).toContain('      at test/scenarios/replier.yaml:10:5');
    expect(stdout).toContain('expected approval with a reason containing "approval gate", got approval');
    expect(stdout.trimEnd().split('\n').pop()).toBe('2 passed, 2 failed');
  });
  it('lets a case\'s at beat its scenario\'s, and the scenario\'s beat MANDATE_NOW', () => {
    const { stdout } = runCli(['test', '--repo', repo, '--format', 'json'], { env: { MANDATE_NOW: '2027-03-01' } });
    // The scenario's at (2026-11-26) keeps the grant valid although "today" is past its expiry.
    expect(json(stdout)).toMatchObject({ passed: 2, failed: 2 });
    const undated = writeRepo({ ...GATED_FILES, 'test/scenarios/replier.yaml': FAILING.replace('at: 2026-11-26\n', '') });
    try {
      const later = json(runCli(['test', '--repo', undated, '--format', 'json'], { env: { MANDATE_NOW: '2027-03-01' } }).stdout);
      // Without it, every case is decided on MANDATE_NOW: the grant has expired.
      expect(later).toMatchObject({ passed: 1, failed: 3 });
    } finally {
      removeRepo(undated);
    }
  }, SLOW);
  it('writes well-formed, escaped JUnit with the failures', () => {
    const { stdout, status } = runCli(['test', '--repo', repo, '--format', 'junit']);
    expect(status).toBe(1);
    expect(XMLValidator.validate(stdout)).toBe(true);
    const parsed = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '', isArray: (name) => ['testsuite', 'testcase'].includes(name) }).parse(stdout);
    expect(parsed.testsuites).toMatchObject({ name: 'mandate test', tests: '4', failures: '2' });
    const [suite] = parsed.testsuites.testsuite as { name: string; testcase: { classname: string; name: string; failure?: { message: string } }[] }[];
    expect(suite!.name).toBe('test/scenarios/replier.yaml');
    expect(suite!.testcase.map((testcase) => testcase.classname)).toEqual(['replier', 'replier', 'replier', 'replier']);
    expect(suite!.testcase[1]!.name).toBe('replier zendesk:tickets.reply queue/support/<b>&"\' → allow');
    expect(suite!.testcase[1]!.failure!.message).toBe('expected allow, got approval');
    expect(suite!.testcase[0]!.failure).toBeUndefined();
  });
  it('prints a markdown summary with the failures', () => {
    const { stdout, status } = runCli(['test', '--repo', repo, '--format', 'markdown']);
    expect(status).toBe(1);
    expect(stdout.split('\n')[0]).toBe('### mandate test: failed');
    expect(stdout).toContain('2 passed, 2 failed.');
  });
  it.each([
    ['bad-enum.yaml', 'apiVersion: mandate/v1\nkind: Scenario\nid: x\ncases:\n  - call: { agent: a, tool: b, action: c }\n    expect: maybe\n', 'bad-enum.yaml:6:13: `expect` must be one of allow, approval, deny'],
    ['bad-yaml.yaml', 'apiVersion: mandate/v1\nkind: Scenario\nid: x\ncases: [\n', 'bad-yaml.yaml:'],
    ['bad-kind.yaml', 'apiVersion: mandate/v1\nkind: Agent\nid: x\n', 'bad-kind.yaml:2:7: '],
    ['bad-field.yaml', 'apiVersion: mandate/v1\nkind: Scenario\nid: x\ncases:\n  - call: { agent: a, tool: b, action: c, resuorce: d }\n    expect: deny\n', 'bad-field.yaml:5:43: unknown field `resuorce` in `call`; did you mean `resource`?'],
    ['bad-date.yaml', 'apiVersion: mandate/v1\nkind: Scenario\nid: x\nat: 2026-02-30\ncases:\n  - call: { agent: a, tool: b, action: c }\n    expect: deny\n', 'bad-date.yaml:4:5: '],
    ['dup-key.yaml', 'apiVersion: mandate/v1\nkind: Scenario\nid: x\nid: y\ncases:\n  - call: { agent: a, tool: b, action: c }\n    expect: deny\n', 'dup-key.yaml:4:1: '],
    ['empty.yaml', '', 'empty.yaml:1:1: '],
  ])('exits 2 naming file:line:column for a malformed scenario file (%s)', (name, content, message) => {
    const bad = writeRepo({ ...GATED_FILES, [`test/scenarios/${name}`]: content, 'test/scenarios/replier.yaml': FAILING });
    try {
      expectUsageError(runCli(['test', '--repo', bad]), `mandate: test/scenarios/${message}`);
    } finally {
      removeRepo(bad);
    }
  });
  it('exits 2 when PATH, or the default test/scenarios/, is missing or holds no scenario file', () => {
    expectUsageError(runCli(['test', 'no/such/dir'], { cwd: repo }), 'no/such/dir: no such file or directory');
    expectUsageError(runCli(['test', '--repo', join(repo, 'policies')]), 'test/scenarios: no such file or directory');
    expectUsageError(runCli(['test', 'policies/people.yaml'], { cwd: repo }), 'policies/people.yaml:');
    expectUsageError(runCli(['test', 'policies/tools'], { cwd: repo }), 'policies/tools/zendesk.yaml:');
    const empty = writeRepo({ ...GATED_FILES, 'test/scenarios/README.md': 'nothing here\n' });
    try {
      expectUsageError(runCli(['test', '--repo', empty]), 'test/scenarios: no scenario files');
    } finally {
      removeRepo(empty);
    }
  }, SLOW);
});
