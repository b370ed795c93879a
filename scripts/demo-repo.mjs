// Builds the demo pull request `npm start` and the end-to-end tests use: a git
// repository holding the example governance files on `main`, and a branch
// `widen-refunds` that widens the refunds agent's ticket access, removes the
// approval gate on refunds, and reclassifies a Zendesk action as egress.
import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const PROJECT = new URL('..', import.meta.url).pathname;

/** The edits of the demo branch: [file, text to find, replacement]. */
export const DEMO_EDITS = [
  ['policies/agents/refunds-bot.yaml', '    actions: [tickets.read]\n    resources: ["queue/billing/**"]', '    actions: [tickets.read]\n    resources: ["**"]'],
  ['policies/agents/refunds-bot.yaml', '    approval: required          # a finance operator approves every refund\n', ''],
  ['policies/tools/zendesk.yaml', 'tickets.comment: { effect: write,  data: [customer-pii], description: "Internal note; the customer never sees it." }', 'tickets.comment: { effect: egress, data: [customer-pii], description: "Comment; public by default since the help-centre migration." }'],
];

function git(dir, ...args) {
  return execFileSync('git', args, {
    cwd: dir,
    encoding: 'utf8',
    env: { ...process.env, GIT_AUTHOR_NAME: 'Demo', GIT_AUTHOR_EMAIL: 'demo@example.com', GIT_COMMITTER_NAME: 'Demo', GIT_COMMITTER_EMAIL: 'demo@example.com', GIT_AUTHOR_DATE: '2026-11-20T10:00:00Z', GIT_COMMITTER_DATE: '2026-11-20T10:00:00Z' },
  }).trim();
}

/** Creates the demo repository in a new temporary directory and returns its path. */
export function createDemoRepository() {
  const dir = mkdtempSync(join(tmpdir(), 'mandate-demo-'));
  for (const entry of ['mandate.yaml', 'policies', 'controls', 'test/scenarios']) {
    cpSync(join(PROJECT, entry), join(dir, entry), { recursive: true });
  }
  git(dir, 'init', '-q', '-b', 'main');
  git(dir, 'add', '-A');
  git(dir, 'commit', '-q', '-m', 'Example governance repository');
  git(dir, 'checkout', '-q', '-b', 'widen-refunds');
  for (const [file, find, replace] of DEMO_EDITS) {
    const path = join(dir, file);
    const text = readFileSync(path, 'utf8');
    if (!text.includes(find)) throw new Error(`demo edit no longer applies to ${file}: ${find}`);
    writeFileSync(path, text.replace(find, replace));
  }
  git(dir, 'commit', '-q', '-am', 'Let refunds-bot read every queue and refund without a gate');
  git(dir, 'checkout', '-q', 'main');
  return dir;
}
