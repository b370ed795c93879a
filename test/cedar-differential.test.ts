import * as cedar from '@cedar-policy/cedar-wasm/nodejs';
import fc from 'fast-check';
import { setFlagsFromString } from 'node:v8';
import { describe, expect, it } from 'vitest';
import type { CedarEncoding } from '../core/cedar-export';
import { agentPolicySet, cedarEncoding, exportCedar } from '../core/cedar-export';
import type { CedarCall, CedarRequest } from '../core/cedar-request';
import { cedarCall, cedarDecision } from '../core/cedar-request';
import { dayOf, formatDay } from '../core/dates';
import type { Call, Decision } from '../core/decide';
import { callTarget, decide, decisionIndex, decisionValueAt } from '../core/decide';
import type { Model } from '../core/model';
import { loadSnapshot } from '../core/validate';
import { BASE_FILES, memoryTree } from './helpers/repo';

/*
 * Differential test of `mandate export cedar`: random small repositories,
 * random calls, and mandate's decide() must equal the decision recovered from
 * Cedar (cedar-wasm) on the exported schema, policies and entities, both on
 * the whole exported policy set and on the agent's own set.
 */

// Node 20's V8 crashes ("Fatal error ... unreachable code" in the deoptimizer) when it
// lazily deoptimizes optimized code into which it inlined a JS-to-Wasm call to cedar-wasm.
setFlagsFromString('--no-turbo-inline-js-wasm-calls');

const DAY = dayOf('2026-11-26');
const NOW = new Date('2026-11-26T12:00:00Z');
const REPOS = 200;
const CALLS_PER_REPO = 25;

type G = fc.GeneratorValue;

const EFFECTS = ['read', 'write', 'delete', 'execute', 'egress'] as const;
const DATA = ['customer-pii', 'public-docs', 'card-data'] as const;
const TEAMS = ['support', 'security'] as const;
const TIERS = ['low', 'medium', 'high', 'critical'] as const;
const TOOL_TYPES = ['api', 'mcp-server', 'internal'] as const;
const AGENT_IDS = ['ag-a', 'ag-b', 'ag-c', 'ag-d'];
const TOOL_IDS = ['t-a', 't-b', 't-c'];
const ACTION_NAMES = ['r.read', 'r.write', 'x.delete', 'y.send', 'a:b/c', 'run'];
const ALIASES = ['al-1', 'al-2', 'ag-b', 'asst_7'];
/** Characters of pattern segments: plenty of `a` and `b` so calls hit, and the literal characters Cedar or regexps might treat specially. */
const SEGMENT_CHARS = ['a', 'b', 'a', 'b', '*', '*', '?', '[', '{', '!', '.', '"', '\\', 'é', ']'];

interface ToolSpec {
  id: string;
  type: string;
  vetting?: string;
  actions: { name: string; effect: string; data: string[] }[];
}
interface EntrySpec {
  tool: string;
  actions: string[];
  resources?: string[];
}
interface GrantSpec extends EntrySpec {
  gated: boolean;
  expires?: number;
  rate?: string;
}
interface AgentSpec {
  id: string;
  status: string;
  tier: string;
  team?: string;
  aliases: string[];
  grants: GrantSpec[];
  denies: EntrySpec[];
}
interface GuardrailSpec {
  id: string;
  match: [string, string[]][];
  require: string[];
}
interface RepoSpec {
  tools: ToolSpec[];
  agents: AgentSpec[];
  guardrails: GuardrailSpec[];
}

const pick = <T>(g: G, items: readonly T[]): T => g(fc.constantFrom, ...items);
/** Unbiased 0-99 (fast-check's integers favour the bounds), so `chance` means what it says. */
const percentile = (): fc.Arbitrary<number> => fc.noBias(fc.integer({ min: 0, max: 99 }));
const chance = (g: G, percent: number): boolean => g(percentile) < percent;
const some = <T>(g: G, items: readonly T[], min = 1, max = items.length): T[] =>
  g(fc.subarray, [...items], { minLength: Math.min(min, items.length), maxLength: Math.min(max, items.length) });

function segmentPattern(g: G): string {
  const length = g(fc.integer, { min: 1, max: 3 });
  let segment = '';
  for (let i = 0; i < length; i++) segment += pick(g, SEGMENT_CHARS);
  return segment.replace(/\*+/g, '*');
}

/** Resource patterns from FORMAT.md's grammar: `**`, 1-3 segments with `*` inside, an optional final `/**`. */
function resourcePattern(g: G): string {
  if (chance(g, 8)) return '**';
  const segments = Array.from({ length: g(fc.integer, { min: 1, max: 3 }) }, () => segmentPattern(g));
  return `${segments.join('/')}${chance(g, 35) ? '/**' : ''}`;
}

function actionPatterns(g: G, tool: ToolSpec): string[] {
  const names = tool.actions.map((action) => action.name);
  if (chance(g, 10)) return ['*'];
  if (chance(g, 15)) {
    const name = pick(g, names);
    return [`${name.slice(0, 2)}*`];
  }
  return some(g, names, 1, 2);
}

function repoSpec(g: G): RepoSpec {
  const tools = some(g, TOOL_IDS, 1, 3).map((id): ToolSpec => ({
    id,
    type: pick(g, TOOL_TYPES),
    ...(chance(g, 70) ? { vetting: pick(g, ['approved', 'approved', 'approved', 'pending', 'rejected']) } : {}),
    actions: some(g, ACTION_NAMES, 2, 4).map((name) => ({ name, effect: pick(g, EFFECTS), data: some(g, DATA, 0, 2) })),
  }));
  const entry = (): EntrySpec => {
    const tool = pick(g, tools);
    return { tool: tool.id, actions: actionPatterns(g, tool), ...(chance(g, 70) ? { resources: [...new Set(some(g, [resourcePattern(g), resourcePattern(g)], 1, 2))] } : {}) };
  };
  const agents = some(g, AGENT_IDS, 2, 4).map((id): AgentSpec => ({
    id,
    status: chance(g, 80) ? 'active' : pick(g, ['proposed', 'suspended', 'retired']),
    tier: pick(g, TIERS),
    ...(chance(g, 70) ? { team: pick(g, TEAMS) } : {}),
    aliases: some(g, ALIASES, 0, 2).filter((alias) => alias !== id),
    grants: Array.from({ length: g(fc.integer, { min: 1, max: 4 }) }, (): GrantSpec => ({
      ...entry(),
      gated: chance(g, 30),
      ...(chance(g, 40) ? { expires: DAY + g(fc.integer, { min: -2, max: 2 }) } : {}),
      ...(chance(g, 30) ? { rate: pick(g, ['{ max: 10, per: minute }', '{ max: 100, per: hour }', '{ max: 5, per: day }']) } : {}),
    })),
    denies: Array.from({ length: chance(g, 50) ? 0 : g(fc.integer, { min: 1, max: 2 }) }, entry),
  }));
  const guardrails = Array.from({ length: g(fc.integer, { min: 0, max: 3 }) }, (_, index): GuardrailSpec => {
    const selectors: [string, () => string[]][] = [
      ['effects', () => some(g, EFFECTS, 1, 2)],
      ['tools', () => some(g, tools.map((tool) => tool.id), 1, 2)],
      ['actions', () => [pick(g, ['*', 'r.*', 'x.delete', 'y.*', 'a:b/c', 'run'])]],
      ['agents', () => some(g, agents.map((agent) => agent.id), 1, 2)],
      ['teams', () => some(g, TEAMS, 1, 1)],
      ['riskTiers', () => some(g, TIERS, 1, 2)],
      ['dataClasses', () => some(g, DATA, 1, 2)],
      ['sensitivity', () => some(g, ['public', 'confidential', 'restricted'], 1, 2)],
      ['toolTypes', () => some(g, TOOL_TYPES, 1, 2)],
    ];
    const match = some(g, selectors, 1, 2).map(([name, values]): [string, string[]] => [name, values()]);
    const require = pick(g, [['forbid'], ['approval'], ['forbid', 'approval'], ['maxRate']]);
    return { id: `g-${index}`, match, require };
  });
  return { tools, agents, guardrails };
}

const list = (values: readonly string[]): string => `[${values.map((value) => JSON.stringify(value)).join(', ')}]`;

function renderEntry(entry: EntrySpec): string[] {
  return [
    `  - tool: ${entry.tool}`,
    `    actions: ${list(entry.actions)}`,
    ...(entry.resources ? [`    resources: ${list(entry.resources)}`] : []),
  ];
}

/** The repository's files: the base people, teams and data classes plus the generated tools, agents and guardrails. */
function renderRepo(spec: RepoSpec): Record<string, string> {
  const files: Record<string, string> = {};
  for (const path of ['policies/people.yaml', 'policies/teams.yaml', 'policies/data.yaml']) files[path] = BASE_FILES[path]!;
  files['policies/tools.yaml'] = spec.tools.map((tool) => [
    'apiVersion: mandate/v1', 'kind: Tool', `id: ${tool.id}`, `name: Tool ${tool.id}`, `type: ${tool.type}`,
    ...(tool.vetting ? [`vetting: { status: ${tool.vetting}, reviewedAt: 2026-08-12, reviewer: bob }`] : []),
    'actions:',
    ...tool.actions.map((action) => `  ${JSON.stringify(action.name)}: { effect: ${action.effect}, data: ${list(action.data)} }`),
  ].join('\n')).join('\n---\n');
  for (const agent of spec.agents) {
    files[`policies/agents/${agent.id}.yaml`] = [
      'apiVersion: mandate/v1', 'kind: Agent', `id: ${agent.id}`, `name: Agent ${agent.id}`, 'purpose: A generated agent.',
      'owner: alice', ...(agent.team ? [`team: ${agent.team}`] : []), `status: ${agent.status}`, `riskTier: ${agent.tier}`,
      ...(agent.aliases.length > 0 ? [`aliases: ${list(agent.aliases)}`] : []),
      agent.grants.length === 0 ? 'permissions: []' : 'permissions:',
      ...agent.grants.flatMap((grant) => [
        ...renderEntry(grant),
        ...(grant.gated ? ['    approval: required'] : []),
        ...(grant.expires === undefined ? [] : [`    expires: ${formatDay(grant.expires)}`]),
        ...(grant.rate ? [`    rateLimit: ${grant.rate}`] : []),
      ]),
      ...(agent.denies.length > 0 ? ['deny:', ...agent.denies.flatMap(renderEntry)] : []),
      '',
    ].join('\n');
  }
  if (spec.guardrails.length > 0) {
    files['policies/guardrails.yaml'] = spec.guardrails.map((guardrail) => [
      'apiVersion: mandate/v1', 'kind: Guardrail', `id: ${guardrail.id}`, 'description: A generated guardrail.', 'severity: warning',
      'match:', ...guardrail.match.map(([name, values]) => `  ${name}: ${list(values)}`),
      'require:',
      ...guardrail.require.map((requirement) => ({
        forbid: '  forbid: true', approval: '  approval: required', maxRate: '  maxRate: { max: 10, per: hour }',
      })[requirement as 'forbid' | 'approval' | 'maxRate']),
    ].join('\n')).join('\n---\n');
  }
  return files;
}

/** A resource drawn to hit or just miss a pattern: instantiated, deeper, shallower, with an empty, `.` or `..` segment, or a stray `/`. */
function resourceNear(g: G, pattern: string): string {
  const fillers = ['', 'a', 'b', 'ab', 'ba', 'x/y', '?', '.', 'é'];
  const anyDepth = pattern === '**' || pattern.endsWith('/**');
  const body = pattern === '**' ? '' : anyDepth ? pattern.slice(0, -3) : pattern;
  const segments = body === '' ? [] : body.split('/').map((segment) => segment.replace(/\*/g, () => pick(g, fillers)));
  if (anyDepth) for (let extra = g(fc.integer, { min: 0, max: 2 }); extra > 0; extra--) segments.push(pick(g, ['a', 'b', 'zz']));
  const roll = g(percentile);
  if (roll < 10) segments.pop();
  else if (roll < 20) segments.push(pick(g, ['a', 'b', 'x']));
  else if (roll < 28) segments.splice(g(fc.integer, { min: 0, max: segments.length }), 0, pick(g, ['', '.', '..']));
  else if (roll < 33) return pick(g, ['/', '']) + segments.join('/') + pick(g, ['/', '']);
  else if (roll < 43 && segments.length > 0) segments[segments.length - 1] += pick(g, ['a', 'b', '"']);
  return segments.join('/');
}

function calls(g: G, spec: RepoSpec): { call: Call; day: number }[] {
  const patterns = spec.agents.flatMap((agent) => [...agent.grants, ...agent.denies].flatMap((entry) => entry.resources ?? []));
  return Array.from({ length: CALLS_PER_REPO }, () => {
    const agent = pick(g, spec.agents);
    const name = chance(g, 3) ? 'nobody' : pick(g, [agent.id, agent.id, ...agent.aliases]);
    const own = [...agent.grants, ...agent.denies];
    const toolId = own.length > 0 && chance(g, 80) ? pick(g, own).tool : pick(g, spec.tools).id;
    const tool = spec.tools.find((candidate) => candidate.id === toolId)!;
    const action = pick(g, tool.actions).name;
    const near = own.flatMap((entry) => entry.resources ?? []);
    let resource: string | undefined;
    const roll = g(percentile);
    if (roll < 15) resource = undefined;
    else if (roll < 70 && near.length > 0) resource = resourceNear(g, pick(g, near));
    else if (roll < 90 && patterns.length > 0) resource = resourceNear(g, pick(g, patterns));
    else resource = pick(g, ['a', 'a/b', 'b/a/a', '?', '[/{', 'a/b/c/d/e', '\\', '"/a']);
    const call: Call = resource === undefined ? { agent: name, tool: tool.id, action } : { agent: name, tool: tool.id, action, resource };
    return { call, day: DAY + g(fc.integer, { min: -3, max: 3 }) };
  });
}

function permitted(setId: string, request: CedarRequest): boolean {
  const answer = cedar.statefulIsAuthorized({ ...request, preparsedPolicySetId: setId, preparsedSchemaName: 'differential', validateRequest: true });
  if (answer.type !== 'success') throw new Error(`cedar failed: ${JSON.stringify(answer.errors)}`);
  if (answer.response.diagnostics.errors.length > 0) throw new Error(`cedar evaluation errors: ${JSON.stringify(answer.response.diagnostics.errors)}`);
  return answer.response.decision === 'allow';
}

function mismatch(model: Model, encoding: CedarEncoding, call: Call, day: number, expected: Decision, got: string, translated: CedarCall): string {
  const agent = 'agent' in translated ? translated.agent : undefined;
  return [
    `decide() says ${expected.decision} (${expected.reason}), Cedar says ${got}`,
    `call: ${JSON.stringify(call)} on day ${day} (${formatDay(day)})`,
    `request: ${JSON.stringify(translated)}`,
    `policies:\n${agent ? Object.values(agentPolicySet(encoding, agent)).join('\n\n') : exportCedar(model).policies}`,
  ].join('\n');
}

/** The reasons (FORMAT.md, Reasons) of every step, to check each one is exercised. */
const OUTCOMES = [
  'unknown agent', 'agent not active', 'tool rejected', 'non-canonical resource', 'denied by', 'forbidden by guardrail',
  'no grant', 'approval gate', 'approval required by guardrail',
];

describe('Cedar export is equivalent to decide() (and decisionValueAt)', () => {
  it(`agrees on ${REPOS} random repositories x ${CALLS_PER_REPO} calls`, async () => {
    const seen = new Map<string, number>();
    await fc.assert(
      fc.asyncProperty(fc.gen(), async (g) => {
        const spec = repoSpec(g);
        const files = renderRepo(spec);
        const snapshot = await loadSnapshot(memoryTree(files), { now: NOW });
        const dropped = snapshot.findings.filter((finding) => ['schema', 'yaml-syntax', 'yaml-limit', 'duplicate-key', 'duplicate-id'].includes(finding.rule));
        expect(dropped, JSON.stringify(files, null, 1)).toEqual([]);
        const { model } = snapshot;
        const exported = exportCedar(model);
        const encoding = cedarEncoding(model);
        const validation = cedar.validate({ schema: exported.schema, policies: { staticPolicies: exported.policies } });
        expect(validation.type === 'success' ? validation.validationErrors : validation.errors, exported.policies).toEqual([]);
        expect(cedar.preparseSchema('differential', exported.schema)).toEqual({ type: 'success' });
        expect(cedar.preparsePolicySet('differential-all', { staticPolicies: exported.policies })).toEqual({ type: 'success' });
        for (const agent of encoding.agents.keys()) {
          expect(cedar.preparsePolicySet(`differential-${agent}`, { staticPolicies: agentPolicySet(encoding, agent) })).toEqual({ type: 'success' });
        }
        const index = decisionIndex(model);
        for (const { call, day } of calls(g, spec)) {
          const expected = decide(index, call, day);
          // The replay's value-only path agrees too.
          expect(decisionValueAt(callTarget(index, call.agent, call.tool, call.action), call.resource, day)).toBe(expected.decision);
          const translated = cedarCall(index, encoding, call, day);
          const whole = cedarDecision(translated, (_, request) => permitted('differential-all', request));
          const own = cedarDecision(translated, (agent, request) => permitted(`differential-${agent}`, request));
          if (whole !== expected.decision || own !== expected.decision) {
            throw new Error(mismatch(model, encoding, call, day, expected, whole === expected.decision ? `${own} (agent set)` : whole, translated));
          }
          const kind = expected.decision === 'allow' ? 'allow' : OUTCOMES.find((prefix) => expected.reason.startsWith(prefix)) ?? expected.reason;
          seen.set(kind, (seen.get(kind) ?? 0) + 1);
        }
      }),
      { numRuns: REPOS },
    );
    // Every step of the decision procedure was exercised, each outcome often.
    const counts = JSON.stringify(Object.fromEntries(seen));
    for (const kind of ['allow', ...OUTCOMES]) expect(seen.get(kind) ?? 0, `${kind} in ${counts}`).toBeGreaterThan(kind === 'unknown agent' ? 0 : 10);
    expect(seen.get('allow')!, counts).toBeGreaterThan(REPOS);
  }, 120_000);
});
