import { execFileSync } from 'node:child_process';
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BASE_FILES, ensureBuilt, removeRepo, runCli, writeRepo } from './helpers/repo';

const PROJECT = join(import.meta.dirname, '..');

beforeAll(ensureBuilt);

interface JsonFinding { rule: string; file: string; line: number; column: number; message: string; severity: string }

function findingsJson(stdout: string): { ok: boolean; summary: Record<string, number>; findings: JsonFinding[] } {
  return JSON.parse(stdout);
}

describe('mandate validate on the example repository', () => {
  it('passes, with the waived findings listed', () => {
    const { stdout, stderr, status } = runCli(['validate', '--format', 'json'], { cwd: PROJECT });
    expect(stderr).toBe('');
    expect(status).toBe(0);
    const result = findingsJson(stdout);
    expect(result).toMatchObject({ apiVersion: 'mandate/v1', ok: true, summary: { errors: 0, warnings: 0 } });
    expect(result.summary.files).toBeGreaterThan(20);
    expect(result.findings.every((finding) => 'waived' in finding)).toBe(true);
  });
  it('prints compiler-style text grouped by file', () => {
    const { stdout, status } = runCli(['validate', '--repo', PROJECT]);
    expect(status).toBe(0);
    expect(stdout).toMatch(/^policies\/agents\/\S+\.yaml\n {2}\d+:\d+ +waived /m);
    expect(stdout.trim().split('\n').pop()).toMatch(/^✔ 0 errors, 0 warnings, \d+ waived in \d+ files$/);
  });
  it('keeps markdown free of raw HTML from policy text', () => {
    const { stdout, status } = runCli(['validate', '--repo', PROJECT, '--format', 'markdown']);
    expect(status).toBe(0);
    expect(stdout).toContain('### mandate validate: passed');
  });
});

describe('exit codes and usage errors', () => {
  let repo: string;
  beforeAll(() => {
    repo = writeRepo({ ...BASE_FILES, 'policies/agents/broken.yaml': 'apiVersion: mandate/v1\nkind: Agent\nid: broken\n' });
  });
  afterAll(() => removeRepo(repo));

  it('exits 1 when a finding is an error', () => {
    const { stdout, status } = runCli(['validate', '--repo', repo, '--format', 'json']);
    expect(status).toBe(1);
    expect(findingsJson(stdout).findings[0]).toMatchObject({ rule: 'schema', file: 'policies/agents/broken.yaml', line: 1, column: 1 });
  });
  it.each([
    [['validate', '--repo', '/nonexistent/mandate'], '--repo /nonexistent/mandate: no such directory'],
    [['validate', '--no-such-flag'], 'Unknown argument'],
    [['validate', '--format', 'yaml'], '--format yaml is not supported'],
    [['frobnicate'], 'Unknown argument: frobnicate'],
  ])('exits 2 with one line for %j', (args, message) => {
    const { stdout, stderr, status } = runCli(args, { cwd: repo });
    expect(status).toBe(2);
    expect(stdout).toBe('');
    expect(stderr.trim().split('\n')).toHaveLength(1);
    expect(stderr).toContain(message);
    expect(stderr).not.toMatch(/\n\s+at /);
  });
  it('exits 2 on a MANDATE_NOW that is not a date', () => {
    const { stderr, status } = runCli(['validate', '--repo', repo], { env: { MANDATE_NOW: 'yesterday' } });
    expect(status).toBe(2);
    expect(stderr).toContain('MANDATE_NOW');
  });
  it('turns warnings into errors with --strict', () => {
    const clean = writeRepo({ ...BASE_FILES, 'policies/agents/triage.yaml': BASE_FILES['policies/agents/triage.yaml']!.replace('2026-10-01', '2025-01-01') });
    try {
      expect(runCli(['validate', '--repo', clean]).status).toBe(0);
      const strict = runCli(['validate', '--repo', clean, '--strict', '--format', 'json']);
      expect(strict.status).toBe(1);
      expect(findingsJson(strict.stdout).findings[0]).toMatchObject({ rule: 'review-overdue', severity: 'error' });
    } finally {
      removeRepo(clean);
    }
  });
});

describe('a repository with every fault of the foundation issue', () => {
  let repo: string;
  let findings: JsonFinding[];
  const outside = writeRepo({ 'secret.yaml': 'apiVersion: mandate/v1\nkind: Person\nid: outsider-zz\nname: Outsider\n' });
  const agent = (id: string, extra: string) =>
    `apiVersion: mandate/v1\nkind: Agent\nid: ${id}\nname: N\npurpose: P\nowner: alice\nstatus: active\nriskTier: critical\nlastReviewed: 2026-10-01\n${extra}`;
  const bomb = ['a: &a [x, x, x, x, x, x, x, x, x, x]', ...Array.from({ length: 8 }, (_, level) => {
    const name = String.fromCharCode(98 + level);
    return `${name}: &${name} [${Array(10).fill(`*${String.fromCharCode(97 + level)}`).join(', ')}]`;
  })].join('\n');

  beforeAll(() => {
    repo = writeRepo({
      ...BASE_FILES,
      'policies/f01-malformed.yaml': 'apiVersion: mandate/v1\nkind: Person\nid: [unclosed\n',
      'policies/f02-tabs.yaml': 'apiVersion: mandate/v1\nkind: Person\nid: tabby\nname:\n\tTabby\n',
      'policies/f03-dupkey.yaml': 'apiVersion: mandate/v1\nkind: Person\nid: dup\nname: A\nname: B\n',
      'policies/f04-bomb.yaml': `${bomb}\n`,
      'policies/f05-deep.yaml': `x: ${'['.repeat(10_000)}${']'.repeat(10_000)}\n`,
      'policies/f06-huge.yaml': `# ${'x'.repeat(50 * 1024 * 1024)}\n`,
      'policies/f07-proto.yaml': 'apiVersion: mandate/v1\nkind: Person\nid: proto\nname: P\n__proto__: { admin: true }\n',
      'policies/f08-latin1.yaml': Buffer.concat([Buffer.from('apiVersion: mandate/v1\nkind: Person\nid: jose\nname: Jos'), Buffer.from([0xe9]), Buffer.from('\n')]),
      'policies/f09-empty.yaml': '',
      'policies/f10-nokind.yaml': 'apiVersion: mandate/v1\nid: nokind\n',
      'policies/f11-badkind.yaml': 'apiVersion: mandate/v1\nkind: Robot\nid: r2\n',
      'policies/f12-badapi.yaml': 'apiVersion: mandate/v9\nkind: Person\nid: v9\nname: V\n',
      'policies/f13-badid.yaml': 'apiVersion: mandate/v1\nkind: Person\nid: Bad_Id\nname: B\n',
      'policies/agents/f14-refs.yaml': agent('refs', 'team: ghosts\npermissions:\n  - tool: jira\n    actions: [x]\n'),
      'policies/agents/f15-cycle-a.yaml': agent('cycle-a', 'delegatesTo: [cycle-b]\npermissions: []\n'),
      'policies/agents/f15-cycle-b.yaml': agent('cycle-b', 'delegatesTo: [cycle-a]\npermissions: []\n'),
      'policies/agents/f16-glob.yaml': agent('glob', 'permissions:\n  - tool: zendesk\n    actions: ["users.*"]\n'),
      'policies/agents/f17-date.yaml': agent('dated', 'permissions:\n  - tool: zendesk\n    actions: [tickets.read]\n    expires: 2026-13-45\n'),
      'policies/agents/f18-rate.yaml': agent('rate', 'permissions:\n  - tool: zendesk\n    actions: [tickets.read]\n    rateLimit: { max: -1, per: hour }\n'),
      'policies/agents/f19-inf.yaml': agent('infinite', 'permissions:\n  - tool: zendesk\n    actions: [tickets.read]\n    rateLimit: { max: 1e309, per: hour }\n'),
      'policies/agents/f20-owner.yaml': agent('ownerless', 'permissions: []\n').replace('owner: alice', 'owner: zed'),
    });
    symlinkSync(join(outside, 'secret.yaml'), join(repo, 'policies/f21-link.yaml'));
    mkdirSync(join(repo, 'policies/f22-dir.yaml'));
    execFileSync('mkfifo', [join(repo, 'policies/f23-fifo.yaml')]);
    const result = runCli(['validate', '--repo', repo, '--format', 'json']);
    expect(result.status).toBe(1);
    expect(result.stderr).toBe('');
    findings = findingsJson(result.stdout).findings;
  }, 60_000);
  afterAll(() => {
    removeRepo(repo);
    removeRepo(outside);
  });

  const at = (file: string) => findings.filter((finding) => finding.file === file).map((finding) => `${finding.rule}@${finding.line}:${finding.column}`);

  it.each([
    ['f01-malformed.yaml', 'yaml-syntax'],
    ['f02-tabs.yaml', 'yaml-syntax@5:1'],
    ['f03-dupkey.yaml', 'duplicate-key@5:1'],
    ['f04-bomb.yaml', 'yaml-limit'],
    ['f05-deep.yaml', 'yaml-limit'],
    ['f06-huge.yaml', 'yaml-limit@1:1'],
    ['f07-proto.yaml', 'forbidden-key@5:1'],
    ['f08-latin1.yaml', 'yaml-syntax@4:10'],
    ['f09-empty.yaml', 'empty-file@1:1'],
    ['f10-nokind.yaml', 'schema@1:1'],
    ['f11-badkind.yaml', 'schema@2:7'],
    ['f12-badapi.yaml', 'schema@1:13'],
    ['f13-badid.yaml', 'schema@3:5'],
    ['agents/f14-refs.yaml', 'unknown-reference@10:7'],
    ['agents/f14-refs.yaml', 'unknown-reference@12:11'],
    ['agents/f15-cycle-a.yaml', 'delegation-cycle@10:15'],
    ['agents/f16-glob.yaml', 'unknown-action@12:15'],
    ['agents/f17-date.yaml', 'schema@13:14'],
    ['agents/f18-rate.yaml', 'schema@13:23'],
    ['agents/f19-inf.yaml', 'schema@13:23'],
    ['agents/f20-owner.yaml', 'unknown-reference@6:8'],
    ['f21-link.yaml', 'unreadable-file@1:1'],
    ['f22-dir.yaml', 'unreadable-file@1:1'],
    ['f23-fifo.yaml', 'unreadable-file@1:1'],
  ])('reports policies/%s as %s', (file, expected) => {
    const reported = at(`policies/${file}`);
    expect(reported.some((entry) => entry === expected || entry.startsWith(`${expected}@`))).toBe(true);
  });
  it('never follows the symlink out of the repository', () => {
    expect(findings.some((finding) => finding.message.includes('outsider-zz'))).toBe(false);
  });
});

describe('secret redaction at the edge', () => {
  it('never prints a credential, even inside a message that quotes a value', () => {
    const token = `ghp_${'Zx9Qw8Er7Ty6'.repeat(3)}`;
    const repo = writeRepo({ ...BASE_FILES, 'policies/agents/triage.yaml': BASE_FILES['policies/agents/triage.yaml']!.replace('owner: alice', `owner: ${token.toLowerCase()}`) });
    try {
      for (const format of ['text', 'json', 'markdown']) {
        const { stdout, status } = runCli(['validate', '--repo', repo, '--format', format]);
        expect(status).toBe(1);
        expect(stdout.toLowerCase()).not.toContain(token.toLowerCase());
        expect(stdout).toMatch(/\\?\[redacted\\?\]/);
      }
    } finally {
      removeRepo(repo);
    }
  });
});

describe('mandate rules', () => {
  it('lists every rule as JSON with its mappings', () => {
    const { stdout, status } = runCli(['rules', '--format', 'json']);
    expect(status).toBe(0);
    const { rules } = JSON.parse(stdout) as { rules: { id: string; controls: string[]; owasp: string[]; rationale: string }[] };
    expect(rules.map((rule) => rule.id)).toContain('lethal-trifecta');
    expect(rules).toHaveLength(23);
    expect(rules.find((rule) => rule.id === 'lethal-trifecta')).toMatchObject({ owasp: ['ASI01', 'ASI02'] });
  });
  it('renders markdown and text', () => {
    expect(runCli(['rules', '--format', 'markdown']).stdout).toContain('| `secret-in-policy` | error |');
    expect(runCli(['rules']).stdout).toMatch(/^wildcard-write +warning/m);
  });
});

describe('writes nothing partial', () => {
  it('leaves stdout empty when the repository cannot be read', () => {
    const file = join(writeRepo({ 'x.txt': 'x' }), 'x.txt');
    writeFileSync(file, 'not a dir');
    const { stdout, status } = runCli(['validate', '--repo', file, '--format', 'json']);
    expect(status).toBe(2);
    expect(stdout).toBe('');
  });
});

describe('MANDATE_NOW', () => {
  it.each(['2026-02-30', '2026-13-01', 'soon'])('refuses %s', (value) => {
    const { status, stderr } = runCli(['rules'], { env: { MANDATE_NOW: value } });
    expect(status).toBe(0);
    expect(stderr).toBe('');
    const validate = runCli(['validate', '--repo', PROJECT], { env: { MANDATE_NOW: value } });
    expect(validate.status).toBe(2);
    expect(validate.stderr).toContain(`MANDATE_NOW='${value}'`);
  });
});
