/**
 * `mandate export cedar` (CLI.md): a Cedar schema, policy set and entities
 * equivalent to mandate's decision (FORMAT.md, Meaning) for every call of a
 * known agent, tool and action. The policies are kept per agent so a caller
 * can load one small set per agent (shared policies plus the agent's own).
 */

import type { CedarEntity, CedarPolicy } from './cedar-syntax';
import { cedarString, renderPolicy } from './cedar-syntax';
import { RESOURCE_FLAGS, resourceCondition, segmentAttribute, segmentSlots } from './cedar-resource';
import { formatDay } from './dates';
import type { AgentDoc, GuardrailDoc } from './documents';
import { compareStrings } from './finding';
import type { SourcePosition } from './finding';
import type { CompiledGuardrail } from './guardrail-match';
import { compiledGuardrails, guardrailSelects } from './guardrail-match';
import type { DenyEntry, Grant, Located, Model } from './model';

/** What `mandate export cedar --out` writes. */
export interface CedarExport {
  /** Human-readable Cedar schema (mandate.cedarschema). */
  schema: string;
  /** The whole policy set with its explanatory header (policies.cedar). */
  policies: string;
  /** Agent entities (entities.json); resource entities are built per call. */
  entities: CedarEntity[];
}

/** The export in parts, for callers that load one policy set per agent. */
export interface CedarEncoding {
  schema: string;
  /** Comment block that opens policies.cedar. */
  header: string;
  /** Policies every agent's set includes: inactive agents, rejected tools, non-canonical resources. */
  shared: CedarPolicy[];
  /** Each agent's own policies (grants, denies, guardrails), by agent id in id order. */
  agents: Map<string, CedarPolicy[]>;
  /** Agent entities by agent id. */
  agentEntities: Map<string, CedarEntity>;
  /** How many segment attributes (s0, s1, ...) a resource entity carries. */
  slots: number;
}

/** The Cedar action id of a tool action. Tool ids never contain `:`, so the first `:` separates them. */
export function actionId(tool: string, action: string): string {
  return `${tool}:${action}`;
}

const encodings = new WeakMap<Model, CedarEncoding>();

/** Exports a model (FORMAT.md) as Cedar schema, policies and entities. */
export function exportCedar(model: Model): CedarExport {
  const encoding = cedarEncoding(model);
  const sections = [encoding.header, ...encoding.shared.map((policy) => policy.text)];
  for (const [agent, policies] of encoding.agents) {
    const file = model.agents.get(agent)!.source.file;
    sections.push([`// agent ${agent} (${file})`, ...policies.map((policy) => policy.text)].join('\n\n'));
  }
  return { schema: encoding.schema, policies: `${sections.join('\n\n')}\n`, entities: [...encoding.agentEntities.values()] };
}

/** The policy set for one agent's calls, by policy id (shared policies plus its own). */
export function agentPolicySet(encoding: CedarEncoding, agent: string): Record<string, string> {
  const set: Record<string, string> = {};
  for (const policy of [...encoding.shared, ...(encoding.agents.get(agent) ?? [])]) set[policy.id] = policy.text;
  return set;
}

/** Builds (once per model) the Cedar encoding of a model. */
export function cedarEncoding(model: Model): CedarEncoding {
  const cached = encodings.get(model);
  if (cached) return cached;
  const slots = segmentSlots([...model.grants.values(), ...model.denies.values()].flatMap((entries) => entries.map((entry) => entry.resources)));
  const agents = new Map<string, CedarPolicy[]>();
  const agentEntities = new Map<string, CedarEntity>();
  const guardrails = compiledGuardrails(model).filter(({ located }) => located.doc.require.forbid || located.doc.require.approval === 'required');
  for (const id of [...model.agents.keys()].sort(compareStrings)) {
    const { doc } = model.agents.get(id)!;
    agents.set(id, agentPolicies(model, doc, guardrails));
    agentEntities.set(id, {
      uid: { type: 'Agent', id },
      attrs: { active: doc.status === 'active', status: doc.status, aliases: [...(doc.aliases ?? [])] },
      parents: [],
    });
  }
  const encoding: CedarEncoding = {
    schema: cedarSchema(model, slots),
    header: policyHeader(model, slots),
    shared: sharedPolicies(model),
    agents,
    agentEntities,
    slots,
  };
  encodings.set(model, encoding);
  return encoding;
}

const at = (position: SourcePosition): string => `${position.file}:${position.line}`;

function sharedPolicies(model: Model): CedarPolicy[] {
  const policies = [
    renderPolicy({
      effect: 'forbid', id: 'agent-not-active', annotations: [['source', 'built-in: an agent whose status is not active']],
      unless: 'principal.active',
    }),
    renderPolicy({
      effect: 'forbid', id: 'resource-not-canonical', annotations: [['source', 'built-in: a non-canonical resource']],
      unless: 'resource.canonical',
    }),
  ];
  for (const id of [...model.tools.keys()].sort(compareStrings)) {
    const located = model.tools.get(id)!;
    const actions = Object.keys(located.doc.actions);
    if (located.doc.vetting?.status !== 'rejected' || actions.length === 0) continue;
    policies.push(renderPolicy({
      effect: 'forbid', id: `tool/${id}/rejected`, annotations: [['source', at(located.source.position(['vetting', 'status']))]],
      actions: actions.map((action) => actionId(id, action)),
    }));
  }
  return policies;
}

function agentPolicies(model: Model, agent: AgentDoc, guardrails: CompiledGuardrail[]): CedarPolicy[] {
  const grants = model.grants.get(agent.id) ?? [];
  const policies = grants.filter((grant) => grant.actions.length > 0).map((grant) => grantPolicy(grant));
  for (const deny of model.denies.get(agent.id) ?? []) if (deny.actions.length > 0) policies.push(denyPolicy(deny));
  const pairs = new Map<string, [string, string]>();
  for (const grant of grants) for (const action of grant.actions) pairs.set(actionId(grant.tool, action), [grant.tool, action]);
  for (const guardrail of guardrails) {
    const selected = [...pairs]
      .filter(([, [tool, action]]) => guardrailSelects(guardrail, agent, tool, action))
      .map(([id]) => id)
      .sort(compareStrings);
    if (selected.length > 0) policies.push(guardrailPolicy(agent.id, guardrail.located, selected));
  }
  return policies;
}

function grantPolicy(grant: Grant): CedarPolicy {
  const annotations: [string, string][] = [['source', at(grant.position)]];
  const when: string[] = [];
  const resources = resourceCondition(grant.resources);
  if (resources !== undefined) when.push(resources);
  if (grant.expires !== undefined) {
    annotations.push(['expires', formatDay(grant.expires)]);
    when.push(`context.day <= ${grant.expires}`);
  }
  if (grant.gated) {
    annotations.push(['approval', 'required']);
    when.push('context.approved');
  }
  if (grant.rateLimit) annotations.push(['rateLimit', `${grant.rateLimit.max}/${grant.rateLimit.per}`]);
  return renderPolicy({
    effect: 'permit', id: `agent/${grant.agent}/permission/${grant.index}`, annotations,
    principal: grant.agent, actions: grant.actions.map((action) => actionId(grant.tool, action)), when,
  });
}

function denyPolicy(deny: DenyEntry): CedarPolicy {
  const resources = resourceCondition(deny.resources);
  return renderPolicy({
    effect: 'forbid', id: `agent/${deny.agent}/deny/${deny.index}`, annotations: [['source', at(deny.position)]],
    principal: deny.agent, actions: deny.actions.map((action) => actionId(deny.tool, action)),
    ...(resources === undefined ? {} : { when: [resources] }),
  });
}

function guardrailPolicy(agent: string, located: Located<GuardrailDoc>, actions: string[]): CedarPolicy {
  const { id, require } = located.doc;
  return renderPolicy({
    effect: 'forbid', id: `agent/${agent}/guardrail/${id}`,
    annotations: [['source', at(located.source.position(['id']))], ['guardrail', id], ...(require.forbid ? [] : [['approval', 'required'] as [string, string]])],
    principal: agent, actions,
    ...(require.forbid ? {} : { unless: 'context.approved' }),
  });
}

function cedarSchema(model: Model, slots: number): string {
  const resourceAttributes = [
    ...RESOURCE_FLAGS.map(([name, type, comment]) => `  ${cedarString(name)}: ${type}, // ${comment}`),
    ...Array.from({ length: slots }, (_, k) => `  ${cedarString(segmentAttribute(k))}: String,${k === 0 ? ' // segment k of the resource, "" past its depth' : ''}`),
  ];
  const lines = [
    '// Cedar schema exported by `mandate export cedar`; policies.cedar explains the encoding.',
    '',
    '// An agent, by its id (aliases resolve to the id before Cedar is asked).',
    'entity Agent = {',
    '  "active": Bool, // status is active',
    '  "status": String, // proposed | active | suspended | retired',
    '  "aliases": Set<String>,',
    '};',
    '',
    '// The resource a call names, encoded segment by segment.',
    'entity Resource = {',
    ...resourceAttributes,
    '};',
    '',
    '// day: the UTC day number of the call (days since 1970-01-01); approved: a human approved this call.',
    'type CallContext = {',
    '  "day": Long,',
    '  "approved": Bool,',
    '};',
  ];
  for (const id of [...model.tools.keys()].sort(compareStrings)) {
    const actions = Object.keys(model.tools.get(id)!.doc.actions).sort(compareStrings);
    if (actions.length === 0) continue;
    lines.push('', `// tool ${id}`, `action ${actions.map((action) => cedarString(actionId(id, action))).join(', ')} appliesTo {`);
    lines.push('  principal: [Agent],', '  resource: [Resource],', '  context: CallContext,', '};');
  }
  return `${lines.join('\n')}\n`;
}

function policyHeader(model: Model, slots: number): string {
  const segments = slots === 0 ? 'no segment attributes' : `segments ${Array.from({ length: slots }, (_, k) => segmentAttribute(k)).join(', ')}`;
  return [
    '// Cedar policies exported by `mandate export cedar`, equivalent to mandate\'s decision',
    '// (FORMAT.md, "Meaning") for every call of a known agent, tool and action.',
    `// ${model.agents.size} agents, ${model.tools.size} tools, ${model.guardrails.size} guardrails.`,
    '//',
    '// Before Cedar: resolve the agent id or alias as mandate does, and deny an unknown',
    '// agent, tool or action (they are rejected before Cedar is asked).',
    '// The request:',
    '//   principal  Agent::"<agent id>"      entities.json; active is false unless status is active',
    '//   action     Action::"<tool>:<action>"',
    '//   resource   Resource::"<resource>"   ("" when the call names none), built per call:',
    '//              present, canonical, depth (number of "/"-separated segments),',
    `//              ${segments}, "" past the depth (see mandate.cedarschema)`,
    '//   context    { day: UTC day number (days since 1970-01-01), approved: Bool }',
    '// The decision: ask with approved = false; permitted -> allow. Else ask with',
    '// approved = true; permitted -> approval (a human approves the call). Else deny.',
    '//',
    '// Resource globs: Cedar\'s `like` lets `*` cross "/", so a pattern of k segments is',
    '// depth == k (depth >= k when it ends in "/**") plus one test per segment: `==` for a',
    '// literal one, `like` for one with `*`. `**` alone, or no resources, covers every',
    '// resource, a call without one included; other patterns need resource.present.',
    '// Grants are permits (expiry: context.day <= N; approval: required also needs',
    '// context.approved); deny entries and forbidding guardrails are forbids; guardrails',
    '// requiring approval forbid unless context.approved. Guardrail policies list the',
    '// actions the agent\'s own grants reach (no grant is a deny anyway). Rate limits are',
    '// annotations only: Cedar decides, the caller counts.',
  ].join('\n');
}
