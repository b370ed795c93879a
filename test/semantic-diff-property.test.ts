import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Change, SemanticDiff } from '../core/change';
import type { Finding } from '../core/finding';
import { compareFindings } from '../core/finding';
import { INVERSE_KIND, compareFindingSets, inverseRisk, semanticDiff } from '../core/semantic-diff';
import { AgentMemo } from '../core/agent-memo';
import type { LoadedFile, Snapshot } from '../core/validate';
import { snapshotOf } from './helpers/repo';

// Small repositories drawn from fixed id pools, on top of the fixture's people, teams and data classes.

const AGENTS = ['a1', 'a2', 'a3'] as const;
const TOOLS = ['t1', 't2'] as const;
const ACTIONS = ['x.read', 'x.write', 'x.send', 'y.drop'] as const;
const EFFECTS = ['read', 'write', 'delete', 'execute', 'egress'] as const;
const DATA = ['customer-pii', 'public-docs', 'card-data'] as const;
const SENSITIVITIES = ['public', 'internal', 'confidential', 'restricted'] as const;
const RESOURCES = ['**', 'q/**', 'q/a', 'q/*', 'q/a/**', 'r/*/**', 'r'] as const;
const DATES = ['2026-01-01', '2027-01-01', '2027-06-30'] as const;

interface Permission {
  tool: string;
  actions: string[];
  resources?: string[];
  approval?: 'none' | 'required';
  rateLimit?: { max: number; per: string };
  expires?: string;
  justification?: string;
}

interface Agent {
  id: string;
  status: string;
  riskTier: string;
  owner: string;
  team?: string;
  name: string;
  exposure?: { untrustedInput: boolean };
  delegatesTo?: string[];
  permissions: Permission[];
  deny?: { tool: string; actions: string[]; resources?: string[] }[];
  exceptions?: { rule: string; reason: string; approvedBy: string; expires: string }[];
}

interface Tool {
  id: string;
  vetting?: { status: string };
  untrustedContent?: boolean;
  actions: Record<string, { effect: string; data?: string[] }>;
}

interface Guardrail {
  id: string;
  severity: string;
  match: Record<string, string[]>;
  require: Record<string, unknown>;
}

interface Repo {
  agents: (Agent | null)[];
  tools: (Tool | null)[];
  sensitivities: string[];
  guardrail: Guardrail | null;
}

const subset = <T>(values: readonly T[], minLength = 0): fc.Arbitrary<T[]> =>
  fc.subarray([...values], { minLength }).chain((chosen) => fc.shuffledSubarray(chosen, { minLength: chosen.length, maxLength: chosen.length }));
const optional = <T>(arbitrary: fc.Arbitrary<T>): fc.Arbitrary<T | undefined> => fc.option(arbitrary, { nil: undefined });

const permission: fc.Arbitrary<Permission> = fc.record(
  {
    tool: fc.constantFrom(...TOOLS),
    actions: fc.oneof(subset<string>(ACTIONS, 1), fc.constantFrom<string[]>(['x.*'], ['*'])),
    resources: subset(RESOURCES, 1),
    approval: fc.constantFrom('none' as const, 'required' as const),
    rateLimit: fc.record({ max: fc.constantFrom(1, 10, 100), per: fc.constantFrom('minute', 'hour', 'day') }),
    expires: fc.constantFrom(...DATES),
    justification: fc.constantFrom('Needed.', 'Still needed.'),
  },
  { requiredKeys: ['tool', 'actions'] },
);

function agent(id: string): fc.Arbitrary<Agent> {
  return fc.record(
    {
      id: fc.constant(id),
      name: fc.constantFrom(`Agent ${id}`, `Renamed ${id}`),
      status: fc.constantFrom('proposed', 'active', 'suspended', 'retired'),
      riskTier: fc.constantFrom('low', 'medium', 'high', 'critical'),
      owner: fc.constantFrom('alice', 'bob'),
      team: fc.constantFrom('support', 'security'),
      exposure: fc.boolean().map((untrustedInput) => ({ untrustedInput })),
      delegatesTo: subset(AGENTS.filter((other) => other !== id), 1),
      permissions: fc.array(permission, { maxLength: 3 }),
      deny: fc.array(fc.record({ tool: fc.constantFrom(...TOOLS), actions: subset(ACTIONS, 1), resources: optional(subset(RESOURCES, 1)) }), { minLength: 1, maxLength: 2 })
        .map((entries) => entries.map((entry) => (entry.resources ? entry : { tool: entry.tool, actions: entry.actions }))),
      exceptions: fc.array(fc.record({
        rule: fc.constantFrom('wildcard-write', 'review-overdue'),
        reason: fc.constantFrom('Accepted.', 'Accepted for now.'),
        approvedBy: fc.constantFrom('alice', 'bob'),
        expires: fc.constantFrom(...DATES),
      }), { minLength: 1, maxLength: 2 }),
    },
    { requiredKeys: ['id', 'name', 'status', 'riskTier', 'owner', 'permissions'] },
  );
}

function tool(id: string): fc.Arbitrary<Tool> {
  const action = fc.record({ effect: fc.constantFrom(...EFFECTS), data: optional(subset(DATA, 1)) }, { requiredKeys: ['effect'] });
  return fc.record(
    {
      id: fc.constant(id),
      vetting: fc.constantFrom('approved', 'pending', 'rejected').map((status) => ({ status })),
      untrustedContent: fc.boolean(),
      actions: subset(ACTIONS, 1).chain((names) => fc.tuple(...names.map(() => action)).map((defs) => Object.fromEntries(names.map((name, index) => [name, defs[index]!])))),
    },
    { requiredKeys: ['id', 'actions'] },
  );
}

const guardrail: fc.Arbitrary<Guardrail> = fc.record({
  id: fc.constant('g1'),
  severity: fc.constantFrom('error', 'warning'),
  match: fc.constantFrom<Record<string, string[]>>({ effects: ['egress'] }, { effects: ['write', 'delete'] }, { tools: ['t2'] }, { sensitivity: ['restricted'] }),
  require: fc.constantFrom<Record<string, unknown>>({ approval: 'required' }, { forbid: true }, { justification: true }, { maxRate: { max: 5, per: 'hour' } }),
});

const repo: fc.Arbitrary<Repo> = fc.record({
  agents: fc.tuple(...AGENTS.map((id) => fc.option(agent(id), { nil: null, freq: 4 }))),
  tools: fc.tuple(...TOOLS.map((id) => fc.option(tool(id), { nil: null, freq: 5 }))),
  sensitivities: fc.tuple(...DATA.map(() => fc.constantFrom(...SENSITIVITIES))),
  guardrail: fc.option(guardrail, { nil: null }),
});

/** A repository close to `a`: each agent, tool, data class and the guardrail taken from `a` or from `b`. */
const pairOfRepos: fc.Arbitrary<[Repo, Repo]> = fc
  .tuple(repo, repo, fc.array(fc.boolean(), { minLength: 8, maxLength: 8 }))
  .map(([a, b, pick]) => [a, {
    agents: a.agents.map((agentA, index) => (pick[index] ? b.agents[index]! : agentA)),
    tools: a.tools.map((toolA, index) => (pick[3 + index] ? b.tools[index]! : toolA)),
    sensitivities: pick[5] ? b.sensitivities : a.sensitivities,
    guardrail: pick[6] ? b.guardrail : a.guardrail,
  }]);

/** How to lay a repository out in files: one file per document or one multi-document file, and whether to shuffle. */
interface Layout {
  merged: boolean;
  reverse: boolean;
}

/** Renders a value as YAML: block maps at the top, JSON (a YAML subset) for everything nested. */
function render(doc: Record<string, unknown>, layout: Layout): string {
  const keys = Object.keys(doc);
  if (layout.reverse) keys.reverse();
  return keys.map((key) => `${key}: ${JSON.stringify(reorder(doc[key], layout))}`).join('\n').concat('\n');
}

/** Reverses every list and map order when asked (a no-op refactor). */
function reorder(value: unknown, layout: Layout): unknown {
  if (!layout.reverse) return value;
  if (Array.isArray(value)) return value.map((item) => reorder(item, layout)).reverse();
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).reverse().map(([key, item]) => [key, reorder(item, layout)]));
  }
  return value;
}

function filesOf(repository: Repo, layout: Layout): Record<string, string | null> {
  const header = { apiVersion: 'mandate/v1' };
  const documents: [path: string, text: string][] = [];
  for (const tool of repository.tools) {
    if (tool) documents.push([`policies/tools/${tool.id}.yaml`, render({ ...header, kind: 'Tool', name: tool.id.toUpperCase(), type: 'api', ...tool }, layout)]);
  }
  for (const agent of repository.agents) {
    if (agent) documents.push([`policies/agents/${agent.id}.yaml`, render({ ...header, kind: 'Agent', purpose: 'Generated.', ...agent }, layout)]);
  }
  documents.push(['policies/data.yaml', DATA.map((id, index) => render({ ...header, kind: 'DataClass', id, sensitivity: repository.sensitivities[index] }, layout)).join('---\n')]);
  if (repository.guardrail) {
    documents.push(['controls/guardrails/g1.yaml', render({ ...header, kind: 'Guardrail', description: 'Generated.', ...repository.guardrail }, layout)]);
  }
  const files: Record<string, string | null> = { 'policies/agents/triage.yaml': null, 'policies/tools/zendesk.yaml': null };
  if (layout.merged) {
    files['policies/data.yaml'] = null;
    const ordered = layout.reverse ? [...documents].reverse() : documents;
    files['policies/everything.yaml'] = ordered.map(([, text]) => text).join('---\n');
  } else {
    for (const [path, text] of documents) files[path] = text;
  }
  return files;
}

const loaded = new Map<string, Promise<Snapshot>>();

function load(repository: Repo, layout: Layout = { merged: false, reverse: false }): Promise<Snapshot> {
  const files = filesOf(repository, layout);
  const key = JSON.stringify(files);
  let snapshot = loaded.get(key);
  if (!snapshot) {
    snapshot = snapshotOf(files);
    if (loaded.size > 500) loaded.clear();
    loaded.set(key, snapshot);
  }
  return snapshot;
}

/** The multiset of (kind, risk, subject, tool, action) of a diff, optionally inverted. */
function signature(changes: readonly Change[], invert = false): string[] {
  return changes
    .map((change) => [invert ? INVERSE_KIND[change.kind] : change.kind, invert ? inverseRisk(change.risk) : change.risk, change.subject, change.tool ?? '', change.action ?? ''].join(' '))
    .sort();
}

const EMPTY: SemanticDiff = { changes: [], trifectas: [], findings: { introduced: [], fixed: [] }, capabilities: [] };

describe('semanticDiff on random repositories', () => {
  it('finds nothing between a repository and itself', async () => {
    await fc.assert(
      fc.asyncProperty(repo, async (a) => {
        const snapshot = await load(a);
        expect(semanticDiff(snapshot, snapshot)).toEqual(EMPTY);
      }),
      { numRuns: 40 },
    );
  });

  it('finds nothing between two layouts of one repository (files merged, keys and lists reordered)', async () => {
    await fc.assert(
      fc.asyncProperty(repo, fc.boolean(), fc.boolean(), async (a, merged, reverse) => {
        const before = await load(a);
        const after = await load(a, { merged, reverse });
        const diff = semanticDiff(before, after);
        expect(diff.changes).toEqual([]);
        expect(diff.capabilities).toEqual([]);
        expect(diff.trifectas).toEqual([]);
        const kinds = (snapshot: Snapshot): string[] => snapshot.findings.map((finding) => `${finding.rule} ${finding.subject}`).sort();
        expect(kinds(after)).toEqual(kinds(before));
        expect(diff.findings.introduced.map((finding) => `${finding.rule} ${finding.message}`)).toEqual([]);
      }),
      { numRuns: 60 },
    );
  });

  it('is symmetric: swapping the sides lists exactly the inverse kinds with raises and lowers swapped', async () => {
    let changed = 0;
    await fc.assert(
      fc.asyncProperty(pairOfRepos, async ([a, b]) => {
        const before = await load(a);
        const after = await load(b);
        const forward = semanticDiff(before, after);
        const reverse = semanticDiff(after, before);
        expect(signature(reverse.changes, true)).toEqual(signature(forward.changes));
        expect(reverse.findings).toEqual({ introduced: forward.findings.fixed, fixed: forward.findings.introduced });
        expect(reverse.capabilities.map((delta) => delta.agent)).toEqual(forward.capabilities.map((delta) => delta.agent));
        if (forward.changes.length > 0) changed += 1;
      }),
      { numRuns: 150 },
    );
    expect(changed).toBeGreaterThan(50);
  });

  it('gives the same snapshots and diff when the second side reuses the first side\'s parsed files and per-agent results', async () => {
    let reused = 0;
    await fc.assert(
      fc.asyncProperty(pairOfRepos, fc.boolean(), async ([a, changed], agentsOnly) => {
        // Half the pairs differ in agents only, the case the memo serves.
        const b = agentsOnly ? { ...changed, tools: a.tools, sensitivities: a.sensitivities, guardrail: a.guardrail } : changed;
        const alone = [await load(a), await load(b)];
        const shared = { cache: new Map<string, LoadedFile>(), memo: new AgentMemo() };
        const first = await snapshotOf(filesOf(a, { merged: false, reverse: false }), undefined, shared);
        const second = await snapshotOf(filesOf(b, { merged: false, reverse: false }), undefined, shared);
        for (const [fresh, reusing] of [[alone[0]!, first], [alone[1]!, second]] as const) {
          expect(reusing.findings).toEqual(fresh.findings);
          expect(reusing.capabilities).toEqual(fresh.capabilities);
          expect(reusing.model.grants).toEqual(fresh.model.grants);
          expect(reusing.model.denies).toEqual(fresh.model.denies);
        }
        expect(semanticDiff(first, second)).toEqual(semanticDiff(alone[0]!, alone[1]!));
        if ([...second.capabilities.values()].some((capability) => [...first.capabilities.values()].includes(capability))) reused += 1;
      }),
      { numRuns: 150 },
    );
    // The memo must actually be exercised: most pairs share some agents and all of their context.
    expect(reused).toBeGreaterThan(15);
  });

  it('reports capability-gained or capability-lost for every agent whose capability changed, unless its own grants explain it', async () => {
    await fc.assert(
      fc.asyncProperty(pairOfRepos, async ([a, b]) => {
        const diff = semanticDiff(await load(a), await load(b));
        const subjects = new Set(diff.changes.map((change) => change.subject));
        for (const delta of diff.capabilities) {
          const entries = (list: typeof delta.before): string => JSON.stringify(list.map(({ via: _via, ...entry }) => entry));
          if (entries(delta.before) !== entries(delta.after)) expect(subjects.has(`agent:${delta.agent}`)).toBe(true);
        }
      }),
      { numRuns: 60 },
    );
  });
});

describe('compareFindingSets', () => {
  const finding = fc.record({
    rule: fc.constantFrom('grant-expired', 'wildcard-write', 'guardrail'),
    subject: fc.constantFrom('agent:a1', 'agent:a2', 'file'),
    message: fc.constantFrom('m1', 'm2', 'm3'),
    file: fc.constantFrom('a.yaml', 'b.yaml'),
    line: fc.integer({ min: 1, max: 4 }),
    column: fc.constant(1),
  }).map((partial) => ({ ...partial, severity: 'error' as const, controls: [], owasp: [] }) as Finding);
  const side = fc.array(finding, { maxLength: 12 }).chain((list) => fc.boolean().map((sorted) => (sorted ? [...list].sort(compareFindings) : list)));

  it('introduces exactly the head findings whose rule, subject and message no base finding has (CLI.md), and fixes the inverse', () => {
    const key = (item: Finding): string => `${item.rule} ${item.subject} ${item.message}`;
    fc.assert(
      fc.property(side, side, (base, head) => {
        const { introduced, fixed } = compareFindingSets(base, head);
        const baseKeys = new Set(base.map(key));
        const headKeys = new Set(head.map(key));
        expect(introduced).toEqual(head.filter((item) => !baseKeys.has(key(item))).sort(compareFindings));
        expect(fixed).toEqual(base.filter((item) => !headKeys.has(key(item))).sort(compareFindings));
      }),
      { numRuns: 500 },
    );
  });
});
