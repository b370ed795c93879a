import * as cedar from '@cedar-policy/cedar-wasm/nodejs';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { agentPolicySet, cedarEncoding, exportCedar } from '../core/cedar-export';
import { cedarCall, cedarDecision } from '../core/cedar-request';
import type { CedarRequest } from '../core/cedar-request';
import { resourceCondition, resourceEntity, segmentSlots } from '../core/cedar-resource';
import { cedarString } from '../core/cedar-syntax';
import { dayOf } from '../core/dates';
import type { Call } from '../core/decide';
import { decide, decisionIndex } from '../core/decide';
import { fileSystemTree } from '../core/fs-tree';
import type { Model } from '../core/model';
import type { Snapshot } from '../core/validate';
import { loadSnapshot } from '../core/validate';
import { ensureBuilt, FIXTURE_NOW, removeRepo, runCli, snapshotOf, writeRepo } from './helpers/repo';

// See test/cedar-differential.test.ts: Node 20's V8 crashes deoptimizing inlined JS-to-Wasm calls.
setFlagsFromString('--no-turbo-inline-js-wasm-calls');

const PROJECT = join(import.meta.dirname, '..');
const TODAY = dayOf('2026-11-26');

describe('resource encoding', () => {
  it('turns a final /** into a minimum depth and literal segments into equality', () => {
    expect(resourceCondition(['queue/support/**'])).toBe('resource.present && resource.depth >= 2 && resource.s0 == "queue" && resource.s1 == "support"');
  });
  it('pins the depth of a pattern without /**, and leaves a bare * segment to the depth alone', () => {
    expect(resourceCondition(['a/*'])).toBe('resource.present && resource.depth == 2 && resource.s0 == "a"');
  });
  it('uses like only inside one segment, so * never crosses /', () => {
    expect(resourceCondition(['a*b/**'])).toBe('resource.present && resource.depth >= 1 && resource.s0 like "a*b"');
  });
  it('keeps ? [ { ! literal and escapes \\ and " in both == and like', () => {
    expect(resourceCondition(['?[{!}]/x\\"*'])).toBe('resource.present && resource.depth == 2 && resource.s0 == "?[{!}]" && resource.s1 like "x\\\\\\"*"');
  });
  it('ors several patterns', () => {
    expect(resourceCondition(['a', 'b/**'])).toBe('resource.present && ((resource.depth == 1 && resource.s0 == "a") || (resource.depth >= 1 && resource.s0 == "b"))');
  });
  it('covers every resource, and calls without one, for no resources or **', () => {
    expect(resourceCondition(undefined)).toBeUndefined();
    expect(resourceCondition(['a/b', '**'])).toBeUndefined();
  });
  it('needs as many segment attributes as the longest pattern tests', () => {
    expect(segmentSlots([undefined, ['**'], ['a/b/**', 'c'], ['x/y/z']])).toBe(3);
    expect(segmentSlots([undefined, ['**']])).toBe(0);
  });
  it('builds resource entities with depth, padded segments and flags', () => {
    expect(resourceEntity('queue/support/7/x', 3)).toEqual({
      uid: { type: 'Resource', id: 'queue/support/7/x' },
      attrs: { present: true, canonical: true, depth: 4, s0: 'queue', s1: 'support', s2: '7' },
      parents: [],
    });
    expect(resourceEntity(undefined, 2).attrs).toEqual({ present: false, canonical: true, depth: 0, s0: '', s1: '' });
    expect(resourceEntity('a//b', 1).attrs).toMatchObject({ canonical: false, depth: 3 });
  });
  it('writes string literals Cedar reads back unchanged', () => {
    expect(cedarString('a"b\\c\n\u0001é*')).toBe('"a\\"b\\\\c\\u{a}\\u{1}é*"');
  });
});

/** Calls near every grant and deny of every agent, plus misses, by id and by alias, on a few days. */
function callsFor(model: Model): { call: Call; day: number }[] {
  const calls: { call: Call; day: number }[] = [];
  for (const { doc: agent } of model.agents.values()) {
    const entries = [...(model.grants.get(agent.id) ?? []), ...(model.denies.get(agent.id) ?? [])];
    const resources = new Set<string | undefined>([undefined, 'elsewhere/1', 'a//b']);
    for (const entry of entries) {
      for (const pattern of entry.resources ?? []) {
        const base = pattern.replace(/\/\*\*$/, '').replace(/\*/g, 'x');
        for (const resource of [base, `${base}/deeper/still`, base.split('/').slice(0, -1).join('/'), `${base}y`]) resources.add(resource || undefined);
      }
    }
    const names = [agent.id, ...(agent.aliases ?? []).slice(0, 1)];
    for (const { doc: tool } of model.tools.values()) {
      for (const action of Object.keys(tool.actions)) {
        const touched = entries.some((entry) => entry.tool === tool.id && entry.actions.includes(action));
        for (const resource of touched ? resources : [undefined, 'elsewhere/1']) {
          for (const day of touched ? [TODAY, dayOf('2027-07-15')] : [TODAY]) {
            const agentName = names[calls.length % names.length]!;
            calls.push({ call: resource === undefined ? { agent: agentName, tool: tool.id, action } : { agent: agentName, tool: tool.id, action, resource }, day });
          }
        }
      }
    }
  }
  return calls;
}

function permitted(setId: string, request: CedarRequest): boolean {
  const answer = cedar.statefulIsAuthorized({ ...request, preparsedPolicySetId: setId, preparsedSchemaName: 'export-test', validateRequest: true });
  if (answer.type !== 'success') throw new Error(JSON.stringify(answer.errors));
  expect(answer.response.diagnostics.errors).toEqual([]);
  return answer.response.decision === 'allow';
}

/** Asserts decide() and Cedar (per-agent sets) agree on every call; returns the decisions seen. */
function expectEquivalent(model: Model, calls: { call: Call; day: number }[]): Set<string> {
  const encoding = cedarEncoding(model);
  const { schema } = exportCedar(model);
  expect(cedar.preparseSchema('export-test', schema)).toEqual({ type: 'success' });
  for (const agent of encoding.agents.keys()) {
    expect(cedar.preparsePolicySet(`export-test-${agent}`, { staticPolicies: agentPolicySet(encoding, agent) })).toEqual({ type: 'success' });
  }
  const index = decisionIndex(model);
  const seen = new Set<string>();
  for (const { call, day } of calls) {
    const expected = decide(index, call, day);
    const got = cedarDecision(cedarCall(index, encoding, call, day), (agent, request) => permitted(`export-test-${agent}`, request));
    expect({ call, day, decision: got }).toEqual({ call, day, decision: expected.decision });
    seen.add(expected.decision);
  }
  return seen;
}

describe('the export of the example repository', () => {
  let snapshot: Snapshot;
  beforeAll(async () => {
    snapshot = await loadSnapshot(fileSystemTree(PROJECT), { now: FIXTURE_NOW });
  });

  it('passes Cedar\'s own strict validation against its schema', () => {
    const { schema, policies } = exportCedar(snapshot.model);
    expect(cedar.checkParseSchema(schema)).toEqual({ type: 'success' });
    const answer = cedar.validate({ schema, policies: { staticPolicies: policies }, validationSettings: { mode: 'strict' } });
    expect(answer).toMatchObject({ type: 'success', validationErrors: [], validationWarnings: [] });
  });

  it('gives entities that parse against the schema', () => {
    const { schema, entities } = exportCedar(snapshot.model);
    expect(cedar.checkParseEntities({ entities: entities as cedar.EntityJson[], schema })).toEqual({ type: 'success' });
    expect(entities.length).toBe(snapshot.model.agents.size);
  });

  it('annotates every policy with a unique @id and a @source', () => {
    const encoding = cedarEncoding(snapshot.model);
    const all = [...encoding.shared, ...[...encoding.agents.values()].flat()];
    expect(new Set(all.map((policy) => policy.id)).size).toBe(all.length);
    for (const policy of all) {
      expect(policy.text).toMatch(/^@id\("[^"]+"\)\n@source\("[^"]+"\)/);
    }
    const sources = all.map((policy) => /@source\("([^"]+)"\)/.exec(policy.text)![1]!);
    expect(sources.filter((source) => !source.startsWith('built-in')).every((source) => /^policies\/\S+\.yaml:\d+$/.test(source))).toBe(true);
  });

  it('states in its header that unknown agents, tools and actions are rejected before Cedar', () => {
    const { policies } = exportCedar(snapshot.model);
    expect(policies.split('\n')[0]).toMatch(/^\/\/ Cedar policies exported by `mandate export cedar`/);
    expect(policies).toContain('deny an unknown\n// agent, tool or action (they are rejected before Cedar is asked)');
  });

  it('marks gated grants, and asks for context.approved', () => {
    const { policies } = exportCedar(snapshot.model);
    const gated = policies.split('\n\n').filter((policy) => policy.includes('@approval("required")') && policy.includes('permit ('));
    expect(gated.length).toBeGreaterThan(0);
    for (const policy of gated) expect(policy).toMatch(/context\.approved \};$/);
  });

  it('decides every call near every grant exactly as mandate does', () => {
    const calls = callsFor(snapshot.model);
    expect(calls.length).toBeGreaterThan(500);
    expect([...expectEquivalent(snapshot.model, calls)].sort()).toEqual(['allow', 'approval', 'deny']);
  });
});

describe('hand-picked edge cases', () => {
  it('agree with decide on odd literal characters, cross-segment stars, expiry and guardrails', async () => {
    const agent = `apiVersion: mandate/v1
kind: Agent
id: edge
name: Edge cases
purpose: Odd patterns.
owner: alice
team: support
status: active
riskTier: high
aliases: [edge-alias]
permissions:
  - tool: zendesk
    actions: [docs.read]
    resources: ["odd/?[{!}]", "reports/2026-*.csv", "q\\\\\\"*/**", "single*"]
  - tool: zendesk
    actions: ["tickets.*"]
    resources: ["queue/*/open"]
    expires: 2026-11-26
  - tool: zendesk
    actions: [tickets.reply, tickets.delete]
    approval: required
deny:
  - tool: zendesk
    actions: [tickets.comment]
    resources: ["queue/vip/**"]
`;
    const guardrail = `apiVersion: mandate/v1
kind: Guardrail
id: replies-need-human
description: Replies need a human.
severity: warning
match: { effects: [egress] }
require: { approval: required }
`;
    const snapshot = await snapshotOf({ 'policies/agents/edge.yaml': agent, 'policies/guardrails.yaml': guardrail });
    expect(snapshot.findings.filter((finding) => finding.rule === 'schema')).toEqual([]);
    const resources = [
      'odd/?[{!}]', 'odd/x[{!}]', 'reports/2026-01.csv', 'reports/2026-01/x.csv', 'reports/2026-.csv', 'q\\"x/y', 'q\\"', 'q"x',
      'single', 'singles', 'single/x', 'queue/a/open', 'queue/a/b/open', 'queue//open', 'queue/vip/open', 'queue/vip', undefined,
    ];
    const calls: { call: Call; day: number }[] = [];
    for (const action of ['docs.read', 'tickets.read', 'tickets.comment', 'tickets.reply', 'tickets.delete']) {
      for (const resource of resources) {
        for (const day of [TODAY, TODAY + 1]) {
          calls.push({ call: { agent: 'edge-alias', tool: 'zendesk', action, ...(resource === undefined ? {} : { resource }) }, day });
        }
      }
    }
    expect([...expectEquivalent(snapshot.model, calls)].sort()).toEqual(['allow', 'approval', 'deny']);
  });
});

describe('mandate export cedar', () => {
  const dirs: string[] = [];
  beforeAll(ensureBuilt);
  afterAll(() => dirs.forEach(removeRepo));

  it('prints the policy set on stdout', async () => {
    const { stdout, stderr, status } = runCli(['export', 'cedar', '--repo', PROJECT]);
    expect({ status, stderr }).toEqual({ status: 0, stderr: '' });
    const snapshot = await loadSnapshot(fileSystemTree(PROJECT), { now: FIXTURE_NOW });
    expect(stdout).toBe(exportCedar(snapshot.model).policies);
  });

  it('prints schema, policies and entities as one JSON document with --format json', () => {
    const { stdout, status } = runCli(['export', 'cedar', '--repo', PROJECT, '--format', 'json']);
    expect(status).toBe(0);
    const document = JSON.parse(stdout) as { apiVersion: string; schema: string; policies: string; entities: unknown[] };
    expect(document.apiVersion).toBe('mandate/v1');
    expect(document.schema).toContain('entity Resource');
    expect(document.entities.length).toBe(10);
  });

  it('writes the three files into --out, creating the directory, with no temporary files left', () => {
    const dir = writeRepo({});
    dirs.push(dir);
    const out = join(dir, 'nested', 'cedar');
    const { stdout, status } = runCli(['export', 'cedar', '--repo', PROJECT, '--out', out]);
    expect(status).toBe(0);
    expect(stdout.trim().split('\n')).toEqual(['mandate.cedarschema', 'policies.cedar', 'entities.json'].map((name) => `wrote ${join(out, name)}`));
    expect(readdirSync(out).sort()).toEqual(['entities.json', 'mandate.cedarschema', 'policies.cedar']);
    const schema = readFileSync(join(out, 'mandate.cedarschema'), 'utf8');
    const policies = readFileSync(join(out, 'policies.cedar'), 'utf8');
    const entities = JSON.parse(readFileSync(join(out, 'entities.json'), 'utf8')) as cedar.EntityJson[];
    expect(cedar.validate({ schema, policies: { staticPolicies: policies } })).toMatchObject({ type: 'success', validationErrors: [] });
    expect(cedar.checkParseEntities({ entities, schema })).toEqual({ type: 'success' });
  });

  it('replaces files already in --out', () => {
    const dir = writeRepo({ 'out/policies.cedar': 'stale' });
    dirs.push(dir);
    const { status } = runCli(['export', 'cedar', '--repo', PROJECT, '--out', join(dir, 'out')]);
    expect(status).toBe(0);
    expect(readFileSync(join(dir, 'out', 'policies.cedar'), 'utf8')).toMatch(/^\/\/ Cedar policies/);
  });

  it('exits 2 with one line on stderr when --out cannot be written', () => {
    const dir = writeRepo({});
    dirs.push(dir);
    writeFileSync(join(dir, 'file'), 'not a directory');
    const { stdout, stderr, status } = runCli(['export', 'cedar', '--repo', PROJECT, '--out', join(dir, 'file', 'cedar')]);
    expect(status).toBe(2);
    expect(stdout).toBe('');
    expect(stderr).toMatch(/^mandate: --out .*cannot create the directory \(ENOTDIR\)\n$/);
    expect(existsSync(join(dir, 'file', 'cedar'))).toBe(false);
  });

  it('exits 2 when --out is an existing file', () => {
    const dir = writeRepo({ 'taken': 'x' });
    dirs.push(dir);
    const { stderr, status } = runCli(['export', 'cedar', '--repo', PROJECT, '--out', join(dir, 'taken')]);
    expect(status).toBe(2);
    expect(stderr.split('\n').filter(Boolean)).toHaveLength(1);
  });

  it('asks what to export when the target is missing, and refuses markdown', () => {
    expect(runCli(['export', '--repo', PROJECT]).status).toBe(2);
    expect(runCli(['export', 'cedar', '--repo', PROJECT, '--format', 'markdown'])).toMatchObject({ status: 2, stdout: '' });
  });
});
