import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CallBatchWriter } from '../core/call-batch';
import type { LoggedCall, MalformedLine } from '../core/call-log';
import { CallLogParser, MAX_LINE_LENGTH, parseCallTime, readCallLog } from '../core/call-log';
import { dayOfInstant } from '../core/dates';
import { decide, decisionIndex } from '../core/decide';
import { fileSystemTree } from '../core/fs-tree';
import { editAgentText, narrowFiles, unifiedPatch } from '../core/least-privilege';
import type { CallSimulation } from '../core/simulate';
import { agentNames, CallReplay, classifyChange, simulateCallLog, simulateExhaustive } from '../core/simulate';
import type { Snapshot } from '../core/validate';
import { loadSnapshot } from '../core/validate';
import { progressBar } from '../cli/progress';
import { FIXTURE_NOW, removeRepo, snapshotOf, triageAgent } from './helpers/repo';

const PROJECT = join(import.meta.dirname, '..');
const FIXTURES = join(import.meta.dirname, 'fixtures', 'calls');

const FRESHDESK = `apiVersion: mandate/v1
kind: Tool
id: freshdesk
name: Freshdesk
type: api
actions:
  tickets.read: { effect: read }
  solutions.read: { effect: read }
`;

async function sides(base: Record<string, string | null>, head: Record<string, string | null>): Promise<{ base: Snapshot; head: Snapshot }> {
  return { base: await snapshotOf(base), head: await snapshotOf(head) };
}

/** Feeds lines through the parser into a replay, as `readCallLog` does for a file. */
function replay(
  models: { base: Snapshot; head: Snapshot },
  lines: readonly string[],
  options: { limit?: number; maxBufferedSpans?: number } = {},
): CallSimulation {
  const run = new CallReplay(models.base.model, models.head.model, { now: FIXTURE_NOW, ...(options.limit === undefined ? {} : { limit: options.limit }) });
  const parser = new CallLogParser(run, { now: FIXTURE_NOW.getTime(), ...(options.maxBufferedSpans === undefined ? {} : { maxBufferedSpans: options.maxBufferedSpans }) });
  lines.forEach((line, index) => parser.line(line, index + 1));
  parser.end();
  return run.result();
}

const call = (fields: Record<string, unknown>): string => JSON.stringify({ time: '2026-11-20T10:00:00Z', ...fields });

describe('classifyChange', () => {
  it('names every move between decisions as CLI.md does', () => {
    expect(classifyChange('allow', 'allow')).toBe('unchanged');
    expect(classifyChange('deny', 'deny')).toBe('unchanged');
    expect(classifyChange('deny', 'allow')).toBe('gained');
    expect(classifyChange('deny', 'approval')).toBe('gained');
    expect(classifyChange('allow', 'deny')).toBe('revoked');
    expect(classifyChange('approval', 'deny')).toBe('revoked');
    expect(classifyChange('allow', 'approval')).toBe('nowNeedsApproval');
    expect(classifyChange('approval', 'allow')).toBe('noLongerNeedsApproval');
  });
});

describe('replaying JSONL calls', () => {
  it('classifies each call from its base to its head decision, and only the calls hitting a changed grant change', async () => {
    const models = await sides(
      { 'policies/agents/triage.yaml': triageAgent('required') },
      { 'policies/agents/triage.yaml': triageAgent('none') },
    );
    const result = replay(models, [
      call({ agent: 'support-triage', tool: 'zendesk', action: 'tickets.comment', resource: 'queue/support/1' }),
      call({ agent: 'triage-prod', tool: 'zendesk', action: 'tickets.comment', resource: 'queue/support/2' }),
      call({ agent: 'support-triage', tool: 'zendesk', action: 'tickets.read', resource: 'queue/support/1' }),
      call({ agent: 'support-triage', tool: 'zendesk', action: 'tickets.comment', resource: 'queue/billing/1' }),
    ]);
    expect(result.total).toBe(4);
    expect(result.summary).toEqual({ unchanged: 2, gained: 0, revoked: 0, nowNeedsApproval: 0, noLongerNeedsApproval: 2, unevaluable: 0 });
    expect(result.changed.map((entry) => [entry.line, entry.change, entry.base, entry.head])).toEqual([
      [1, 'noLongerNeedsApproval', 'approval', 'allow'],
      [2, 'noLongerNeedsApproval', 'approval', 'allow'],
    ]);
    expect(result.changed[1]!.call).toEqual({ agent: 'triage-prod', tool: 'zendesk', action: 'tickets.comment', resource: 'queue/support/2', time: '2026-11-20T10:00:00.000Z' });
    expect(result.changed[0]!.reason).toMatch(/^granted by policies\/agents\/triage\.yaml:/);
    expect(result.changed[0]!.baseReason).toMatch(/^approval gate/);
  });

  it('counts gained, revoked and gate moves', async () => {
    const models = await sides(
      { 'policies/agents/triage.yaml': triageAgent('none') },
      { 'policies/agents/triage.yaml': triageAgent('required').replace('resources: ["queue/support/**", "queue/billing/**"]', 'resources: ["queue/billing/**", "queue/vip/**"]') },
    );
    const result = replay(models, [
      call({ agent: 'support-triage', tool: 'zendesk', action: 'tickets.read', resource: 'queue/vip/1' }),
      call({ agent: 'support-triage', tool: 'zendesk', action: 'tickets.read', resource: 'queue/support/1' }),
      call({ agent: 'support-triage', tool: 'zendesk', action: 'tickets.comment', resource: 'queue/support/1' }),
      call({ agent: 'support-triage', tool: 'zendesk', action: 'tickets.read', resource: 'queue/billing/1' }),
    ]);
    expect(result.summary).toEqual({ unchanged: 1, gained: 1, revoked: 1, nowNeedsApproval: 1, noLongerNeedsApproval: 0, unevaluable: 0 });
    expect(result.changed.map((entry) => entry.change)).toEqual(['gained', 'revoked', 'nowNeedsApproval']);
  });

  it('decides each call on its own UTC day: a grant expiring in between revokes only the later calls', async () => {
    const expiring = triageAgent('none').replace('justification: Reads tickets.', 'expires: 2026-11-10\n    justification: Reads tickets.');
    const models = await sides({ 'policies/agents/triage.yaml': triageAgent('none') }, { 'policies/agents/triage.yaml': expiring });
    const read = { agent: 'support-triage', tool: 'zendesk', action: 'tickets.read', resource: 'queue/support/1' };
    const result = replay(models, [
      JSON.stringify({ ...read, time: '2026-11-10T23:59:59Z' }),
      JSON.stringify({ ...read, time: '2026-11-11T00:00:00Z' }),
      // 23:30 at -02:00 is the next UTC day.
      JSON.stringify({ ...read, time: '2026-11-10T23:30:00-02:00' }),
    ]);
    expect(result.changed.map((entry) => entry.line)).toEqual([2, 3]);
    expect(result.summary.revoked).toBe(2);
  });

  it('decides unknown agents, tools and actions as deny with their reason: they are evaluable', async () => {
    const models = await sides({}, { 'policies/agents/triage.yaml': triageAgent('none') });
    const result = replay(models, [
      call({ agent: 'nobody', tool: 'zendesk', action: 'tickets.read', resource: 'queue/support/1' }),
      call({ agent: 'support-triage', tool: 'jira', action: 'issues.read', resource: 'x' }),
      call({ agent: 'support-triage', tool: 'zendesk', action: 'tickets.explode', resource: 'queue/support/1' }),
      call({ agent: 'support-triage', tool: 'zendesk', action: 'tickets.read', resource: 'queue/billing/1' }),
    ]);
    expect(result.summary).toEqual({ unchanged: 3, gained: 1, revoked: 0, nowNeedsApproval: 0, noLongerNeedsApproval: 0, unevaluable: 0 });
    expect(result.changed[0]!.baseReason).toMatch(/^no grant/);
  });

  it('makes a call without a resource unevaluable when a grant or deny scopes its triple at base or head', async () => {
    const denyAtBase = triageAgent('none', `deny:
  - tool: zendesk
    actions: [docs.read]
    resources: ["internal/**"]
`);
    const models = await sides({ 'policies/agents/triage.yaml': denyAtBase }, { 'policies/agents/triage.yaml': triageAgent('none') });
    const result = replay(models, [
      call({ agent: 'support-triage', tool: 'zendesk', action: 'tickets.read' }),
      call({ agent: 'support-triage', tool: 'zendesk', action: 'docs.read' }),
      // tickets.delete has no grant or deny: a call without a resource is decided (deny, no grant).
      call({ agent: 'support-triage', tool: 'zendesk', action: 'tickets.delete' }),
    ]);
    expect(result.summary.unevaluable).toBe(2);
    expect(result.summary.unchanged).toBe(1);
    expect(result.unevaluable.map((entry) => [entry.line, entry.reason.split(':')[0]])).toEqual([[1, 'no resource'], [2, 'no resource']]);
    expect(result.unevaluable[1]!.reason).toContain('at base');
    expect(result.unevaluable[0]!.reason).toContain('at base');
  });

  it('counts a malformed line as unevaluable with its line number and goes on', async () => {
    const models = await sides({}, {});
    const result = replay(models, [
      '{"agent": "support-triage", "tool": "zendesk"',
      call({ agent: 'support-triage', tool: 'zendesk', action: 'tickets.read', resource: 'queue/support/1' }),
      '',
      JSON.stringify({ agent: 'support-triage', tool: 'zendesk', action: 'tickets.read', time: 'yesterday' }),
      JSON.stringify({ agent: 'support-triage', action: 'tickets.read' }),
      '[1, 2]',
      '   ',
    ]);
    expect(result.total).toBe(5);
    expect(result.summary.unevaluable).toBe(4);
    expect(result.malformedLines).toBe(4);
    expect(result.malformed.map((problem: MalformedLine) => problem.line)).toEqual([1, 4, 5, 6]);
    expect(result.malformed[0]!.message).toMatch(/^not JSON/);
    expect(result.malformed[1]!.message).toContain('ISO 8601');
    expect(result.malformed[2]!.message).toContain('"tool"');
    expect(result.unevaluable.map((entry) => entry.line)).toEqual([1, 4, 5, 6]);
  });

  it('keeps at most --limit changed calls, the first in file order, while the summary counts all', async () => {
    const models = await sides({ 'policies/agents/triage.yaml': triageAgent('required') }, { 'policies/agents/triage.yaml': triageAgent('none') });
    const lines = Array.from({ length: 50 }, (_, index) => call({ agent: 'support-triage', tool: 'zendesk', action: 'tickets.comment', resource: `queue/support/${index}` }));
    const limited = replay(models, lines, { limit: 7 });
    expect(limited.summary.noLongerNeedsApproval).toBe(50);
    expect(limited.changed.map((entry) => entry.line)).toEqual([1, 2, 3, 4, 5, 6, 7]);
    expect(replay(models, lines, { limit: 0 }).changed).toEqual([]);
    expect(replay(models, lines).changed).toHaveLength(50);
  });

  it('reports the window: the earliest and latest call time, calls without a time at now', async () => {
    const models = await sides({}, {});
    const read = { agent: 'support-triage', tool: 'zendesk', action: 'tickets.read', resource: 'queue/support/1' };
    const result = replay(models, [
      JSON.stringify({ ...read, time: '2026-11-05T08:00:00+01:00' }),
      JSON.stringify({ ...read, time: '2026-11-01' }),
      JSON.stringify({ ...read, time: '2026-11-03T12:00:00' }),
    ]);
    expect(result.window).toEqual({ first: '2026-11-01T00:00:00.000Z', last: '2026-11-05T07:00:00.000Z' });
    expect(replay(models, [JSON.stringify(read)]).window).toEqual({ first: FIXTURE_NOW.toISOString(), last: FIXTURE_NOW.toISOString() });
    expect(replay(models, []).window).toEqual({ first: null, last: null });
  });

  it('parses ISO 8601 times only', () => {
    expect(parseCallTime('2026-11-05')).toBe(Date.parse('2026-11-05T00:00:00Z'));
    expect(parseCallTime('2026-11-05T10:00')).toBe(Date.parse('2026-11-05T10:00:00Z'));
    expect(parseCallTime('2026-11-05T10:00:00.123+0200')).toBe(Date.parse('2026-11-05T08:00:00.123Z'));
    expect(parseCallTime('2026-11-05T10:00:00+02')).toBe(Date.parse('2026-11-05T08:00:00Z'));
    expect(parseCallTime('Nov 5, 2026')).toBeUndefined();
    expect(parseCallTime('2026-13-45')).toBeUndefined();
    expect(parseCallTime('2026-02-29T10:00:00Z')).toBeUndefined();
    expect(parseCallTime('2028-02-29T10:00:00Z')).toBe(Date.parse('2028-02-29T10:00:00Z'));
    expect(parseCallTime('2026-11-05T25:00:00Z')).toBeUndefined();
  });
});

describe('agent names', () => {
  it('resolves ids and aliases exactly as the decision index does, conflicts included', async () => {
    const other = triageAgent('none').replace('id: support-triage', 'id: other-triage').replace('aliases: [triage-prod]', 'aliases: [triage-prod, support-triage, other-prod]');
    const { head } = await sides({}, { 'policies/agents/triage.yaml': triageAgent('none'), 'policies/agents/other.yaml': other });
    expect([...agentNames(head.model)].sort()).toEqual([...decisionIndex(head.model).names].sort());
    expect(agentNames(head.model).get('support-triage')).toBe('support-triage');
  });
});

describe('unused grants', () => {
  it('lists, per agent and tool, the actions no call used and the resource patterns no call matched', async () => {
    const models = await sides({}, { 'policies/agents/triage.yaml': triageAgent('none') });
    const result = replay(models, [
      call({ agent: 'support-triage', tool: 'zendesk', action: 'tickets.read', resource: 'queue/support/1' }),
      // Denied at head (outside the patterns): uses nothing.
      call({ agent: 'support-triage', tool: 'zendesk', action: 'tickets.comment', resource: 'queue/legal/1' }),
    ]);
    // queue/support/** is matched through the read grant, so it is not listed even though the comment grant's went unused.
    expect(result.unused).toEqual([
      { agent: 'support-triage', tool: 'zendesk', actions: ['docs.read', 'tickets.comment'], resources: ['queue/billing/**'] },
    ]);
  });

  it('never reports a pattern unused because of calls without a resource', async () => {
    const models = await sides({}, { 'policies/agents/triage.yaml': triageAgent('none') });
    const result = replay(models, [
      call({ agent: 'support-triage', tool: 'zendesk', action: 'tickets.read' }),
      call({ agent: 'support-triage', tool: 'zendesk', action: 'docs.read' }),
      call({ agent: 'support-triage', tool: 'zendesk', action: 'tickets.comment', resource: 'queue/support/9' }),
    ]);
    expect(result.summary.unevaluable).toBe(1);
    expect(result.unused).toEqual([]);
  });
});

/** An OTLP/JSON export request line. */
function otlp(spans: Array<Record<string, unknown>>): string {
  return JSON.stringify({ resourceSpans: [{ resource: { attributes: [] }, scopeSpans: [{ scope: { name: 'test' }, spans }] }] });
}

function span(traceId: string, spanId: string, parent: string, attributes: Record<string, string>, start = '1763632800000000000'): Record<string, unknown> {
  return {
    traceId, spanId, parentSpanId: parent, name: attributes['gen_ai.operation.name'] ?? 'span', startTimeUnixNano: start,
    attributes: Object.entries(attributes).map(([key, value]) => ({ key, value: { stringValue: value } })),
  };
}

const tool = (name: string, extra: Record<string, string> = {}): Record<string, string> => ({ 'gen_ai.operation.name': 'execute_tool', 'gen_ai.tool.name': name, ...extra });

describe('reading OTLP/JSON', () => {
  const collect = (lines: readonly string[], maxBufferedSpans?: number): { calls: LoggedCall[]; malformed: MalformedLine[] } => {
    const calls: LoggedCall[] = [];
    const malformed: MalformedLine[] = [];
    const parser = new CallLogParser({ call: (c) => calls.push(c), malformed: (m) => malformed.push(m) }, {
      now: FIXTURE_NOW.getTime(), ...(maxBufferedSpans === undefined ? {} : { maxBufferedSpans }),
    });
    lines.forEach((line, index) => parser.line(line, index + 1));
    parser.end();
    return { calls, malformed };
  };

  it('resolves the agent from the nearest invoke_agent or create_agent ancestor arriving on later lines', () => {
    const { calls } = collect([
      otlp([span('t1', 's3', 's2', tool('tickets.read', { 'mandate.resource': 'queue/support/1' }))]),
      otlp([span('t1', 's2', 's1', { 'gen_ai.operation.name': 'chat' })]),
      otlp([span('t1', 's1', 's0', { 'gen_ai.operation.name': 'invoke_agent', 'gen_ai.agent.id': 'triage-prod', 'gen_ai.agent.name': 'Support triage' })]),
      otlp([span('t1', 's0', '', { 'gen_ai.operation.name': 'invoke_agent', 'gen_ai.agent.id': 'orchestrator' })]),
    ]);
    expect(calls).toHaveLength(1);
    expect(calls[0]).toMatchObject({ agent: 'triage-prod', alternatives: ['Support triage'], action: 'tickets.read', resource: 'queue/support/1', line: 1, time: 1763632800000 });
    expect(calls[0]!.tool).toBeUndefined();
  });

  it('prefers mandate.agent, then the span\'s own gen_ai.agent attributes', () => {
    const { calls } = collect([
      otlp([
        span('t1', 'a', 'p', tool('tickets.read', { 'mandate.agent': 'support-triage', 'gen_ai.agent.id': 'other' })),
        span('t1', 'b', 'p', tool('tickets.read', { 'gen_ai.agent.name': 'triage-prod' })),
      ]),
    ]);
    expect(calls.map((c) => [c.agent, c.alternatives])).toEqual([['support-triage', undefined], ['triage-prod', undefined]]);
  });

  it('tries gen_ai.agent.name when gen_ai.agent.id is not an agent the repository knows', async () => {
    const models = await sides({}, { 'policies/agents/triage.yaml': triageAgent('none') });
    const result = replay(models, [
      otlp([
        span('t', 'a', 'root', tool('tickets.read', { 'mandate.tool': 'zendesk', 'mandate.resource': 'queue/billing/1' })),
        span('t', 'root', '', { 'gen_ai.operation.name': 'invoke_agent', 'gen_ai.agent.id': 'asst_8f2k1', 'gen_ai.agent.name': 'triage-prod' }),
        span('u', 'b', '', tool('tickets.read', { 'mandate.tool': 'zendesk', 'mandate.resource': 'queue/billing/1', 'gen_ai.agent.id': 'asst_unknown', 'gen_ai.agent.name': 'Nobody' })),
      ]),
    ]);
    expect(result.changed.map((entry) => entry.call.agent)).toEqual(['triage-prod']);
    expect(result.summary).toMatchObject({ gained: 1, unchanged: 1 });
  });

  it('yields one call per gen_ai.tool.call.id', () => {
    const { calls } = collect([
      otlp([span('t1', 'a', '', tool('tickets.read', { 'mandate.agent': 'x', 'gen_ai.tool.call.id': 'call_1' }))]),
      otlp([
        span('t1', 'b', 'a', tool('tickets.read', { 'mandate.agent': 'x', 'gen_ai.tool.call.id': 'call_1' })),
        span('t1', 'c', '', tool('tickets.read', { 'mandate.agent': 'x', 'gen_ai.tool.call.id': 'call_2' })),
        span('t1', 'd', '', tool('tickets.read', { 'mandate.agent': 'x' })),
        span('t1', 'e', '', tool('tickets.read', { 'mandate.agent': 'x' })),
      ]),
    ]);
    expect(calls.map((c) => c.line)).toEqual([1, 2, 2, 2]);
  });

  it('emits a tool span whose ancestors name no agent without one, at the end of the input at the latest', () => {
    const { calls } = collect([
      otlp([span('t1', 'a', 'missing', tool('tickets.read'))]),
      otlp([span('t2', 'b', '', tool('tickets.read'))]),
      otlp([span('t3', 'c', 'r', tool('tickets.read')), span('t3', 'r', '', { 'gen_ai.operation.name': 'chat' })]),
    ]);
    expect(calls.map((c) => [c.line, c.agent, c.problem?.split(':')[0]])).toEqual([
      [2, undefined, 'no agent'], [3, undefined, 'no agent'], [1, undefined, 'no agent'],
    ]);
  });

  it('holds at most maxBufferedSpans spans: the least recently active trace is dropped first', () => {
    const lines = [
      otlp([span('old', 'a', 'p-old', tool('tickets.read'))]),
      ...Array.from({ length: 5 }, (_, index) => otlp([span(`t${index}`, 's', '', { 'gen_ai.operation.name': 'chat' })])),
      otlp([span('old', 'p-old', '', { 'gen_ai.operation.name': 'invoke_agent', 'gen_ai.agent.id': 'support-triage' })]),
    ];
    const bounded = collect(lines, 4);
    expect(bounded.calls).toHaveLength(1);
    expect(bounded.calls[0]!.problem).toMatch(/^no agent: the trace was dropped from the span buffer/);
    const roomy = collect(lines, 100);
    expect(roomy.calls[0]!.agent).toBe('support-triage');
  });

  it('marks an execute_tool span without a tool name, and malformed export requests', () => {
    const { calls, malformed } = collect([
      otlp([span('t', 'a', '', { 'gen_ai.operation.name': 'execute_tool', 'mandate.agent': 'x' })]),
      JSON.stringify({ resourceSpans: 'nope' }),
    ]);
    expect(calls[0]!.problem).toMatch(/^no tool name/);
    expect(malformed).toEqual([{ line: 2, message: '"resourceSpans" must be an array' }]);
  });

  it('infers the tool from the one Tool declaring the action; none or several: unevaluable', async () => {
    const models = await sides({ 'policies/tools/freshdesk.yaml': FRESHDESK }, { 'policies/agents/triage.yaml': triageAgent('none'), 'policies/tools/freshdesk.yaml': FRESHDESK });
    const result = replay(models, [
      otlp([
        span('t', 'a', '', tool('docs.read', { 'mandate.agent': 'support-triage', 'mandate.resource': 'help/1' })),
        span('t', 'b', '', tool('tickets.read', { 'mandate.agent': 'support-triage', 'mandate.resource': 'queue/billing/1' })),
        span('t', 'c', '', tool('tickets.read', { 'mandate.agent': 'support-triage', 'mandate.tool': 'zendesk', 'mandate.resource': 'queue/billing/1' })),
        span('t', 'd', '', tool('tickets.fly', { 'mandate.agent': 'support-triage', 'mandate.resource': 'queue/support/1' })),
      ]),
    ]);
    expect(result.total).toBe(4);
    expect(result.summary.unevaluable).toBe(2);
    expect(result.summary.gained).toBe(2);
    expect(result.changed.map((entry) => entry.call.tool)).toEqual(['zendesk', 'zendesk']);
    expect(result.unevaluable.map((entry) => entry.reason.split(':')[0])).toEqual(['ambiguous tool', 'no tool']);
    expect(result.unevaluable[0]!.reason).toContain('freshdesk, zendesk');
  });

  it('reads the example OTLP file: spans split over lines, parents after children, aliases, dedupe, inference', async () => {
    const policies = await loadSnapshot(fileSystemTree(PROJECT), { now: FIXTURE_NOW });
    const result = await simulateCallLog(join(FIXTURES, 'example.otlp.jsonl'), policies.model, policies.model, { now: FIXTURE_NOW });
    expect(result.total).toBe(7);
    expect(result.malformedLines).toBe(0);
    expect(result.summary.unchanged).toBe(6);
    expect(result.unevaluable).toEqual([expect.objectContaining({ line: 5, reason: expect.stringMatching(/^no agent/) })]);
    expect(result.window).toEqual({ first: '2026-11-20T10:00:01.000Z', last: '2026-11-24T11:00:00.000Z' });
  });
});

describe('the progress bar', () => {
  it('draws on a terminal only, at most ten times a second, and erases itself', () => {
    let written = '';
    const tty = { isTTY: true, columns: 60, write: (text: string) => { written += text; return true; } } as unknown as NodeJS.WriteStream;
    const bar = progressBar('simulate', 100, tty);
    bar.update(50, '5 lines');
    bar.update(60, '6 lines');
    bar.finish();
    const ESC = String.fromCharCode(27);
    expect(written.startsWith('\rsimulate [█')).toBe(true);
    expect(written.endsWith(`]  50% 5 lines${ESC}[K\r${ESC}[K`)).toBe(true);
    expect(written).not.toContain('6 lines');
    let piped = '';
    const pipe = { isTTY: false, write: (text: string) => { piped += text; return true; } } as unknown as NodeJS.WriteStream;
    const silent = progressBar('simulate', 100, pipe);
    silent.update(50);
    silent.finish();
    expect(piped).toBe('');
  });
});

describe('reading files', () => {
  it('streams the example JSONL file and treats an empty file as no calls', async () => {
    const policies = await loadSnapshot(fileSystemTree(PROJECT), { now: FIXTURE_NOW });
    const result = await simulateCallLog(join(FIXTURES, 'example.jsonl'), policies.model, policies.model, { now: FIXTURE_NOW });
    expect(result.total).toBeGreaterThanOrEqual(300);
    expect(result.malformedLines).toBe(0);
    expect(result.summary.unchanged + result.summary.unevaluable).toBe(result.total);
    const dir = mkdtempSync(join(tmpdir(), 'mandate-calls-'));
    try {
      writeFileSync(join(dir, 'empty.jsonl'), '');
      const empty = await simulateCallLog(join(dir, 'empty.jsonl'), policies.model, policies.model, { now: FIXTURE_NOW });
      expect(empty.total).toBe(0);
      expect(empty.window).toEqual({ first: null, last: null });
      await expect(readCallLog(join(dir, 'missing.jsonl'), { call() {}, malformed() {} }, { now: 0 })).rejects.toThrow(/ENOENT/);
    } finally {
      removeRepo(dir);
    }
  });

  it('splits lines at LF and CRLF, reads a last line without one, and skips a line too long to hold', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mandate-calls-'));
    try {
      const file = join(dir, 'calls.jsonl');
      const first = call({ agent: 'a', tool: 't', action: 'x' });
      const huge = `{"agent":"${'a'.repeat(MAX_LINE_LENGTH)}","tool":"t","action":"x"}`;
      writeFileSync(file, `${first}\r\n\n${huge}\r\n${call({ agent: 'b', tool: 't', action: 'x' })}\n${call({ agent: 'c', tool: 't', action: 'x' })}`);
      const calls: LoggedCall[] = [];
      const malformed: MalformedLine[] = [];
      const { lines } = await readCallLog(file, { call: (c) => calls.push(c), malformed: (m) => malformed.push(m) }, { now: 0 });
      expect(lines).toBe(5);
      expect(calls.map(({ agent, line }) => [agent, line])).toEqual([['a', 1], ['b', 4], ['c', 5]]);
      expect(malformed).toEqual([{ line: 3, message: 'longer than 16,777,216 characters; not parsed' }]);
    } finally {
      removeRepo(dir);
    }
  });
});

describe('exhaustive mode', () => {
  it('compares each (agent, tool, action) by its most permissive decision, with the resources each side reaches', async () => {
    const narrowed = triageAgent('none').replace('resources: ["queue/support/**", "queue/billing/**"]', 'resources: ["queue/billing/**"]');
    const models = await sides({ 'policies/agents/triage.yaml': triageAgent('required') }, { 'policies/agents/triage.yaml': narrowed });
    const result = simulateExhaustive(models.base.model, models.head.model, { now: FIXTURE_NOW });
    expect(result.total).toBe(3);
    expect(result.summary).toEqual({ unchanged: 2, gained: 0, revoked: 0, nowNeedsApproval: 0, noLongerNeedsApproval: 1, unevaluable: 0 });
    expect(result.changed).toEqual([{
      agent: 'support-triage', tool: 'zendesk', action: 'tickets.comment', change: 'noLongerNeedsApproval', base: 'approval', head: 'allow',
      resources: { base: ['queue/support/**'], head: ['queue/support/**'] },
    }]);
  });

  it('sees a grant still allowed somewhere when a deny covers only part of it', async () => {
    const partlyDenied = triageAgent('none', `deny:
  - tool: zendesk
    actions: [tickets.read]
    resources: ["queue/support/vip/**"]
`);
    const fullyDenied = triageAgent('none', `deny:
  - tool: zendesk
    actions: [tickets.read]
`);
    const models = await sides({ 'policies/agents/triage.yaml': triageAgent('none') }, { 'policies/agents/triage.yaml': partlyDenied });
    expect(simulateExhaustive(models.base.model, models.head.model, { now: FIXTURE_NOW }).summary.revoked).toBe(0);
    const denied = await sides({ 'policies/agents/triage.yaml': triageAgent('none') }, { 'policies/agents/triage.yaml': fullyDenied });
    const result = simulateExhaustive(denied.base.model, denied.head.model, { now: FIXTURE_NOW });
    expect(result.changed.map((entry) => [entry.action, entry.change])).toEqual([['tickets.read', 'revoked']]);
  });
});

describe('editing agent files', () => {
  const FILE = `# the triage agent
apiVersion: mandate/v1
kind: Agent
id: a
permissions:   # what it may do
  - tool: zendesk
    actions: [tickets.read, "tickets.*"]   # keep this comment
    resources:
      - "queue/support/**"
      - queue/billing/**     # billing too
    justification: >-
      Folded text
      on two lines.
  - tool: zendesk
    actions:
      - docs.read
    justification: Docs.
  - { tool: stripe, actions: [charges.read] }
`;

  it('removes, replaces and narrows in place, keeping every other byte', () => {
    const edited = editAgentText(FILE, 0, [
      { index: 0, actions: [{ keep: true }, { replace: ['tickets.comment'] }], resources: [true, false] },
      { index: 2, remove: true },
    ]);
    expect(edited).toBe(FILE
      .replace('[tickets.read, "tickets.*"]', '[tickets.read, "tickets.comment"]')
      .replace('      - queue/billing/**     # billing too\n', '')
      .replace('  - { tool: stripe, actions: [charges.read] }\n', ''));
  });

  it('expands a glob in a block sequence into one item per kept action', () => {
    const text = `id: a
permissions:
  - tool: github
    actions:
      - 'get_*'
      - search_code
`;
    expect(editAgentText(text, 0, [{ index: 0, actions: [{ replace: ['get_file', 'get_issue'] }, { keep: true }] }])).toBe(`id: a
permissions:
  - tool: github
    actions:
      - 'get_file'
      - 'get_issue'
      - search_code
`);
  });

  it('leaves `permissions: []` when every permission goes, and edits the right document of a multi-document file', () => {
    const text = `id: a
permissions:
  - tool: x
    actions: [y]
---
id: b
permissions:   # two
  - tool: x
    actions: [y]
  - tool: x
    actions: [z]
deny: []
`;
    expect(editAgentText(text, 1, [{ index: 0, remove: true }, { index: 1, remove: true }])).toBe(`id: a
permissions:
  - tool: x
    actions: [y]
---
id: b
permissions: []
deny: []
`);
  });

  it('writes a git-format patch', () => {
    const patch = unifiedPatch([{ file: 'policies/a.yaml', before: 'a\nb\nc\n', after: 'a\nc\n' }], 'sub');
    expect(patch).toBe('diff --git a/sub/policies/a.yaml b/sub/policies/a.yaml\n--- a/sub/policies/a.yaml\n+++ b/sub/policies/a.yaml\n@@ -1,3 +1,2 @@\n a\n-b\n c\n');
  });
});

describe('--suggest narrowing on the example repository', () => {
  it('yields a patch git apply accepts, after which every call is decided as before', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mandate-suggest-'));
    try {
      cpSync(join(PROJECT, 'policies'), join(dir, 'policies'), { recursive: true });
      cpSync(join(PROJECT, 'controls'), join(dir, 'controls'), { recursive: true });
      cpSync(join(PROJECT, 'mandate.yaml'), join(dir, 'mandate.yaml'));
      const git = (...args: string[]): string => execFileSync('git', args, { cwd: dir, encoding: 'utf8', env: { ...process.env, GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@example.com', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@example.com' } });
      git('init', '-q', '-b', 'main');
      git('add', '-A');
      git('commit', '-qm', 'policies');
      const calls = join(FIXTURES, 'example.jsonl');
      const before = await loadSnapshot(fileSystemTree(dir), { now: FIXTURE_NOW });
      const result = await simulateCallLog(calls, before.model, before.model, { now: FIXTURE_NOW });
      const { agents, removed } = result.usage.narrowing(dayOfInstant(FIXTURE_NOW));
      const files = await narrowFiles(agents, async (file) => readFileSync(join(dir, file), 'utf8'));
      expect(files.length).toBeGreaterThan(0);
      expect(removed).toEqual([]);
      const patch = unifiedPatch(files);
      writeFileSync(join(dir, 'narrow.patch'), patch);
      git('apply', '--check', 'narrow.patch');
      git('apply', 'narrow.patch');
      const after = await loadSnapshot(fileSystemTree(dir), { now: FIXTURE_NOW });
      expect(after.findings.filter((finding) => finding.severity === 'error' && !finding.waived)).toEqual([]);
      const replayed = await simulateCallLog(calls, before.model, after.model, { now: FIXTURE_NOW });
      expect(replayed.summary).toEqual({ ...result.summary });
      expect(replayed.changed).toEqual([]);
      // Call by call, directly.
      const was = decisionIndex(before.model);
      const now = decisionIndex(after.model);
      for (const line of readFileSync(calls, 'utf8').trim().split('\n')) {
        const entry = JSON.parse(line) as { agent: string; tool: string; action: string; resource?: string; time: string };
        const day = dayOfInstant(new Date(entry.time));
        const target = { agent: entry.agent, tool: entry.tool, action: entry.action, ...(entry.resource ? { resource: entry.resource } : {}) };
        expect(decide(now, target, day).decision, line).toBe(decide(was, target, day).decision);
      }
      // Nothing left to narrow, and nothing unused by calling agents that the narrowing could remove.
      const again = await simulateCallLog(calls, after.model, after.model, { now: FIXTURE_NOW });
      expect(again.usage.narrowing(dayOfInstant(FIXTURE_NOW)).agents).toEqual([]);
    } finally {
      removeRepo(dir);
    }
  });

  it('removes permissions no call used and lists them', async () => {
    const models = await sides({}, { 'policies/agents/triage.yaml': triageAgent('none') });
    const result = replay(models, [call({ agent: 'support-triage', tool: 'zendesk', action: 'tickets.read', resource: 'queue/support/1' })]);
    const { agents, removed } = result.usage.narrowing(dayOfInstant(FIXTURE_NOW));
    expect(removed.map((entry) => [entry.actions, entry.line, entry.reason])).toEqual([
      [['tickets.comment'], 17, 'no call used it'],
      [['docs.read'], 22, 'no call used it'],
    ]);
    const [file] = await narrowFiles(agents, async () => triageAgent('none'));
    expect(file!.after).toContain('    resources: ["queue/support/**"]\n    justification: Reads tickets.\n');
    expect(file!.after).not.toContain('tickets.comment');
    expect(file!.after).not.toContain('docs.read');
  });
});

describe('replaying call batches', () => {
  /** Replays lines packed into batches, as the CLI hands them over from its reading thread. */
  const replayBatches = (
    models: { base: Snapshot; head: Snapshot },
    lines: readonly string[],
    packing: { batchCalls: number; tripleLimit: number; limit: number; strangers: boolean },
  ): CallSimulation => {
    const run = new CallReplay(models.base.model, models.head.model, { now: FIXTURE_NOW, limit: packing.limit });
    const writer = new CallBatchWriter((batch) => run.batch(batch), { ...packing, ...(packing.strangers ? { knownAgents: run.knownAgents() } : {}) });
    const parser = new CallLogParser(writer, { now: FIXTURE_NOW.getTime() });
    lines.forEach((line, index) => parser.line(line, index + 1));
    parser.end();
    writer.flush();
    return run.result();
  };
  /** What a replay shows: everything but the usage tracker's internals, plus the narrowing it suggests. */
  const shown = ({ usage, ...rest }: CallSimulation): unknown => ({ ...rest, narrowing: usage.narrowing(dayOfInstant(FIXTURE_NOW)) });

  const agent = fc.constantFrom('support-triage', 'triage-prod', 'triage-next', 'ghost', 'orchestrator');
  const action = fc.constantFrom('tickets.read', 'tickets.comment', 'docs.read', 'solutions.read', 'macros.run');
  const resource = fc.option(fc.constantFrom('queue/support/1', 'queue/billing/7', 'queue/vip/2', 'queue/*', 'bad//path'), { nil: undefined });
  const time = fc.constantFrom('2026-11-20T10:00:00Z', '2025-01-01', 'yesterday');
  const jsonl = fc.record({ agent, tool: fc.constantFrom('zendesk', 'freshdesk', 'jira'), action, resource, time })
    .map(({ resource: at, ...fields }) => JSON.stringify(at === undefined ? fields : { ...fields, resource: at }));
  // Agent spans name an id and a display name (alternatives); tool spans may name their tool.
  const otlpLine = fc.record({
    agent, alternative: agent, action, resource, tool: fc.option(fc.constantFrom('zendesk', 'jira'), { nil: undefined }),
    trace: fc.constantFrom('t1', 't2'), id: fc.integer({ min: 1, max: 6 }), parent: fc.integer({ min: 0, max: 6 }), invoke: fc.boolean(),
  }).map(({ agent: name, alternative, action: toolAction, resource: at, tool: toolId, trace, id, parent, invoke }) => otlp([span(trace, `s${id}`, parent === 0 ? '' : `s${parent}`, invoke
    ? { 'gen_ai.operation.name': 'invoke_agent', 'gen_ai.agent.id': name, 'gen_ai.agent.name': alternative }
    : tool(toolAction, { ...(at === undefined ? {} : { 'mandate.resource': at }), ...(toolId === undefined ? {} : { 'mandate.tool': toolId }) }))]));
  const line = fc.oneof({ arbitrary: jsonl, weight: 6 }, { arbitrary: otlpLine, weight: 2 }, { arbitrary: fc.constantFrom('{"agent":', '[]', ''), weight: 1 });

  it('takes a span for a stranger only when none of its agent names is known', async () => {
    const models = await sides({ 'policies/agents/triage.yaml': triageAgent('required') }, { 'policies/agents/triage.yaml': triageAgent('none') });
    const lines = [
      // Named by an unknown id and a known display name: the known one decides.
      otlp([span('t1', 's1', '', tool('tickets.comment', { 'gen_ai.agent.id': 'asst_1', 'gen_ai.agent.name': 'triage-prod', 'mandate.tool': 'zendesk', 'mandate.resource': 'queue/support/1' }))]),
      otlp([span('t2', 's1', '', tool('tickets.comment', { 'gen_ai.agent.id': 'asst_2', 'gen_ai.agent.name': 'nobody', 'mandate.tool': 'zendesk', 'mandate.resource': 'queue/support/1' }))]),
    ];
    const packed = replayBatches(models, lines, { batchCalls: 8, tripleLimit: 8, limit: 10, strangers: true });
    expect(shown(packed)).toEqual(shown(replay(models, lines, { limit: 10 })));
    expect(packed.summary).toMatchObject({ noLongerNeedsApproval: 1, unchanged: 1 });
  });

  it('decides exactly as call by call, whatever the batch size, however many triples are numbered, strangers folded or not', async () => {
    const models = await sides(
      { 'policies/agents/triage.yaml': triageAgent('required'), 'policies/tools/freshdesk.yaml': FRESHDESK },
      // An alias only head knows, so the known names are the union of both sides.
      { 'policies/agents/triage.yaml': triageAgent('none').replace('"queue/billing/**"', '"queue/vip/**"').replace('aliases: [triage-prod]', 'aliases: [triage-prod, triage-next]') },
    );
    fc.assert(fc.property(
      fc.array(line, { maxLength: 60 }),
      fc.record({ batchCalls: fc.integer({ min: 1, max: 8 }), tripleLimit: fc.integer({ min: 0, max: 6 }), limit: fc.integer({ min: 0, max: 5 }), strangers: fc.boolean() }),
      (lines, packing) => {
        expect(shown(replayBatches(models, lines, packing))).toEqual(shown(replay(models, lines, { limit: packing.limit })));
      },
    ), { numRuns: 300 });
  });
});
