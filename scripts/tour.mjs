// `npm start`: a short tour of mandate on the example governance repository
// (policies/ and controls/ in this checkout). The demo is pinned to the date the
// example was written for, so its review dates and expiries read the same every day.
import { spawnSync } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { createDemoRepository } from './demo-repo.mjs';

const cli = new URL('../dist/cli.js', import.meta.url).pathname;
if (!existsSync(cli)) {
  console.error('dist/cli.js is missing: run `npm ci` (it builds) or `npm run build` first.');
  process.exit(2);
}
const env = { ...process.env, MANDATE_NOW: process.env.MANDATE_NOW ?? '2026-11-26' };
const bold = (text) => (process.stdout.isTTY && !('NO_COLOR' in process.env) ? `\x1b[1m${text}\x1b[22m` : text);

function step(title, args, explain) {
  console.log(`\n${bold(`▶ ${title}`)}\n  $ mandate ${args.join(' ')}\n`);
  const result = spawnSync(process.execPath, [cli, ...args], { env, stdio: ['ignore', 'inherit', 'inherit'] });
  console.log(`\n  (exit ${result.status}) ${explain}`);
  return result.status;
}

console.log(bold('mandate: what can each AI agent do, who said so, and can you prove it?'));
console.log(`Example repository: policies/ and controls/ (MANDATE_NOW=${env.MANDATE_NOW})`);

const validateStatus = step('Validate the governance repository', ['validate'],
  'Schema, references, every built-in rule and the organisation\'s guardrails. Waived findings are accepted risks with an approver and an expiry.');
step('The rule catalog, mapped to ISO/IEC 42001 Annex A and the OWASP agentic top 10', ['rules'],
  'Severities are configurable per rule in mandate.yaml, except the rules that keep the model sound.');

const demo = createDemoRepository();
try {
  console.log(`\n${bold('A pull request')}: a copy of the example in ${demo}, with a branch widen-refunds that widens`);
  console.log('refunds-bot\'s ticket access, drops the approval gate on refunds and makes Zendesk comments public.');
  step('What the pull request does to what agents can do, and who must approve it',
    ['diff', '--repo', demo, '--base', 'main', '--head', 'widen-refunds'],
    'Changes are semantic (resources widened, gate removed, action reclassified), indirect effects included; approvals come from the base branch. Exit 1: the head introduces error findings.');
  const calls = new URL('../test/fixtures/calls/example.jsonl', import.meta.url).pathname;
  step('Replay a week of recorded agent calls against main and the pull request',
    ['simulate', '--repo', demo, '--base', 'main', '--head', 'widen-refunds', '--calls', calls, '--limit', '8'],
    'Each recorded call is decided at both sides. Comments are now egress, so the egress guardrail asks a human for them; dropping the refund gate changes no decision, because a guardrail still requires approval for payment actions.');
  step('Decide one call', ['check', '--repo', demo, 'refunds-bot', 'stripe:refunds.create', 'charges/ch_1'],
    'allow, approval or deny, with the grant, deny entry or guardrail that decided it (exit 1 on deny).');
} finally {
  rmSync(demo, { recursive: true, force: true });
}
step('Scenario tests: expected decisions for the example agents', ['test', '--format', 'json'],
  'Every example agent has allow, approval and deny cases in test/scenarios/; `npm test` runs them too.');

console.log(`\n${bold('Next')}
  mandate validate --format sarif > mandate.sarif   # GitHub code scanning
  mandate validate --format json | jq .summary
  mandate init ../my-governance                      # start your own repository
`);
process.exit(validateStatus === 0 ? 0 : 1);
