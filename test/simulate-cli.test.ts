import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BASE_FILES, CLI, ensureBuilt, expectUsageError, removeRepo, runCli, triageAgent, writeRepo } from './helpers/repo';
import { git } from './helpers/git';

/** Several CLI spawns per test. */
const SLOW = 120_000;

/** support-triage reads its queues freely; comments need a human on each call. */
const TRIAGE = triageAgent('required');

interface SimulateJson {
  apiVersion: string;
  mode: string;
  base: string;
  mergeBase: string;
  head: string | null;
  total: number;
  summary: Record<string, number>;
  window: { first: string | null; last: string | null };
  changed: Array<{ call: { agent: string; tool: string; action: string; resource?: string; time: string }; line: number; change: string; base: string; head: string; reason: string }>;
  unused: Array<{ agent: string; tool: string; actions: string[]; resources: string[] }>;
  suggestion?: { patch: string; removed: Array<{ agent: string; actions: string[] }> };
}

interface ExhaustiveJson {
  mode: string;
  total: number;
  summary: Record<string, number>;
  changed: Array<{ agent: string; tool: string; action: string; base: string; head: string; resources: { base: string[]; head: string[] } }>;
}

const line = (fields: Record<string, string>, time = '2026-11-20T10:00:00Z'): string => JSON.stringify({ ...fields, time });
const comment = (resource: string, agent = 'support-triage'): string => line({ agent, tool: 'zendesk', action: 'tickets.comment', resource });
const read = (resource: string): string => line({ agent: 'support-triage', tool: 'zendesk', action: 'tickets.read', resource });

const CALLS = [
  comment('queue/support/101'),
  read('queue/support/101'),
  comment('queue/support/102', 'triage-prod'),
  read('queue/billing/7'),
  comment('queue/billing/7'),
  line({ agent: 'support-triage', tool: 'zendesk', action: 'tickets.read' }),
  comment('queue/support/103'),
];

describe('mandate simulate on a real git repository', () => {
  let repo: string;
  let work: string;
  let calls: string;

  beforeAll(() => {
    ensureBuilt();
    repo = writeRepo({ ...BASE_FILES, 'policies/agents/triage.yaml': TRIAGE });
    git(repo, 'init', '-q', '-b', 'main');
    git(repo, 'add', '-A');
    git(repo, 'commit', '-qm', 'base policies');
    git(repo, 'checkout', '-q', '-b', 'drop-gate');
    writeFileSync(join(repo, 'policies/agents/triage.yaml'), triageAgent('none'));
    git(repo, 'commit', '-qam', 'comments no longer need a human');
    git(repo, 'checkout', '-q', 'main');
    work = mkdtempSync(join(tmpdir(), 'mandate-simulate-'));
    calls = join(work, 'calls.jsonl');
    writeFileSync(calls, `${CALLS.join('\n')}\n`);
  });

  afterAll(() => {
    removeRepo(repo);
    removeRepo(work);
  });

  const simulate = (args: string[], cwd = repo) => runCli(['simulate', ...args], { cwd });
  const json = (args: string[]): SimulateJson => {
    const result = simulate([...args, '--format', 'json']);
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
    return JSON.parse(result.stdout) as SimulateJson;
  };

  it('finds exactly the calls hitting the grant whose gate the branch removed', () => {
    const result = json(['--base', 'main', '--head', 'drop-gate', '--calls', calls]);
    expect(result.apiVersion).toBe('mandate/v1');
    expect(result.mode).toBe('calls');
    expect(result.base).toBe(git(repo, 'rev-parse', 'main'));
    expect(result.mergeBase).toBe(result.base);
    expect(result.head).toBe(git(repo, 'rev-parse', 'drop-gate'));
    expect(result.total).toBe(7);
    expect(result.summary).toEqual({ unchanged: 3, gained: 0, revoked: 0, nowNeedsApproval: 0, noLongerNeedsApproval: 3, unevaluable: 1 });
    expect(result.changed.map((entry) => [entry.line, entry.call.resource, entry.base, entry.head])).toEqual([
      [1, 'queue/support/101', 'approval', 'allow'],
      [3, 'queue/support/102', 'approval', 'allow'],
      [7, 'queue/support/103', 'approval', 'allow'],
    ]);
    expect(result.changed.every((entry) => entry.change === 'noLongerNeedsApproval' && entry.call.action === 'tickets.comment')).toBe(true);
    expect(result.window).toEqual({ first: '2026-11-20T10:00:00.000Z', last: '2026-11-20T10:00:00.000Z' });
    expect(result.unused).toEqual([{ agent: 'support-triage', tool: 'zendesk', actions: ['docs.read'], resources: [] }]);
  }, SLOW);

  it('warns about head documents left out by loading errors, not about rule findings', () => {
    const other = writeRepo({ ...BASE_FILES, 'policies/agents/triage.yaml': TRIAGE });
    try {
      git(other, 'init', '-q', '-b', 'main');
      git(other, 'add', '-A');
      git(other, 'commit', '-qm', 'base');
      // A rule error only (declared tier below the computed one): decisions are exact, no warning.
      writeFileSync(join(other, 'policies/agents/triage.yaml'), TRIAGE.replace('riskTier: medium', 'riskTier: low'));
      const validated = runCli(['validate', '--format', 'json'], { cwd: other });
      expect(validated.status).toBe(1);
      expect(validated.stdout).toContain('risk-tier-understated');
      const clean = runCli(['simulate', '--calls', calls, '--format', 'json'], { cwd: other });
      expect(clean.status).toBe(0);
      expect(clean.stderr).toBe('');
      // A shape error: that document is left out of every decision, and the user is told.
      writeFileSync(join(other, 'policies/agents/broken.yaml'), 'apiVersion: mandate/v1\nkind: Agent\nid: broken\n');
      const warned = runCli(['simulate', '--calls', calls, '--format', 'json'], { cwd: other });
      expect(warned.status).toBe(0);
      expect(warned.stderr).toMatch(/^mandate: warning: the head has \d+ loading errors? \(see mandate validate\); documents with shape errors are left out/);
    } finally {
      removeRepo(other);
    }
  }, SLOW);

  it('keeps at most --limit changed calls and counts them all; rejects a bad --limit', () => {
    const result = json(['--base', 'main', '--head', 'drop-gate', '--calls', calls, '--limit', '1']);
    expect(result.changed).toHaveLength(1);
    expect(result.summary.noLongerNeedsApproval).toBe(3);
    expectUsageError(simulate(['--calls', calls, '--limit', 'many']), '--limit many');
    expectUsageError(simulate(['--calls', calls, '--limit', '-3']), '--limit');
  }, SLOW);

  it('counts a malformed line as unevaluable, names its line on stderr and exits 0; --strict exits 2', () => {
    const broken = join(work, 'broken.jsonl');
    writeFileSync(broken, `${CALLS[0]}\n{"agent": "support-triage",\n${CALLS[1]}\n`);
    const result = simulate(['--base', 'main', '--head', 'drop-gate', '--calls', broken, '--format', 'json']);
    expect(result.status).toBe(0);
    expect(result.stderr).toMatch(/broken\.jsonl:2: malformed line/);
    const document = JSON.parse(result.stdout) as SimulateJson;
    expect(document.total).toBe(3);
    expect(document.summary.unevaluable).toBe(1);
    expectUsageError(simulate(['--base', 'main', '--head', 'drop-gate', '--calls', broken, '--strict']), /broken\.jsonl:2: malformed line: not JSON .*--strict/);
  }, SLOW);

  it('exits 2 on a missing calls file, a bad ref, a directory that is no git repository, and --out without --suggest', () => {
    expectUsageError(simulate(['--calls', join(work, 'nope.jsonl')]), 'no such file');
    expectUsageError(simulate(['--calls', work]), 'not a file');
    expectUsageError(simulate(['--calls', calls, '--base', 'no-such-branch']), 'no-such-branch');
    const plain = mkdtempSync(join(tmpdir(), 'mandate-not-git-'));
    try {
      writeFileSync(join(plain, 'calls.jsonl'), '');
      expectUsageError(simulate(['--calls', 'calls.jsonl'], plain), 'not a git repository');
    } finally {
      removeRepo(plain);
    }
    expectUsageError(simulate(['--calls', calls, '--out', join(work, 'x.patch')]), '--out needs --suggest');
    expectUsageError(simulate(['--suggest']), '--suggest needs --calls');
  }, SLOW);

  it('reads the calls from a pipe as from a file', () => {
    const fromFile = simulate(['--base', 'main', '--head', 'drop-gate', '--calls', calls, '--format', 'json']);
    // A shell pipe, as a user would write it (Node's own stdin pipes are sockets, which /dev/stdin cannot open).
    const fromPipe = spawnSync('sh', ['-c', `cat "$0" | "$1" "$2" simulate --base main --head drop-gate --calls /dev/stdin --format json`, calls, process.execPath, CLI], { cwd: repo, encoding: 'utf8' });
    expect(fromPipe.stderr).toBe('');
    expect(fromPipe.status).toBe(0);
    // The same document but for the calls file's name.
    const document = (stdout: string): SimulateJson => ({ ...(JSON.parse(stdout) as SimulateJson), calls: null } as SimulateJson);
    expect(document(fromPipe.stdout)).toEqual(document(fromFile.stdout));
    expect(document(fromPipe.stdout).total).toBe(CALLS.length);
  }, SLOW);

  it('replays a large calls file on its workers, deciding as it does a small one', () => {
    // Over the 8 MiB from which the job and the reading run on workers (cli/simulate-job.ts).
    const copies = 12_000;
    const large = join(work, 'large.jsonl');
    writeFileSync(large, `${CALLS.join('\n')}\n`.repeat(copies));
    expect(statSync(large).size).toBeGreaterThan(8 * 1024 * 1024);
    const small = json(['--base', 'main', '--head', 'drop-gate', '--calls', calls]);
    const result = json(['--base', 'main', '--head', 'drop-gate', '--calls', large, '--limit', '5']);
    expect(result.total).toBe(CALLS.length * copies);
    expect(result.summary).toEqual(Object.fromEntries(Object.entries(small.summary).map(([key, value]) => [key, value * copies])));
    expect(result.changed.map((entry) => entry.line)).toEqual([1, 3, 7, 8, 10]);
    expect(result.unused).toEqual(small.unused);
  }, SLOW);

  it('treats an empty calls file as no calls', () => {
    const empty = join(work, 'empty.jsonl');
    writeFileSync(empty, '');
    const result = json(['--base', 'main', '--head', 'drop-gate', '--calls', empty]);
    expect(result.total).toBe(0);
    expect(result.window).toEqual({ first: null, last: null });
  }, SLOW);

  it('without --calls compares exhaustive effective access and shows the gate change', () => {
    const result = simulate(['--base', 'main', '--head', 'drop-gate', '--format', 'json']);
    expect(result.status).toBe(0);
    const document = JSON.parse(result.stdout) as ExhaustiveJson;
    expect(document.mode).toBe('exhaustive');
    expect(document.total).toBe(3);
    expect(document.summary.noLongerNeedsApproval).toBe(1);
    expect(document.changed).toEqual([{
      agent: 'support-triage', tool: 'zendesk', action: 'tickets.comment', change: 'noLongerNeedsApproval', base: 'approval', head: 'allow',
      resources: { base: ['queue/support/**'], head: ['queue/support/**'] },
    }]);
  }, SLOW);

  it('renders text and markdown', () => {
    const text = simulate(['--base', 'main', '--head', 'drop-gate', '--calls', calls]);
    expect(text.status).toBe(0);
    expect(text.stdout).toMatch(/no longer needs approval\s+3/);
    expect(text.stdout).toContain('support-triage zendesk:tickets.comment queue/support/101  approval → allow');
    expect(text.stdout).not.toContain('\u001b[');
    const markdown = simulate(['--base', 'main', '--head', 'drop-gate', '--calls', calls, '--format', 'markdown']);
    expect(markdown.status).toBe(0);
    expect(markdown.stdout).toContain('| no longer needs approval | 3 |');
    expect(markdown.stdout).toContain('| no longer needs approval | `support-triage` `zendesk:tickets.comment` on `queue/support/101` | approval | allow |');
  }, SLOW);

  it('--suggest --out writes a patch git apply accepts; replaying afterwards decides every call as before', () => {
    const patchFile = join(work, 'narrow.patch');
    const result = simulate(['--base', 'main', '--calls', calls, '--suggest', '--out', patchFile, '--format', 'json']);
    expect(result.status).toBe(0);
    const document = JSON.parse(result.stdout) as SimulateJson;
    expect(document.suggestion!.removed.map((entry) => entry.actions)).toEqual([['docs.read']]);
    const patch = readFileSync(patchFile, 'utf8');
    expect(patch).toBe(document.suggestion!.patch);
    expect(patch).toMatch(/^diff --git a\/policies\/agents\/triage\.yaml b\/policies\/agents\/triage\.yaml\n/);
    // The comment on the gate survives: only the unused permission goes.
    expect(patch).not.toContain('-    approval: required');
    expect(readdirSync(work).filter((name) => name.endsWith('.tmp'))).toEqual([]);
    git(repo, 'apply', '--check', patchFile);
    git(repo, 'apply', patchFile);
    try {
      expect(readFileSync(join(repo, 'policies/agents/triage.yaml'), 'utf8')).toContain('approval: required      # a support engineer approves each note');
      const replayed = json(['--base', 'main', '--calls', calls]);
      expect(replayed.head).toBeNull();
      expect(replayed.changed).toEqual([]);
      expect(replayed.summary).toEqual({ unchanged: 6, gained: 0, revoked: 0, nowNeedsApproval: 0, noLongerNeedsApproval: 0, unevaluable: 1 });
      expect(replayed.unused).toEqual([]);
      const text = simulate(['--base', 'main', '--calls', calls, '--suggest']);
      expect(text.stdout).toContain('nothing to narrow');
    } finally {
      git(repo, 'checkout', '--', '.');
    }
    expect(existsSync(join(repo, 'policies/agents/triage.yaml'))).toBe(true);
    // Against a committed head, the files are read from that commit.
    const committed = json(['--base', 'main', '--head', 'drop-gate', '--calls', calls, '--suggest']);
    expect(committed.suggestion!.patch).toMatch(/^diff --git a\/policies\/agents\/triage\.yaml/);
    expect(committed.suggestion!.patch).toContain('-  - tool: zendesk\n-    actions: [docs.read]\n');
  }, SLOW);
});
