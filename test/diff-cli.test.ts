import { mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDemoRepository } from '../scripts/demo-repo.mjs';
import { ensureBuilt, removeRepo, runCli } from './helpers/repo';
import { git } from './helpers/git';

interface DiffJson {
  apiVersion: string;
  base: string;
  mergeBase: string;
  head: string | null;
  verdict: { risk: string; trifectas: string[]; headline: string };
  changes: { kind: string; subject: string; risk: string; summary: string; file: string; line: number; tool?: string; action?: string }[];
  findings: { introduced: { rule: string; file: string }[]; fixed: unknown[] };
  approvals: { required: { rule: string; subjects: string[]; count: number; eligible: { person: string; github: string }[] }[] };
}

function diffJson(args: string[], cwd?: string): { json: DiffJson; status: number | null; stderr: string } {
  const result = runCli(['diff', '--format', 'json', ...args], { cwd });
  expect(result.stderr).toBe('');
  return { json: JSON.parse(result.stdout) as DiffJson, status: result.status, stderr: result.stderr };
}

function edit(dir: string, file: string, find: string | RegExp, replace: string): void {
  const path = join(dir, file);
  const text = readFileSync(path, 'utf8');
  const next = text.replace(find, replace);
  expect(next).not.toBe(text);
  writeFileSync(path, next);
}

const kinds = (json: DiffJson) => json.changes.map((change) => `${change.kind} ${change.subject}${change.action ? ` ${change.tool} ${change.action}` : ''}`);

let demo: string;
beforeAll(() => {
  ensureBuilt();
  demo = createDemoRepository();
}, 60_000);
afterAll(() => removeRepo(demo));

describe('the demo pull request (issue "done when")', () => {
  it('reports exactly the direct and indirect changes, with the base-branch approvals', () => {
    const { json, status } = diffJson(['--repo', demo, '--base', 'main', '--head', 'widen-refunds']);
    expect(status).toBe(1);
    expect(json.apiVersion).toBe('mandate/v1');
    expect(json.mergeBase).toBe(json.base);
    const listed = kinds(json);
    expect(listed).toContain('grant-widened agent:refunds-bot zendesk tickets.read');
    expect(listed).toContain('approval-gate-removed agent:refunds-bot stripe refunds.create');
    expect(listed).toContain('tool-action-reclassified tool:zendesk zendesk tickets.comment');
    expect(listed).toContain('capability-gained agent:refunds-bot zendesk tickets.comment');
    expect(listed).toContain('capability-gained agent:support-triage zendesk tickets.comment');
    expect(listed.filter((entry) => entry.startsWith('grant-'))).toEqual(['grant-widened agent:refunds-bot zendesk tickets.read']);
    expect(json.verdict.risk).toBe('raises');
    const widened = json.changes.find((change) => change.kind === 'grant-widened')!;
    expect(widened).toMatchObject({ risk: 'raises', file: 'policies/agents/refunds-bot.yaml' });
    expect(widened.summary).toContain('queue/billing/** -> **');
    const rules = json.approvals.required.map((requirement) => requirement.rule);
    expect(rules).toEqual(expect.arrayContaining(['governance', 'high-risk-scope', 'payment-tools']));
    expect(json.findings.introduced.map((finding) => finding.rule)).toContain('guardrail');
  });
  it('renders a markdown summary that leads with the verdict and stays under the cap', () => {
    const { stdout, status } = runCli(['diff', '--repo', demo, '--base', 'main', '--head', 'widen-refunds', '--format', 'markdown']);
    expect(status).toBe(1);
    expect(stdout.length).toBeLessThan(60_000);
    expect(stdout.split('\n').find((line) => line.trim() !== '')).toMatch(/Raises risk/);
    expect(stdout).toContain('<details>');
    expect(stdout).not.toMatch(/(^|[^`\u200b])@[a-z]/m);
  });
  it('is symmetric: a branch that reverts the change reports the inverse', () => {
    git(demo, 'checkout', '-q', '-b', 'revert-refunds', 'widen-refunds');
    git(demo, 'checkout', 'main', '--', 'policies');
    git(demo, 'commit', '-q', '-m', 'Revert the refunds change');
    git(demo, 'checkout', '-q', 'main');
    const forward = diffJson(['--repo', demo, '--base', 'main', '--head', 'widen-refunds']).json;
    const backward = diffJson(['--repo', demo, '--base', 'widen-refunds', '--head', 'revert-refunds']).json;
    expect(backward.changes).toHaveLength(forward.changes.length);
    expect(kinds(backward)).toContain('grant-narrowed agent:refunds-bot zendesk tickets.read');
    expect(kinds(backward)).toContain('approval-gate-added agent:refunds-bot stripe refunds.create');
    const count = (json: DiffJson, risk: string) => json.changes.filter((change) => change.risk === risk).length;
    expect(count(backward, 'lowers')).toBe(count(forward, 'raises'));
    expect(count(backward, 'raises')).toBe(count(forward, 'lowers'));
  });
  it('finds no change between a commit and itself', () => {
    const { json, status } = diffJson(['--repo', demo, '--base', 'main', '--head', 'main']);
    expect(status).toBe(0);
    expect(json.changes).toEqual([]);
    expect(json.verdict).toMatchObject({ risk: 'none', headline: 'No semantic change' });
  });
});

describe('refs and repositories', () => {
  it.each([
    [['--base', 'no-such-branch', '--head', 'widen-refunds'], "unknown git ref 'no-such-branch'"],
    [['--base', 'main', '--head', 'deadbeef'], 'deadbeef'],
  ])('exits 2 on %j', (args, message) => {
    const { stdout, stderr, status } = runCli(['diff', '--repo', demo, ...args]);
    expect(status).toBe(2);
    expect(stdout).toBe('');
    expect(stderr).toContain(message);
    expect(stderr.trim().split('\n')).toHaveLength(1);
  });
  it('exits 2 outside a git repository', () => {
    const plain = mkdtempSync(join(tmpdir(), 'mandate-plain-'));
    try {
      const { stderr, status } = runCli(['diff', '--repo', plain]);
      expect(status).toBe(2);
      expect(stderr).toContain('not a git repository');
    } finally {
      removeRepo(plain);
    }
  });
  it('accepts short SHAs, HEAD~N, and a detached HEAD with the working tree as head', () => {
    const head = git(demo, 'rev-parse', 'widen-refunds');
    const short = diffJson(['--repo', demo, '--base', 'widen-refunds~1', '--head', head.slice(0, 8)]).json;
    expect(short.changes.length).toBeGreaterThan(0);
    git(demo, 'checkout', '-q', '--detach', 'widen-refunds');
    try {
      const detached = diffJson(['--repo', demo, '--base', 'main']).json;
      expect(detached.head).toBeNull();
      expect(detached.changes).toHaveLength(short.changes.length);
    } finally {
      git(demo, 'checkout', '-q', 'main');
    }
  });
  it('defaults --base to the configured default branch', () => {
    git(demo, 'checkout', '-q', 'widen-refunds');
    try {
      const { json } = diffJson(['--repo', demo]);
      expect(json.base).toBe(git(demo, 'rev-parse', 'main'));
    } finally {
      git(demo, 'checkout', '-q', 'main');
    }
  });
});

describe('shallow clones', () => {
  let origin: string;
  beforeAll(() => {
    origin = createDemoRepository();
    git(origin, 'checkout', '-q', 'main');
    for (let index = 0; index < 3; index += 1) {
      writeFileSync(join(origin, `notes-${index}.txt`), `note ${index}\n`);
      git(origin, 'add', '-A');
      git(origin, 'commit', '-q', '-m', `note ${index}`);
    }
  }, 60_000);
  afterAll(() => removeRepo(origin));

  it('works at depth 2 when the base is the parent of the head', () => {
    const clone = mkdtempSync(join(tmpdir(), 'mandate-clone-'));
    try {
      git(clone, 'clone', '-q', '--depth', '2', '--branch', 'widen-refunds', `file://${origin}`, 'repo');
      const { json } = diffJson(['--repo', join(clone, 'repo'), '--base', 'HEAD~1', '--head', 'HEAD']);
      expect(kinds(json)).toContain('grant-widened agent:refunds-bot zendesk tickets.read');
    } finally {
      removeRepo(clone);
    }
  });
  it('says how to fetch when the merge base is missing', () => {
    const clone = mkdtempSync(join(tmpdir(), 'mandate-clone-'));
    try {
      git(clone, 'clone', '-q', '--depth', '1', '--no-single-branch', `file://${origin}`, 'repo');
      const { stderr, status, stdout } = runCli(['diff', '--repo', join(clone, 'repo'), '--base', 'origin/main', '--head', 'origin/widen-refunds']);
      expect(status).toBe(2);
      expect(stdout).toBe('');
      expect(stderr).toMatch(/shallow clone.*fetch/);
    } finally {
      removeRepo(clone);
    }
  });
});

describe('working-tree heads', () => {
  let repo: string;
  beforeAll(() => {
    repo = createDemoRepository();
  }, 60_000);
  afterAll(() => removeRepo(repo));
  const reset = () => {
    git(repo, 'checkout', '-q', '-f', 'main');
    git(repo, 'clean', '-qfd');
  };

  it('reports invalid YAML in the head as findings and still diffs the rest', () => {
    reset();
    writeFileSync(join(repo, 'policies/agents/broken.yaml'), 'apiVersion: mandate/v1\nkind: Agent\nid: [oops\n');
    edit(repo, 'policies/agents/refunds-bot.yaml', '    rateLimit: { max: 20, per: hour }', '    rateLimit: { max: 200, per: hour }');
    const { json, status } = diffJson(['--repo', repo, '--base', 'main']);
    expect(status).toBe(1);
    expect(json.findings.introduced).toContainEqual(expect.objectContaining({ rule: 'yaml-syntax', file: 'policies/agents/broken.yaml' }));
    expect(kinds(json)).toContain('rate-limit-raised agent:refunds-bot stripe refunds.create');
  });
  it('reports a deleted agent file as agent-removed at its base position', () => {
    reset();
    rmSync(join(repo, 'policies/agents/kb-assistant.yaml'));
    const { json } = diffJson(['--repo', repo, '--base', 'main']);
    const removed = json.changes.find((change) => change.kind === 'agent-removed')!;
    expect(removed).toMatchObject({ subject: 'agent:kb-assistant', risk: 'lowers', file: 'policies/agents/kb-assistant.yaml' });
  });
  it('sees no change in a move, a reformat, reordered keys or comments', () => {
    reset();
    mkdirSync(join(repo, 'policies/agents/moved'));
    renameSync(join(repo, 'policies/agents/kb-assistant.yaml'), join(repo, 'policies/agents/moved/kb.yaml'));
    edit(repo, 'policies/agents/refunds-bot.yaml', 'owner: erin\nteam: revenue-ops\n', 'team: revenue-ops   # reordered\nowner: erin\n');
    edit(repo, 'policies/people.yaml', /^/, '# a new comment at the top\n');
    const { json, status } = diffJson(['--repo', repo, '--base', 'main']);
    expect(status).toBe(0);
    expect(json.changes).toEqual([]);
  });
  it('follows a rename with modifications as a change of meaning only', () => {
    reset();
    mkdirSync(join(repo, 'policies/agents/moved'));
    renameSync(join(repo, 'policies/agents/refunds-bot.yaml'), join(repo, 'policies/agents/moved/refunds.yaml'));
    edit(repo, 'policies/agents/moved/refunds.yaml', 'resources: ["charges/*"]', 'resources: ["charges/**"]');
    const { json } = diffJson(['--repo', repo, '--base', 'main']);
    expect(kinds(json)).toEqual(['grant-widened agent:refunds-bot stripe refunds.create']);
    expect(json.changes[0]!.file).toBe('policies/agents/moved/refunds.yaml');
  });
  it('copes with binary files under the roots', () => {
    reset();
    writeFileSync(join(repo, 'policies/logo.png'), Buffer.from([0x89, 0x50, 0x4e, 0x47, 0, 0, 0xff]));
    writeFileSync(join(repo, 'policies/blob.yaml'), Buffer.from([0xff, 0xfe, 0, 0x41, 0]));
    const { json, status } = diffJson(['--repo', repo, '--base', 'main']);
    expect(status).toBe(1);
    expect(json.findings.introduced).toContainEqual(expect.objectContaining({ rule: 'yaml-syntax', file: 'policies/blob.yaml' }));
    expect(json.changes).toEqual([]);
  });
  it('keeps a 10,000-change pull request under the comment cap, in seconds', () => {
    reset();
    const agents: string[] = [];
    for (let index = 0; index < 1000; index += 1) {
      const permissions = Array.from({ length: 10 }, (_, grant) =>
        `  - tool: zendesk\n    actions: [tickets.read]\n    resources: ["queue/q${grant}/**"]\n    rateLimit: { max: 100, per: hour }\n    justification: Bulk ${grant}.\n`).join('');
      agents.push(`apiVersion: mandate/v1\nkind: Agent\nid: bulk-${index}\nname: Bulk ${index}\npurpose: Load.\nowner: alice\nteam: support\nstatus: proposed\nriskTier: medium\npermissions:\n${permissions}`);
    }
    for (let file = 0; file < 10; file += 1) {
      writeFileSync(join(repo, `policies/agents/bulk-${file}.yaml`), agents.slice(file * 100, file * 100 + 100).join('---\n'));
    }
    const started = Date.now();
    const { stdout, status } = runCli(['diff', '--repo', repo, '--base', 'main', '--format', 'markdown']);
    expect(Date.now() - started).toBeLessThan(30_000);
    expect(status).toBe(0);
    expect(stdout.length).toBeLessThanOrEqual(60_000);
    expect(stdout).toMatch(/truncated, \d+ more changes not shown/);
  }, 60_000);
});
