import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { Finding } from '../../core/finding';
import { gitBlobId } from '../../core/fs-tree';
import type { FileContent, SourceTree, TreeEntry } from '../../core/source-tree';
import { isYamlName } from '../../core/source-tree';
import { loadSnapshot } from '../../core/validate';
import { expect } from 'vitest';
import type { LoadOptions, Snapshot } from '../../core/validate';

/** The date every fixture is judged on. */
export const FIXTURE_NOW = new Date('2026-11-26T12:00:00Z');

/** The support-triage agent's fields before its aliases and permissions, shared by the fixtures below. */
const TRIAGE_HEADER = `apiVersion: mandate/v1
kind: Agent
id: support-triage
name: Support triage
purpose: Classify inbound tickets.
owner: alice
team: support
status: active
riskTier: medium
lastReviewed: 2026-10-01
`;

/** A small, clean governance repository; tests override or add files. */
export const BASE_FILES: Readonly<Record<string, string>> = {
  'policies/people.yaml': `apiVersion: mandate/v1
kind: Person
id: alice
name: Alice Example
github: alice-ex
---
apiVersion: mandate/v1
kind: Person
id: bob
name: Bob Example
github: bob-ex
`,
  'policies/teams.yaml': `apiVersion: mandate/v1
kind: Team
id: support
members: [alice]
---
apiVersion: mandate/v1
kind: Team
id: security
members: [bob]
`,
  'policies/data.yaml': `apiVersion: mandate/v1
kind: DataClass
id: customer-pii
sensitivity: confidential
---
apiVersion: mandate/v1
kind: DataClass
id: public-docs
sensitivity: public
---
apiVersion: mandate/v1
kind: DataClass
id: card-data
sensitivity: restricted
`,
  'policies/tools/zendesk.yaml': `apiVersion: mandate/v1
kind: Tool
id: zendesk
name: Zendesk
type: api
vendor: Zendesk Inc.
thirdParty: true
vetting: { status: approved, reviewedAt: 2026-08-12, reviewer: bob }
actions:
  tickets.read: { effect: read, data: [customer-pii] }
  tickets.comment: { effect: write, data: [customer-pii] }
  tickets.reply: { effect: egress, data: [customer-pii] }
  tickets.delete: { effect: delete }
  docs.read: { effect: read, data: [public-docs] }
`,
  'policies/agents/triage.yaml': `${TRIAGE_HEADER}permissions:
  - tool: zendesk
    actions: [tickets.read, tickets.comment]
    resources: ["queue/support/**"]
    justification: Reads and annotates tickets in its own queue.
`,
};

/**
 * support-triage (alias triage-prod): reads tickets in the support and
 * billing queues freely, comments in the support queue with the given
 * approval (with a YAML comment when required, which narrowing must keep),
 * and reads the help centre on every resource; `extra` is appended (more
 * permissions, say).
 */
export function triageAgent(commentApproval: 'required' | 'none', extra = ''): string {
  return `${TRIAGE_HEADER}aliases: [triage-prod]
permissions:
  - tool: zendesk
    actions: [tickets.read]
    resources: ["queue/support/**", "queue/billing/**"]
    justification: Reads tickets.
  - tool: zendesk
    actions: [tickets.comment]
    resources: ["queue/support/**"]
    approval: ${commentApproval === 'required' ? 'required      # a support engineer approves each note' : 'none'}
    justification: Annotates tickets.
  - tool: zendesk
    actions: [docs.read]
    justification: Reads the help centre.
${extra}`;
}

/** An in-memory SourceTree, so rule tests need no disk. */
export function memoryTree(files: Record<string, string | Uint8Array>): SourceTree {
  const encoder = new TextEncoder();
  const bytesOf = (content: string | Uint8Array): Uint8Array => (typeof content === 'string' ? encoder.encode(content) : content);
  return {
    async listGovernanceFiles(roots) {
      const entries: TreeEntry[] = [];
      const missingRoots = roots.filter((root) => !Object.keys(files).some((path) => path.startsWith(`${root}/`)));
      for (const path of Object.keys(files).sort()) {
        if (roots.some((root) => path.startsWith(`${root}/`)) && isYamlName(path)) entries.push({ path, type: 'file', id: gitBlobId(bytesOf(files[path]!)) });
      }
      return { entries, missingRoots };
    },
    async readFile(path, maxBytes): Promise<FileContent> {
      const content = files[path];
      if (content === undefined) return { status: 'missing' };
      const bytes = bytesOf(content);
      return bytes.length > maxBytes ? { status: 'too-large', size: bytes.length } : { status: 'ok', bytes, id: gitBlobId(bytes) };
    },
  };
}

/** Loads BASE_FILES with `changes` applied (null deletes a file). */
export async function snapshotOf(changes: Record<string, string | Uint8Array | null> = {}, now = FIXTURE_NOW, options: LoadOptions = {}): Promise<Snapshot> {
  const files: Record<string, string | Uint8Array> = { ...BASE_FILES };
  for (const [path, content] of Object.entries(changes)) {
    if (content === null) delete files[path];
    else files[path] = content;
  }
  return loadSnapshot(memoryTree(files), { now, ...options });
}

/** The findings of one rule (unwaived and waived). */
export function findingsOf(snapshot: Snapshot, rule: string): Finding[] {
  return snapshot.findings.filter((finding) => finding.rule === rule);
}

/** Writes files into a fresh temporary directory and returns its path. */
export function writeRepo(files: Record<string, string | Uint8Array>): string {
  const root = mkdtempSync(join(tmpdir(), 'mandate-test-'));
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), content);
  }
  return root;
}

/** Removes a temporary directory. */
export function removeRepo(root: string): void {
  rmSync(root, { recursive: true, force: true });
}

/** The built CLI. */
export const CLI = join(import.meta.dirname, '..', '..', 'dist', 'cli.js');
/** The built workers: the parse pool's, the call reader's and the simulate job's (cli/*-worker.ts). */
export const PARSE_WORKER = join(import.meta.dirname, '..', '..', 'dist', 'parse-worker.js');
export const CALL_WORKER = join(import.meta.dirname, '..', '..', 'dist', 'call-worker.js');
export const SIMULATE_WORKER = join(import.meta.dirname, '..', '..', 'dist', 'simulate-worker.js');

/** Builds dist/ when a test file runs on its own without `npm test`. */
export function ensureBuilt(): void {
  if (![CLI, PARSE_WORKER, CALL_WORKER, SIMULATE_WORKER].every((file) => existsSync(file))) execFileSync(process.execPath, ['scripts/build.mjs'], { cwd: join(import.meta.dirname, '..', '..') });
}

/** Spawns the built CLI as a user would; returns stdout, stderr and the exit code. */
export function runCli(args: string[], options: { cwd?: string; env?: Record<string, string>; input?: string } = {}) {
  const result = spawnSync(process.execPath, [CLI, ...args], {
    cwd: options.cwd,
    env: { ...process.env, NO_COLOR: '1', MANDATE_NOW: '2026-11-26', ...options.env },
    input: options.input,
    encoding: 'utf8',
    timeout: 60_000,
  });
  return { stdout: result.stdout, stderr: result.stderr, status: result.status };
}

/** Asserts a usage error as CLI.md defines it: exit 2, one line on stderr naming `message`, nothing on stdout, no stack trace. */
export function expectUsageError(result: { stdout: string; stderr: string; status: number | null }, message: string | RegExp): void {
  expect(result.status).toBe(2);
  expect(result.stdout).toBe('');
  expect(result.stderr.trim().split('\n')).toHaveLength(1);
  if (typeof message === 'string') expect(result.stderr).toContain(message);
  else expect(result.stderr).toMatch(message);
  expect(result.stderr).not.toMatch(/\n\s+at /);
}
