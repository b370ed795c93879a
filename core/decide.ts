import type { DayNumber } from './dates';
import type { AgentDoc, RateLimit, ToolDoc } from './documents';
import { perHour } from './documents';
import { compareStrings } from './finding';
import type { SourcePosition } from './finding';
import type { CompiledGuardrail } from './guardrail-match';
import { compiledGuardrails, guardrailSelects } from './guardrail-match';
import { compileResourcePattern, isCanonicalResource } from './globs';
import type { DenyEntry, Grant, Model } from './model';

/** One agent call to decide (FORMAT.md, Meaning): resources are literal strings. */
export interface Call {
  agent: string;
  tool: string;
  action: string;
  resource?: string;
}

/** A place in a policy file that decided a call. */
export interface DecisionSource {
  file: string;
  line: number;
}

/** The guardrail that decided (or gated) a call. */
export interface GuardrailSource extends DecisionSource {
  id: string;
}

/** The outcome of a call, with what decided it. */
export type Decision =
  | { decision: 'allow'; reason: string; grant: DecisionSource; rateLimit?: RateLimit }
  | { decision: 'approval'; reason: string; grant: DecisionSource; guardrail?: GuardrailSource; rateLimit?: RateLimit }
  | { decision: 'deny'; reason: string; deny?: DecisionSource; guardrail?: GuardrailSource };

/** The three decision values. */
export type DecisionValue = Decision['decision'];

interface CompiledGrant {
  grant: Grant;
  /** Resource matchers; undefined covers every resource. */
  matchers?: RegExp[];
}

interface CompiledDeny {
  deny: DenyEntry;
  matchers?: RegExp[];
}

interface ActionIndex {
  grants: CompiledGrant[];
  denies: CompiledDeny[];
  forbiddenBy?: CompiledGuardrail;
  gatedBy?: CompiledGuardrail;
}

interface AgentIndex {
  agent: AgentDoc;
  actions: Map<string, ActionIndex>;
}

/** A model compiled for decisions: per agent, per (tool, action), the grants and denies with precompiled matchers. */
export interface DecisionIndex {
  model: Model;
  agents: Map<string, AgentIndex>;
  /** Agent ids and aliases to agent ids. */
  names: Map<string, string>;
}

const indexes = new WeakMap<Model, DecisionIndex>();

/** Compiles (once per model) the per-agent indexes every decision uses. */
export function decisionIndex(model: Model): DecisionIndex {
  const cached = indexes.get(model);
  if (cached) return cached;
  const matcherCache = new Map<string, RegExp>();
  const compile = (resources: string[] | undefined): RegExp[] | undefined =>
    resources?.map((pattern) => {
      let matcher = matcherCache.get(pattern);
      if (!matcher) {
        matcher = compileResourcePattern(pattern);
        matcherCache.set(pattern, matcher);
      }
      return matcher;
    });
  const guardrails = compiledGuardrails(model);
  const agents = new Map<string, AgentIndex>();
  const names = new Map<string, string>();
  for (const { doc: agent } of model.agents.values()) {
    const actions = new Map<string, ActionIndex>();
    const slot = (tool: string, action: string): ActionIndex => {
      const key = `${tool}\u0000${action}`;
      let entry = actions.get(key);
      if (!entry) {
        const toolDoc = model.tools.get(tool)!.doc;
        const selecting = guardrails.filter((guardrail) => guardrailSelects(model, guardrail, agent, toolDoc, action));
        entry = {
          grants: [],
          denies: [],
          forbiddenBy: firstByPosition(selecting.filter((guardrail) => guardrail.located.doc.require.forbid)),
          gatedBy: firstByPosition(selecting.filter((guardrail) => guardrail.located.doc.require.approval === 'required')),
        };
        actions.set(key, entry);
      }
      return entry;
    };
    for (const grant of model.grants.get(agent.id) ?? []) {
      for (const action of grant.actions) slot(grant.tool, action).grants.push({ grant, matchers: compile(grant.resources) });
    }
    for (const deny of model.denies.get(agent.id) ?? []) {
      for (const action of deny.actions) slot(deny.tool, action).denies.push({ deny, matchers: compile(deny.resources) });
    }
    agents.set(agent.id, { agent, actions });
    for (const alias of agent.aliases ?? []) if (!names.has(alias)) names.set(alias, agent.id);
  }
  for (const id of agents.keys()) names.set(id, id);
  const index = { model, agents, names };
  indexes.set(model, index);
  return index;
}

function firstByPosition(guardrails: CompiledGuardrail[]): CompiledGuardrail | undefined {
  return guardrails.sort((a, b) => comparePositions(a.located.source.position(['id']), b.located.source.position(['id'])))[0];
}

function comparePositions(a: SourcePosition, b: SourcePosition): number {
  return compareStrings(a.file, b.file) || a.line - b.line;
}

const at = (position: SourcePosition): DecisionSource => ({ file: position.file, line: position.line });

function guardrailSource(guardrail: CompiledGuardrail): GuardrailSource {
  return { id: guardrail.located.doc.id, ...at(guardrail.located.source.position(['id'])) };
}

/** Decides one call on a UTC day (FORMAT.md, Meaning, steps 1 to 5). */
export function decide(index: DecisionIndex, call: Call, day: DayNumber): Decision {
  const { model } = index;
  const agentId = index.names.get(call.agent);
  const agentIndex = agentId === undefined ? undefined : index.agents.get(agentId);
  if (!agentIndex) return { decision: 'deny', reason: `unknown agent '${call.agent}'` };
  const tool: ToolDoc | undefined = model.tools.get(call.tool)?.doc;
  if (!tool) return { decision: 'deny', reason: `unknown tool '${call.tool}'` };
  if (!Object.hasOwn(tool.actions, call.action)) {
    return { decision: 'deny', reason: `unknown action '${call.action}' of tool '${call.tool}'` };
  }
  const { agent } = agentIndex;
  if (agent.status !== 'active') return { decision: 'deny', reason: `agent not active (${agent.status})` };
  if (tool.vetting?.status === 'rejected') return { decision: 'deny', reason: `tool rejected in vetting: ${tool.id}` };
  if (call.resource !== undefined && !isCanonicalResource(call.resource)) {
    return { decision: 'deny', reason: `non-canonical resource '${call.resource}'` };
  }
  const slot = agentIndex.actions.get(`${call.tool}\u0000${call.action}`);
  const noGrant: Decision = { decision: 'deny', reason: `no grant for ${call.tool} ${call.action}${call.resource === undefined ? '' : ` on ${call.resource}`}` };
  if (!slot) return noGrant;
  const denied = slot.denies.find(({ matchers }) => covers(matchers, call.resource));
  if (denied) {
    const source = at(denied.deny.position);
    return { decision: 'deny', reason: `denied by deny entry at ${source.file}:${source.line}`, deny: source };
  }
  if (slot.forbiddenBy) {
    const guardrail = guardrailSource(slot.forbiddenBy);
    return { decision: 'deny', reason: `forbidden by guardrail ${guardrail.id}`, guardrail };
  }
  const ungated: Grant[] = [];
  const gated: Grant[] = [];
  for (const { grant, matchers } of slot.grants) {
    if (grant.expires !== undefined && grant.expires < day) continue;
    if (!covers(matchers, call.resource)) continue;
    (grant.gated ? gated : ungated).push(grant);
  }
  if (ungated.length > 0) {
    const { grant, rateLimit } = decidingGrant(ungated);
    const source = at(grant.position);
    if (slot.gatedBy) {
      const guardrail = guardrailSource(slot.gatedBy);
      return { decision: 'approval', reason: `approval required by guardrail ${guardrail.id} (granted by ${source.file}:${source.line})`, grant: source, guardrail, ...withRate(rateLimit) };
    }
    return { decision: 'allow', reason: `granted by ${source.file}:${source.line}`, grant: source, ...withRate(rateLimit) };
  }
  if (gated.length > 0) {
    const { grant, rateLimit } = decidingGrant(gated);
    const source = at(grant.position);
    return { decision: 'approval', reason: `approval gate on ${source.file}:${source.line}`, grant: source, ...withRate(rateLimit) };
  }
  return noGrant;
}

function withRate(rateLimit: RateLimit | undefined): { rateLimit?: RateLimit } {
  return rateLimit ? { rateLimit } : {};
}

/** Whether patterns (undefined: every resource) cover a call's resource; a call without one needs every resource. */
function covers(matchers: RegExp[] | undefined, resource: string | undefined): boolean {
  if (matchers === undefined) return true;
  if (resource === undefined) return false;
  return matchers.some((matcher) => matcher.test(resource));
}

/** The grant with the highest per-hour limit (no limit beats any), ties first by file then line. */
function decidingGrant(grants: Grant[]): { grant: Grant; rateLimit?: RateLimit } {
  let best = grants[0]!;
  for (const grant of grants.slice(1)) {
    const candidate = rateRank(grant.rateLimit);
    const held = rateRank(best.rateLimit);
    if (candidate > held || (candidate === held && comparePositions(grant.position, best.position) < 0)) best = grant;
  }
  return { grant: best, rateLimit: best.rateLimit };
}

function rateRank(rateLimit: RateLimit | undefined): number {
  return rateLimit === undefined ? Number.POSITIVE_INFINITY : perHour(rateLimit);
}
