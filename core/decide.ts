import type { DayNumber } from './dates';
import { formatDay } from './dates';
import type { AgentDoc, RateLimit, ToolDoc } from './documents';
import { perHour } from './documents';
import { compareStrings } from './finding';
import type { SourcePosition } from './finding';
import type { CompiledGuardrail } from './guardrail-match';
import { compiledGuardrails, guardrailSelects } from './guardrail-match';
import { compileResourcePattern, coversEveryResource, isCanonicalResource } from './globs';
import type { ResourceMatcher as PatternMatcher } from './globs';
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

/** Resource patterns compiled for matching calls. */
interface ResourceMatcher {
  /** Whether the patterns cover every resource (absent, or `**` among them); only these match a call without a resource. */
  everyResource: boolean;
  /** One anchored matcher per pattern; empty when `everyResource`. */
  patterns: PatternMatcher[];
}

interface CompiledGrant {
  grant: Grant;
  matcher: ResourceMatcher;
  /** Precomputed so a decision allocates nothing per grant. */
  source: DecisionSource;
  /** Per-hour rate limit, Infinity without one ("no limit beats any limit"). */
  rank: number;
  /** The decisions this grant gives when it decides alone, built on first use and shared by every call it decides. */
  allow?: Decision;
  approval?: Decision;
}

interface CompiledDeny {
  deny: DenyEntry;
  matcher: ResourceMatcher;
  /** The decision this entry gives, shared by every call it denies. */
  denial: Decision;
}

interface ActionIndex {
  /** An action entry is itself the target of the calls that land on it (CallTarget). */
  kind: 'slot';
  grants: CompiledGrant[];
  denies: CompiledDeny[];
  /** The decision of a forbidding guardrail, when one selects this action. */
  forbidden?: Decision;
  gatedBy?: CompiledGuardrail;
  /** The last day's "where the grants do reach" hint for no-grant reasons (calls come in day runs). */
  reach?: { day: DayNumber; shown: string | undefined };
}

interface AgentIndex {
  agent: AgentDoc;
  /** tool -> action -> entry (nested maps: no key string built per decision). */
  actions: Map<string, Map<string, ActionIndex>>;
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
  const patternCache = new Map<string, PatternMatcher>();
  const compile = (resources: string[] | undefined): ResourceMatcher => {
    if (coversEveryResource(resources)) return { everyResource: true, patterns: [] };
    return {
      everyResource: false,
      patterns: resources!.map((pattern) => {
        let compiled = patternCache.get(pattern);
        if (!compiled) {
          compiled = compileResourcePattern(pattern);
          patternCache.set(pattern, compiled);
        }
        return compiled;
      }),
    };
  };
  const agents = new Map<string, AgentIndex>();
  const names = new Map<string, string>();
  for (const { doc: agent } of model.agents.values()) {
    const agentIndex: AgentIndex = { agent, actions: new Map() };
    for (const grant of model.grants.get(agent.id) ?? []) {
      const source = at(grant.position);
      const compiled: CompiledGrant = {
        grant,
        matcher: compile(grant.resources),
        source,
        rank: grant.rateLimit === undefined ? Number.POSITIVE_INFINITY : perHour(grant.rateLimit),
      };
      for (const action of grant.actions) actionSlot(model, agentIndex, grant.tool, action, true).grants.push(compiled);
    }
    for (const deny of model.denies.get(agent.id) ?? []) {
      const matcher = compile(deny.resources);
      const source = at(deny.position);
      const denial: Decision = { decision: 'deny', reason: `denied by deny entry at ${source.file}:${source.line}`, deny: source };
      for (const action of deny.actions) actionSlot(model, agentIndex, deny.tool, action, true).denies.push({ deny, matcher, denial });
    }
    // Exact-size copies: the pushed-to lists carry spare capacity, and an index holds tens of thousands.
    for (const byAction of agentIndex.actions.values()) {
      for (const slot of byAction.values()) {
        slot.grants = slot.grants.slice();
        slot.denies = slot.denies.slice();
      }
    }
    agents.set(agent.id, agentIndex);
    for (const alias of agent.aliases ?? []) if (!names.has(alias)) names.set(alias, agent.id);
  }
  for (const id of agents.keys()) names.set(id, id);
  const index = { model, agents, names };
  indexes.set(model, index);
  return index;
}

/**
 * The per-(tool, action) entry of an agent, created on first use: at build
 * time for every action the agent's grants and denies reach, and at decision
 * time for any other declared action, so that a forbidding or gating
 * guardrail applies to actions the agent was never granted too (step 3).
 */
function actionSlot(model: Model, agentIndex: AgentIndex, tool: string, action: string, building: boolean): ActionIndex {
  let byAction = agentIndex.actions.get(tool);
  if (!byAction) {
    byAction = new Map();
    agentIndex.actions.set(tool, byAction);
  }
  let entry = byAction.get(action);
  if (!entry) {
    const selecting = compiledGuardrails(model).filter((guardrail) => guardrailSelects(guardrail, agentIndex.agent, tool, action));
    const forbiddenBy = firstByPosition(selecting.filter((guardrail) => guardrail.located.doc.require.forbid));
    const guardrail = forbiddenBy && guardrailSource(forbiddenBy);
    const gatedBy = firstByPosition(selecting.filter((guardrail) => guardrail.located.doc.require.approval === 'required'));
    // Past the build, most new entries are actions the agent has no grant, deny or guardrail for: they share one.
    entry = !building && !guardrail && !gatedBy ? UNGRANTED : {
      kind: 'slot',
      grants: [],
      denies: [],
      ...(guardrail ? { forbidden: { decision: 'deny', reason: `forbidden by guardrail ${guardrail.id}`, guardrail } } : {}),
      gatedBy,
    };
    byAction.set(action, entry);
  }
  return entry;
}

/** The entry of an action no grant, deny entry or guardrail of the agent reaches: every call of it is denied for want of a grant. */
const UNGRANTED: ActionIndex = Object.freeze({ kind: 'slot', grants: [], denies: [], gatedBy: undefined });

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

/**
 * Where a call lands in a decision index, from its agent name, tool and
 * action alone: a decision that no resource or day can change (unknown
 * names, an inactive agent, a rejected tool), or the agent's entry for the
 * action. Callers that see the same triple often (a replay) keep it.
 */
export type CallTarget = { kind: 'decided'; decision: Decision } | ActionIndex;

/** The target of (agent name, tool, action) in an index (FORMAT.md, Meaning, steps 1 and 2). */
export function callTarget(index: DecisionIndex, agentName: string, toolId: string, action: string): CallTarget {
  const { model } = index;
  const agentId = index.names.get(agentName);
  const agentIndex = agentId === undefined ? undefined : index.agents.get(agentId);
  if (!agentIndex) return denied(`unknown agent '${agentName}'`);
  const tool: ToolDoc | undefined = model.tools.get(toolId)?.doc;
  if (!tool) return denied(`unknown tool '${toolId}'`);
  if (!Object.hasOwn(tool.actions, action)) return denied(`unknown action '${action}' of tool '${toolId}'`);
  const { agent } = agentIndex;
  if (agent.status !== 'active') return denied(`agent not active (${agent.status})`);
  if (tool.vetting?.status === 'rejected') return denied(`tool rejected in vetting: ${tool.id}`);
  return actionSlot(model, agentIndex, toolId, action, false);
}

function denied(reason: string): CallTarget {
  return { kind: 'decided', decision: { decision: 'deny', reason } };
}

/** Decides one call on a UTC day (FORMAT.md, Meaning, steps 1 to 5). */
export function decide(index: DecisionIndex, call: Call, day: DayNumber): Decision {
  return decideAt(callTarget(index, call.agent, call.tool, call.action), call, day);
}

/** What decides a call at an action entry (steps 3 and 4), found without building a decision. */
interface Scan {
  deny: CompiledDeny | undefined;
  /** The best live grant covering the call without, and with, its own approval gate. */
  ungated: CompiledGrant | undefined;
  gated: CompiledGrant | undefined;
  /** The latest-expiring expired grant covering the call (for the reason). */
  expired: Grant | undefined;
}

/** One scan, reused by every decision: read at once by the caller, so a replay of millions of calls allocates none. */
const scan: Scan = { deny: undefined, ungated: undefined, gated: undefined, expired: undefined };

/** Fills `scan` for a call's resource on a day (a canonical resource, or none). */
function scanSlot(slot: ActionIndex, resource: string | undefined, day: DayNumber): Scan {
  scan.deny = undefined;
  scan.ungated = undefined;
  scan.gated = undefined;
  scan.expired = undefined;
  for (const deny of slot.denies) {
    if (covers(deny.matcher, resource)) {
      scan.deny = deny;
      return scan;
    }
  }
  if (slot.forbidden) return scan;
  for (const compiled of slot.grants) {
    const { grant } = compiled;
    if (!covers(compiled.matcher, resource)) continue;
    if (grant.expires !== undefined && grant.expires < day) {
      if (!scan.expired || grant.expires > scan.expired.expires!) scan.expired = grant;
      continue;
    }
    if (grant.gated) scan.gated = better(compiled, scan.gated);
    else scan.ungated = better(compiled, scan.ungated);
  }
  return scan;
}

/**
 * Decides a call at its target (steps 3 to 5). Decisions a grant, deny entry
 * or guardrail gives alone are built once and shared: treat them as read-only.
 */
export function decideAt(target: CallTarget, call: Call, day: DayNumber): Decision {
  if (target.kind === 'decided') return target.decision;
  if (call.resource !== undefined && !isCanonicalResource(call.resource)) {
    return { decision: 'deny', reason: `non-canonical resource '${call.resource}'` };
  }
  const slot = target;
  const { deny, ungated, gated, expired } = scanSlot(slot, call.resource, day);
  if (deny) return deny.denial;
  if (slot.forbidden) return slot.forbidden;
  if (ungated) {
    if (slot.gatedBy) {
      const guardrail = guardrailSource(slot.gatedBy);
      return {
        decision: 'approval', reason: `approval required by guardrail ${guardrail.id} (${allowReason(ungated)})`,
        grant: ungated.source, guardrail, ...withRate(ungated.grant.rateLimit),
      };
    }
    return (ungated.allow ??= { decision: 'allow', reason: allowReason(ungated), grant: ungated.source, ...withRate(ungated.grant.rateLimit) });
  }
  if (gated) {
    const { source } = gated;
    return (gated.approval ??= { decision: 'approval', reason: `approval gate on ${source.file}:${source.line}`, grant: source, ...withRate(gated.grant.rateLimit) });
  }
  return { decision: 'deny', reason: noGrantReason(call, slot, expired, day) };
}

/**
 * The decision value alone, `decideAt(target, call, day).decision` for a
 * call with this resource, without building a decision or its reason: a
 * replay needs the reasons of changed calls only.
 */
export function decisionValueAt(target: CallTarget, resource: string | undefined, day: DayNumber): DecisionValue {
  if (target.kind === 'decided') return target.decision.decision;
  if (resource !== undefined && !isCanonicalResource(resource)) return 'deny';
  const { deny, ungated, gated } = scanSlot(target, resource, day);
  if (deny || target.forbidden) return 'deny';
  if (ungated) return target.gatedBy ? 'approval' : 'allow';
  return gated ? 'approval' : 'deny';
}

/** `no grant for TOOL ACTION [on RESOURCE]`, with a hint at why: an expired grant, or where the grants do reach. */
function noGrantReason(call: Call, slot: ActionIndex, expired: Grant | undefined, day: DayNumber): string {
  const base = `no grant for ${call.tool} ${call.action}${call.resource === undefined ? '' : ` on ${call.resource}`}`;
  if (expired) {
    const source = at(expired.position);
    return `${base} (the grant at ${source.file}:${source.line} expired on ${formatDay(expired.expires!)})`;
  }
  if (slot.grants.length === 0) return base;
  if (slot.reach?.day !== day) slot.reach = { day, shown: reachOn(slot, day) };
  const { shown } = slot.reach;
  if (shown === undefined) return base;
  return call.resource === undefined
    ? `${base} (the call names no resource; its grants cover only ${shown})`
    : `${base} (its grants cover only ${shown})`;
}

/** The resource patterns the slot's live grants reach on a day (the first five), or undefined without live grants. */
function reachOn(slot: ActionIndex, day: DayNumber): string | undefined {
  const live = slot.grants.filter(({ grant }) => grant.expires === undefined || grant.expires >= day);
  if (live.length === 0) return undefined;
  const reached = [...new Set(live.flatMap(({ grant }) => grant.resources ?? []))];
  return reached.slice(0, 5).join(', ') + (reached.length > 5 ? `, and ${reached.length - 5} more` : '');
}

function allowReason({ source }: CompiledGrant): string {
  return `granted by ${source.file}:${source.line}`;
}

function withRate(rateLimit: RateLimit | undefined): { rateLimit?: RateLimit } {
  return rateLimit ? { rateLimit } : {};
}

/** Whether compiled patterns cover a call's resource; a call without one needs patterns that cover every resource. */
function covers(matcher: ResourceMatcher, resource: string | undefined): boolean {
  if (matcher.everyResource) return true;
  if (resource === undefined) return false;
  return matcher.patterns.some((pattern) => pattern.test(resource));
}

/** The grant with the higher per-hour limit (no limit beats any), ties first by file then line. */
function better(candidate: CompiledGrant, held: CompiledGrant | undefined): CompiledGrant {
  if (!held) return candidate;
  if (candidate.rank !== held.rank) return candidate.rank > held.rank ? candidate : held;
  return comparePositions(candidate.grant.position, held.grant.position) < 0 ? candidate : held;
}
